import { bytesToHex } from '@ethereumjs/util'
import { InvalidTrieNodeError, MissingTrieNodeError } from '../trie/index.ts'
import { NodeError } from '../primitives/errors.ts'

/**
 * Why a block failed stateless verification. `WITNESS_*` codes blame the witness (the block may
 * still be valid: fetch another witness); the rest blame the block itself.
 */
export type BlockVerificationErrorCode =
  | 'WITNESS_MALFORMED'
  | 'WITNESS_MISSING_NODE'
  | 'WITNESS_INVALID_NODE'
  | 'WITNESS_BOGUS_NODE'
  | 'WITNESS_MISSING_CODE'
  | 'WITNESS_MISSING_HEADER'
  | 'BAD_PARENT'
  | 'BAD_HEADER'
  | 'INVALID_TRANSACTION'
  | 'TRANSACTIONS_ROOT_MISMATCH'
  | 'STATE_ROOT_MISMATCH'
  | 'RECEIPTS_ROOT_MISMATCH'
  | 'LOGS_BLOOM_MISMATCH'
  | 'GAS_USED_MISMATCH'

/**
 * Severity: a witness at fault is `temporary` (another witness may verify the block), a block at fault
 * is `critical` (no retry makes it valid).
 */
export class BlockVerificationError extends NodeError<BlockVerificationErrorCode, undefined> {
  override readonly name = 'BlockVerificationError'

  constructor(code: BlockVerificationErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, { severity: blamesWitness(code) ? 'temporary' : 'critical', cause: options?.cause })
  }

  /** Whether the witness, not the block, is at fault. */
  get blamesWitness(): boolean {
    return blamesWitness(this.code)
  }
}

function blamesWitness(code: BlockVerificationErrorCode): boolean {
  return code.startsWith('WITNESS_')
}

/** Turns a trie read failure into the verification error it means; other errors pass through. */
export function witnessReadError(error: unknown, what: string): unknown {
  if (error instanceof BlockVerificationError) return error
  if (error instanceof MissingTrieNodeError) {
    return new BlockVerificationError(
      'WITNESS_MISSING_NODE',
      `witness lacks trie node ${bytesToHex(error.data.hash)}, needed to ${what}`,
      { cause: error },
    )
  }
  if (error instanceof InvalidTrieNodeError)
    return new BlockVerificationError('WITNESS_INVALID_NODE', `${error.message} (while trying to ${what})`, { cause: error })
  return error
}
