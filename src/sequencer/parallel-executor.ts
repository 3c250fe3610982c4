/**
 * The sequencer's choice of mini-block executor, and the parallel executor's metrics.
 */
import type { Logger } from 'pino'
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import type { ChainConfig } from '../chain/config.ts'
import type { SequentialExecutor } from '../execution/executor.ts'
import {
  ExecWorkerPool,
  ParallelExecutor,
  SequentialMiniBlockExecutor,
  type MiniBlockExecutor,
  type ParallelExecutionObserver,
  type RoundReport,
} from '../execution/parallel/index.ts'
import { FlatState } from '../state/flat-state.ts'
import type { LiveState } from '../state/live-state.ts'

/**
 * prom-client metrics of the parallel executor: the sequential/parallel choice per stretch and
 * why, transactions by path, re-executions by reason, the smoothed re-execution rate, and what
 * keeping the worker replicas in step costs.
 */
export function createExecutorMetrics(registry: Registry, logger?: Logger): ParallelExecutionObserver & { rate(): number } {
  const rounds = new Counter({
    name: 'megaeth_executor_rounds_total',
    help: 'Execution rounds by mode (parallel | sequential) and reason (speculative | small | transfers | contended | backoff | unavailable)',
    labelNames: ['mode', 'reason'],
    registers: [registry],
  })
  const txs = new Counter({
    name: 'megaeth_executor_transactions_total',
    help: 'Transactions by execution path: main (sequential or the main thread chunk), deferred (kept off the workers: a contended contract or a sender the main thread chunk has), worker_committed, reexecuted',
    labelNames: ['path'],
    registers: [registry],
  })
  const reexecuted = new Counter({
    name: 'megaeth_executor_reexecutions_total',
    help: 'Worker transactions re-executed on the main thread, by reason',
    labelNames: ['reason'],
    registers: [registry],
  })
  const rate = new Gauge({
    name: 'megaeth_executor_reexecution_rate',
    help: 'Smoothed share of worker transactions re-executed on the main thread',
    registers: [registry],
  })
  const syncBytes = new Counter({
    name: 'megaeth_executor_sync_bytes_total',
    help: 'Bytes of committed state shipped to execution worker replicas',
    registers: [registry],
  })
  const syncSeconds = new Histogram({
    name: 'megaeth_executor_sync_seconds',
    help: 'Main-thread time to encode and post a replica sync',
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05],
    registers: [registry],
  })
  const workerFailures = new Counter({
    name: 'megaeth_executor_worker_failures_total',
    help: 'Execution worker failures (the executor falls back to sequential)',
    registers: [registry],
  })
  let smoothed = 0
  return {
    onRound(report: RoundReport) {
      rounds.inc({ mode: report.mode, reason: report.reason })
      let again = 0
      for (const [reason, n] of Object.entries(report.reexecuted)) {
        reexecuted.inc({ reason }, n)
        again += n
      }
      txs.inc({ path: 'main' }, report.mainTxs)
      if (report.deferredTxs > 0) txs.inc({ path: 'deferred' }, report.deferredTxs)
      if (report.workerTxs > 0) {
        txs.inc({ path: 'worker_committed' }, report.workerTxs - again)
        txs.inc({ path: 'reexecuted' }, again)
        smoothed += 0.3 * (again / report.workerTxs - smoothed)
        rate.set(smoothed)
      }
      if (report.mode === 'parallel') {
        syncBytes.inc(report.syncBytes)
        syncSeconds.observe(report.syncUs / 1e6)
      }
    },
    onWorkerFailure(error: Error) {
      workerFailures.inc()
      logger?.error({ err: error }, 'execution worker failed: executing sequentially from now on')
    },
    rate: () => smoothed,
  }
}

export interface MiniBlockExecutorParams {
  mode: 'parallel' | 'sequential'
  workers: number
  sequential: SequentialExecutor
  /** The flat state under `sequential`'s overlay; the parallel executor needs it whole (`FlatState`). */
  base: LiveState
  config: Pick<ChainConfig, 'chainId' | 'name' | 'forks'>
  registry?: Registry
  logger?: Logger
}

/** Builds the executor the block producer runs mini-blocks on (starting the workers for `parallel`). */
export async function createMiniBlockExecutor(params: MiniBlockExecutorParams): Promise<MiniBlockExecutor> {
  if (params.mode === 'sequential') return new SequentialMiniBlockExecutor(params.sequential)
  // Each worker starts from a snapshot of every account: a state kept on disk has none to give.
  if (!(params.base instanceof FlatState))
    throw new Error('the parallel executor needs the whole flat state in memory: open the chain without a state cache')
  let pool: ExecWorkerPool
  try {
    pool = await ExecWorkerPool.start(params.workers, {
      kind: 'chain',
      chainId: params.config.chainId,
      name: params.config.name,
      forks: params.config.forks,
    })
  } catch (error) {
    // Results are identical either way: keep producing blocks, sequentially, and say so loudly.
    params.logger?.error({ err: error }, 'execution workers failed to start: executing sequentially')
    return new SequentialMiniBlockExecutor(params.sequential)
  }
  const observer = params.registry === undefined ? undefined : createExecutorMetrics(params.registry, params.logger)
  return new ParallelExecutor(pool, params.sequential, params.base, {}, observer, true)
}
