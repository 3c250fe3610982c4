/**
 * Keeps static peers (bootnodes) connected: dials each one now, then every `intervalMs` while it is
 * not connected. Retries never give up, unlike libp2p's reconnect queue: a replica started before
 * its sequencer must connect whenever the sequencer comes up, and re-connect after it restarts.
 */
import type { Libp2p, PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from 'pino'
import { errorMessage } from './errors.ts'

interface Bootnode {
  addr: Multiaddr
  peer: PeerId
  /**
   * What was last logged at info: state changes are, repeats are not (an unreachable bootnode fails
   * every interval; a remote that keeps closing on us, e.g. after banning us, reconnects every interval).
   */
  logged: 'connected' | 'unreachable' | undefined
}

export class BootnodeDialer {
  private readonly bootnodes: Bootnode[]
  private readonly dialing = new Set<Bootnode>()
  private readonly abort = new AbortController()
  private timer: NodeJS.Timeout | undefined

  constructor(
    private readonly libp2p: Libp2p,
    addrs: readonly Multiaddr[],
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {
    // resolveP2pOptions guarantees every bootnode names its peer id.
    this.bootnodes = addrs.map((addr) => ({ addr, peer: peerIdFromString(addr.getPeerId() as string), logged: undefined }))
  }

  start(): void {
    if (this.bootnodes.length === 0) return
    this.tick()
    this.timer = setInterval(() => this.tick(), this.intervalMs)
  }

  /**
   * Adds a static peer at run time (admin_addPeer), dialled now and kept like a bootnode; one already
   * kept under the same peer id takes the new address. Resolves once the first dial settles.
   */
  async add(addr: Multiaddr): Promise<void> {
    const peer = peerIdFromString(addr.getPeerId() as string)
    const index = this.bootnodes.findIndex((node) => node.peer.equals(peer))
    const node: Bootnode = { addr, peer, logged: undefined }
    if (index === -1) this.bootnodes.push(node)
    else this.bootnodes[index] = node
    if (this.timer === undefined) this.timer = setInterval(() => this.tick(), this.intervalMs)
    await this.libp2p.dial(addr, { signal: this.abort.signal })
  }

  /** Stops keeping `peer` connected (admin_removePeer); true when it was kept. */
  remove(peer: PeerId): boolean {
    const index = this.bootnodes.findIndex((node) => node.peer.equals(peer))
    if (index === -1) return false
    this.bootnodes.splice(index, 1)
    return true
  }

  /** Stops retrying and aborts dials in flight. */
  stop(): void {
    clearInterval(this.timer)
    this.abort.abort()
  }

  private tick(): void {
    for (const node of this.bootnodes) {
      if (this.dialing.has(node) || this.libp2p.getConnections(node.peer).length > 0) continue
      this.dialing.add(node)
      this.libp2p
        .dial(node.addr, { signal: this.abort.signal })
        .then(() => {
          this.logger[node.logged === 'connected' ? 'debug' : 'info']({ peer: node.peer.toString() }, 'connected to bootnode')
          node.logged = 'connected'
        })
        .catch((err: unknown) => {
          if (this.abort.signal.aborted || node.logged === 'unreachable') return
          node.logged = 'unreachable'
          this.logger.info(
            { addr: node.addr.toString(), err: errorMessage(err) },
            `bootnode unreachable, retrying every ${this.intervalMs} ms`,
          )
        })
        .finally(() => this.dialing.delete(node))
    }
  }
}
