/**
 * Tx pool limits, with their defaults in one place.
 */
import { DEFAULT_MAX_TX_BYTES } from '../ingest/decode.ts'

export interface TxPoolOptions {
  /** Most txs in the pool (pending + queued). */
  maxTotal: number
  /**
   * Most txs per sender. geth allows 16 executable slots per account (`accountslots`) and 64
   * queued; this L2 targets high TPS from few hot accounts (bots, bridges, relayers), who need
   * hundreds of txs in flight between 10 ms mini-blocks, so the cap is 1,000 and `maxTotal`
   * bounds the total instead.
   */
  maxPerSender: number
  /** How far beyond a sender's pending nonce (the next nonce after its contiguous run) a tx may be. */
  maxNonceGap: number
  /** A replacement (same sender and nonce) must raise both fee cap and tip by at least this much. geth: 10. */
  priceBumpPercent: number
  /** Queued (gapped) txs older than this are dropped by `prune`. geth: 3 h. */
  lifetimeMs: number
  /** Largest encoded tx accepted. Also the decoder's limit: keep them equal. */
  maxTxBytes: number
}

export const DEFAULT_TXPOOL_OPTIONS: Readonly<TxPoolOptions> = Object.freeze({
  maxTotal: 50_000,
  maxPerSender: 1_000,
  maxNonceGap: 64,
  priceBumpPercent: 10,
  lifetimeMs: 3 * 60 * 60 * 1000,
  maxTxBytes: DEFAULT_MAX_TX_BYTES,
})

export function resolveTxPoolOptions(overrides: Partial<TxPoolOptions> = {}): TxPoolOptions {
  const options: TxPoolOptions = { ...DEFAULT_TXPOOL_OPTIONS }
  for (const [key, value] of Object.entries(overrides) as Array<[keyof TxPoolOptions, number | undefined]>) {
    if (value !== undefined) options[key] = value
  }
  for (const [key, value] of Object.entries(options)) {
    if (!Number.isSafeInteger(value) || value < 0)
      throw new RangeError(`txpool option ${key} must be a non-negative integer, got ${value}`)
  }
  if (options.maxTotal < 1 || options.maxPerSender < 1)
    throw new RangeError('txpool maxTotal and maxPerSender must be at least 1')
  return options
}
