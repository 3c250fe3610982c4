/**
 * A block's reverse diff (reth's changesets, geth's reverse diffs): the value every account and slot the
 * block changed had before it, as a `StateDiff`. Applied to the state after the block, it gives the state
 * before it — through the same paths a forward diff takes (flat maps, LevelDB state, state trie), so a
 * rewind needs no second implementation of any of them.
 */
import { emptyStateDiff, mergeStateDiff, type AccountDiff, type Hex, type StateDiff } from '../primitives/state-diff.ts'
import type { StateReader } from './state-reader.ts'

/** The state before a block: its accounts and slots, and an account's whole storage (for wipes). */
export interface PreState {
  reader: StateReader
  /** Every non-zero slot of `address` (what a wipe must bring back). */
  storageOf(address: Hex): Map<Hex, Uint8Array>
}

/**
 * The reverse of `diff` applied on `pre`. Codes are not reversed: they are keyed by their hash, so code a
 * dropped block deployed changes no state root and is harmless to keep.
 */
export function reverseDiff(pre: PreState, diff: StateDiff): StateDiff {
  const reverse = emptyStateDiff()
  for (const [address, change] of diff.accounts) {
    const before = pre.reader.getAccount(address)
    let undo: AccountDiff
    if (before === undefined) {
      // The account did not exist: deleting it removes whatever storage the block gave it.
      undo = { account: null, storageCleared: true, storage: new Map() }
    } else if (change.account === null || change.storageCleared) {
      // The block wiped the storage: the reverse wipes what the block left and restores all of it.
      undo = { account: before, storageCleared: true, storage: new Map(pre.storageOf(address)) }
    } else {
      const storage = new Map<Hex, Uint8Array>()
      for (const slot of change.storage.keys()) storage.set(slot, pre.reader.getStorage(address, slot))
      undo = { account: before, storageCleared: false, storage }
    }
    reverse.accounts.set(address, undo)
  }
  return reverse
}

/**
 * One diff that undoes several blocks: their reverse diffs, newest block first (the order they apply in),
 * folded into one, so a rewind writes one LevelDB batch and advances the trie once.
 */
export function foldReverseDiffs(newestFirst: readonly StateDiff[]): StateDiff {
  const folded = emptyStateDiff()
  for (const reverse of newestFirst) mergeStateDiff(folded, reverse)
  return folded
}
