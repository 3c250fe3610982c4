/**
 * Persisted state-trie nodes, content-addressed: key keccak256(rlp) → rlp, account and storage
 * tries alike, in a LevelDB of their own (`<datadir>/trie`) that the merkleizer thread opens and
 * reads synchronously (`getSync`): the trie's updates are synchronous code, and a node is read from
 * here only the first time a walk goes through it (the trie keeps what it resolved).
 *
 * Why its own database and not a sublevel of the chain's: the chain's LevelDB belongs to the main
 * thread, and a handle cannot cross threads. Why that is still crash-safe without being in the seal
 * batch: a node is never overwritten (its key is its content's hash), so writing a block's nodes
 * before the seal batch that records the block's state root can only add harmless garbage if the
 * seal never happens; and the writes of one database reach its log in order, the root node last, so
 * a root that is found after a crash has every node below it (`putNodes` keeps that order).
 *
 * Deleting (`deleteNodes`, only `prune-state` does) keeps that guarantee only for nodes no root in use
 * reaches: the caller proves it (see `node/prune-state.ts`), the store cannot.
 */
import type { AbstractIteratorOptions } from 'abstract-level'
// `level` is `classic-level` under Node (its index.js); only the latter's types declare `compactRange`.
import type { ClassicLevel } from 'classic-level'
import { Level } from 'level'
import { StorageWriteError } from './errors.ts'
import { openLevel } from './level-open.ts'

type Bytes = Uint8Array

/**
 * LevelDB's table files (its default: 2 MiB). A 10M-account trie is 2.5 GB: ~1,300 files of 2 MiB, more
 * than LevelDB keeps open (`maxOpenFiles`, 1,000), so the merkleizer's cold reads kept reopening
 * files. The same trie compacted into 32 MiB files (89) applied a 5,000-account update in ~520 ms
 * against ~850 ms (raising `maxOpenFiles` instead: ~650 ms, and it needs that many descriptors).
 * Larger files make each compaction longer; it runs on LevelDB's background thread.
 */
const TABLE_FILE_BYTES = 32 * 1024 * 1024

/** Puts per LevelDB batch when a whole trie is written (a rebuild): bounds the batch's memory. */
const NODES_PER_BATCH = 50_000
/** Bytes of entries one `scan` step reads from LevelDB (classic-level's default is 16 KiB: a round trip per ~50 nodes). */
const SCAN_BATCH_BYTES = 1024 * 1024
/** Every key is a 32-byte hash: the whole store lies between these two (compaction's range, inclusive). */
const FIRST_KEY = new Uint8Array(32)
const LAST_KEY = new Uint8Array(32).fill(0xff)

/** One stored node as `scan` reports it: its key and the size of its encoding. */
export interface ScannedNode {
  hash: Bytes
  bytes: number
}

export interface TrieNodeStoreOptions {
  /** Bytes of encoded nodes kept in the read cache (default 16 MiB); 0 disables it. */
  cacheBytes?: number
  /**
   * LevelDB's memtable size (its default: 4 MiB). A writer of a whole trie (gigabytes of random keys)
   * sets it larger: fewer, larger level-0 files and less compaction under the load.
   */
  writeBufferBytes?: number
}

export interface TrieNodeStoreStats {
  /** Node reads served (cache hits and database reads). */
  reads: number
  /** Reads the cache answered. */
  cacheHits: number
  /** Reads that went to LevelDB (`getSync`): the misses. */
  dbReads: number
  /** Nodes written since open. */
  written: number
  /** Bytes of encodings written since open. */
  writtenBytes: number
  /** Writes fsynced since open (`putNodes` with `sync`). */
  syncedWrites: number
  /** Encodings held by the read cache, and their bytes. */
  cachedNodes: number
  cachedBytes: number
}

export class TrieNodeStore {
  private readonly cache = new Map<string, Bytes>()
  private cachedBytes = 0
  private readonly cacheLimit: number
  private reads = 0
  private cacheHits = 0
  private written = 0
  private writtenBytes = 0
  private syncedWrites = 0
  private writeFailure: StorageWriteError | undefined

  private constructor(
    private readonly level: Level<Bytes, Bytes>,
    options: TrieNodeStoreOptions,
  ) {
    this.cacheLimit = options.cacheBytes ?? 16 * 1024 * 1024
  }

  static async open(path: string, options: TrieNodeStoreOptions = {}): Promise<TrieNodeStore> {
    // Keys are hashes and node encodings mostly hashes too: Snappy would spend CPU to save nothing.
    const level = new Level<Bytes, Bytes>(path, {
      keyEncoding: 'view',
      valueEncoding: 'view',
      compression: false,
      maxFileSize: TABLE_FILE_BYTES,
      ...(options.writeBufferBytes === undefined ? {} : { writeBufferSize: options.writeBufferBytes }),
    })
    await openLevel(level, path)
    return new TrieNodeStore(level, options)
  }

