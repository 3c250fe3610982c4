/**
 * The derivation pipeline (op-node `rollup/derive`, Holocene rules): L1 traversal → retrieval → frames
 * and channels → batches → batch validation → block attributes, pulled from the inner end. `step()`
 * runs the stages until one L2 block's attributes come out, or L1 has nothing more (`'idle'`), or L1
 * reorganised (`'reset'`: the pipeline rewound itself to `safeHead`, which the consumer must rewind to).
 *
 * The consumer executes (or compares) each `DerivedBlock` and hands the resulting block back with
 * `advanceSafeHead`; the pipeline builds the next block on it. It remembers, for the blocks it derived,
 * the L1 block each came from: after a reorg it keeps the newest safe block derived from L1 blocks
 * that are still canonical, then restarts L1 traversal `channel_timeout` L1 blocks before that
 * block's origin (op-node's reset walk-back), so that channels open at that point are read whole again.
 * Batches up to the safe head are then dropped as past, and derivation continues exactly as a pipeline
 * that never saw the abandoned fork.
 *
 * Errors: `temporary` ones (an L1 read failed) leave the pipeline where it was — call `step()` again;
 * `critical` ones mean it cannot go on.
 */
import type { Logger } from 'pino'
import type { BlockId, L1BlockRef, L1Origin } from '../chain/l1-origin.ts'
import type { L2BlockAttributes } from '../chain/l2-block-attributes.ts'
import type { RollupConfig } from '../chain/rollup-config.ts'
import { batchAttributes } from './attributes.ts'
import { BatchStage, type BatchSource } from './batch-stage.ts'
import { ChannelAssembler } from './channel-assembler.ts'
import { batchTransactions, ChannelPrefetcher } from './channel-prefetch.ts'
import { ChannelReader } from './channel-reader.ts'
import { criticalError, DerivationError } from './errors.ts'
import type { L1Reader } from './l1-reader.ts'
import { L1Retrieval } from './l1-retrieval.ts'
import { L1ReadAhead } from './l1-read-ahead.ts'
import { L1Traversal, readL1 } from './l1-traversal.ts'
import { type DerivationMetrics, NO_METRICS } from './metrics.ts'
import type { DerivedBlock, SafeBlockRef, SafeChain } from './safe-chain.ts'

export interface DerivationOptions {
  /** How many L1 blocks to stay behind L1's head (reorgs shallower than this are never seen). */
  readonly confirmations: bigint
  /** How many L1 blocks to read ahead of the one being processed (`L1ReadAhead`; default 8, 0: none). */
  readonly readAhead?: number
}

export const DEFAULT_DERIVATION_OPTIONS: DerivationOptions = { confirmations: 0n }

/** L1 blocks read ahead: enough to hide a few round trips each, few enough that a reorg wastes little. */
const DEFAULT_READ_AHEAD = 8

export interface DerivationModules {
  readonly rollup: RollupConfig
  readonly l1: L1Reader
  readonly safe: SafeChain
  readonly logger: Logger
  readonly metrics?: DerivationMetrics | undefined
  /**
   * Told the sequenced transactions of each batch as soon as its channel is complete in the L1 data read
   * (`ChannelPrefetcher`: up to `readAhead` L1 blocks before the pipeline gets there), and again as the
   * pipeline reads the batch from its channel, before its blocks are derived (a span batch: each of its
   * blocks' in turn, all at once): the consumer can start decoding them (`TxPrefetcher`), a block's as
   * one job. The arrays are the ones the derived blocks' attributes carry. Setting it also turns on the
   * decoding of channels ahead.
   */
  readonly onBatchRead?: ((transactions: readonly Uint8Array[]) => void) | undefined
}

/** What `advanceSafeHead` may be told about how the consumer applied a derived block. */
export interface AdvanceOptions {
  /**
   * The block was built from `depositOnlyAttributes` because the derived one did not execute
   * (Holocene's steady block derivation): the rest of its span batch and channel are dropped.
   */
  readonly depositOnly?: boolean
}

/** Holocene's replacement for attributes whose block is invalid: the same block with its deposits only. */
export function depositOnlyAttributes(attributes: L2BlockAttributes): L2BlockAttributes {
  return { ...attributes, transactions: [] }
}

