import type { TxPoolOptions } from './txpool/index.ts'

export interface ProducerOptions {
  /** Mini-block cadence (the 10 ms tier). */
  miniBlockMs: number
  /** EVM block cadence (the 1 s tier). */
  blockMs: number
  /** Most transactions per mini-block: bounds one tick's latency under a flood. */
  maxTxsPerMiniBlock: number
}

export interface SequencerOptions extends ProducerOptions {
  /** Decode/ecrecover worker threads (0 = in the main thread). */
  ingestWorkers: number
  /** Default wait of eth_sendRawTransactionSync when the client gives none (EIP-7966 suggests 2 s). */
  syncSendTimeoutMs: number
  /** Longest wait a client may ask eth_sendRawTransactionSync for. */
  maxSyncSendTimeoutMs: number
  /** How long realtime_sendRawTransaction waits before "realtime transaction expired". */
  realtimeTimeoutMs: number
  txpool: Partial<TxPoolOptions>
}

export const DEFAULT_SEQUENCER_OPTIONS: Readonly<SequencerOptions> = Object.freeze({
  miniBlockMs: 10,
  blockMs: 1000,
  maxTxsPerMiniBlock: 1_000,
  ingestWorkers: 1,
  syncSendTimeoutMs: 2_000,
  maxSyncSendTimeoutMs: 60_000,
  realtimeTimeoutMs: 10_000,
  txpool: {},
})
