/**
 * Stage 3, frames → channels (Holocene frame queue and channel bank: OP specs `holocene/derivation.md`;
 * the rules themselves are `da/channel.ts`'s `assembleFrames`): one batcher transaction's frames at a
 * time, at most one staging channel, strict frame order, `channel_timeout` in L1 blocks. Malformed
 * batcher data (a bad frame rejects its whole transaction) is skipped with a debug line and a metric.
 */
import type { Logger } from 'pino'
import { bytesToHex } from '@ethereumjs/util'
import { type ChannelAssemblyParams, assembleFrames, type ReadyChannel, type StagingChannel } from '../da/channel.ts'
import { MAX_RLP_BYTES_PER_CHANNEL } from '../da/compression.ts'
import { parseBatcherData } from '../da/frame.ts'
import type { RollupConfig } from '../chain/rollup-config.ts'
import type { DerivationMetrics } from './metrics.ts'

export class ChannelAssembler {
  private staging: StagingChannel | undefined
  private ready: ReadyChannel[] = []
  private readonly params: ChannelAssemblyParams

  constructor(
    rollup: RollupConfig,
    private readonly logger: Logger,
    private readonly metrics: DerivationMetrics,
  ) {
    this.params = { channelTimeout: Number(rollup.channelTimeout), maxRlpBytesPerChannel: MAX_RLP_BYTES_PER_CHANNEL }
  }

  reset(): void {
    this.staging = undefined
    this.ready = []
  }

  /**
   * The next complete channel, feeding batcher data of L1 block `l1Block` from `source` until one
   * completes; undefined once `source` is used up.
   */
  next(source: () => Uint8Array | undefined, l1Block: bigint): ReadyChannel | undefined {
    for (;;) {
      const ready = this.ready.shift()
      if (ready !== undefined) return ready
      const data = source()
      if (data === undefined) return undefined
      this.push(data, l1Block)
    }
  }

  private push(data: Uint8Array, l1Block: bigint): void {
    const frames = parseBatcherData(data)
    if (!frames.ok) {
      this.logger.debug({ l1Block, code: frames.error.code }, 'skipping malformed batcher data')
      this.metrics.observeSkippedData(frames.error.code)
      return
    }
    const step = assembleFrames(this.staging, frames.value, Number(l1Block), this.params)
    this.staging = step.staging
    for (const event of step.events) {
      if (event.kind === 'ready') this.ready.push(event.channel)
      else if (event.kind === 'channel-dropped') {
        this.logger.debug({ l1Block, channel: bytesToHex(event.id), reason: event.reason }, 'channel dropped')
        this.metrics.observeDroppedChannel(event.reason)
      } else {
        const { frame, reason } = event
        this.logger.debug({ l1Block, channel: bytesToHex(frame.channelId), frame: frame.frameNumber, reason }, 'frame dropped')
        this.metrics.observeDroppedFrame(reason)
      }
    }
  }
}
