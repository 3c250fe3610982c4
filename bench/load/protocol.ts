/** Messages between the orchestrator and load-generator child processes (child_process IPC). */

export interface AccountRange {
  set: string
  from: number
  count: number
}

export interface LoadSpec {
  url: string
  chainId: string
  maxFeePerGas: string
  maxPriorityFeePerGas: string
  gasLimit: number
  kind: 'transfer' | 'erc20'
  senders: AccountRange
  /**
   * Same set as the senders: sender i's round-r tx goes to sender i+r+1 (mod count). Another set:
   * every tx gets its own recipient (this generator's slice, r × senders + i).
   */
  recipients: AccountRange
  /** erc20: the token contract (hex). */
  token?: string
  /** Txs per sender (nonces startNonce … startNonce + rounds − 1). */
  rounds: number
  startNonce: number
  /** JSON-RPC calls per HTTP request. */
  batchSize: number
  /** max: `concurrency` requests in flight, as fast as the server answers. rate: open loop at `rate` tx/s. */
  mode: 'max' | 'rate'
  concurrency: number
  rate?: number
  /** Give up retrying rejected txs after this long (max mode). */
  retryDeadlineMs: number
  /** Trivial-server runs: skip signing, send a fixed dummy tx (the server never decodes it). */
  dummy?: boolean
}

export type ToChild = { type: 'prepare'; spec: LoadSpec } | { type: 'go' } | { type: 'stop' }

export interface LoadReport {
  txs: number
  sent: number
  accepted: number
  /** Rejections seen (first attempts and retries), by normalized message. */
  errors: Record<string, number>
  retried: number
  failed: number
  /** Epoch ms. */
  firstSubmitMs: number
  lastSubmitMs: number
  lastResponseMs: number
  requests: number
  requestMs: { p50: number; p99: number; max: number }
  cpuSeconds: number
  wallSeconds: number
  /** The hashes of each sender's last tx (to confirm inclusion). */
  lastHashes: string[]
}

export type FromChild =
  | { type: 'ready'; txs: number; bodies: number; prepMs: number; bodyBytes: number }
  | { type: 'done'; report: LoadReport }
  | { type: 'error'; message: string }
