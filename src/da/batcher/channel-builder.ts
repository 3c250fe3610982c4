/**
 * One channel of the batcher (op-batcher's `ChannelBuilder`): sealed L2 blocks go in, in order, as
 * batches; the channel closes when its compressed size would pass the target, when it has been open
 * `maxChannelDuration` L1 blocks, when its oldest epoch nears the end of the sequencing window, or
 * when the batcher flushes it; then it comes out as frames, with the L2 block range it covers.
 *
 * Contents: by default one span batch of all the blocks (Delta), or one singular batch per block;
 * compressed with Brotli behind the Fjord version byte. The compressed size is only known by
 * compressing, and compressing is the expensive step, so the builder compresses only when an
 * estimate (uncompressed bytes × the ratio seen so far) comes near the target; a block that takes
 * the channel past its target is refused and opens the next channel, as op-batcher's
 * `ErrCompressorFull`. A single block larger than the target is accepted alone (it spans more frames).
 */
import { randomBytes } from 'node:crypto'
import type { SealedBlock } from '../../chain/block.ts'
import { blockL1Info, depositCount } from '../../chain/l2-block-attributes.ts'
import type { RollupConfig } from '../../chain/rollup-config.ts'
import type { Hex } from '../../primitives/state-diff.ts'
import { encodeSingularBatch, type SingularBatch } from '../batch.ts'
import { encodeBatchStream } from '../channel.ts'
import { type CompressOptions, compressChannelAsync } from '../compression.ts'
import { CHANNEL_ID_LENGTH, channelToFrames, FRAME_OVERHEAD, type Frame } from '../frame.ts'
import { encodeSpanBatch, type SpanBatchParams, spanBatchFromBlocks } from '../span-batch.ts'
import { BatcherError } from './errors.ts'

/** One L2 block as a batch, with what the batcher tracks about it. */
export interface BlockBatch extends SingularBatch {
  readonly number: bigint
  readonly hash: Hex
  /** Position in its epoch: 0 opens the epoch. */
  readonly sequenceNumber: bigint
  /** Raw bytes of the batched (non-deposit) transactions. */
  readonly txBytes: number
}

/** The batch of a sealed L1-anchored block: its parent, epoch, timestamp and non-deposit transactions. @throws BatcherError */
export function blockBatch(block: SealedBlock): BlockBatch {
  const info = blockL1Info(block.transactions)
  if (info === undefined)
    throw new BatcherError('BATCHER_BLOCK_NOT_ANCHORED', `block ${block.header.number} has no L1-attributes deposit`, {
      block: block.header.number,
      severity: 'critical',
      hint: 'the batcher posts blocks of a chain running with a rollup config (genesis is never batched)',
    })
  const transactions = block.transactions.slice(depositCount(block.transactions))
  return {
    number: block.header.number,
    hash: block.hash,
    parentHash: `0x${Buffer.from(block.header.parentHash).toString('hex')}`,
    epochNumber: info.number,
    epochHash: info.hash,
    timestamp: block.header.timestamp,
    sequenceNumber: info.sequenceNumber,
    transactions,
    txBytes: transactions.reduce((n, tx) => n + tx.length, 0),
  }
}

export type BatchType = 'span' | 'singular'

export interface ChannelBuilderConfig {
  readonly batchType: BatchType
  readonly compression: CompressOptions
  /** Frame data bytes per frame (the frame's wire size minus `FRAME_OVERHEAD`). */
  readonly maxFrameDataSize: number
  /** Frames a full channel fills: its compressed target is `maxFrameDataSize × targetFrames`. */
  readonly targetFrames: number
  /** L1 blocks a channel may stay open (op-batcher `--max-channel-duration`); 0: no limit. */
  readonly maxChannelDuration: bigint
  /** L1 blocks kept in reserve before the sequencing window of the channel's oldest epoch ends (op-batcher `--sub-safety-margin`). */
  readonly subSafetyMargin: bigint
}

export type ChannelCloseReason = 'full' | 'duration' | 'seq-window' | 'flush'

/** A closed channel: what goes to L1. */
export interface ClosedChannel {
  readonly id: Uint8Array
  readonly frames: readonly Frame[]
  readonly firstBlock: bigint
  readonly lastBlock: bigint
  /** The oldest epoch among its blocks (the sequencing window counts from it). */
  readonly oldestEpoch: bigint
  readonly reason: ChannelCloseReason
  readonly blocks: number
  /** Batched (non-deposit) transactions. */
  readonly txs: number
  /** Raw bytes of those transactions. */
  readonly txBytes: number
  /** The batch stream before compression. */
  readonly uncompressedBytes: number
  /** The compressed channel (version byte included). */
  readonly compressedBytes: number
}

/** Span batch chain constants from the rollup config. */
export function spanBatchParams(rollup: Pick<RollupConfig, 'genesis' | 'blockTime' | 'l2ChainId'>): SpanBatchParams {
  return { genesisTimestamp: rollup.genesis.l2Time, blockTime: rollup.blockTime, chainId: rollup.l2ChainId }
}

/** When a channel's estimated compressed size reaches this share of the target, it is really compressed. */
const CHECK_SHARE = 0.9
/** Per-block bytes of a span batch besides its transactions (tx count, origin bit) and of a singular batch's RLP. */
const PER_BLOCK_ESTIMATE = 100

export class ChannelBuilder {
  readonly id: Uint8Array
  /** The L1 head when the channel opened: the duration limit counts from it. */
  readonly openedAtL1: bigint
  private readonly batches: BlockBatch[] = []
  private estimate = 0
  /** Compressed / uncompressed of the last compression (1 until one happened: no guess below reality). */
  private ratio = 1
  private full = false
  private readonly params: SpanBatchParams

