import { RLP } from '@ethereumjs/rlp'
import { asBytes, asList, encodeRlp, type RlpValue } from '../primitives/rlp-fields.ts'
import { readU64, u64 } from '../primitives/u64.ts'
import type { BatchOp, NodeDb } from './db.ts'
import { failpoint } from '../util/failpoints.ts'

/**
 * The transactions the pool accepted, on disk: a hash returned by `eth_sendRawTransaction` is a
 * promise that the transaction is not forgotten, `kill -9` included.
 *
 * Appends are cheap because they are coarse: everything accepted within one event-loop turn is one
 * LevelDB entry, written (not fsynced: LevelDB hands it to the OS before resolving, which survives a
 * process crash; a power cut may lose the newest, as geth's journal does) before the hashes are
 * returned. Nothing is deleted per transaction: the journal is periodically rewritten with what the
 * pool still holds (`rotate`), like geth's. On start-up every entry is re-submitted; what a
 * mini-block already included is rejected as stale.
 */
export class PoolJournal {
  private pending: Uint8Array[] = []
  private flush: Promise<void> | undefined
  private nextSeq = 0n

  constructor(private readonly db: NodeDb) {}

  /** Resolves once `raw` is written. */
  add(raw: Uint8Array): Promise<void> {
    this.pending.push(raw)
    this.flush ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      const raws = this.pending
      this.pending = []
      this.flush = undefined
      // Failpoints: `pool-journal.write` fails the append (the disk-fault campaign); `pool-journal.after-write`
      // kills after the entry is written and before its hashes are returned (the crash campaign).
      return this.db
        .write([this.db.put('pool', u64(this.nextSeq++), encodeRlp(raws))], false, 'pool-journal.write')
        .then(() => failpoint('pool-journal.after-write'))
    })
    return this.flush
  }

  /**
   * Replaces the journal with what the pool holds, in one atomic batch. `poolContents` is read only
   * after pending appends are written, so every entry this deletes was pooled before the snapshot.
   */
  async rotate(poolContents: () => Uint8Array[]): Promise<void> {
    await this.flush
    const raws = poolContents()
    const keep = raws.length === 0 ? [] : [this.db.put('pool', u64(this.nextSeq++), encodeRlp(raws))]
    const stale = []
    for await (const [key] of this.db.range('pool', u64(0n), u64(this.nextSeq - BigInt(keep.length))))
      stale.push(this.db.del('pool', Uint8Array.from(key)))
    await this.db.write([...stale, ...keep], false)
  }

  /**
   * A journal entry holding `raws`, as ops for a caller's own batch (a rewind re-queues the dropped
   * blocks' transactions in the batch that drops them), keyed after every entry on disk.
   */
  async appendOps(raws: readonly Uint8Array[]): Promise<BatchOp[]> {
    if (raws.length === 0) return []
    await this.flush
    for await (const key of this.db.store('pool').keys({ reverse: true, limit: 1 })) {
      const seq = readU64(key)
      if (seq >= this.nextSeq) this.nextSeq = seq + 1n
    }
    return [this.db.put('pool', u64(this.nextSeq++), encodeRlp([...raws]))]
  }

  /** Every journaled transaction, oldest entry first; the next appends go after them. */
  async load(): Promise<Uint8Array[]> {
    const raws: Uint8Array[] = []
    for await (const [key, value] of this.db.range('pool', u64(0n), u64(0xffffffffffffffffn))) {
      for (const raw of asList(RLP.decode(Uint8Array.from(value)) as RlpValue, undefined, 'pool journal entry'))
        raws.push(asBytes(raw, 'journaled transaction'))
      const seq = new DataView(key.buffer, key.byteOffset, key.byteLength).getBigUint64(0)
      if (seq >= this.nextSeq) this.nextSeq = seq + 1n
    }
    return raws
  }
}
