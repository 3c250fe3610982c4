import { hexToBytes } from '@ethereumjs/util'
import type { Hex } from '../chain/state-diff.ts'
import type { BatchOp, NodeDb } from './db.ts'

/**
 * The transactions the pool accepted but no mini-block holds yet, on disk: a hash returned by
 * `eth_sendRawTransaction` is a promise that the transaction is not forgotten, `kill -9` included.
 *
 * Writes are not fsynced (LevelDB hands them to the OS before resolving, which survives a process
 * crash; a power cut may lose the last few, as geth's journal does) and are coalesced: everything
 * accepted within one event-loop turn is one LevelDB write. An included transaction leaves the
 * journal in the same batch as the WAL entry of its mini-block.
 */
export class PoolJournal {
  private pending: BatchOp[] = []
  private flush: Promise<void> | undefined

  constructor(private readonly db: NodeDb) {}

  /** Resolves once `raw` is written. */
  add(hash: Hex, raw: Uint8Array): Promise<void> {
    this.pending.push(this.db.put('pool', hexToBytes(hash), raw))
    return this.scheduleFlush()
  }

  /** Forgets transactions that left the pool without being included (replaced, evicted, failed). */
  remove(hashes: Iterable<Hex>): void {
    for (const hash of hashes) this.pending.push(this.db.del('pool', hexToBytes(hash)))
    this.scheduleFlush().catch(() => undefined)
  }

  /** Batch operations removing included transactions (written with their mini-block). */
  includedOps(hashes: Iterable<Hex>): BatchOp[] {
    return [...hashes].map((hash) => this.db.del('pool', hexToBytes(hash)))
  }

  /** Every journaled transaction's raw bytes, in key order (the pool re-sorts by sender and nonce). */
  async load(): Promise<Array<{ hash: Uint8Array; raw: Uint8Array }>> {
    const out: Array<{ hash: Uint8Array; raw: Uint8Array }> = []
    for await (const [key, value] of this.db.range('pool', new Uint8Array(0), new Uint8Array(33).fill(0xff))) out.push({ hash: Uint8Array.from(key), raw: Uint8Array.from(value) })
    return out
  }

  private scheduleFlush(): Promise<void> {
    this.flush ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      const ops = this.pending
      this.pending = []
      this.flush = undefined
      return this.db.write(ops, false)
    })
    return this.flush
  }
}
