import type { AccountFields, StateManagerInterface } from '@ethereumjs/common'
import { Account, KECCAK256_NULL, KECCAK256_RLP, bytesToHex, type Address } from '@ethereumjs/util'
import type { AccountDiff, AccountState, Hex, StateDiff } from '../primitives/state-diff.ts'
import { keccak256 } from '../crypto/native.ts'
import type { StateReader } from './state-reader.ts'
import { overlayAccount, overlayHasStorage, overlaySlot, type StorageWrites } from './overlay-reads.ts'

const EMPTY = new Uint8Array(0)
const KECCAK256_NULL_HEX = bytesToHex(KECCAK256_NULL) as Hex
/**
 * The EVM only asks whether an account's storage is empty (CREATE collision, EIP-7610); roots are
 * computed by the merkleizer at seal time, so any non-empty marker answers it.
 */
const NON_EMPTY_STORAGE_ROOT = keccak256(new TextEncoder().encode('megaeth-node: non-empty storage'))

interface StorageOverlay {
  /** Storage was wiped: slots not in `slots` read as zero instead of falling through to the base. */
  cleared: boolean
  slots: Map<Hex, Uint8Array>
}

type Undo =
  | { kind: 'account'; address: Hex; prev: AccountState | null | undefined }
  | { kind: 'slot'; address: Hex; slot: Hex; prev: Uint8Array | undefined }
  | { kind: 'storage'; address: Hex; prev: StorageOverlay | undefined }
  | { kind: 'code'; codeHash: Hex }

/** What one execution touched, for optimistic conflict detection and stateless witnesses. */
export interface AccessRecorder {
  onAccountRead(address: Hex): void
  onStorageRead(address: Hex, slot: Hex): void
  /** Bytecode loaded by hash from the state under the overlay. */
  onCodeRead?(codeHash: Hex): void
}

/**
 * Told about every write to the overlay (reverted ones included: the listener re-reads current
 * values). The parallel executor uses it to keep its workers' state replicas in step.
 */
export interface WriteListener {
  onAccountWrite(address: Hex): void
  onSlotWrite(address: Hex, slot: Hex): void
  onStorageWipe(address: Hex): void
  onCodeWrite(codeHash: Hex, code: Uint8Array): void
}

/** One address's storage writes in an overlay. */
export type { StorageWrites } from './overlay-reads.ts'

/**
 * An overlay's raw contents, unfiltered and in first-write order (`takeWrites()`): what one
 * transaction wrote, replayed in order onto another overlay by `applyWrites()`-style code so that
 * map insertion order (and so the encoded `StateDiff`) matches direct execution.
 */
export interface OverlayWrites {
  accounts: Map<Hex, AccountState | null>
  storage: Map<Hex, StorageWrites>
  codes: Map<Hex, Uint8Array>
}

/**
 * ethereumjs `StateManagerInterface` over a synchronous `StateReader`, with a write overlay and an
 * undo journal.
 *
 * Why not `SimpleStateManager`: it copies every map on each checkpoint (one per call frame), which is
 * O(state touched) per CALL; an undo log makes checkpoint O(1) and revert O(writes undone). The
 * overlay is what one mini-block changed: `takeDiff()` hands it to the WAL and the merkleizer.
 */
export class JournaledState implements StateManagerInterface {
  private accounts = new Map<Hex, AccountState | null>()
  private storage = new Map<Hex, StorageOverlay>()
  private codes = new Map<Hex, Uint8Array>()
  private journal: Undo[] = []
  private checkpoints: number[] = []
  private originalSlots = new Map<string, Uint8Array>()
  recorder: AccessRecorder | undefined
  writeListener: WriteListener | undefined

  readonly originalStorageCache = {
    get: async (address: Address, key: Uint8Array): Promise<Uint8Array> => {
      // The EVM asks for the original value before the first SSTORE to a slot in a transaction, so
      // the first read here is the value at transaction start (same contract as ethereumjs' cache).
      const id = `${address.toString()}${bytesToHex(key)}`
      let value = this.originalSlots.get(id)
      if (value === undefined) {
        value = this.readSlot(address.toString() as Hex, bytesToHex(key) as Hex)
        this.originalSlots.set(id, value)
      }
      return value
    },
    clear: (): void => {
      this.originalSlots.clear()
    },
  }

  constructor(private base: StateReader) {}

  /** Re-points the overlay at another base; only legal while the overlay is empty. */
  setBase(base: StateReader): void {
    if (this.accounts.size > 0 || this.storage.size > 0) throw new Error('JournaledState.setBase with pending writes')
    this.base = base
  }

  // --- reads -------------------------------------------------------------------------------

