/**
 * Sequenced transactions decoded and sender-recovered ahead of execution. A channel's batches are read
 * (decompressed, decoded) long before their blocks execute — as soon as the L1 block completing the
 * channel is read ahead (`ChannelPrefetcher`) — so the pipeline hands each batch's transactions here then,
 * and the decoder (decode workers, in the node) recovers their senders while the blocks before them
 * execute; the block builder then takes them, prepared.
 *
 * Entries are keyed by the encoded transaction's identity (the `Uint8Array` a batch decoded to, which its
 * blocks' attributes carry on): no hashing, and a transaction read again after a reset is a miss that is
 * simply decoded again. A `WeakMap` lets the entries of batches that were dropped (past, invalid) go with
 * the batches.
 */
import type { BatchTx } from '../execution/parallel/index.ts'

/**
 * Decodes and recovers the senders of sequenced transactions: one entry per raw, in order; `undefined`
 * where the fast decoder declines one (its checks are stricter than a block's, e.g. a transaction pool's
 * size limit): the block builder then decodes that one itself, which gives the block rules' own verdict.
 */
export type PrepareTxs = (raws: readonly Uint8Array[]) => Promise<ReadonlyArray<BatchTx | undefined>>

export class TxPrefetcher {
  private readonly prepared = new WeakMap<Uint8Array, Promise<BatchTx | undefined>>()

  constructor(private readonly prepare: PrepareTxs) {}

  /** Starts preparing `raws` (those not already under way). */
  prefetch(raws: readonly Uint8Array[]): void {
    const missing = raws.filter((raw) => !this.prepared.has(raw))
    if (missing.length === 0) return
    // A failing decoder (stopped, a worker died) only loses the head start: undefined → decoded in place.
    const all = this.prepare(missing).then(
      (items) => items,
      () => [] as ReadonlyArray<BatchTx | undefined>,
    )
    for (const [i, raw] of missing.entries())
      this.prepared.set(
        raw,
        all.then((items) => items[i]),
      )
  }

  /** `raws` prepared (prefetched or now), one entry per raw; `undefined`: decode it in place. */
  async take(raws: readonly Uint8Array[]): Promise<Array<BatchTx | undefined>> {
    this.prefetch(raws)
    const items = await Promise.all(raws.map((raw) => this.prepared.get(raw)))
    for (const raw of raws) this.prepared.delete(raw)
    return items
  }
}
