import type { AccountState, Hex, StateDiff } from '../primitives/state-diff.ts'
import { NodeError } from '../primitives/errors.ts'
import type { LiveState } from './live-state.ts'
import { reverseDiff } from './reverse-diff.ts'
import type { StateReader } from './state-reader.ts'

const EMPTY = new Uint8Array(0)

/** Values a block overwrote, as they were before the block: enough to read the state before it. */
interface BlockUndo {
  accounts: Map<Hex, AccountState | undefined>
  slots: Map<Hex, Map<Hex, Uint8Array>>
  /** Accounts whose storage the block wiped: their whole storage before the wipe. */
  wipedStorage: Map<Hex, Map<Hex, Uint8Array>>
}

/** Persisted reverse diffs of up to `count` blocks from `newest` down, newest first, stopping at a gap. */
export type StoredReverseDiffs = (newest: bigint, count: number) => Promise<StateDiff[]>

/**
 * Blocks' reverse diffs read back per store read: one, decoded in one go on the main thread (measured 8–20 µs per
 * account record: ~110 ms for a block of 5,000 accounts with two slots each), so the event loop gets a turn between blocks.
 */
const RESTORE_BLOCKS_PER_READ = 1n

/** The state of a block older than the retained window: not kept any more (JSON-RPC -32002). */
export class StateUnavailableError extends NodeError<'STATE_UNAVAILABLE', undefined> {
  override readonly name = 'StateUnavailableError'
  constructor(message: string) {
    super('STATE_UNAVAILABLE', message)
  }
}

/**
 * Keeps the live state (the newest mini-block) plus per-block undo records for the last `retain`
 * blocks, so `latest` reads hit the live maps and a recent block number costs one lookup per newer
 * block. Same idea as geth's in-memory diff layers, inverted: the newest state is the flat one.
 */
export class StateHistory {
  private readonly undos = new Map<bigint, BlockUndo>()
  private readonly pins = new Set<BlockUndo>()
  private oldestRetained: bigint
  private stored: StoredReverseDiffs | undefined
  private loading: Promise<void> = Promise.resolve()

  constructor(
    readonly live: LiveState,
    /** Blocks up to and including this one are fully in `live` (no undo needed to read them). */
    private newestBlock: bigint,
    private readonly retain = 128,
  ) {
    this.oldestRetained = newestBlock
  }

  /** Applies a mini-block's diff of `blockNumber` to the live state, recording what it overwrote. */
  apply(blockNumber: bigint, diff: StateDiff): void {
    let undo = this.undos.get(blockNumber)
    if (undo === undefined) {
      undo = emptyUndo()
      this.undos.set(blockNumber, undo)
      if (blockNumber > this.newestBlock) this.newestBlock = blockNumber
      this.prune()
    }
    recordOverwrites(undo, this.live, diff)
    for (const pin of this.pins) recordOverwrites(pin, this.live, diff)
    this.live.apply(diff, blockNumber)
  }

  /**
   * Where the undo records a restart lost are read back from, on demand (`readyFor`): the persisted
   * reverse diffs (`BlockArtifactStore.recentReverseDiffs`: up to `count` blocks from `newest` down,
   * newest first, stopping at the first block without one).
   */
  attachStore(read: StoredReverseDiffs): void {
    this.stored = read
  }

  /**
   * Makes block `blockNumber`'s state readable if the store still holds the reverse diffs of the blocks
   * after it that this history lacks (a restart's): reads them back, newest first, one block at a time. Lazy,
   * so a start pays nothing: decoding costs 8–20 µs per account record, seconds for the whole window of a busy
   * chain, paid once by the first read that reaches that far. Loads run one at a time; a malformed record is a
   * `CodecError` for the read (a damaged datadir is said, not hidden as "not kept").
   */
  readyFor(blockNumber: bigint): Promise<void> {
    if (this.stored === undefined || blockNumber >= this.oldestRetained) return Promise.resolve()
    const run = this.loading.then(() => this.loadBack(blockNumber))
    this.loading = run.catch(() => undefined)
    return run
  }