  /** The encoding of node `hash`, or undefined when it was never written (`TrieNodeSource`). */
  get(hash: Bytes): Bytes | undefined {
    this.reads++
    const key = cacheKey(hash)
    const cached = this.cache.get(key)
    if (cached !== undefined) {
      this.cacheHits++
      // Map order is the LRU order: a hit moves to the young end.
      this.cache.delete(key)
      this.cache.set(key, cached)
      return cached
    }
    const value = this.level.getSync(hash)
    if (value === undefined) return undefined
    // A plain Uint8Array copy: LevelDB hands out Buffers (whose subarrays are Buffers too, unequal to
    // Uint8Arrays under deepEqual and cloned as such), and decoded nodes keep subarrays of it.
    const rlp = new Uint8Array(value)
    this.remember(key, rlp)
    return rlp
  }

  /** Whether node `hash` is stored (bypasses the cache statistics). */
  has(hash: Bytes): boolean {
    return this.cache.has(cacheKey(hash)) || this.level.getSync(hash) !== undefined
  }

  /**
   * Writes `nodes` (hash, encoding) in order: the caller lists every node after the nodes it
   * references, so a node found after a crash has its subtree (see the header). `sync` fsyncs the
   * last batch, which by LevelDB's log order makes every earlier one durable too.
   */
  async putNodes(nodes: ReadonlyArray<readonly [hash: Bytes, rlp: Bytes]>, sync: boolean): Promise<void> {
    if (this.writeFailure !== undefined) throw this.writeFailure
    for (let start = 0; start < nodes.length; start += NODES_PER_BATCH) {
      const end = Math.min(nodes.length, start + NODES_PER_BATCH)
      const batch = this.level.batch()
      for (let i = start; i < end; i++) {
        const [hash, rlp] = nodes[i]!
        batch.put(hash, rlp)
        this.writtenBytes += rlp.length
      }
      try {
        await batch.write({ sync: sync && end === nodes.length })
      } catch (error) {
        // As for the chain's database (`NodeDb.write`): after a failed write nothing later is trusted.
        this.writeFailure = new StorageWriteError(error, sync)
        throw this.writeFailure
      }
      this.written += end - start
    }
    if (sync && nodes.length > 0) this.syncedWrites++
  }

  /**
   * Every stored node in key order, in chunks of up to `chunk`, from a snapshot taken when the scan
   * starts (so deleting what was scanned does not disturb it). Encodings are not kept: only their size.
   */
  async *scan(chunk: number): AsyncGenerator<ScannedNode[], void> {
    const options: AbstractIteratorOptions<Bytes, Bytes> & { highWaterMarkBytes: number } = {
      highWaterMarkBytes: SCAN_BATCH_BYTES,
    }
    const iterator = this.level.iterator(options)
    try {
      for (;;) {
        const entries = await iterator.nextv(chunk)
        if (entries.length === 0) return
        yield entries.map(([hash, rlp]) => ({ hash: new Uint8Array(hash), bytes: rlp.length }))
      }
    } finally {
      await iterator.close()
    }
  }

  /**
   * Deletes `hashes` in one batch. Only for nodes that no root in use reaches (see the header): the
   * store's "a root present has its subtree" rests on it.
   */
  async deleteNodes(hashes: readonly Bytes[]): Promise<void> {
    if (hashes.length === 0) return
    const batch = this.level.batch()
    for (const hash of hashes) {
      batch.del(hash)
      this.forget(cacheKey(hash))
    }
    await batch.write()
  }

  /**
   * Compacts the whole store: LevelDB only marks deletions (tombstones) until compaction rewrites the
   * files, so this is what returns a prune's disk space.
   */
  async compact(): Promise<void> {
    await (this.level as unknown as ClassicLevel<Bytes, Bytes>).compactRange(FIRST_KEY, LAST_KEY)
  }

  stats(): TrieNodeStoreStats {
    return {
      reads: this.reads,
      cacheHits: this.cacheHits,
      dbReads: this.reads - this.cacheHits,
      written: this.written,
      writtenBytes: this.writtenBytes,
      syncedWrites: this.syncedWrites,
      cachedNodes: this.cache.size,
      cachedBytes: this.cachedBytes,
    }
  }

  async close(): Promise<void> {
    this.cache.clear()
    this.cachedBytes = 0
    await this.level.close()
  }

  private forget(key: string): void {
    const cached = this.cache.get(key)
    if (cached === undefined) return
    this.cache.delete(key)
    this.cachedBytes -= cached.length
  }

  private remember(key: string, rlp: Bytes): void {
    if (this.cacheLimit === 0 || rlp.length > this.cacheLimit) return
    this.cache.set(key, rlp)
    this.cachedBytes += rlp.length
    while (this.cachedBytes > this.cacheLimit) {
      const oldest = this.cache.entries().next().value
      if (oldest === undefined) break
      this.cache.delete(oldest[0])
      this.cachedBytes -= oldest[1].length
    }
  }
}

/**
 * Map key of a 32-byte hash: its bytes as a latin1 string (one char per byte), cheaper to build and
 * hash than hex.
 */
function cacheKey(hash: Bytes): string {
  return String.fromCharCode.apply(null, hash as unknown as number[])
}
