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
   * Longest stretch without progress in a request/response exchange, on both sides (`request()`'s
   * default: the dial, then each response frame; serving: the request frame, then each response frame
   * taken by the requester). A requester that stops reading cannot hold a stream and its buffers
   * longer; one reading a big answer slowly but steadily is not cut (see `progress-deadline.ts`).
   */
  requestTimeoutMs: number
  /** Longest request/response exchange however steady its progress, on both sides: bounds a trickling peer. */
  maxExchangeMs: number
  /**
   * Inbound requests per second a peer may sustain (all protocols together); past its burst, requests
   * are refused with an ERROR frame "rate limited" and their handler never runs (see `rate-limit.ts`).
   */
  requestRatePerSecond: number
  /**
   * Requests a peer may send at once before the rate applies; a peer refused for as many more again
   * (it kept sending faster than the rate while refused) is banned.
   */
  requestBurst: number
  /** How often disconnected bootnodes are re-dialled. */
  redialIntervalMs: number
  /** Application penalties (`penalize()`) within `penaltyWindowMs` that get a peer disconnected and banned. */
  penaltyThreshold: number
  /**
   * Penalties one rejected gossip message costs its sender. Our validators reject only what no honest
   * node sends or forwards (undecodable, oversized, not signed by the sequencer: checks that need no
   * chain state), so a reject weighs more than an ordinary penalty: with the defaults the second one
   * bans. It must ban before gossipsub graylists the peer (score < −80, ~2 rejects), after which its
   * messages are dropped unvalidated and would never add up to a ban. A gossip frame over the frame
   * cap (`maxMessageBytes` + headroom), which gossipsub drops with the stream before any validator
   * sees it, costs the same.
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
  // 12 stretches of 10 s: a 16-block answer of tens of MiB on a loaded machine, with room to spare.
  maxExchangeMs: 120_000,
  // A following replica asks about once per block (its witness) plus a catch-up per gap (status,
  // blocks, mini-blocks); catching up after an outage it asks for a witness per block it verifies, so
  // the burst covers minutes of 1 s blocks and the rate several times real time. One peer asking
  // back to back gets ~40 requests a second out of a loaded 2-core sequencer: 20 is below that.
  requestRatePerSecond: 20,
  requestBurst: 200,
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
  'maxExchangeMs',
  'requestRatePerSecond',
  'requestBurst',
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
  if (opts.maxExchangeMs < opts.requestTimeoutMs)
    throw new RangeError(
      `p2p: maxExchangeMs (${opts.maxExchangeMs}) must be at least requestTimeoutMs (${opts.requestTimeoutMs})`,
    )
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
