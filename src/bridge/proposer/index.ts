export {
  DisabledProposer,
  type OwnGame,
  type ProposedOutput,
  type ProposerChain,
  type ProposerService,
  type ProposerStatus,
} from './interface.ts'
export { createProposerMetrics, type ProposerMetrics } from './metrics.ts'
export { DEFAULT_PROPOSER_OPTIONS, DEV_PROPOSER_OPTIONS, type ProposerOptions } from './options.ts'
export { GameStatus, Proposer, type ProposerDeps } from './proposer.ts'
export { ProposerError } from './errors.ts'
