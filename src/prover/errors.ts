import { NodeError, type NodeErrorOptions } from '../primitives/errors.ts'

export type ProverErrorCode = 'PROVER_NO_DISPUTE_CONTRACTS' | 'PROVER_TX_REVERTED'

/** A prover failure: no dispute contracts on the rollup, or one of its L1 transactions reverted. */
export class ProverError extends NodeError<ProverErrorCode, undefined> {
  override readonly name = 'ProverError'
  constructor(code: ProverErrorCode, message: string, options?: NodeErrorOptions) {
    super(code, message, options)
  }
}
