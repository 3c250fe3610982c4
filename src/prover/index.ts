export { ClockOnlyTraceProvider } from './clock-only-trace.ts'
export { ProverError, type ProverErrorCode } from './errors.ts'
export { executionContext, executionIndex, GameStatus, type Claim, type GameSnapshot } from './game-state.ts'
export type {
  DerivedChainSource,
  DerivedOutput,
  ExecutionContext,
  ExecutionTraceProvider,
  OutputPublisher,
  StepInputs,
} from './interface.ts'
export { createProverMetrics, type ProverMetrics } from './metrics.ts'
export { DEFAULT_PROVER_OPTIONS, type ProverOptions } from './options.ts'
export { Prover, type ProverModules } from './prover.ts'
export { type Action, solveGame, type Truth } from './solver.ts'