interface DerivedRecord {
  readonly ref: SafeBlockRef
  readonly derivedFrom: BlockId
}

export class DerivationPipeline {
  private readonly rollup: RollupConfig
  private readonly l1: L1Reader
  private readonly safe: SafeChain
  private readonly logger: Logger
  private readonly metrics: DerivationMetrics
  private readonly traversal: L1Traversal
  private readonly retrieval: L1Retrieval
  private readonly assembler: ChannelAssembler
  private readonly reader: ChannelReader
  private readonly batches: BatchStage
  private readonly source: BatchSource
  private readonly readAhead: L1ReadAhead
  /** Channels decoded as their L1 data is read (with `onBatchRead`: someone prepares their transactions). */
  private readonly channels: ChannelPrefetcher | undefined
  private head: SafeBlockRef | undefined
  private pending: DerivedBlock | undefined
  private stepping = false
  /** The blocks derived since the last reset, by number (ascending insertion). */
  private readonly derived = new Map<bigint, DerivedRecord>()
  /** Blocks up to this number were derived from L1 blocks older than any the traversal remembers. */
  private forgottenThrough = -1n
  /** How many L1 blocks the traversal remembers: the deepest reorg the pipeline can rewind from. */
  private readonly remember: number

  constructor(options: DerivationOptions, modules: DerivationModules) {
    this.rollup = modules.rollup
    this.l1 = modules.l1
    this.safe = modules.safe
    this.logger = modules.logger
    this.metrics = modules.metrics ?? NO_METRICS
    this.remember = Number(this.rollup.seqWindowSize + this.rollup.channelTimeout) + 64
    this.traversal = new L1Traversal(this.l1, options.confirmations, this.remember)
    this.retrieval = new L1Retrieval(this.l1, this.rollup, this.logger, this.metrics)
    this.assembler = new ChannelAssembler(this.rollup, this.logger, this.metrics)
    const onBatchRead = modules.onBatchRead
    const channels = onBatchRead === undefined ? undefined : new ChannelPrefetcher(this.rollup, onBatchRead)
    this.channels = channels
    this.reader = new ChannelReader(
      this.rollup,
      this.logger,
      this.metrics,
      channels === undefined
        ? undefined
        : (id, data) => {
            const taken = channels.take(id, data)
            this.metrics.observeChannelPrefetch?.(taken === undefined ? 'miss' : 'hit')
            return taken
          },
    )
    this.batches = new BatchStage(this.rollup, this.logger, this.metrics)
    this.readAhead = new L1ReadAhead(async (parent) => {
      const generation = channels?.generation ?? 0
      const origin = await this.traversal.fetchAfter(parent)
      if (origin === undefined) return undefined
      const data = await this.retrieval.fetch(origin)
      // Blocks are shown in the order they are read, which is chain order (each read is its parent's child).
      channels?.observe(origin, data, generation)
      return { origin, data }
    }, options.readAhead ?? DEFAULT_READ_AHEAD)
    const { traversal, retrieval, assembler, reader } = this
    this.source = {
      get origin() {
        return traversal.current
      },
      next: () => {
        const batch = reader.next(() => assembler.next(() => retrieval.next(), traversal.current.number))
        if (batch !== undefined && onBatchRead !== undefined)
          for (const transactions of batchTransactions(batch)) onBatchRead(transactions)
        return batch
      },
      flushChannel: () => reader.flush(),
    }
  }

  /** The L1 block the pipeline has read up to. */
  get currentL1(): L1BlockRef {
    const { number, hash, parentHash, timestamp } = this.traversal.current
    return { number, hash, parentHash, timestamp }
  }

  /** The block the next derived block builds on (after a `'reset'`: where the consumer must rewind to). */
  get safeHead(): SafeBlockRef {
    if (this.head === undefined) throw new Error('DerivationPipeline: safeHead read before the first step()')
    return this.head
  }

  /**
   * Derives the next block: its attributes, `'idle'` when L1 has nothing more yet, or `'reset'` after an
   * L1 reorg (see `safeHead`). @throws DerivationError (`temporary`: call again later; `critical`: stop)
   */
  async step(): Promise<DerivedBlock | 'idle' | 'reset'> {
    if (this.pending !== undefined)
      throw new Error('DerivationPipeline: step() before advanceSafeHead() of the block it returned')
    if (this.stepping) throw new Error('DerivationPipeline: step() called while another step() runs')
    this.stepping = true
    try {
      return await this.derive()
    } finally {
      this.stepping = false
    }
  }

