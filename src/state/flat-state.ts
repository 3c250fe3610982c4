import { bytesToHex } from '@ethereumjs/util'
import type { AccountState, Hex, StateDiff } from '../primitives/state-diff.ts'
import type { StateReader } from './state-reader.ts'

const EMPTY = new Uint8Array(0)

/**
 * The whole world state as plain maps in memory: what the sequencer executes against.
 *
 * A MegaETH-style sequencer keeps its state in RAM (the node is sized for it) and merkleizes
 * separately; LevelDB holds the durable copy (see `storage/flat-state-store.ts`).
 */
export class FlatState implements StateReader {
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

  apply(diff: StateDiff): void {
    for (const [hash, code] of diff.codes) this.codes.set(hash, code)
    for (const [address, change] of diff.accounts) {
      if (change.account === null) {
        this.accounts.delete(address)
        this.storage.delete(address)
        continue
      }
      this.accounts.set(address, change.account)
      let slots = this.storage.get(address)
      if (change.storageCleared && slots !== undefined) {
        slots.clear()
      }
      for (const [slot, value] of change.storage) {
        if (value.length === 0) {
          slots?.delete(slot)
          continue
        }
        if (slots === undefined) {
          slots = new Map()
          this.storage.set(address, slots)
        }
        slots.set(slot, value)
      }
      if (slots !== undefined && slots.size === 0) this.storage.delete(address)
    }
  }

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

export function codeHashHex(codeHash: Uint8Array): Hex {
  return bytesToHex(codeHash) as Hex
}
