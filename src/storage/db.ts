import { setImmediate as nextTurn } from 'node:timers/promises'
import { Level } from 'level'
import type { AbstractIteratorOptions, AbstractSnapshot, AbstractSublevel } from 'abstract-level'
import { failpoint } from '../util/failpoints.ts'
import { StorageWriteError } from './errors.ts'
import { openLevel } from './level-open.ts'

export type Bytes = Uint8Array
export type Sublevel = AbstractSublevel<Level<Bytes, Bytes>, Bytes | string | Buffer, Bytes, Bytes>
/** One write of an atomic batch, in a store. */
export type BatchOp = { type: 'put'; store: StoreName; key: Bytes; value: Bytes } | { type: 'del'; store: StoreName; key: Bytes }

/** The names of the stores, one sublevel each, in the node's single LevelDB. */
/** Ops added to a batch per event-loop turn: a seal writes tens of thousands, ~1.5 µs each. */
const OPS_PER_TURN = 4096
/** Bytes of entries one `entriesAfter` read takes from LevelDB per call. */
const ENTRIES_BATCH_BYTES = 1024 * 1024

export const STORES = [
  'meta',
  'headers',
  'hashes',
  'bodies',
  'receipts',
  'txs',
  'logs',
  'state',
  'wal',
  'witnesses',
  'diffs',
  'pool',
  'undo',
  'signatures',
] as const
export type StoreName = (typeof STORES)[number]
/** A consistent read view of the database (`NodeDb.snapshot`). */
export type DbSnapshot = AbstractSnapshot

/**
 * One LevelDB per node, a sublevel per store: a seal commits header, body, receipts, indexes, state
 * and WAL truncation in one atomic batch across stores.
 */
export class NodeDb {
  private writeFailure: StorageWriteError | undefined

  private constructor(
    readonly level: Level<Bytes, Bytes>,
    private readonly stores: Record<StoreName, Sublevel>,
    /** Each store's key prefix in the root database (the sublevel's `!name!`). */
    private readonly prefixes: Record<StoreName, Bytes>,
  ) {}

  static async open(path: string): Promise<NodeDb> {
    const level = new Level<Bytes, Bytes>(path, { keyEncoding: 'view', valueEncoding: 'view' })
    await openLevel(level, path)
    const stores = {} as Record<StoreName, Sublevel>
    const prefixes = {} as Record<StoreName, Bytes>
    for (const name of STORES) {
      stores[name] = level.sublevel<Bytes, Bytes>(name, { keyEncoding: 'view', valueEncoding: 'view' }) as Sublevel
      prefixes[name] = new TextEncoder().encode(stores[name].prefix)
    }
    return new NodeDb(level, stores, prefixes)
  }

  store(name: StoreName): Sublevel {
    return this.stores[name]
  }

  put(store: StoreName, key: Bytes, value: Bytes): BatchOp {
    return { type: 'put', store, key, value }
  }

  del(store: StoreName, key: Bytes): BatchOp {
    return { type: 'del', store, key }
  }

  /** `snapshot`: read as of that snapshot (`snapshot()`), not the newest writes. */
  async get(name: StoreName, key: Bytes, snapshot?: DbSnapshot): Promise<Bytes | undefined> {
    const value = await (snapshot === undefined ? this.stores[name].get(key) : this.stores[name].get(key, { snapshot }))
    return value === undefined ? undefined : new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
  }

  /**
   * The synchronous read (classic-level 3's `getSync`) for code that cannot await: the EVM's state
   * reads on a cache miss. It blocks the thread for the read (µs from the OS page cache, a disk seek
   * otherwise). The value is a view of a buffer of its own.
   */
  getSync(name: StoreName, key: Bytes): Bytes | undefined {
    // Through the root database with the store's prefix, as `write` does: a sublevel may still be
    // opening (abstract-level opens them after the root) and refuses synchronous reads until then.
    const prefix = this.prefixes[name]
    const prefixed = new Uint8Array(prefix.length + key.length)
    prefixed.set(prefix)
    prefixed.set(key, prefix.length)
    const value = this.level.getSync(prefixed)
    return value === undefined ? undefined : new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
  }