  private async derive(): Promise<DerivedBlock | 'idle' | 'reset'> {
    try {
      if (this.head === undefined) await this.start(await this.safe.safeHead())
      for (;;) {
        const head = this.head!
        const decodeStarted = performance.now()
        const result = await this.batches.next(head, this.source, (n) => this.l2BlockAt(n))
        this.metrics.observeStage?.('batch_decode', (performance.now() - decodeStarted) / 1000)
        if (result.kind === 'more') continue
        if (result.kind === 'batch') {
          const attributes = batchAttributes(head, result.batch, result.epoch)
          const derived: DerivedBlock = {
            number: head.number + 1n,
            parentHash: head.hash,
            attributes,
            derivedFrom: this.currentL1,
            systemConfig: result.epoch.systemConfig,
            source: result.forced ? 'sequencing-window' : 'batch',
          }
          this.logger.debug(
            { number: derived.number, timestamp: attributes.timestamp, origin: attributes.origin.number, source: derived.source },
            'derived block',
          )
          this.pending = derived
          return derived
        }
        const readStarted = performance.now()
        const read = await this.readAhead.next(this.traversal.current)
        this.metrics.observeStage?.('l1_read', (performance.now() - readStarted) / 1000)
        if (read === undefined) return 'idle'
        const { origin: next, data } = read
        this.traversal.advance(next)
        this.channels?.passed(next.number)
        this.retrieval.load(data)
        this.metrics.observeL1Block(next.number)
      }
    } catch (error) {
      if (!(error instanceof DerivationError) || error.severity !== 'reset') throw error
      this.logger.warn({ reason: error.message, l1: this.traversal.current.number }, 'L1 reorg: resetting derivation')
      await this.rewind()
      this.metrics.observeReset('reorg')
      return 'reset'
    }
  }

  /** The consumer built the block `step()` returned: `ref` is it, the next block builds on it. */
  advanceSafeHead(ref: SafeBlockRef, options: AdvanceOptions = {}): void {
    const pending = this.pending
    if (pending === undefined) throw new Error('DerivationPipeline: advanceSafeHead() without a derived block')
    const { attributes } = pending
    if (
      ref.number !== pending.number ||
      ref.timestamp !== attributes.timestamp ||
      ref.l1Origin.number !== attributes.origin.number ||
      ref.l1Origin.hash !== attributes.origin.hash ||
      ref.sequenceNumber !== attributes.sequenceNumber
    )
      throw new Error(`DerivationPipeline: advanceSafeHead(${ref.number}) does not match the derived block ${pending.number}`)
    this.pending = undefined
    this.head = ref
    this.derived.set(ref.number, { ref, derivedFrom: { number: pending.derivedFrom.number, hash: pending.derivedFrom.hash } })
    this.metrics.observeDerivedBlock(pending.source, ref.number)
    if (options.depositOnly === true) {
      this.reader.flush()
      this.batches.flushSpan()
    }
    this.forget()
  }

  /**
   * Restarts derivation on `to` (default: the safe chain's head), e.g. after the consumer rewound its
   * chain. Walks back first to a block whose L1 origin (and recorded L1 source) L1 still has.
   */
  async reset(to?: SafeBlockRef): Promise<void> {
    this.pending = undefined
    await this.start(to ?? (await this.safe.safeHead()))
    this.metrics.observeReset('requested')
  }

  /** Starts on `head`, or on the newest block before it whose L1 links are canonical. */
  private async start(head: SafeBlockRef): Promise<void> {
    let keep = head
    while (keep.number > this.rollup.genesis.l2.number) {
      const from = await this.safe.derivedFrom?.(keep.number)
      if ((await this.isCanonical(keep.l1Origin)) && (from === undefined || (await this.isCanonical(from)))) break
      keep = await this.parentOf(keep)
    }
    this.derived.clear()
    this.forgottenThrough = -1n
    await this.restartFrom(keep)
  }

