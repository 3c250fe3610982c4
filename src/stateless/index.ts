export { BlockVerificationError, type BlockVerificationErrorCode } from './errors.ts'
export {
  decodeWitness,
  encodeWitness,
  joinEncodedWitness,
  witnessByteLength,
  witnessToJson,
  type ExecutionWitness,
  type ExecutionWitnessJson,
} from './witness.ts'
export { executionMismatch, verifyBlock, type BlockToVerify, type VerifiedBlock, type VerifyOptions } from './verifier.ts'
