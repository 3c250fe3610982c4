import type { AccountState, Hex } from '../primitives/state-diff.ts'
import type { StateReader } from './state-reader.ts'

const EMPTY = new Uint8Array(0)

/** Storage writes of one account in an overlay. */
export interface StorageWrites {
  /** Storage was wiped first: slots not in `slots` are zero. */
  cleared: boolean
  slots: Map<Hex, Uint8Array>
}

/**
 * The read rules of a write overlay over a `StateReader`, shared by the journaled state the VM runs
 * on and the worker-side chunk layer of the parallel executor: a written account (or its deletion)
 * hides the base; a wiped storage reads zero below its new writes.
 */
export function overlayAccount(
  accounts: Map<Hex, AccountState | null>,
  base: StateReader,
  address: Hex,
): AccountState | undefined {
  const overlaid = accounts.get(address)
  if (overlaid !== undefined) return overlaid ?? undefined
  return base.getAccount(address)
}

export function overlaySlot(storage: Map<Hex, StorageWrites>, base: StateReader, address: Hex, slot: Hex): Uint8Array {
  const overlay = storage.get(address)
  if (overlay !== undefined) {
    const value = overlay.slots.get(slot)
    if (value !== undefined) return value
    if (overlay.cleared) return EMPTY
  }
  return base.getStorage(address, slot)
}

export function overlayHasStorage(storage: Map<Hex, StorageWrites>, base: StateReader, address: Hex): boolean {
  const overlay = storage.get(address)
  if (overlay !== undefined) {
    for (const value of overlay.slots.values()) if (value.length > 0) return true
    if (overlay.cleared) return false
  }
  return base.hasStorage(address)
}
