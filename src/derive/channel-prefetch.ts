/**
 * Channels decoded as soon as L1 data is read, ahead of the pipeline (`L1ReadAhead` reads up to 8 L1
 * blocks ahead). The pipeline's own stages decode a channel only when the batch stage pulls it, that is
 * when the block builder reaches its first block; the decode workers (`TxPrefetcher`) then start on its
 * transactions while the builder waits. Here a second, silent frame assembly follows the L1 blocks as
 * they are read, decompresses and decodes each channel that completes, and hands its batches'
 * transactions to the consumer (`onBatchRead`) right away, so they are prepared by the time the builder
 * gets there.
 *
 * Nothing here decides anything. The pipeline's channel reader asks for a channel it has assembled itself
 * (`take`), and gets the decoding done here only if the compressed bytes are the same, byte for byte:
 * decompression and batch decoding are pure functions of those bytes, so the batches (and every verdict
 * the batch stage reaches on them) are the ones it would have decoded. The assembly here may differ from
 * the pipeline's (it starts with no staging channel, and again after a gap in the blocks it is shown):
 * that only costs a miss, which the reader decodes itself. `clear()` (the pipeline resets) drops
 * everything, and reads started before it are ignored when they land.
 *
 * Bounded: at most `maxBytes` of decompressed batch data are held ahead of the pipeline; past that a
 * channel is left for the reader to decode when it reaches it. Entries the pipeline has passed without
 * taking (`passed`) are dropped.
 */
import { bytesToHex, equalsBytes } from '@ethereumjs/util'
import type { L1Origin } from '../chain/l1-origin.ts'
import type { RollupConfig } from '../chain/rollup-config.ts'
import { type Batch, decodeBatch } from '../da/batch.ts'
import {
  type ChannelAssemblyParams,
  assembleFrames,
  type DecodedChannel,
  decodeChannel,
  type StagingChannel,
} from '../da/channel.ts'
import { MAX_RLP_BYTES_PER_CHANNEL } from '../da/compression.ts'
import type { DaResult } from '../da/errors.ts'
import { parseBatcherData } from '../da/frame.ts'
import type { SpanBatchParams } from '../da/span-batch.ts'

/** A channel decoded ahead: what the channel reader would have computed from `data`. */
export interface PrefetchedChannel {
  /** The channel's compressed bytes: the content key. */
  readonly data: Uint8Array
  readonly decoded: DecodedChannel
  /**
   * `decodeBatch` of `decoded.batches[i]`, in order, up to and including the first that fails (the
   * reader drops the rest of a channel there).
   */
  readonly batches: ReadonlyArray<DaResult<Batch>>
}

export interface ChannelPrefetchOptions {
  /** Decompressed batch bytes held ahead of the pipeline at most (default 64 MiB). */
  readonly maxBytes?: number
}

/** Enough for a few hundred full blocks of transfers; a small share of a replica's memory. */
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024

/** Decompresses `data` and decodes its batches up to the first failure (the channel reader's work, done at once). */
export function decodeChannelAhead(data: Uint8Array, spanParams: SpanBatchParams): PrefetchedChannel {
  const decoded = decodeChannel(data, { maxBytes: MAX_RLP_BYTES_PER_CHANNEL, fjord: true })
  const batches: DaResult<Batch>[] = []
  for (const encoded of decoded.batches) {
    const batch = decodeBatch(encoded, spanParams)
    batches.push(batch)
    if (!batch.ok) break
  }
  return { data, decoded, batches }
}

/** A batch's sequenced transactions, block by block (a span batch: one list per block, in order). */
export function batchTransactions(batch: Batch): ReadonlyArray<readonly Uint8Array[]> {
  return batch.type === 'singular' ? [batch.batch.transactions] : batch.batch.blocks.map((block) => block.transactions)
}

interface Entry {
  readonly channel: PrefetchedChannel
  /** The L1 block whose data completed the channel: the pipeline takes it while it reads that block. */
  readonly l1Block: bigint
  readonly bytes: number
}

