import type { BatchType } from './channel-builder.ts'
import { DEFAULT_TX_MANAGER_OPTIONS, type TxManagerOptions } from './tx-manager.ts'

/** `--batcher.data-availability-type`: `auto` picks, per channel, whichever is cheaper per byte at current L1 fees. */
export type DataAvailabilityType = 'calldata' | 'blobs' | 'auto'

export interface BatcherOptions {
  dataAvailabilityType: DataAvailabilityType
  /** One span batch per channel (Delta), or one singular batch per block. */
  batchType: BatchType
  /** Brotli quality 0–11 (op-batcher offers 9–11; transfers compress nearly as well at 5, far cheaper). */
  compressionLevel: number
  /** L1 blocks a channel may stay open (op-batcher `--max-channel-duration`); small so dev batches land within seconds. */
  maxChannelDuration: number
  /** L1 blocks of margin kept before a channel's sequencing window (and channel timeout) ends (`--sub-safety-margin`). */
  subSafetyMargin: number
  /** Largest calldata of one batcher transaction (`0 ‖ frame`), op-batcher's `--max-l1-tx-size-bytes`. */
  maxCalldataTxSize: number
  /** Frames (= transactions) a calldata channel fills before it closes. */
  calldataTargetFrames: number
  /** Blobs per blob transaction (1 frame each), and so a blob channel's target (≤ 6 under Cancun's limits, 9 under Prague's). */
  blobsPerTx: number
  /** How often the batcher looks at the L1 head and the L2 chain. */
  pollIntervalMs: number
  /** Batcher transactions in flight at once. */
  maxPendingTransactions: number
  /** L1 blocks a posted channel's transactions stay watched for reorgs. */
  reorgWatchDepth: number
  txManager: Partial<TxManagerOptions>
}

export const DEFAULT_BATCHER_OPTIONS: Readonly<BatcherOptions> = Object.freeze({
  dataAvailabilityType: 'calldata',
  batchType: 'span',
  compressionLevel: 9,
  maxChannelDuration: 2,
  subSafetyMargin: 10,
  maxCalldataTxSize: 120_000,
  calldataTargetFrames: 1,
  blobsPerTx: 6,
  pollIntervalMs: 1000,
  maxPendingTransactions: 10,
  reorgWatchDepth: 64,
  txManager: { ...DEFAULT_TX_MANAGER_OPTIONS },
})
