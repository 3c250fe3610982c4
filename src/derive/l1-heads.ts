/**
 * Derivation's heads across restarts: where a restarted node resumes (`derivationStart`) and the
 * recorder that keeps `L1HeadsStore` up to date as the driver moves the heads.
 */
import type { Logger } from 'pino'
import type { ChainView } from '../storage/chain-view.ts'
import type { L1HeadsRecord, L1HeadsStore } from '../storage/l1-heads-store.ts'
import type { SafeBlockRef } from './safe-chain.ts'

export interface DerivationHeads {
  safe: bigint
  finalized: bigint
}

/**
 * Where derivation resumes. `'head'`: every block of the chain is derived (a `--sync=l1` replica, a
 * prover), so the head is safe; what is final is what the record says, never more than the head (a
 * datadir without a record claims nothing final until a block derived from finalized L1 says so).
 * `'recorded'` (the sequencer, whose own blocks run ahead of L1): the recorded safe head if the chain
 * still holds that block, else genesis, as before the record existed.
 */
export async function derivationStart(
  mode: 'head' | 'recorded',
  chain: Pick<ChainView, 'head' | 'blockByNumber'>,
  record: L1HeadsRecord | undefined,
): Promise<DerivationHeads> {
  if (mode === 'head') {
    const head = chain.head.header.number
    return { safe: head, finalized: minBigint(record?.finalized ?? 0n, head) }
  }
  if (record === undefined || record.safe.number > chain.head.header.number) return { safe: 0n, finalized: 0n }
  const block = await chain.blockByNumber(record.safe.number)
  if (block?.hash !== record.safe.hash) return { safe: 0n, finalized: 0n }
  return { safe: record.safe.number, finalized: minBigint(record.finalized, record.safe.number) }
}

/**
 * Writes the heads the driver publishes, one write at a time and only when they changed (the driver
 * publishes on every idle poll): while a write is in flight the newest heads wait, older ones are
 * dropped. A failed write is logged and retried with the next heads: the record is only a hint.
 */
export class L1HeadsRecorder {
  private written: DerivationHeads | undefined
  private pending: DerivationHeads | undefined
  private writing: Promise<void> | undefined

  constructor(
    private readonly store: L1HeadsStore,
    /** The block ref of a safe block (queued blocks included: `ChainSafeChain.blockRef`). */
    private readonly blockRef: (number: bigint) => Promise<SafeBlockRef | undefined>,
    private readonly logger: Logger,
  ) {}

  record(heads: DerivationHeads): void {
    const last = this.pending ?? this.written
    if (last !== undefined && last.safe === heads.safe && last.finalized === heads.finalized) return
    this.pending = heads
    this.writing ??= this.drain()
  }

  /** Resolves once the newest heads are written (or their write failed). */
  async flushed(): Promise<void> {
    await this.writing
  }

  private async drain(): Promise<void> {
    while (this.pending !== undefined) {
      const heads = this.pending
      this.pending = undefined
      try {
        const ref = await this.blockRef(heads.safe)
        if (ref !== undefined) {
          await this.store.save({ safe: { number: ref.number, hash: ref.hash }, finalized: heads.finalized })
          this.written = heads
        }
      } catch (err) {
        this.logger.warn({ err }, 'could not record the safe head; a restart re-derives from an older one')
      }
    }
    this.writing = undefined
  }
}

const minBigint = (a: bigint, b: bigint): bigint => (a < b ? a : b)
