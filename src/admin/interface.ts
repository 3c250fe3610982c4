/**
 * What the admin API acts on, as small interfaces defined here and implemented by the composition
 * root (node.ts) over the roles: the admin layer sits above the roles but imports none of them.
 */
import type { Hex } from '../primitives/state-diff.ts'

export type AdminLogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'

/** The sequencer's block production, as op-node's admin API drives it. */
export interface SequencerControl {
  /** Whether blocks are being produced. */
  active(): boolean
  /** Stops after the mini-block in progress and the open EVM block are sealed; the sealed head's hash. */
  stop(): Promise<Hex>
  /** Starts producing again on the current head; throws (with the reason) when it cannot. */
  start(): void
  /** Hash of the sealed head (what `admin_startSequencer` must name). */
  headHash(): Hex
}

export interface AdminPeer {
  id: string
  addrs: string[]
  direction: string
}

/** The libp2p host's peers. */
export interface PeerControl {
  peers(): AdminPeer[]
  /** Dials `multiaddr` and keeps the peer connected; its peer id. Rejects when the first dial fails. */
  addPeer(multiaddr: string): Promise<string>
  /** Disconnects and forgets a peer; false when it was neither connected nor kept. */
  removePeer(peerId: string): Promise<boolean>
}

export interface LogLevelControl {
  level(): AdminLogLevel
  setLevel(level: AdminLogLevel): void
}

export interface AdminControls {
  /** undefined on a replica: its sequencer methods answer "not a sequencer". */
  sequencer: SequencerControl | undefined
  /** undefined on a node without p2p (an L1-derived replica). */
  peers: PeerControl | undefined
  logLevel: LogLevelControl
  /** geth's admin_nodeInfo shape where it fits; no secrets. */
  nodeInfo(): Record<string, unknown>
}
