import { NodeError, type Severity } from '../../primitives/errors.ts'

/** What failed in a proposer round: L1 reads, the block's output, or one of its transactions. */
export type ProposerFailureKind = 'l1' | 'output' | 'tx'

export class ProposerError extends NodeError<'PROPOSER_FAILED', { kind: ProposerFailureKind | 'config' }> {
  override readonly name = 'ProposerError'
  constructor(message: string, kindOrSeverity: ProposerFailureKind | 'critical') {
    const kind = kindOrSeverity === 'critical' ? 'config' : kindOrSeverity
    const severity: Severity = kindOrSeverity === 'critical' ? 'critical' : 'temporary'
    super('PROPOSER_FAILED', message, { severity, data: { kind } })
  }

  get kind(): string {
    return this.data.kind
  }
}
