/**
 * Parallel EVM execution: worker threads with optimistic, value-validated conflict detection,
 * committing results identical to sequential execution in preset order. See docs/DESIGN.md
 * ("Parallel execution").
 */
export { commonFromSpec, type CommonSpec } from './common-spec.ts'
export {
  DEFAULT_PARALLEL_OPTIONS,
  ParallelExecutor,
  type ParallelExecutionObserver,
  type ParallelExecutorOptions,
  type ParallelStats,
  type RoundReport,
} from './coordinator.ts'
export {
  SequentialMiniBlockExecutor,
  type BatchOptions,
  type BatchOutcomes,
  type BatchTx,
  type MiniBlockExecutor,
} from './mini-block-executor.ts'
export { ExecWorkerError, ExecWorkerPool } from './pool.ts'
