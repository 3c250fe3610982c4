import type { SealedBlock } from '../chain/block.ts'
import { NodeError } from '../primitives/errors.ts'
import type { BlockStore } from './block-store.ts'
import type { DbSnapshot, NodeDb } from './db.ts'
import type { StateStore } from './state-store.ts'

export interface StateSnapshotOptions {
  /** Snapshots held at once; opening one more closes the least recently read. */
  maxOpen: number
  /** A snapshot nobody read for this long is closed (its pinned LevelDB versions become compactable). */
  idleMs: number
  /**
   * A held snapshot whose pivot is at most this many blocks behind the head is shared by a new sync, so
   * concurrent syncs pin one. Kept well inside the blocks whose diffs are served: a replica follows
   * from its pivot by fetching the diffs after it.
   */
  shareBlocks: number
  /** Most bytes of keys and values one range returns (a page of contract code can be megabytes). */
  maxRangeBytes: number
}

export const DEFAULT_STATE_SNAPSHOT_OPTIONS: StateSnapshotOptions = {
  maxOpen: 4,
  idleMs: 60_000,
  shareBlocks: 64,
  maxRangeBytes: 4 * 1024 * 1024,
}

/** One page of a snapshot's flat state: entries in key order, and whether more follow the last one. */
export interface StateRange {
  entries: Array<[Uint8Array, Uint8Array]>
  more: boolean
}

/** Entries read from LevelDB per iterator call while a range fills up to its byte budget. */
const ENTRIES_PER_READ = 16_384

interface OpenSnapshot {
  snapshot: DbSnapshot
  lastReadAt: number
}

/** The snapshot a range asks for is not (or no longer) held here: the syncing node starts over at a new pivot. */
export class SnapshotUnavailableError extends NodeError<'SNAPSHOT_UNAVAILABLE', { pivot: bigint }> {
  override readonly name = 'SnapshotUnavailableError'
  constructor(pivot: bigint) {
    super(
      'SNAPSHOT_UNAVAILABLE',
      `no state snapshot at block ${pivot} is held (closed after being idle, or never opened); ask for a new pivot`,
      {
        data: { pivot },
      },
    )
  }
}

/**
 * The serving side of snapshot sync: the flat state as of a sealed block, read page by page by a
 * syncing node. A pivot is a LevelDB snapshot: the seal writes a block's header, head pointer and flat
 * state in one batch, so the head read through the snapshot is the block whose state the snapshot
 * holds, however many blocks are sealed while the pages are read. Snapshots are shared by syncs that
 * start close together, bounded in number and closed when idle.
 */
export class StateSnapshots {
  private readonly held = new Map<bigint, OpenSnapshot>()
  private readonly sweeper: NodeJS.Timeout

  constructor(
    private readonly db: NodeDb,
    private readonly blocks: BlockStore,
    private readonly state: StateStore,
    private readonly options: StateSnapshotOptions = DEFAULT_STATE_SNAPSHOT_OPTIONS,
  ) {
    this.sweeper = setInterval(() => void this.closeIdle(), Math.max(1000, options.idleMs / 2))
    this.sweeper.unref()
  }

  /**
   * A pivot to sync from: the sealed head of a recent snapshot, or of a new one, read through the
   * snapshot (a rewind after it cannot pair its state with another block).
   */
  async pin(): Promise<SealedBlock> {
    const now = Date.now()
    const current = (await this.blocks.head())?.number ?? 0n
    let newest: [bigint, OpenSnapshot] | undefined
    for (const entry of this.held) if (newest === undefined || entry[0] > newest[0]) newest = entry
    if (newest !== undefined && current - newest[0] <= BigInt(this.options.shareBlocks))
      return this.pivotBlock(newest[0], newest[1])
    const snapshot = this.db.snapshot()
    const head = await this.blocks.head(snapshot)
    if (head === undefined) {
      await snapshot.close()
      throw new SnapshotUnavailableError(0n)
    }
    const existing = this.held.get(head.number)
    if (existing !== undefined) {
      // No block was sealed since that snapshot: it holds the same state.
      await snapshot.close()
      return this.pivotBlock(head.number, existing)
    }
    const held = { snapshot, lastReadAt: now }
    this.held.set(head.number, held)
    await this.closeOverLimit()
    return this.pivotBlock(head.number, held)
  }

  private async pivotBlock(pivot: bigint, held: OpenSnapshot): Promise<SealedBlock> {
    held.lastReadAt = Date.now()
    const block = await this.blocks.block(pivot, held.snapshot)
    if (block === undefined) throw new SnapshotUnavailableError(pivot)
    return block
  }

  /** The entries after `after` (from the start without it) of the state at `pivot`, up to `limit` and the byte budget. */
  async range(pivot: bigint, after: Uint8Array | undefined, limit: number): Promise<StateRange> {
    const held = this.held.get(pivot)
    if (held === undefined) throw new SnapshotUnavailableError(pivot)
    held.lastReadAt = Date.now()
    const entries: Array<[Uint8Array, Uint8Array]> = []
    let bytes = 0
    let cursor = after
    while (entries.length < limit && bytes < this.options.maxRangeBytes) {
      const want = Math.min(ENTRIES_PER_READ, limit - entries.length)
      const page = await this.state.rawEntries(cursor, want, held.snapshot)
      for (const entry of page) {
        entries.push(entry)
        bytes += entry[0].length + entry[1].length
      }
      if (page.length < want) return { entries, more: false }
      cursor = page[page.length - 1]![0]
    }
    return { entries, more: true }
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper)
    const held = [...this.held.values()]
    this.held.clear()
    await Promise.all(held.map(({ snapshot }) => snapshot.close()))
  }

  private async closeIdle(): Promise<void> {
    const now = Date.now()
    for (const [pivot, held] of this.held) {
      if (now - held.lastReadAt < this.options.idleMs) continue
      this.held.delete(pivot)
      await held.snapshot.close()
    }
  }

  private async closeOverLimit(): Promise<void> {
    while (this.held.size > this.options.maxOpen) {
      let oldest: [bigint, OpenSnapshot] | undefined
      for (const entry of this.held) if (oldest === undefined || entry[1].lastReadAt < oldest[1].lastReadAt) oldest = entry
      this.held.delete(oldest![0])
      await oldest![1].snapshot.close()
    }
  }
}
