/**
 * Stage 5, the batch queue as Holocene made it (op-node `batch_stage.go`): no buffering — batches are
 * taken in order, each checked against the safe head when it comes out of the channel; a span batch
 * is checked as a whole first (`checkSpanBatchPrefix`), then block by block. An invalid batch drops the
 * rest of its span batch and of its channel; a past one is skipped. When the data of the current L1
 * block is used up and the safe head's epoch is past its sequencing window, it makes the deposits-only
 * batches op-node makes (forced inclusion).
 *
 * `l1Blocks` holds the L1 blocks from the safe head's origin up to the current L1 block: batches may
 * only name an epoch among them.
 */
import type { Logger } from 'pino'
import type { L1Origin } from '../chain/l1-origin.ts'
import type { RollupConfig } from '../chain/rollup-config.ts'
import type { Batch, SingularBatch } from '../da/batch.ts'
import { checkSingularBatch, checkSpanBatchPrefix, emptyBatch, spanBatchBlocks } from './batch-validity.ts'
import type { DerivationMetrics } from './metrics.ts'
import type { SafeBlockRef } from './safe-chain.ts'

/** What the batch stage reads from: the channel reader over the current L1 block's data. */
export interface BatchSource {
  /** The L1 block whose data is being read. */
  readonly origin: L1Origin
  /** The next batch of that data, or undefined when it is used up. */
  next(): Batch | undefined
  /** Drops the rest of the channel the last batch came from. */
  flushChannel(): void
}

export type BatchStageResult =
  | { readonly kind: 'batch'; readonly batch: SingularBatch; readonly epoch: L1Origin; readonly forced: boolean }
  /** Nothing more from this L1 block: read the next one. */
  | { readonly kind: 'eof' }
  /** Progress was made (a batch was read and skipped): call again. */
  | { readonly kind: 'more' }

const EOF: BatchStageResult = { kind: 'eof' }
const MORE: BatchStageResult = { kind: 'more' }

export class BatchStage {
  private origin: L1Origin | undefined
  private l1Blocks: L1Origin[] = []
  /** The blocks left of the span batch being read. */
  private nextSpan: SingularBatch[] = []

  constructor(
    private readonly rollup: RollupConfig,
    private readonly logger: Logger,
    private readonly metrics: DerivationMetrics,
  ) {}

  reset(base: L1Origin): void {
    this.origin = base
    this.l1Blocks = [base]
    this.nextSpan = []
  }

  /** Drops the rest of the span batch (Holocene: after a deposit-only replacement too). */
  flushSpan(): void {
    this.nextSpan = []
  }

  /**
   * The next batch on top of `parent`. `l2BlockAt` looks up an older safe block, for a span batch that
   * overlaps the safe chain.
   */
  async next(
    parent: SafeBlockRef,
    source: BatchSource,
    l2BlockAt: (number: bigint) => Promise<SafeBlockRef | undefined>,
  ): Promise<BatchStageResult> {
    this.updateOrigins(parent, source.origin)
    const origin = source.origin
    // Data in L1 blocks up to the safe head's origin cannot hold the next batch (it must name an epoch
    // at or after that origin, whose hash its writer had to know): drain it, which still assembles frames.
    if (origin.number <= parent.l1Origin.number) return source.next() === undefined ? EOF : MORE

    const candidate = this.nextFromSpan(parent) ?? (await this.nextCandidate(parent, source, l2BlockAt))
    if (candidate === 'eof') return this.forcedBatch(parent, origin)
    if (candidate === 'more') return MORE
    const validity = checkSingularBatch(this.rollup, this.l1Blocks, parent, candidate, origin)
    switch (validity.kind) {
      case 'accept': {
        const epoch = this.l1Blocks.find((b) => b.number === candidate.epochNumber)!
        return { kind: 'batch', batch: candidate, epoch, forced: false }
      }
      case 'past':
        this.logger.debug({ timestamp: candidate.timestamp }, 'dropping past batch')
        this.metrics.observeDroppedBatch('past')
        return MORE
      case 'drop':
        this.logger.warn(
          { timestamp: candidate.timestamp, l1Block: origin.number, reason: validity.reason },
          'dropping invalid batch, flushing its channel',
        )
        this.metrics.observeDroppedBatch('invalid')
        this.nextSpan = []
        source.flushChannel()
        return MORE
      case 'undecided':
        this.logger.warn({ timestamp: candidate.timestamp, reason: validity.reason }, 'skipping undecidable batch')
        this.metrics.observeDroppedBatch('undecided')
        return MORE
    }
  }