  /**
   * Commits `ops` atomically; `sync` fsyncs LevelDB's log before resolving: what a preconfirmation
   * needs. Keys are prefixed here and written through a chained batch on the root database: the
   * array form with `sublevel` ops costs ~7 µs per op in abstract-level's per-op validation and
   * prefixing and classic-level's array walk, the chained form ~1.5 µs (a seal writes several ops
   * per transaction). The bytes on disk are the sublevels' own. A large batch is built over several
   * event-loop turns (it commits atomically at the end either way), so RPC and the mini-block loop
   * keep running while a busy block's batch is assembled.
   *
   * The first failed write poisons the database: it and every later write reject with the same
   * `StorageWriteError`, even once the disk has recovered. After a failed fsync the kernel may
   * have dropped the dirty pages and a retried fsync reports success for data that is gone
   * (PostgreSQL's "fsyncgate"); and LevelDB's log writer has advanced past a record that may be
   * half on disk, so a later record could land where recovery cannot read it. Only reopening the
   * database (a restart: LevelDB replays its log up to the last whole record) gets back to a state
   * that is known. Callers that acknowledge on a write (the WAL, the pool journal, the seal) halt.
   *
   * `point` names a failpoint (`src/util/failpoints.ts`) for the resilience tests: a synced write
   * fails after LevelDB wrote it (a failed fsync: the bytes may or may not be on disk), an unsynced
   * one before (a failed write(2): nothing reached the OS).
   */
  async write(ops: readonly BatchOp[], sync: boolean, point?: string): Promise<void> {
    if (ops.length === 0) return
    if (this.writeFailure !== undefined) throw this.writeFailure
    const batch = this.level.batch()
    for (let i = 0; i < ops.length; i++) {
      if (i > 0 && i % OPS_PER_TURN === 0) await nextTurn()
      const op = ops[i]!
      const prefix = this.prefixes[op.store]
      const key = new Uint8Array(prefix.length + op.key.length)
      key.set(prefix)
      key.set(op.key, prefix.length)
      if (op.type === 'put') batch.put(key, op.value)
      else batch.del(key)
    }
    try {
      if (point !== undefined && !sync) failpoint(point)
      await batch.write({ sync })
      if (point !== undefined && sync) failpoint(point)
    } catch (error) {
      this.writeFailure ??= new StorageWriteError(error, sync)
      throw this.writeFailure
    }
  }

  /** The write failure that poisoned the database, if one did (see `write`). */
  get failure(): StorageWriteError | undefined {
    return this.writeFailure
  }

  async *range(name: StoreName, gte: Bytes, lt: Bytes): AsyncGenerator<[Bytes, Bytes]> {
    for await (const [key, value] of this.stores[name].iterator({ gte, lt })) yield [key, value]
  }

  /** Deletes every entry of a store (not atomic with other writes: for stores being filled from scratch). */
  async clear(name: StoreName): Promise<void> {
    await this.stores[name].clear()
  }

  /**
   * A consistent view of every store as of now (LevelDB's snapshot): later writes are invisible to reads
   * through it. It pins the versions it sees on disk until `close()`d, so holders keep it briefly.
   */
  snapshot(): DbSnapshot {
    return this.level.snapshot()
  }

  /** Up to `limit` entries of a store with keys above `gt` (all from the start without it), in key order. */
  async entriesAfter(
    name: StoreName,
    gt: Bytes | undefined,
    limit: number,
    snapshot?: DbSnapshot,
  ): Promise<Array<[Bytes, Bytes]>> {
    // classic-level's own option, passed through the sublevel: each `nextv` is a round trip to libuv's thread
    // pool, and its default 16 KiB per call makes a page of a snapshot sync hundreds of them.
    const options: AbstractIteratorOptions<Bytes, Bytes> & { highWaterMarkBytes: number } = {
      ...(gt === undefined ? {} : { gt }),
      limit,
      ...(snapshot === undefined ? {} : { snapshot }),
      highWaterMarkBytes: ENTRIES_BATCH_BYTES,
    }
    const iterator = this.stores[name].iterator(options)
    try {
      // `nextv` returns at most the count asked for: classic-level stops a batch at its byte budget
      // (highWaterMarkBytes), so only an empty batch means the end.
      const entries: Array<[Bytes, Bytes]> = []
      while (entries.length < limit) {
        const batch = await iterator.nextv(limit - entries.length)
        if (batch.length === 0) break
        for (const entry of batch) entries.push(entry)
      }
      return entries
    } finally {
      await iterator.close()
    }
  }

  async close(): Promise<void> {
    await this.level.close()
  }
}

/** The smallest key greater than every key starting with `prefix`. */
export function prefixEnd(prefix: Bytes): Bytes {
  const end = Uint8Array.from(prefix)
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]! += 1
      return end.subarray(0, i + 1)
    }
  }
  return Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
}
