/**
 * P2P host configuration, with every default in one place.
 */
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'

const KiB = 1024
const MiB = 1024 * KiB

/**
 * Room left between a gossip message's data and the gossipsub RPC frame that carries it (topic,
 * seqno and piggybacked control messages). gossipsub caps the whole frame, we cap the data: the frame
 * cap is `maxMessageBytes + GOSSIP_FRAME_HEADROOM_BYTES`.
 */
export const GOSSIP_FRAME_HEADROOM_BYTES = 64 * KiB

export interface P2pOptions {
  /** Multiaddrs to listen on; `tcp/0` picks a free port (`multiaddrs()` reports the bound one). */
  listen: string[]
  /** Static peers, each a multiaddr ending in `/p2p/<peerId>`; dialled at start and re-dialled whenever disconnected. */
  bootnodes: string[]
  /** File holding this node's Ed25519 identity; created if missing so a restarted node keeps its peer id. Unset: a fresh identity per run. */
  keyFile?: string
  /** Max data of one gossip message; larger ones are refused on publish and rejected (penalized) on receipt. */
  maxMessageBytes: number
  /** Max request a `handle()` handler is given; larger requests reset the stream. */
  maxRequestBytes: number
  /** Max reassembled response `request()` accepts. */
  maxResponseBytes: number
  /**
   * Default deadline of `request()` (dial + whole response), and of serving an inbound request (request
   * read, response written): a requester that stops reading cannot hold a stream and its buffers longer.
   */
  requestTimeoutMs: number
  /** How often disconnected bootnodes are re-dialled. */
  redialIntervalMs: number
  /** Application penalties (`penalize()`) within `penaltyWindowMs` that get a peer disconnected and banned. */
  penaltyThreshold: number
  /**
   * Penalties one rejected gossip message costs its sender. Our validators reject only what no honest
   * node sends or forwards (undecodable, oversized, not signed by the sequencer: checks that need no
   * chain state), so a reject weighs more than an ordinary penalty: with the defaults the second one
   * bans. It must ban before gossipsub graylists the peer (score < −80, ~2 rejects), after which its
   * messages are dropped unvalidated and would never add up to a ban.
   */
  gossipRejectPenalty: number
  /** How long a penalty counts. */
  penaltyWindowMs: number
  /** How long a banned peer is refused (both directions). */
  banDurationMs: number
}

export const defaultP2pOptions: Readonly<P2pOptions> = Object.freeze({
  listen: ['/ip4/127.0.0.1/tcp/0'],
  bootnodes: [],
  // 4 MiB is it-length-prefixed's default frame limit, what other gossipsub implementations expect.
  maxMessageBytes: 4 * MiB - GOSSIP_FRAME_HEADROOM_BYTES,
  maxRequestBytes: 1 * MiB,
  maxResponseBytes: 64 * MiB,
  requestTimeoutMs: 10_000,
  redialIntervalMs: 1_000,
  penaltyThreshold: 5,
  gossipRejectPenalty: 3,
  penaltyWindowMs: 10 * 60_000,
  banDurationMs: 10 * 60_000,
})

const POSITIVE_INT_KEYS = [
  'maxMessageBytes',
  'maxRequestBytes',
  'maxResponseBytes',
  'requestTimeoutMs',
  'redialIntervalMs',
  'penaltyThreshold',
  'gossipRejectPenalty',
  'penaltyWindowMs',
  'banDurationMs',
] as const satisfies ReadonlyArray<keyof P2pOptions>

/** Fills in defaults and validates, so a bad multiaddr fails at startup with the option's name rather than deep inside libp2p. */
export function resolveP2pOptions(overrides: Partial<P2pOptions> = {}): P2pOptions {
  const opts: P2pOptions = { ...defaultP2pOptions }
  // Explicit `undefined` in overrides means "use the default", not "unset".
  for (const [key, value] of Object.entries(overrides) as [keyof P2pOptions, unknown][]) {
    if (value !== undefined) Object.assign(opts, { [key]: value })
  }
  for (const key of POSITIVE_INT_KEYS) {
    const value = opts[key]
    if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`p2p: ${key} must be a positive integer, got ${value}`)
  }
  if (opts.listen.length === 0) throw new RangeError('p2p: listen must name at least one multiaddr')
  for (const addr of opts.listen) parseMultiaddr('listen', addr)
  for (const addr of opts.bootnodes) {
    if (parseMultiaddr('bootnodes', addr).getPeerId() === null)
      throw new TypeError(`p2p: bootnode ${addr} must end in /p2p/<peerId>`)
  }
  if (opts.keyFile !== undefined && opts.keyFile === '') throw new TypeError('p2p: keyFile must be a non-empty path')
  return opts
}

function parseMultiaddr(option: string, addr: string): Multiaddr {
  try {
    return multiaddr(addr)
  } catch (err) {
    throw new TypeError(`p2p: ${option} entry ${JSON.stringify(addr)} is not a multiaddr`, { cause: err })
  }
}