  private async loadBack(blockNumber: bigint): Promise<void> {
    for (;;) {
      const read = this.stored
      const from = this.oldestRetained
      const floor = this.newestBlock - BigInt(this.retain)
      const target = blockNumber > floor ? blockNumber : floor
      if (read === undefined || from <= target) return
      const count = Number(from - target < RESTORE_BLOCKS_PER_READ ? from - target : RESTORE_BLOCKS_PER_READ)
      const records = await read(from, count)
      // Blocks were applied or rewound meanwhile (`oldestRetained` moved): what was read may not fit; read again.
      if (this.oldestRetained !== from) continue
      this.restore(from, records)
      // A block without a record: nothing older is stored (a snapshot sync's pivot, or the window's edge).
      if (records.length < count) this.stored = undefined
    }
  }

  /** Installs `newestFirst[i]` as the undo record of block `from - i`, down to the window's edge. */
  private restore(from: bigint, newestFirst: readonly StateDiff[]): void {
    let block = from
    for (const reverse of newestFirst) {
      if (block <= this.newestBlock - BigInt(this.retain) || block === 0n) return
      this.undos.set(block, undoOfReverse(reverse))
      block--
      this.oldestRetained = block
    }
  }

  /** The oldest block whose state is readable (older ones throw `StateUnavailableError`). */
  get oldestBlock(): bigint {
    return this.oldestRetained
  }

  /** Blocks up to `blockNumber` are written to the store (see `LiveState.durable`). */
  durable(blockNumber: bigint): void {
    this.live.durable(blockNumber)
  }

  private prune(): void {
    const floor = this.newestBlock - BigInt(this.retain)
    for (const number of this.undos.keys()) if (number <= floor) this.undos.delete(number)
    if (floor > this.oldestRetained) this.oldestRetained = floor
  }

  /** The state at the end of block `blockNumber`; throws `StateUnavailableError` past the retained window. */
  at(blockNumber: bigint): StateReader {
    if (blockNumber >= this.newestBlock) return this.live
    return new HistoricalState(this.live, this.undosAfter(blockNumber))
  }

  /**
   * The live state (`blockNumber` undefined) or the state at the end of `blockNumber`, as it is now,
   * kept that way while later diffs are applied: each `apply` first copies what it overwrites into
   * every pin (copy-on-write), so reads stay one map lookup per layer. Long reads (an `eth_call` in a
   * worker thread) use one; `release` it when done, or every later diff keeps paying for it.
   */
  pin(blockNumber?: bigint): PinnedState {
    const newer = blockNumber === undefined || blockNumber >= this.newestBlock ? [] : this.undosAfter(blockNumber)
    const undo = emptyUndo()
    this.pins.add(undo)
    // The pin's undo is the newest layer: it holds what live had when pinned, for keys changed since.
    return new PinnedState(this.live, [...newer, undo], () => this.pins.delete(undo))
  }

  /**
   * Every non-zero storage slot of `address` at the end of `blockNumber` (a storage root needs them all, e.g. the
   * message passer's for an output root): the live slots with the newer blocks' undo records applied newest first.
   * Throws `StateUnavailableError` past the retained window.
   */
  storageAt(blockNumber: bigint, address: Hex): Map<Hex, Uint8Array> {
    let slots = new Map(this.live.storageOf(address) ?? [])
    const newer = blockNumber >= this.newestBlock ? [] : this.undosAfter(blockNumber)
    for (let i = newer.length - 1; i >= 0; i--) {
      const undo = newer[i]!
      // A wiped account's record holds its whole storage as the block found it.
      const wiped = undo.wipedStorage.get(address)
      if (wiped !== undefined) slots = new Map(wiped)
      else for (const [slot, value] of undo.slots.get(address) ?? []) slots.set(slot, value)
    }
    for (const [slot, value] of slots) if (value.length === 0) slots.delete(slot)
    return slots
  }

  /**
   * The reverse diff of block `blockNumber` whose (merged) diff is `diff`, read from the state before it:
   * the live state while the block is not applied yet (a derived block, built then applied), else the
   * retained history (the sequencer's seal, which runs after the block's mini-blocks were applied).
   */
  reverseDiff(blockNumber: bigint, diff: StateDiff): StateDiff {
    const parent = blockNumber - 1n
    return reverseDiff({ reader: this.at(parent), storageOf: (address) => this.storageAt(parent, address) }, diff)
  }