  readAccount(address: Hex): AccountState | undefined {
    this.recorder?.onAccountRead(address)
    return overlayAccount(this.accounts, this.base, address)
  }

  readSlot(address: Hex, slot: Hex): Uint8Array {
    this.recorder?.onStorageRead(address, slot)
    return overlaySlot(this.storage, this.base, address, slot)
  }

  readCode(codeHash: Hex): Uint8Array {
    if (codeHash === KECCAK256_NULL_HEX) return EMPTY
    return this.codes.get(codeHash) ?? this.base.getCode(codeHash) ?? EMPTY
  }

  /** Whether the account has a non-zero slot, as `getAccount`'s storage-root marker reports it. */
  hasStorage(address: Hex): boolean {
    return overlayHasStorage(this.storage, this.base, address)
  }

  async getAccount(address: Address): Promise<Account | undefined> {
    const key = address.toString() as Hex
    const state = this.readAccount(key)
    if (state === undefined) return undefined
    const storageRoot = this.hasStorage(key) ? NON_EMPTY_STORAGE_ROOT : KECCAK256_RLP
    return new Account(state.nonce, state.balance, storageRoot, state.codeHash)
  }

  async getCode(address: Address): Promise<Uint8Array> {
    const account = this.readAccount(address.toString() as Hex)
    if (account === undefined) return EMPTY
    return this.readCode(bytesToHex(account.codeHash) as Hex)
  }

  async getCodeSize(address: Address): Promise<number> {
    return (await this.getCode(address)).length
  }

  async getStorage(address: Address, key: Uint8Array): Promise<Uint8Array> {
    return this.readSlot(address.toString() as Hex, bytesToHex(key) as Hex)
  }

  // --- writes ------------------------------------------------------------------------------

  writeAccount(address: Hex, account: AccountState | null): void {
    this.journal.push({ kind: 'account', address, prev: this.accounts.get(address) })
    this.accounts.set(address, account)
    this.writeListener?.onAccountWrite(address)
  }

  /** `putStorage` with hex keys; `value` must already be minimal (no leading zeros). */
  writeSlot(address: Hex, slot: Hex, value: Uint8Array): void {
    let overlay = this.storage.get(address)
    if (overlay === undefined) {
      overlay = { cleared: false, slots: new Map() }
      this.journal.push({ kind: 'storage', address, prev: undefined })
      this.storage.set(address, overlay)
    }
    this.journal.push({ kind: 'slot', address, slot, prev: overlay.slots.get(slot) })
    overlay.slots.set(slot, value)
    this.writeListener?.onSlotWrite(address, slot)
  }

  /** `putCode` without the account update: records code by hash (a no-op if already written). */
  writeCode(codeHash: Hex, code: Uint8Array): void {
    if (code.length === 0 || this.codes.has(codeHash)) return
    this.journal.push({ kind: 'code', codeHash })
    this.codes.set(codeHash, code)
    this.writeListener?.onCodeWrite(codeHash, code)
  }

  /** The overlay's entry for an account: a state, `null` (deleted) or `undefined` (not written). */
  peekAccount(address: Hex): AccountState | null | undefined {
    return this.accounts.get(address)
  }

  /** The overlay's storage writes for an account, if any (read-only view). */
  peekStorage(address: Hex): Readonly<StorageWrites> | undefined {
    return this.storage.get(address)
  }

  async putAccount(address: Address, account?: Account): Promise<void> {
    if (account === undefined) return this.deleteAccount(address)
    this.writeAccount(address.toString() as Hex, { nonce: account.nonce, balance: account.balance, codeHash: account.codeHash })
  }

  async deleteAccount(address: Address): Promise<void> {
    const key = address.toString() as Hex
    this.writeAccount(key, null)
    this.wipeStorage(key)
  }

  async modifyAccountFields(address: Address, fields: AccountFields): Promise<void> {
    const key = address.toString() as Hex
    const current = this.readAccount(key) ?? { nonce: 0n, balance: 0n, codeHash: KECCAK256_NULL }
    this.writeAccount(key, {
      nonce: fields.nonce ?? current.nonce,
      balance: fields.balance ?? current.balance,
      codeHash: fields.codeHash ?? current.codeHash,
    })
  }

  async putCode(address: Address, value: Uint8Array): Promise<void> {
    const codeHash = keccak256(value)
    this.writeCode(bytesToHex(codeHash) as Hex, value)
    await this.modifyAccountFields(address, { codeHash })
  }

  async putStorage(address: Address, key: Uint8Array, value: Uint8Array): Promise<void> {
    this.writeSlot(address.toString() as Hex, bytesToHex(key) as Hex, stripLeadingZeros(value))
  }

  async clearStorage(address: Address): Promise<void> {
    this.wipeStorage(address.toString() as Hex)
  }