export class ChannelPrefetcher {
  private staging: StagingChannel | undefined
  /** The last L1 block shown: the next one must be its child, or the assembly starts over. */
  private last: L1Origin | undefined
  private readonly entries = new Map<string, Entry>()
  private heldBytes = 0
  private generationNumber = 0
  private readonly assembly: ChannelAssemblyParams
  private readonly spanParams: SpanBatchParams
  private readonly maxBytes: number
  private readonly counts = { decoded: 0, skipped: 0, hits: 0, misses: 0 }

  constructor(
    rollup: RollupConfig,
    /** Told each decoded batch's transactions, block by block (`DerivationModules.onBatchRead`). */
    private readonly onBatchRead: (transactions: readonly Uint8Array[]) => void,
    options: ChannelPrefetchOptions = {},
  ) {
    this.assembly = { channelTimeout: Number(rollup.channelTimeout), maxRlpBytesPerChannel: MAX_RLP_BYTES_PER_CHANNEL }
    this.spanParams = { genesisTimestamp: rollup.genesis.l2Time, blockTime: rollup.blockTime, chainId: rollup.l2ChainId }
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES
  }

  /** Changes with every `clear()`: a read started under an older generation is not shown (`observe`). */
  get generation(): number {
    return this.generationNumber
  }

  /** Channels decoded here, channels left to the reader by the bound, and the reader's hits and misses. */
  get stats(): { decoded: number; skipped: number; hits: number; misses: number; heldBytes: number } {
    return { ...this.counts, heldBytes: this.heldBytes }
  }

  /**
   * Shows the batcher data of L1 block `origin`, read under `generation`: assembles its frames, and
   * decodes (and hands over the transactions of) every channel it completes.
   */
  observe(origin: L1Origin, data: readonly Uint8Array[], generation: number): void {
    if (generation !== this.generationNumber) return
    if (this.last !== undefined && origin.parentHash !== this.last.hash) this.staging = undefined
    this.last = origin
    for (const batcherData of data) {
      const frames = parseBatcherData(batcherData)
      if (!frames.ok) continue
      const step = assembleFrames(this.staging, frames.value, Number(origin.number), this.assembly)
      this.staging = step.staging
      for (const event of step.events)
        if (event.kind === 'ready') this.decode(event.channel.id, event.channel.data, origin.number)
    }
  }

  /** The decoding of the channel `id` with compressed bytes `data`, if it was done here (then forgotten). */
  take(id: Uint8Array, data: Uint8Array): PrefetchedChannel | undefined {
    const key = bytesToHex(id)
    const entry = this.entries.get(key)
    if (entry === undefined || !equalsBytes(entry.channel.data, data)) {
      this.counts.misses++
      return undefined
    }
    this.remove(key, entry)
    this.counts.hits++
    return entry.channel
  }

  /** The pipeline is past L1 block `l1Block`: channels completed before it that it did not take are dropped. */
  passed(l1Block: bigint): void {
    for (const [key, entry] of this.entries) if (entry.l1Block < l1Block) this.remove(key, entry)
  }

  /** Drops everything (the pipeline resets); reads under way are ignored when they land. */
  clear(): void {
    this.generationNumber++
    this.staging = undefined
    this.last = undefined
    this.entries.clear()
    this.heldBytes = 0
  }

  private decode(id: Uint8Array, data: Uint8Array, l1Block: bigint): void {
    // Compressed size is a lower bound of what decoding holds; the decompressed size is counted once known.
    if (this.heldBytes + data.length > this.maxBytes) {
      this.counts.skipped++
      return
    }
    const channel = decodeChannelAhead(data, this.spanParams)
    const bytes = channel.decoded.batches.reduce((sum, batch) => sum + batch.length, data.length)
    if (this.heldBytes + bytes > this.maxBytes) {
      this.counts.skipped++
      return
    }
    const key = bytesToHex(id)
    const previous = this.entries.get(key)
    if (previous !== undefined) this.remove(key, previous)
    this.entries.set(key, { channel, l1Block, bytes })
    this.heldBytes += bytes
    this.counts.decoded++
    for (const batch of channel.batches)
      if (batch.ok) for (const transactions of batchTransactions(batch.value)) this.onBatchRead(transactions)
  }

  private remove(key: string, entry: Entry): void {
    this.entries.delete(key)
    this.heldBytes -= entry.bytes
  }
}