  /**
   * The chain was rewound to block `to`: `reverse` (the folded reverse diffs of the blocks after it)
   * takes the live state back to `to`'s, and those blocks' undo records go. Pinned readers keep what
   * they saw, as for any other write.
   */
  rewind(to: bigint, reverse: StateDiff): void {
    for (const pin of this.pins) recordOverwrites(pin, this.live, reverse)
    this.live.apply(reverse, to)
    for (const number of this.undos.keys()) if (number > to) this.undos.delete(number)
    this.newestBlock = to
    if (this.oldestRetained > to) this.oldestRetained = to
  }

  /** How many pins are held (a leak shows here). */
  get pinCount(): number {
    return this.pins.size
  }

  /** Undo records of the blocks after `blockNumber`, oldest first. */
  private undosAfter(blockNumber: bigint): BlockUndo[] {
    if (blockNumber < this.oldestRetained) {
      throw new StateUnavailableError(
        `state of block ${blockNumber} is no longer kept (this node retains the last ${this.retain} blocks)`,
      )
    }
    const newer: BlockUndo[] = []
    for (let b = blockNumber + 1n; b <= this.newestBlock; b++) {
      const undo = this.undos.get(b)
      if (undo !== undefined) newer.push(undo)
    }
    return newer
  }
}

function emptyUndo(): BlockUndo {
  return { accounts: new Map(), slots: new Map(), wipedStorage: new Map() }
}

function undoOfReverse(reverse: StateDiff): BlockUndo {
  const undo = emptyUndo()
  for (const [address, change] of reverse.accounts) {
    undo.accounts.set(address, change.account ?? undefined)
    if (change.storageCleared) undo.wipedStorage.set(address, change.storage)
    else undo.slots.set(address, change.storage)
  }
  return undo
}

/** Copies into `undo` what `diff` is about to overwrite in `live`, for keys `undo` does not hold yet. */
function recordOverwrites(undo: BlockUndo, live: LiveState, diff: StateDiff): void {
  for (const [address, change] of diff.accounts) {
    if (!undo.accounts.has(address)) undo.accounts.set(address, live.getAccount(address))
    if ((change.account === null || change.storageCleared) && !undo.wipedStorage.has(address)) {
      const before = new Map(live.storageOf(address) ?? [])
      for (const [slot, value] of undo.slots.get(address) ?? []) before.set(slot, value)
      undo.wipedStorage.set(address, before)
    }
    let slots = undo.slots.get(address)
    for (const slot of change.storage.keys()) {
      if (slots === undefined) {
        slots = new Map()
        undo.slots.set(address, slots)
      }
      if (!slots.has(slot)) slots.set(slot, live.getStorage(address, slot))
    }
  }
}

/** Reads the oldest undo entry newer than the target block, else the live value. */
class HistoricalState implements StateReader {
  constructor(
    private readonly live: LiveState,
    /** Undo records of the blocks after the target, oldest first. */
    private readonly newer: readonly BlockUndo[],
  ) {}

  getAccount(address: Hex): AccountState | undefined {
    for (const undo of this.newer) if (undo.accounts.has(address)) return undo.accounts.get(address)
    return this.live.getAccount(address)
  }

  getStorage(address: Hex, slot: Hex): Uint8Array {
    for (const undo of this.newer) {
      const wiped = undo.wipedStorage.get(address)
      if (wiped !== undefined) return wiped.get(slot) ?? EMPTY
      const value = undo.slots.get(address)?.get(slot)
      if (value !== undefined) return value
    }
    return this.live.getStorage(address, slot)
  }

  hasStorage(address: Hex): boolean {
    for (const undo of this.newer) {
      const wiped = undo.wipedStorage.get(address)
      if (wiped !== undefined) return [...wiped.values()].some((v) => v.length > 0)
    }
    // Approximate without a full merge: enough for the EVM's CREATE-collision question in eth_call.
    if (this.live.hasStorage(address)) return true
    for (const undo of this.newer) for (const value of undo.slots.get(address)?.values() ?? []) if (value.length > 0) return true
    return false
  }

  getCode(codeHash: Hex): Uint8Array | undefined {
    return this.live.getCode(codeHash)
  }
}

/** A `StateReader` frozen at the moment `StateHistory.pin` was called; see there. */
export class PinnedState extends HistoricalState {
  private released = false

  constructor(
    live: LiveState,
    newer: readonly BlockUndo[],
    private readonly unpin: () => void,
  ) {
    super(live, newer)
  }

  /** Stops recording for this pin; reads after this are no longer consistent. Idempotent. */
  release(): void {
    if (this.released) return
    this.released = true
    this.unpin()
  }
}