  /** After a reorg: keep the newest safe block derived from L1 blocks that L1 still has. */
  private async rewind(): Promise<void> {
    const ancestor = await this.traversal.commonAncestor()
    if (ancestor === undefined)
      throw criticalError(
        'DERIVE_RESET_FAILED',
        `L1 reorg deeper than the ${this.remember} L1 blocks the pipeline remembers; restart it from a trusted safe head`,
      )
    let keep = this.head!
    while (keep.number > this.rollup.genesis.l2.number) {
      if (keep.number <= this.forgottenThrough) break
      const record = this.derived.get(keep.number)
      const from = record?.derivedFrom ?? (await this.safe.derivedFrom?.(keep.number))
      if (from !== undefined) {
        if (from.number <= ancestor.number && (record !== undefined || (await this.isCanonical(from)))) break
      } else if (keep.l1Origin.number + this.rollup.seqWindowSize <= ancestor.number) {
        // Derived before this session with no record: its batch was in L1 by its epoch's window end.
        break
      }
      keep = await this.parentOf(keep)
    }
    this.logger.warn({ ancestor: ancestor.number, safeHead: keep.number }, 'rewinding the safe chain')
    this.pending = undefined
    await this.restartFrom(keep)
  }

  /**
   * Sets the safe head to `head` and restarts L1 traversal at the origin of the block
   * `channel_timeout` L1 blocks of origins before it (op-node's `initialReset`).
   */
  private async restartFrom(head: SafeBlockRef): Promise<void> {
    const { genesis, channelTimeout } = this.rollup
    let start = head
    while (
      start.number > genesis.l2.number &&
      start.l1Origin.number > genesis.l1.number &&
      start.l1Origin.number + channelTimeout > head.l1Origin.number
    )
      start = await this.parentOf(start)
    const remembered = this.head === undefined ? undefined : this.traversal.at(start.l1Origin.number)
    let base: L1Origin
    if (remembered !== undefined && remembered.hash === start.l1Origin.hash) base = remembered
    else {
      const ref = await readL1(`L1 block ${start.l1Origin.number}`, () => this.l1.blockRef(start.l1Origin.number))
      if (ref === undefined || ref.hash !== start.l1Origin.hash)
        throw criticalError(
          'DERIVE_RESET_FAILED',
          `L1 origin ${start.l1Origin.number} of safe block ${start.number} is no longer canonical`,
        )
      const config = start.number === genesis.l2.number ? genesis.systemConfig : await this.safe.systemConfig(start.number)
      base = await readL1(`L1 block ${ref.number}`, () => this.l1.origin(ref, config))
    }
    const data = await this.retrieval.fetch(base)
    this.readAhead.clear()
    this.channels?.clear()
    this.channels?.observe(base, data, this.channels.generation)
    this.traversal.reset(base)
    this.retrieval.load(data)
    this.assembler.reset()
    this.reader.reset()
    this.batches.reset(base)
    for (const number of [...this.derived.keys()]) if (number > head.number) this.derived.delete(number)
    this.head = head
    this.metrics.observeL1Block(base.number)
    this.logger.info({ safeHead: head.number, l1: base.number }, 'derivation starts')
  }

  /** Drops the records of blocks derived from L1 blocks the traversal no longer remembers. */
  private forget(): void {
    const oldest = this.traversal.current.number - BigInt(this.remember) + 1n
    for (const [number, record] of this.derived) {
      if (record.derivedFrom.number >= oldest) break
      this.derived.delete(number)
      this.forgottenThrough = number
    }
  }

  private async isCanonical(id: BlockId): Promise<boolean> {
    const ref = await readL1(`L1 block ${id.number}`, () => this.l1.blockRef(id.number))
    return ref?.hash === id.hash
  }

  private async parentOf(block: SafeBlockRef): Promise<SafeBlockRef> {
    const parent = await this.l2BlockAt(block.number - 1n)
    if (parent === undefined) throw criticalError('DERIVE_RESET_FAILED', `safe block ${block.number - 1n} is unknown`)
    return parent
  }

  private async l2BlockAt(number: bigint): Promise<SafeBlockRef | undefined> {
    const record = this.derived.get(number)
    if (record !== undefined) return record.ref
    return this.safe.blockRef(number)
  }
}
