/**
 * Stage 4, channels → batches (op-node `channel_in_reader.go`): decompresses a complete channel (bounded
 * by `MAX_RLP_BYTES_PER_CHANNEL`, Brotli allowed: Fjord is active from genesis) and decodes its batches
 * one at a time. A batch that does not decode ends the channel (op-node skips to the next channel); so
 * does `flush()`, Holocene's fast channel invalidation after an invalid batch. A channel decoded ahead
 * with the same bytes (`ChannelPrefetcher`) is not decoded again: same batches, same verdicts.
 */
import type { Logger } from 'pino'
import { bytesToHex } from '@ethereumjs/util'
import { type Batch, decodeBatch } from '../da/batch.ts'
import { decodeChannel, type ReadyChannel } from '../da/channel.ts'
import { MAX_RLP_BYTES_PER_CHANNEL } from '../da/compression.ts'
import type { DaResult } from '../da/errors.ts'
import type { SpanBatchParams } from '../da/span-batch.ts'
import type { RollupConfig } from '../chain/rollup-config.ts'
import type { PrefetchedChannel } from './channel-prefetch.ts'
import type { DerivationMetrics } from './metrics.ts'

/** A channel decoded ahead (`ChannelPrefetcher.take`): its id and compressed bytes, the content key. */
export type PrefetchedChannels = (id: Uint8Array, data: Uint8Array) => PrefetchedChannel | undefined

interface OpenChannel {
  readonly id: string
  readonly batches: Uint8Array[]
  /** The batches decoded ahead, if the channel was (`decodeBatch` of `batches[i]`). */
  readonly decoded: ReadonlyArray<DaResult<Batch>> | undefined
  index: number
}

export class ChannelReader {
  private channel: OpenChannel | undefined
  private readonly spanParams: SpanBatchParams

  constructor(
    rollup: RollupConfig,
    private readonly logger: Logger,
    private readonly metrics: DerivationMetrics,
    /** Channels decoded ahead of this reader; any other is decoded here, when it is reached. */
    private readonly prefetched?: PrefetchedChannels,
  ) {
    this.spanParams = { genesisTimestamp: rollup.genesis.l2Time, blockTime: rollup.blockTime, chainId: rollup.l2ChainId }
  }

  reset(): void {
    this.channel = undefined
  }

  /** Drops the rest of the current channel. */
  flush(): void {
    if (this.channel !== undefined && this.channel.index < this.channel.batches.length)
      this.logger.debug({ channel: this.channel.id, left: this.channel.batches.length - this.channel.index }, 'channel flushed')
    this.channel = undefined
  }

  /** The next decoded batch, pulling complete channels from `source`; undefined once it is used up. */
  next(source: () => ReadyChannel | undefined): Batch | undefined {
    for (;;) {
      if (this.channel === undefined) {
        const ready = source()
        if (ready === undefined) return undefined
        this.open(ready)
        continue
      }
      const index = this.channel.index++
      const encoded = this.channel.batches[index]
      if (encoded === undefined) {
        this.channel = undefined
        continue
      }
      const batch = this.channel.decoded?.[index] ?? decodeBatch(encoded, this.spanParams)
      if (batch.ok) return batch.value
      this.logger.warn(
        { channel: this.channel.id, code: batch.error.code },
        'undecodable batch, skipping the rest of its channel',
      )
      this.metrics.observeDroppedChannel(batch.error.code)
      this.channel = undefined
    }
  }

  private open(ready: ReadyChannel): void {
    const id = bytesToHex(ready.id)
    const ahead = this.prefetched?.(ready.id, ready.data)
    const decoded = ahead?.decoded ?? decodeChannel(ready.data, { maxBytes: MAX_RLP_BYTES_PER_CHANNEL, fjord: true })
    if (decoded.error !== undefined) {
      // The batches read before the fault stand, as with op-node's streaming reader.
      this.logger.warn({ channel: id, code: decoded.error.code, batches: decoded.batches.length }, 'channel stream ends early')
      this.metrics.observeDroppedChannel(decoded.error.code)
    }
    this.channel = { id, batches: decoded.batches, decoded: ahead?.batches, index: 0 }
  }
}
