import { Counter, Gauge, type Registry } from 'prom-client'
import type { ClosedChannel } from './channel-builder.ts'
import type { ConfirmedTx } from './tx-manager.ts'

export type DaKind = 'calldata' | 'blobs'

export interface BatcherMetrics {
  channelClosed(channel: ClosedChannel, da: DaKind): void
  /** Every transaction of a channel confirmed: the channel's L1 cost per L2 transaction. */
  channelPosted(channel: ClosedChannel, da: DaKind, txs: readonly ConfirmedTx[], l1DataBytes: number): void
  txSent(da: DaKind, replacement: boolean): void
  failure(kind: string): void
  setLag(blocks: bigint): void
  setPostedThrough(block: bigint): void
  setPaused(paused: boolean): void
  /** L1 blocks since the epoch of the oldest block not yet posted (0: nothing pending). */
  setOldestEpochAge(blocks: bigint): void
}

export function createBatcherMetrics(registry: Registry): BatcherMetrics {
  const registers = [registry]
  const channels = new Counter({
    name: 'megaeth_batcher_channels_total',
    help: 'Channels closed, by reason',
    labelNames: ['reason', 'da'],
    registers,
  })
  const frames = new Counter({ name: 'megaeth_batcher_frames_total', help: 'Frames produced', labelNames: ['da'], registers })
  const sent = new Counter({
    name: 'megaeth_batcher_txs_sent_total',
    help: 'Batcher transactions broadcast (replacements included)',
    labelNames: ['da', 'replacement'],
    registers,
  })
  const failures = new Counter({
    name: 'megaeth_batcher_failures_total',
    help: 'Failures by kind (l1-rpc, tx, reorg, reset)',
    labelNames: ['kind'],
    registers,
  })
  const l2Txs = new Counter({
    name: 'megaeth_batcher_l2_txs_posted_total',
    help: 'L2 transactions in confirmed channels',
    registers,
  })
  const dataBytes = new Counter({
    name: 'megaeth_batcher_l1_data_bytes_total',
    help: 'Batcher data bytes (0 ‖ frame) of confirmed channels',
    labelNames: ['da'],
    registers,
  })
  const l1Gas = new Counter({
    name: 'megaeth_batcher_l1_gas_total',
    help: 'L1 gas used by confirmed batcher transactions',
    registers,
  })
  const blobGas = new Counter({
    name: 'megaeth_batcher_l1_blob_gas_total',
    help: 'L1 blob gas used by confirmed batcher transactions',
    registers,
  })
  const bytesPerTx = new Gauge({
    name: 'megaeth_batcher_bytes_per_l2_tx',
    help: 'Batcher data bytes per L2 transaction, last posted channel',
    registers,
  })
  const ratio = new Gauge({
    name: 'megaeth_batcher_compression_ratio',
    help: 'Uncompressed / compressed size of the last closed channel',
    registers,
  })
  const gasPerTx = new Gauge({
    name: 'megaeth_batcher_l1_gas_per_l2_tx',
    help: 'L1 gas per L2 transaction, last posted channel',
    registers,
  })
  const blobGasPerTx = new Gauge({
    name: 'megaeth_batcher_l1_blob_gas_per_l2_tx',
    help: 'L1 blob gas per L2 transaction, last posted channel',
    registers,
  })
  const lag = new Gauge({ name: 'megaeth_batcher_lag_blocks', help: 'L2 head minus the newest L2 block posted to L1', registers })
  const postedThrough = new Gauge({
    name: 'megaeth_batcher_posted_through',
    help: 'Newest L2 block whose batch is confirmed on L1',
    registers,
  })
  const paused = new Gauge({ name: 'megaeth_batcher_paused', help: '1 while the batcher waits out L1 RPC failures', registers })
  const epochAge = new Gauge({
    name: 'megaeth_batcher_oldest_epoch_age_blocks',
    help: 'L1 blocks since the epoch of the oldest unposted L2 block',
    registers,
  })
  return {
    channelClosed(channel, da) {
      channels.inc({ reason: channel.reason, da })
      frames.inc({ da }, channel.frames.length)
      ratio.set(channel.uncompressedBytes / Math.max(1, channel.compressedBytes))
    },
    channelPosted(channel, _da, txs, l1DataBytes) {
      const gas = txs.reduce((n, tx) => n + tx.gasUsed, 0n)
      const blob = txs.reduce((n, tx) => n + tx.blobGasUsed, 0n)
      l2Txs.inc(channel.txs)
      dataBytes.inc({ da: _da }, l1DataBytes)
      l1Gas.inc(Number(gas))
      blobGas.inc(Number(blob))
      if (channel.txs > 0) {
        bytesPerTx.set(l1DataBytes / channel.txs)
        gasPerTx.set(Number(gas) / channel.txs)
        blobGasPerTx.set(Number(blob) / channel.txs)
      }
    },
    txSent(da, replacement) {
      sent.inc({ da, replacement: String(replacement) })
    },
    failure(kind) {
      failures.inc({ kind })
    },
    setLag(blocks) {
      lag.set(Number(blocks))
    },
    setPostedThrough(block) {
      postedThrough.set(Number(block))
    },
    setPaused(value) {
      paused.set(value ? 1 : 0)
    },
    setOldestEpochAge(blocks) {
      epochAge.set(Number(blocks))
    },
  }
}
