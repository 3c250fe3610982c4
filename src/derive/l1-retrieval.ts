/**
 * Stage 2, L1 retrieval (op-node `calldata_source.go`, `blob_data_source.go`): the batcher data of one
 * L1 block, in transaction order — the calldata of each transaction to `batchInboxAddress` from the
 * batcher the system config names as of that block, or, for a type-3 transaction, the data of each of
 * its blobs (its calldata is ignored). Strangers' transactions never reach this stage (the reader
 * filters by sender); an undecodable blob is skipped with a log line and a metric, never thrown.
 * Without a blob source, blob transactions cannot be read: said once, loudly, then counted.
 */
import type { Logger } from 'pino'
import { decodeBlob } from '../da/blob.ts'
import type { L1Origin } from '../chain/l1-origin.ts'
import type { RollupConfig } from '../chain/rollup-config.ts'
import type { Hex } from '../primitives/state-diff.ts'
import type { L1Reader } from './l1-reader.ts'
import { readL1 } from './l1-traversal.ts'
import type { DerivationMetrics } from './metrics.ts'

/** The batcher address a version-0 `batcherHash` names. */
export function batcherAddress(batcherHash: Hex): Hex {
  return `0x${batcherHash.slice(26).toLowerCase()}`
}

export class L1Retrieval {
  private queue: Uint8Array[] = []
  private warnedNoBlobs = false

  constructor(
    private readonly l1: L1Reader,
    private readonly rollup: RollupConfig,
    private readonly logger: Logger,
    private readonly metrics: DerivationMetrics,
  ) {}

  /** Reads block `origin`'s batcher data (without queueing it). @throws DerivationError (`temporary`) */
  async fetch(origin: L1Origin): Promise<Uint8Array[]> {
    const batcher = batcherAddress(origin.systemConfig.batcherHash)
    const txs = await readL1(`batcher transactions of L1 block ${origin.number}`, () =>
      this.l1.batcherTransactions(origin, this.rollup.batchInboxAddress, batcher),
    )
    const blobHashes = txs.flatMap((tx) => tx.blobHashes ?? [])
    let blobs: Uint8Array[] = []
    const readBlobs = this.l1.blobs
    if (blobHashes.length > 0 && readBlobs === undefined) {
      if (!this.warnedNoBlobs)
        this.logger.error(
          { l1Block: origin.number, blobs: blobHashes.length },
          'batcher posted blob transactions but no blob source (beacon API) is configured: their batches are unreadable, derivation will diverge',
        )
      this.warnedNoBlobs = true
      for (const _ of blobHashes) this.metrics.observeSkippedData('blob-unavailable')
    } else if (blobHashes.length > 0 && readBlobs !== undefined) {
      blobs = await readL1(`${blobHashes.length} blobs of L1 block ${origin.number}`, () => readBlobs(origin, blobHashes))
    }
    const out: Uint8Array[] = []
    let blobIndex = 0
    for (const tx of txs) {
      if (tx.blobHashes === undefined || tx.blobHashes.length === 0) {
        out.push(tx.calldata)
        continue
      }
      for (const hash of tx.blobHashes) {
        const blob = blobs[blobIndex++]
        if (blob === undefined) continue
        const data = decodeBlob(blob)
        if (data.ok) out.push(data.value)
        else {
          this.logger.warn({ tx: tx.hash, blob: hash, code: data.error.code }, 'skipping undecodable blob')
          this.metrics.observeSkippedData(data.error.code)
        }
      }
    }
    return out
  }

  /** Queues a block's batcher data (from `fetch`), replacing what was left of the previous block's. */
  load(data: Uint8Array[]): void {
    this.queue = data
  }

  /** The next batcher transaction's data of the current block, or undefined when it is used up. */
  next(): Uint8Array | undefined {
    return this.queue.shift()
  }
}
