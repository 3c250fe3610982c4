import { availableParallelism } from 'node:os'
import type { TxPoolOptions } from './txpool/index.ts'

export interface ProducerOptions {
  /** Mini-block cadence (the 10 ms tier). */
  miniBlockMs: number
  /** EVM block cadence (the 1 s tier). */
  blockMs: number
  /** Most transactions per mini-block: bounds one tick's latency under a flood. */
  maxTxsPerMiniBlock: number
  /**
   * Eager mini-blocks: a transaction that becomes pending starts a mini-block as soon as the previous
   * one started at least this long ago, instead of waiting for the `miniBlockMs` tick (which still
   * fires when nothing arrives: the heartbeat and the 10 ms maximum gap are unchanged). A value of
   * `miniBlockMs` or more turns eager mini-blocks off (one mini-block per tick, the pre-2026-12 behaviour).
   */
  eagerMiniBlockMs: number
}

export type ExecutorMode = 'parallel' | 'sequential'

export interface SequencerOptions extends ProducerOptions {
  /** Decode/ecrecover worker threads (0 = in the main thread). */
  ingestWorkers: number
  /** Parallel EVM (worker threads, optimistic, results identical to sequential) or one tx after another. */
  executor: ExecutorMode
  /** Execution worker threads of the parallel executor (the main thread executes a chunk too). */
  execWorkers: number
  txpool: Partial<TxPoolOptions>
}

/** See `defaultIngestWorkers`. */
const MAX_DEFAULT_INGEST_WORKERS = 4

export const DEFAULT_SEQUENCER_OPTIONS: Readonly<SequencerOptions> = Object.freeze({
  miniBlockMs: 10,
  blockMs: 1000,
  maxTxsPerMiniBlock: 1_000,
  // Off by default: with eager mini-blocks on (2 ms), the replicas-under-load e2e suite fell behind in two CI runs
  // out of two (up to 5× the mini-blocks to gossip and apply), and the sync-send gain is not yet measured on a quiet
  // machine (docs/DESIGN.md "Eager mini-blocks"). 10 s is the flag's maximum: at or above any tick, so off.
  eagerMiniBlockMs: 10_000,
  ingestWorkers: defaultIngestWorkers(),
  executor: 'sequential',
  execWorkers: defaultExecWorkers(),
  txpool: {},
})

/** One execution worker per core, minus the main thread's (which executes a chunk too), at least 1. */
export function defaultExecWorkers(): number {
  return Math.max(1, availableParallelism() - 1)
}

/**
 * One decode worker per core, not per core minus one: recovering a sender (~46 µs) is the heaviest
 * per-tx step, and the main thread is busy only in bursts (RPC, sealing, GC). With one thread fewer
 * than cores the decoder idles whenever the main thread does; one per core lets the OS fill those
 * gaps (+15–20 % transfers/s on 2 cores, see docs/DESIGN.md). At most four: they decode ~60,000
 * tx/s, more than the main thread admits (~40 µs per transfer), and each holds a V8 heap.
 */
export function defaultIngestWorkers(): number {
  return Math.max(1, Math.min(availableParallelism(), MAX_DEFAULT_INGEST_WORKERS))
}