  /** Wipes an account's storage (slots written afterwards still apply). */
  wipeStorage(address: Hex): void {
    this.journal.push({ kind: 'storage', address, prev: this.storage.get(address) })
    this.storage.set(address, { cleared: true, slots: new Map() })
    this.writeListener?.onStorageWipe(address)
  }

  // --- journal -----------------------------------------------------------------------------

  async checkpoint(): Promise<void> {
    this.checkpoints.push(this.journal.length)
  }

  async commit(): Promise<void> {
    this.checkpoints.pop()
    // Outside every checkpoint nothing can be reverted any more: drop the undo log.
    if (this.checkpoints.length === 0) this.journal.length = 0
  }

  async revert(): Promise<void> {
    const mark = this.checkpoints.pop() ?? 0
    for (let i = this.journal.length - 1; i >= mark; i--) this.undo(this.journal[i]!)
    this.journal.length = mark
  }

  /** Unwinds every open checkpoint (after an exception escaped the VM mid-transaction). */
  async revertAll(): Promise<void> {
    while (this.checkpoints.length > 0) await this.revert()
  }

  private undo(entry: Undo): void {
    switch (entry.kind) {
      case 'account':
        if (entry.prev === undefined) this.accounts.delete(entry.address)
        else this.accounts.set(entry.address, entry.prev)
        return
      case 'slot': {
        const overlay = this.storage.get(entry.address)!
        if (entry.prev === undefined) overlay.slots.delete(entry.slot)
        else overlay.slots.set(entry.slot, entry.prev)
        return
      }
      case 'storage':
        if (entry.prev === undefined) this.storage.delete(entry.address)
        else this.storage.set(entry.address, entry.prev)
        return
      case 'code':
        this.codes.delete(entry.codeHash)
        return
    }
  }

  /** Everything written since the last `takeDiff()`, and an empty overlay. */
  takeDiff(): StateDiff {
    if (this.checkpoints.length > 0) throw new Error('JournaledState.takeDiff inside a checkpoint')
    const accounts = new Map<Hex, AccountDiff>()
    const touched = new Set<Hex>([...this.accounts.keys(), ...this.storage.keys()])
    for (const address of touched) {
      const overlaid = this.accounts.get(address)
      const account = overlaid === undefined ? (this.base.getAccount(address) ?? null) : overlaid
      const overlay = this.storage.get(address)
      if (overlay === undefined && overlaid !== undefined && sameAccount(overlaid, this.base.getAccount(address))) continue
      accounts.set(address, {
        account,
        storageCleared: overlay?.cleared ?? false,
        storage: overlay?.slots ?? new Map(),
      })
    }
    const diff: StateDiff = { accounts, codes: this.codes }
    this.accounts = new Map()
    this.storage = new Map()
    this.codes = new Map()
    this.journal.length = 0
    return diff
  }

  /**
   * Everything written since the last `takeDiff()`/`takeWrites()`, raw (no filtering against the
   * base, first-write order kept), and an empty overlay.
   */
  takeWrites(): OverlayWrites {
    if (this.checkpoints.length > 0) throw new Error('JournaledState.takeWrites inside a checkpoint')
    const writes: OverlayWrites = { accounts: this.accounts, storage: this.storage, codes: this.codes }
    this.accounts = new Map()
    this.storage = new Map()
    this.codes = new Map()
    this.journal.length = 0
    return writes
  }

  /** Drops everything written since the last `takeDiff()`. */
  discard(): void {
    this.accounts.clear()
    this.storage.clear()
    this.codes.clear()
    this.journal.length = 0
    this.checkpoints.length = 0
  }

  // --- parts of the interface a flat, root-less view does not have ------------------------

  async getStateRoot(): Promise<Uint8Array> {
    throw new Error('JournaledState has no state root: roots are computed by the merkleizer at seal time')
  }

  async setStateRoot(): Promise<void> {
    throw new Error('JournaledState cannot switch state roots')
  }

  async hasStateRoot(): Promise<boolean> {
    return false
  }

  clearCaches(): void {}

  shallowCopy(): StateManagerInterface {
    // ethereumjs only copies state managers for `runCall` previews; we build our own views.
    throw new Error('JournaledState.shallowCopy is not supported')
  }
}

function sameAccount(a: AccountState | null, b: AccountState | undefined): boolean {
  if (a === null || b === undefined) return a === null && b === undefined
  return a.nonce === b.nonce && a.balance === b.balance && equalBytes(a.codeHash, b.codeHash)
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

export function stripLeadingZeros(value: Uint8Array): Uint8Array {
  let i = 0
  while (i < value.length && value[i] === 0) i++
  return i === 0 ? value : value.subarray(i)
}
