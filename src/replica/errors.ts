import { NodeError } from '../primitives/errors.ts'
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

/** Always `critical`: the replica halts at its last verified block and raises the alarm. */
export class ReplicaFailure extends NodeError<ReplicaFailureCode, { block: bigint }> {
  override readonly name = 'ReplicaFailure'

  constructor(code: ReplicaFailureCode, block: bigint, message: string, options?: { cause?: unknown }) {
    super(code, message, { data: { block }, severity: 'critical', cause: options?.cause })
  }
}
