import type { AccountState, Hex, StateDiff } from '../primitives/state-diff.ts'
import type { StateReader } from './state-reader.ts'

/**
 * The newest state a node executes against: the sealed state plus every diff applied after it (the
 * open block's mini-blocks, a derived block ahead of its commit). `StateHistory` keeps its undo layers
 * on top of it. Two kinds: `FlatState` holds everything in memory (blocktests, genesis, the parallel
 * executor's workers need the whole state); `DiskFlatState` reads sealed accounts and code from the
 * store through a bounded cache.
 */
export interface LiveState extends StateReader {
  /**
   * Applies `diff`, written by block `blockNumber` (the block whose seal makes it durable). Always before the
   * store write that makes it durable: a disk-backed state reads from the store whatever it was not told, so a
   * write that lands first would show through as the state before the block (and an undo record taken while
   * applying would read the block's own values).
   */
  apply(diff: StateDiff, blockNumber: bigint): void
  /** Every non-zero storage slot of `address` (a storage root, a storage wipe's undo record need them all). */
  storageOf(address: Hex): ReadonlyMap<Hex, Uint8Array> | undefined
  /**
   * Blocks up to `blockNumber` are durable in the store: what they wrote may now be read back from
   * it, so a bounded state may let go of it. Called after the write that made them so.
   */
  durable(blockNumber: bigint): void
}

/** The sealed flat state in the store, read synchronously (a cache miss on the 10 ms path). */
export interface SealedStateSource {
  readAccount(address: Hex): AccountState | undefined
  readCode(codeHash: Hex): Uint8Array | undefined
}