  /** op-node's `updateOrigins`: follow the L1 block being read, and drop epochs older than the parent's. */
  private updateOrigins(parent: SafeBlockRef, origin: L1Origin): void {
    if (this.origin?.hash !== origin.hash) {
      this.origin = origin
      if (origin.number < parent.l1Origin.number) this.l1Blocks = []
      else this.l1Blocks.push(origin)
    }
    const first = this.l1Blocks[0]
    if (first !== undefined && parent.l1Origin.number > first.number) {
      const at = this.l1Blocks.findIndex((b) => b.number === parent.l1Origin.number)
      if (at >= 0) this.l1Blocks = this.l1Blocks.slice(at)
    }
  }

  private nextFromSpan(parent: SafeBlockRef): SingularBatch | undefined {
    const next = this.nextSpan[0]
    if (next === undefined) return undefined
    if (next.timestamp !== parent.timestamp + this.rollup.blockTime) {
      // The block before did not come from this span batch's previous block: the span is stale.
      this.logger.warn({ parent: parent.number, next: next.timestamp }, 'span batch does not continue the safe head, dropping it')
      this.nextSpan = []
      return undefined
    }
    this.nextSpan.shift()
    return { ...next, parentHash: parent.hash }
  }

  private async nextCandidate(
    parent: SafeBlockRef,
    source: BatchSource,
    l2BlockAt: (number: bigint) => Promise<SafeBlockRef | undefined>,
  ): Promise<SingularBatch | 'eof' | 'more'> {
    const batch = source.next()
    if (batch === undefined) return 'eof'
    if (batch.type === 'singular') return batch.batch
    const span = batch.batch
    const first = span.blocks[0]!
    const nextTimestamp = parent.timestamp + this.rollup.blockTime
    let overlapParent: SafeBlockRef | undefined
    const last = span.blocks[span.blocks.length - 1]!
    // Only a span batch that overlaps the safe chain and reaches past it needs the block it builds on.
    if (first.timestamp <= parent.timestamp && last.timestamp >= nextTimestamp) {
      const back = (parent.timestamp - first.timestamp) / this.rollup.blockTime
      overlapParent = await l2BlockAt(parent.number - back - 1n)
    }
    const validity = checkSpanBatchPrefix(this.rollup, this.l1Blocks, parent, span, source.origin, overlapParent)
    switch (validity.kind) {
      case 'past':
        this.logger.debug({ start: first.timestamp }, 'dropping past span batch')
        this.metrics.observeDroppedBatch('past')
        return 'more'
      case 'drop':
        this.logger.warn({ start: first.timestamp, reason: validity.reason }, 'dropping invalid span batch, flushing its channel')
        this.metrics.observeDroppedBatch('invalid')
        source.flushChannel()
        return 'more'
      case 'undecided':
        this.logger.warn({ start: first.timestamp, reason: validity.reason }, 'skipping undecidable span batch')
        this.metrics.observeDroppedBatch('undecided')
        return 'more'
      case 'accept':
        break
    }
    const blocks = spanBatchBlocks(span, this.l1Blocks, parent)
    if (blocks === undefined || blocks.length === 0) {
      this.logger.warn({ start: first.timestamp }, 'span batch names an L1 origin outside the known epochs, flushing its channel')
      this.metrics.observeDroppedBatch('invalid')
      source.flushChannel()
      return 'more'
    }
    this.nextSpan = blocks.slice(1)
    return blocks[0]!
  }

  private forcedBatch(parent: SafeBlockRef, origin: L1Origin): BatchStageResult {
    const empty = emptyBatch(this.rollup, this.l1Blocks, parent, origin, true)
    if (empty === 'wait') return EOF
    if (empty === 'advance-epoch') {
      this.l1Blocks = this.l1Blocks.slice(1)
      return EOF
    }
    return { kind: 'batch', batch: empty, epoch: this.l1Blocks[0]!, forced: true }
  }
}
