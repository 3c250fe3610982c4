/**
 * Stage 4, channels → batches (op-node `channel_in_reader.go`): decompresses a complete channel (bounded
 * by `MAX_RLP_BYTES_PER_CHANNEL`, Brotli allowed: Fjord is active from genesis) and decodes its batches
 * one at a time. A batch that does not decode ends the channel (op-node skips to the next channel); so
 * does `flush()`, Holocene's fast channel invalidation after an invalid batch.
 */
import type { Logger } from 'pino'
import { bytesToHex } from '@ethereumjs/util'
import { type Batch, decodeBatch } from '../da/batch.ts'
import { decodeChannel, type ReadyChannel } from '../da/channel.ts'
import { MAX_RLP_BYTES_PER_CHANNEL } from '../da/compression.ts'
import type { SpanBatchParams } from '../da/span-batch.ts'
import type { RollupConfig } from '../chain/rollup-config.ts'
import type { DerivationMetrics } from './metrics.ts'

export class ChannelReader {
  private channel: { readonly id: string; readonly batches: Uint8Array[]; index: number } | undefined
  private readonly spanParams: SpanBatchParams

  constructor(
    rollup: RollupConfig,
    private readonly logger: Logger,
    private readonly metrics: DerivationMetrics,
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
      const encoded = this.channel.batches[this.channel.index++]
      if (encoded === undefined) {
        this.channel = undefined
        continue
      }
      const batch = decodeBatch(encoded, this.spanParams)
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
    const decoded = decodeChannel(ready.data, { maxBytes: MAX_RLP_BYTES_PER_CHANNEL, fjord: true })
    if (decoded.error !== undefined) {
      // The batches read before the fault stand, as with op-node's streaming reader.
      this.logger.warn({ channel: id, code: decoded.error.code, batches: decoded.batches.length }, 'channel stream ends early')
      this.metrics.observeDroppedChannel(decoded.error.code)
    }
    this.channel = { id, batches: decoded.batches, index: 0 }
  }
}