  constructor(
    private readonly config: ChannelBuilderConfig,
    private readonly rollup: Pick<RollupConfig, 'genesis' | 'blockTime' | 'l2ChainId' | 'seqWindowSize'>,
    openedAtL1: bigint,
    id: Uint8Array = randomBytes(CHANNEL_ID_LENGTH),
  ) {
    if (id.length !== CHANNEL_ID_LENGTH) throw new Error(`channel id of ${id.length} bytes`)
    if (config.maxFrameDataSize < 1 || config.targetFrames < 1) throw new Error('frame size and target frames must be positive')
    this.id = id
    this.openedAtL1 = openedAtL1
    this.params = spanBatchParams(rollup)
  }

  /** Compressed bytes a full channel reaches. */
  get targetSize(): number {
    return this.config.maxFrameDataSize * this.config.targetFrames
  }

  get blockCount(): number {
    return this.batches.length
  }

  get isEmpty(): boolean {
    return this.batches.length === 0
  }

  /** A block was refused for size: the channel takes no more. */
  get isFull(): boolean {
    return this.full
  }

  /** The last block in the channel (to chain the next channel's first block to it). */
  get lastBatch(): BlockBatch | undefined {
    return this.batches[this.batches.length - 1]
  }

  /**
   * Adds the next block. `'full'`: the block does not fit (the caller closes this channel and
   * opens the next with it); a refused block leaves the channel unchanged.
   * @throws BatcherError (`BATCHER_BLOCK_GAP`) for a block that does not continue the channel
   */
  async addBlock(block: BlockBatch): Promise<'added' | 'full'> {
    if (this.full) return 'full'
    const last = this.lastBatch
    if (last !== undefined) {
      if (block.number !== last.number + 1n || block.parentHash !== last.hash)
        throw new BatcherError('BATCHER_BLOCK_GAP', `block ${block.number} does not follow ${last.number} (${last.hash})`, {
          block: block.number,
          severity: 'reset',
        })
      if (this.config.batchType === 'span' && block.timestamp !== last.timestamp + this.rollup.blockTime)
        throw new BatcherError(
          'BATCHER_BLOCK_GAP',
          `block ${block.number}: timestamp ${block.timestamp} is not ${last.timestamp} + block time`,
          {
            block: block.number,
            severity: 'critical',
          },
        )
    }
    const added = block.txBytes + PER_BLOCK_ESTIMATE
    this.batches.push(block)
    if ((this.estimate + added) * this.ratio < this.targetSize * CHECK_SHARE) {
      this.estimate += added
      return 'added'
    }
    const { compressed, uncompressed } = await this.compress(this.batches)
    if (compressed.length <= this.targetSize || this.batches.length === 1) {
      this.estimate = uncompressed
      this.ratio = compressed.length / Math.max(1, uncompressed)
      if (compressed.length > this.targetSize) this.full = true
      return 'added'
    }
    this.batches.pop()
    this.full = true
    return 'full'
  }

  /**
   * Why the channel must close by L1 head `l1Head`, if it must: it has been open `maxChannelDuration`
   * blocks, or the sequencing window of its oldest epoch ends within `subSafetyMargin` blocks.
   */
  timeoutReason(l1Head: bigint): ChannelCloseReason | undefined {
    if (this.batches.length === 0) return undefined
    if (this.config.maxChannelDuration > 0n && l1Head >= this.openedAtL1 + this.config.maxChannelDuration) return 'duration'
    if (l1Head + this.config.subSafetyMargin >= this.oldestEpoch() + this.rollup.seqWindowSize) return 'seq-window'
    return undefined
  }

  /** Compresses the blocks and cuts the result into frames. @throws BatcherError for an empty channel */
  async close(reason: ChannelCloseReason): Promise<ClosedChannel> {
    const first = this.batches[0]
    const last = this.lastBatch
    if (first === undefined || last === undefined) throw new Error('closing an empty channel')
    const { compressed, uncompressed } = await this.compress(this.batches)
    return {
      id: this.id,
      frames: channelToFrames(this.id, compressed, this.config.maxFrameDataSize),
      firstBlock: first.number,
      lastBlock: last.number,
      oldestEpoch: this.oldestEpoch(),
      reason,
      blocks: this.batches.length,
      txs: this.batches.reduce((n, b) => n + b.transactions.length, 0),
      txBytes: this.batches.reduce((n, b) => n + b.txBytes, 0),
      uncompressedBytes: uncompressed,
      compressedBytes: compressed.length,
    }
  }

  /** The epoch of the channel's first block (the oldest), if it has one. */
  get firstEpoch(): bigint | undefined {
    return this.batches[0]?.epochNumber
  }

  private oldestEpoch(): bigint {
    return this.batches[0]?.epochNumber ?? 0n
  }

  private async compress(batches: readonly BlockBatch[]): Promise<{ compressed: Uint8Array; uncompressed: number }> {
    const stream = encodeBatchStream(encodeBatches(batches, this.config.batchType, this.params))
    return { compressed: await compressChannelAsync(stream, this.config.compression), uncompressed: stream.length }
  }
}

/** The encoded batches of a channel: one span batch of all blocks, or one singular batch each. */
export function encodeBatches(batches: readonly BlockBatch[], batchType: BatchType, params: SpanBatchParams): Uint8Array[] {
  if (batchType === 'singular') return batches.map((b) => encodeSingularBatch(b))
  return [encodeSpanBatch(spanBatchFromBlocks(batches, batches[0]?.sequenceNumber === 0n), params)]
}

/** Frame data bytes per frame when a whole L1 transaction (or blob) carries `maxDataSize` bytes: `0 ‖ frame`. */
export function frameDataSize(maxDataSize: number): number {
  return maxDataSize - 1 - FRAME_OVERHEAD
}
