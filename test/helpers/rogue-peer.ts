/**
 * A rogue libp2p peer for the hostile-peer campaign: a raw libp2p node (the same transports as
 * `P2pHost`: TCP, noise, yamux, identify, gossipsub with StrictNoSign) without any of the host's
 * manners. It publishes arbitrary bytes on any topic (no size check, no subscription needed: the
 * gossipsub fanout reaches whoever subscribed), and opens raw request/response streams it may
 * write garbage to, never read, or abandon.
 *
 * Each `RoguePeer.start()` is a fresh identity: an attacker that gets banned comes back as a new
 * peer (a Sybil), which is what the campaign does to keep sending after each ban.
 */
import { GossipSub, type GossipSubComponents } from '@chainsafe/libp2p-gossipsub'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify, type Identify } from '@libp2p/identify'
import { StrictNoSign, type Libp2p, type Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import * as lp from 'it-length-prefixed'
import { createLibp2p } from 'libp2p'

type RogueNode = Libp2p<{ identify: Identify; pubsub: GossipSub }>

/** What one raw exchange ended with, from the rogue's side. */
export interface RawExchange {
  /** The response frames received (kind byte first), in order. */
  frames: Uint8Array[]
  /** How the stream ended: the responder's END/ERROR frame then close, a reset, or our own deadline. */
  ended: 'closed' | 'reset' | 'deadline'
}

const MiB = 1024 * 1024

export class RoguePeer {
  private constructor(private readonly node: RogueNode) {}

  /**
   * `maxStreamWindowBytes` caps how far a responder may write ahead of this peer's reading (yamux
   * grows a stream's window up to 16 MiB by default while the reader keeps up): a slow reader with a
   * small window is one the responder must wait for frame by frame.
   */
  static async start(options: { maxStreamWindowBytes?: number } = {}): Promise<RoguePeer> {
    const node = await createLibp2p({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [
        yamux(options.maxStreamWindowBytes === undefined ? {} : { maxStreamWindowSize: options.maxStreamWindowBytes }),
      ],
      services: {
        identify: identify(),
        pubsub: (components: GossipSubComponents) =>
          new GossipSub(components, {
            globalSignaturePolicy: StrictNoSign,
            allowPublishToZeroTopicPeers: false,
            emitSelf: false,
            // Large enough to carry the oversized messages it sends.
            maxInboundDataLength: 16 * MiB,
          }),
      },
    })
    return new RoguePeer(node)
  }

  get peerId(): string {
    return this.node.peerId.toString()
  }

  /** Connects to `addr` (with `/p2p/<id>`); rejects if the remote refuses (a ban), is unreachable, or `timeoutMs` passes. */
  async dial(addr: string, timeoutMs = 15_000): Promise<void> {
    await this.node.dial(multiaddr(addr), { signal: AbortSignal.timeout(timeoutMs) })
  }

  /** `dial`, retried: libp2p rate-limits inbound connections per host (several new identities a second from one IP). */
  async dialRetrying(addr: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.dial(addr)
      } catch (error) {
        if (attempt >= 5) throw error
        await new Promise((r) => setTimeout(r, 500 * attempt))
      }
    }
  }

  isConnected(peer: string): boolean {
    return this.node.getConnections(peerIdFromString(peer)).some((c) => c.status === 'open')
  }

  /** Whether `peer` has told us it subscribes to `topic` (our publishes reach it). */
  seesSubscriber(topic: string, peer: string): boolean {
    return this.node.services.pubsub.getSubscribers(topic).some((p) => p.toString() === peer)
  }

  /** Publishes raw bytes; resolves with the number of peers sent to (rejects when none: not connected, or banned). */
  async publish(topic: string, data: Uint8Array): Promise<number> {
    const { recipients } = await this.node.services.pubsub.publish(topic, data)
    return recipients.length
  }

  /** Opens a raw stream on `protocol` to a connected peer. */
  async openStream(peer: string, protocol: string): Promise<Stream> {
    return this.node.dialProtocol(peerIdFromString(peer), protocol, { signal: AbortSignal.timeout(5_000) })
  }

  /**
   * One exchange with raw bytes as the request (written as given: a caller may pass a length
   * prefix of its own, or none), then reads the response frames until the stream ends or
   * `deadlineMs` passes (`readDelayMs` between frames: a slow reader; `stopAfterFrames`: stops
   * reading after that many frames and holds the stream open).
   */
  async rawExchange(
    peer: string,
    protocol: string,
    request: Uint8Array,
    options: { deadlineMs: number; readDelayMs?: number; stopAfterFrames?: number },
  ): Promise<RawExchange> {
    const stream = await this.openStream(peer, protocol)
    const frames: Uint8Array[] = []
    let done = false
    let timer: NodeJS.Timeout | undefined
    const deadline = new Promise<'deadline'>((resolve) => {
      timer = setTimeout(() => resolve('deadline'), options.deadlineMs)
    })
    const exchange = async (): Promise<'closed' | 'reset'> => {
      try {
        // Writing may stall too: a responder that stopped reading leaves the window shut.
        await stream.sink([request])
        for await (const frame of lp.decode(stream.source, { maxDataLength: 2 * MiB })) {
          frames.push(frame.subarray())
          // Stops reading, the stream left open: only the remote's reset (or our deadline) ends it.
          if (frames.length === options.stopAfterFrames) {
            while (stream.status === 'open' && !done) await new Promise((r) => setTimeout(r, 50))
            return 'reset'
          }
          if (options.readDelayMs !== undefined) await new Promise((r) => setTimeout(r, options.readDelayMs))
        }
        return 'closed'
      } catch {
        return 'reset'
      }
    }
    const ended = await Promise.race([exchange(), deadline])
    done = true
    clearTimeout(timer)
    if (ended === 'deadline') stream.abort(new Error('rogue: deadline'))
    return { frames, ended }
  }

  async stop(): Promise<void> {
    await this.node.stop()
  }
}

/** A request as our sync protocol frames it: one length-prefixed frame. */
export function lengthPrefixed(data: Uint8Array): Uint8Array {
  return lp.encode.single(data).subarray()
}
