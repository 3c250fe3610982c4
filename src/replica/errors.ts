import type { BlockVerificationErrorCode } from '../stateless/index.ts'

/** What made a replica stop following: the block it refused and why, with a precise code. */
export type ReplicaFailureCode =
  | BlockVerificationErrorCode
  | 'PARENT_MISMATCH'
  | 'MINI_BLOCK_PARENT_MISMATCH'
  | 'MINI_BLOCKS_MISMATCH'
  | 'STATE_DIFF_MISMATCH'
  | 'RECEIPTS_MISMATCH'
  | 'WITNESS_UNAVAILABLE'
  | 'VERIFIER_FAILED'

export class ReplicaFailure extends Error {
  override name = 'ReplicaFailure'

  constructor(
    readonly code: ReplicaFailureCode,
    readonly block: bigint,
    message: string,
  ) {
    super(message)
  }
}
