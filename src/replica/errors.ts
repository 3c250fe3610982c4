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
  /** The validator's trusted checkpoint is not the sequencer's block (or L1's anchor does not match its preimage). */
  | 'CHECKPOINT_MISMATCH'
  /** The checkpoint cannot be checked or verified from: L1 holds no preimage for it, or the sequencer pruned its blocks. */
  | 'CHECKPOINT_UNAVAILABLE'

/** Always `critical`: the replica halts at its last verified block and raises the alarm. */
export class ReplicaFailure extends NodeError<ReplicaFailureCode, { block: bigint }> {
  override readonly name = 'ReplicaFailure'

  constructor(code: ReplicaFailureCode, block: bigint, message: string, options?: { cause?: unknown }) {
    super(code, message, { data: { block }, severity: 'critical', cause: options?.cause })
  }
}
