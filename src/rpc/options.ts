/**
 * RPC server configuration, with every default in one place.
 *
 * Limits mirror geth's where it has one (5 MiB body, 1000 batch items in geth
 * vs 500 here) and otherwise are sized so a single misbehaving client cannot
 * pin unbounded memory.
 */

const MiB = 1024 * 1024

export interface RpcServerOptions {
  /** Interface to bind. Loopback by default: exposing RPC publicly is an explicit decision. */
  host: string
  /** TCP port; 0 picks an ephemeral port (`start()` reports the bound one). */
  port: number
  /** Max HTTP request body; larger bodies get HTTP 413. */
  maxBodyBytes: number
  /** Max requests per batch (HTTP or WS). */
  maxBatchSize: number
  /** Max size of one response, and of a batch's responses together; beyond it calls are answered -32005. */
  maxResponseBytes: number
  /** Max concurrent WebSocket connections. */
  maxWsConnections: number
  /**
   * Max concurrent WebSocket connections from one remote address. Behind a reverse proxy every
   * client shares the proxy's address: raise it to `maxWsConnections` there.
   */
  maxWsConnectionsPerIp: number
  /**
   * Max messages (a single call or a whole batch) one WebSocket connection may have being processed
   * at once; the ones beyond are answered -32005 at once, without running.
   */
  maxWsRequestsInFlight: number
  /** Max live subscriptions per WebSocket connection. */
  maxSubscriptionsPerConnection: number
  /** Max size of one inbound WebSocket message; larger ones close the socket with 1009. */
  maxWsMessageBytes: number
  /** Allowed browser origins; `['*']` allows any. Also applied to WebSocket upgrades that carry an Origin. */
  corsOrigins: readonly string[]
  /** WebSocket ping interval; a peer that misses one full interval is dropped. */
  wsPingIntervalMs: number
  /** Max bytes queued for one WebSocket peer before it is treated as a stalled reader and closed. */
  wsMaxBufferedBytes: number
  /** Max time to receive a full HTTP request (slow-loris guard). */
  requestTimeoutMs: number
  /** How long `stop()` waits for in-flight requests before aborting them. */
  shutdownTimeoutMs: number
}

export const DEFAULT_RPC_SERVER_OPTIONS: Readonly<RpcServerOptions> = Object.freeze({
  host: '127.0.0.1',
  port: 8545,
  maxBodyBytes: 5 * MiB,
  maxBatchSize: 500,
  // geth's --rpc.batch-response-max-size.
  maxResponseBytes: 25_000_000,
  maxWsConnections: 1000,
  // A wallet holds one or two connections and an indexer a handful; 100 is a tenth of the total, so
  // one address cannot take every slot (geth has no such cap; nginx-style deployments add one).
  maxWsConnectionsPerIp: 100,
  // Far above any client's pipelining (viem and ethers wait for answers; an indexer batches), while
  // one connection cannot queue unbounded work and parsed messages (each up to maxWsMessageBytes).
  maxWsRequestsInFlight: 256,
  maxSubscriptionsPerConnection: 128,
  maxWsMessageBytes: 5 * MiB,
  corsOrigins: Object.freeze(['*']),
  wsPingIntervalMs: 30_000,
  wsMaxBufferedBytes: 16 * MiB,
  requestTimeoutMs: 30_000,
  shutdownTimeoutMs: 5_000,
})

const POSITIVE_INT_KEYS = [
  'maxBodyBytes',
  'maxBatchSize',
  'maxResponseBytes',
  'maxWsConnections',
  'maxWsConnectionsPerIp',
  'maxWsRequestsInFlight',
  'maxSubscriptionsPerConnection',
  'maxWsMessageBytes',
  'wsPingIntervalMs',
  'wsMaxBufferedBytes',
  'requestTimeoutMs',
  'shutdownTimeoutMs',
] as const satisfies ReadonlyArray<keyof RpcServerOptions>

/** Fills in defaults and validates. Throws `RangeError`/`TypeError` on nonsense config so it fails at startup, not under load. */
export function resolveRpcServerOptions(overrides: Partial<RpcServerOptions> = {}): RpcServerOptions {
  const opts: RpcServerOptions = { ...DEFAULT_RPC_SERVER_OPTIONS }
  // Explicit `undefined` in overrides means "use the default", not "unset".
  for (const [key, value] of Object.entries(overrides) as [keyof RpcServerOptions, unknown][]) {
    if (value !== undefined) Object.assign(opts, { [key]: value })
  }
  if (typeof opts.host !== 'string' || opts.host === '') throw new TypeError('rpc: host must be a non-empty string')
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65_535) {
    throw new RangeError(`rpc: port must be an integer in [0, 65535], got ${opts.port}`)
  }
  for (const key of POSITIVE_INT_KEYS) {
    const value = opts[key]
    if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`rpc: ${key} must be a positive integer, got ${value}`)
  }
  if (!Array.isArray(opts.corsOrigins) || !opts.corsOrigins.every((o) => typeof o === 'string' && o !== '')) {
    throw new TypeError('rpc: corsOrigins must be an array of non-empty strings')
  }
  return opts
}
