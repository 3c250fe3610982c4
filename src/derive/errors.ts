/**
 * Derivation errors, with op-node's three severities (`primitives/errors.ts`): `temporary` — an L1 read
 * failed, call `step()` again later; `reset` — L1 reorganised under the pipeline, which rewinds itself
 * (`step()` answers `'reset'`, the error never leaves it); `critical` — retrying cannot help (a deeper
 * reorg than the pipeline remembers, a broken L1 node), stop and raise the alarm.
 */
import { NodeError, type Severity } from '../primitives/errors.ts'

export type DerivationErrorCode =
  /** An L1 read failed (network, node not synced, block gone mid-read). */
  | 'DERIVE_L1_UNAVAILABLE'
  /** The next L1 block does not build on the one the pipeline traversed: a reorg. */
  | 'DERIVE_L1_REORG'
  /** A reorg deeper than the L1 blocks the pipeline keeps, or a safe chain that does not link up. */
  | 'DERIVE_RESET_FAILED'
  /** L1 data that the protocol guarantees well-formed is not (a `ConfigUpdate` or deposit log). */
  | 'DERIVE_BAD_L1_DATA'
  /** An inconsistency that should be impossible (an epoch that does not chain to its parent's). */
  | 'DERIVE_INCONSISTENT'
  /** A derived block could not be written: the in-memory state is ahead of the datadir, restart. */
  | 'DERIVE_COMMIT_FAILED'

export class DerivationError extends NodeError<DerivationErrorCode, undefined> {
  override name = 'DerivationError'
  constructor(code: DerivationErrorCode, message: string, severity: Severity, options: { cause?: unknown; hint?: string } = {}) {
    super(code, message, { severity, ...options })
  }
}

export function temporaryError(message: string, cause?: unknown): DerivationError {
  return new DerivationError('DERIVE_L1_UNAVAILABLE', message, 'temporary', {
    cause,
    hint: 'check the L1 RPC (and beacon) endpoint; the pipeline retries from where it stopped',
  })
}

export function reorgError(message: string): DerivationError {
  return new DerivationError('DERIVE_L1_REORG', message, 'reset')
}

export function criticalError(code: DerivationErrorCode, message: string, cause?: unknown): DerivationError {
  return new DerivationError(code, message, 'critical', { cause })
}
