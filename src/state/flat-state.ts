import type { AccountDiff, AccountState, Hex, StateDiff } from '../primitives/state-diff.ts'
import type { LiveState } from './live-state.ts'

const EMPTY = new Uint8Array(0)

/**
 * The whole world state as plain maps in memory. What blocktests, genesis and the parallel executor
 * (whose workers each hold a replica) run on; a node's default live state is `DiskFlatState`, which
 * keeps only storage in memory and reads accounts and code from the store (`storage/state-store.ts`)
 * through a bounded cache.
 */
export class FlatState implements LiveState {
  readonly accounts = new Map<Hex, AccountState>()
  readonly storage = new Map<Hex, Map<Hex, Uint8Array>>()
  readonly codes = new Map<Hex, Uint8Array>()

  getAccount(address: Hex): AccountState | undefined {
    return this.accounts.get(address)
  }

  getStorage(address: Hex, slot: Hex): Uint8Array {
    return this.storage.get(address)?.get(slot) ?? EMPTY
  }

  hasStorage(address: Hex): boolean {
    const slots = this.storage.get(address)
    return slots !== undefined && slots.size > 0
  }

  getCode(codeHash: Hex): Uint8Array | undefined {
    return this.codes.get(codeHash)
  }

  storageOf(address: Hex): ReadonlyMap<Hex, Uint8Array> | undefined {
    return this.storage.get(address)
  }

  apply(diff: StateDiff): void {
    for (const [hash, code] of diff.codes) this.codes.set(hash, code)
    for (const [address, change] of diff.accounts) {
      if (change.account === null) this.accounts.delete(address)
      else this.accounts.set(address, change.account)
      applyStorageChange(this.storage, address, change)
    }
  }

  /** Everything is in memory already: nothing to let go of. */
  durable(): void {}

  /** A deep copy of the maps (values are immutable and shared). */
  clone(): FlatState {
    const copy = new FlatState()
    for (const [address, account] of this.accounts) copy.accounts.set(address, account)
    for (const [address, slots] of this.storage) copy.storage.set(address, new Map(slots))
    for (const [hash, code] of this.codes) copy.codes.set(hash, code)
    return copy
  }

  /** Every account with its storage, in the shape `StateTrie.fromAccounts` takes. */
  *entries(): IterableIterator<{ address: Hex; account: AccountState; storage: Map<Hex, Uint8Array> }> {
    for (const [address, account] of this.accounts) {
      yield { address, account, storage: this.storage.get(address) ?? new Map() }
    }
  }
}

/** Applies one account's storage change (`FlatState.apply` semantics) to per-account slot maps holding non-zero slots only. */
export function applyStorageChange(storage: Map<Hex, Map<Hex, Uint8Array>>, address: Hex, change: AccountDiff): void {
  if (change.account === null) {
    storage.delete(address)
    return
  }
  let slots = storage.get(address)
  if (change.storageCleared && slots !== undefined) slots.clear()
  for (const [slot, value] of change.storage) {
    if (value.length === 0) {
      slots?.delete(slot)
      continue
    }
    if (slots === undefined) {
      slots = new Map()
      storage.set(address, slots)
    }
    slots.set(slot, value)
  }
  if (slots !== undefined && slots.size === 0) storage.delete(address)
}
