import type { AccountState, Hex } from '../../primitives/state-diff.ts'
import type { OverlayWrites } from '../../state/journaled-state.ts'
import { overlayAccount, overlayHasStorage, overlaySlot, type StorageWrites } from '../../state/overlay-reads.ts'
import type { StateReader } from '../../state/state-reader.ts'

/**
 * A worker's view while it runs its chunk: the writes of the chunk's earlier transactions over the
 * replica of the mini-block's start state. (Same read rules as `JournaledState`'s overlay.)
 */
export class ChunkLayer implements StateReader {
  private accounts = new Map<Hex, AccountState | null>()
  private storage = new Map<Hex, StorageWrites>()
  private codes = new Map<Hex, Uint8Array>()

  constructor(public base: StateReader) {}

  reset(): void {
    this.accounts = new Map()
    this.storage = new Map()
    this.codes = new Map()
  }

  /** Adds one transaction's writes (takes ownership of their maps). */
  apply(writes: OverlayWrites): void {
    for (const [address, account] of writes.accounts) this.accounts.set(address, account)
    for (const [address, overlay] of writes.storage) {
      const prior = this.storage.get(address)
      if (prior === undefined || overlay.cleared) {
        this.storage.set(address, overlay)
        continue
      }
      for (const [slot, value] of overlay.slots) prior.slots.set(slot, value)
    }
    for (const [hash, code] of writes.codes) this.codes.set(hash, code)
  }

  getAccount(address: Hex): AccountState | undefined {
    return overlayAccount(this.accounts, this.base, address)
  }

  getStorage(address: Hex, slot: Hex): Uint8Array {
    return overlaySlot(this.storage, this.base, address, slot)
  }

  hasStorage(address: Hex): boolean {
    return overlayHasStorage(this.storage, this.base, address)
  }

  getCode(codeHash: Hex): Uint8Array | undefined {
    return this.codes.get(codeHash) ?? this.base.getCode(codeHash)
  }
}

/**
 * What one transaction read from below its own writes, with the values it saw: its read set for
 * value-based validation. Reads of `ignored` (the fee recipient, whose credit is applied lazily at
 * commit) are not recorded; touching it during execution makes the transaction run on the main
 * thread instead (see `SpeculativeExecutor`).
 */
export class RecordingReader implements StateReader {
  accounts = new Map<Hex, AccountState | undefined>()
  slots = new Map<Hex, Map<Hex, Uint8Array>>()
  emptiness = new Map<Hex, boolean>()
  ignored: Hex | undefined
  /** Called when `hasStorage` falls through although the reader above has storage writes for the account. */
  onEmptinessRead: ((address: Hex) => void) | undefined

  constructor(private readonly inner: StateReader) {}

  reset(): void {
    this.accounts = new Map()
    this.slots = new Map()
    this.emptiness = new Map()
  }

  getAccount(address: Hex): AccountState | undefined {
    const value = this.inner.getAccount(address)
    if (address !== this.ignored && !this.accounts.has(address)) this.accounts.set(address, value)
    return value
  }

  getStorage(address: Hex, slot: Hex): Uint8Array {
    const value = this.inner.getStorage(address, slot)
    if (address !== this.ignored) {
      let slots = this.slots.get(address)
      if (slots === undefined) {
        slots = new Map()
        this.slots.set(address, slots)
      }
      if (!slots.has(slot)) slots.set(slot, value)
    }
    return value
  }

  hasStorage(address: Hex): boolean {
    const value = this.inner.hasStorage(address)
    if (address !== this.ignored) {
      this.onEmptinessRead?.(address)
      if (!this.emptiness.has(address)) this.emptiness.set(address, value)
    }
    return value
  }

  getCode(codeHash: Hex): Uint8Array | undefined {
    // Code is content-addressed: the account read that produced the hash is what gets validated.
    return this.inner.getCode(codeHash)
  }
}
