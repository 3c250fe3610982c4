import { NodeError } from '../primitives/errors.ts'

/**
 * The sequencer cannot take a transaction because block production halted on a failure (a database
 * write, a WAL fsync, a seal) or the transaction's journal write just failed. Critical: nothing is
 * acknowledged that the node could not keep; a restart (once the disk is healthy) resumes.
 */
export class SequencerHaltedError extends NodeError<'SEQUENCER_HALTED', undefined> {
  override name = 'SequencerHaltedError'

  constructor(cause: unknown) {
    super('SEQUENCER_HALTED', 'sequencer halted: a storage write failed, transactions are not accepted', {
      hint: 'the operator frees disk space or fixes the device and restarts the node',
      severity: 'critical',
      cause,
    })
  }
}

export function isSequencerHaltedError(error: unknown): error is SequencerHaltedError {
  return error instanceof SequencerHaltedError
}

/**
 * Crash recovery could not finish a block it found in the WAL (with L1: the block's origin could not be
 * read). Critical: the node does not produce on a chain it could not close; a restart tries again.
 */
export class SequencerRecoveryError extends NodeError<'SEQUENCER_RECOVERY_FAILED', undefined> {
  override name = 'SequencerRecoveryError'

  constructor(message: string) {
    super('SEQUENCER_RECOVERY_FAILED', message, {
      hint: 'check that --l1.rpc answers, then restart the node',
      severity: 'critical',
    })
  }
}
