export {
  DEFAULT_DERIVATION_OPTIONS,
  DerivationPipeline,
  depositOnlyAttributes,
  type AdvanceOptions,
  type DerivationModules,
  type DerivationOptions,
} from './pipeline.ts'
export type { DerivedBlock, SafeBlockRef, SafeChain } from './safe-chain.ts'
export type { BatcherTransaction, BlobSource, L1Reader } from './l1-reader.ts'
export { ViemL1Reader, type ViemL1ReaderOptions } from './viem-l1-reader.ts'
export { anvilBlobSource, beaconBlobSource, blobVersionedHash, type BeaconBlobSourceOptions } from './blob-source.ts'
export { DerivationError, type DerivationErrorCode } from './errors.ts'
export { createDerivationMetrics, type DerivationMetrics } from './metrics.ts'
export { checkSingularBatch, checkSpanBatchPrefix, emptyBatch, spanBatchBlocks, type BatchValidity } from './batch-validity.ts'
