import { setImmediate as nextTurn } from 'node:timers/promises'
import { bytesToHex, equalsBytes, KECCAK256_NULL } from '@ethereumjs/util'
import {
  CodecError,
  asBytes,
  asList,
  bytesToBigInt,
  decodeRlpView,
  encodeRlp,
  hexBytes,
  unpaddedBytes,
} from '../primitives/rlp-fields.ts'
import type { AccountState, Hex, StateDiff } from '../primitives/state-diff.ts'
import { FlatState } from '../state/flat-state.ts'
import type { SealedStateSource } from '../state/live-state.ts'
import { reverseDiff } from '../state/reverse-diff.ts'
import type { StateReader } from '../state/state-reader.ts'
import { keccak256 } from '../crypto/native.ts'
import { prefixEnd, type BatchOp, type DbSnapshot, type NodeDb } from './db.ts'

const ACCOUNT = 0x61 // 'a' + address → RLP([nonce, balance, codeHash])
const SLOT = 0x73 // 's' + address + slot → value
const CODE = 0x63 // 'c' + codeHash → code
const ACCOUNTS_PER_TURN = 4096
const EMPTY = new Uint8Array(0)

/**
 * The durable flat state: the state as of the last sealed EVM block. Mini-blocks after it live in
 * the WAL and are replayed on start-up.
 */
export class StateStore implements SealedStateSource {
  constructor(private readonly db: NodeDb) {}

  readAccount(address: Hex): AccountState | undefined {
    const stored = this.db.getSync('state', key(ACCOUNT, hexBytes(address)))
    return stored === undefined ? undefined : decodeAccount(stored)
  }

  readCode(codeHash: Hex): Uint8Array | undefined {
    return this.db.getSync('state', key(CODE, hexBytes(codeHash)))
  }

  /** Every stored slot, by account: what `DiskFlatState` keeps in memory. */
  async loadStorage(): Promise<Map<Hex, Map<Hex, Uint8Array>>> {
    const storage = new Map<Hex, Map<Hex, Uint8Array>>()
    for await (const [k, v] of this.db.range('state', Uint8Array.of(SLOT), Uint8Array.of(SLOT + 1))) {
      const address = hex(k.subarray(1, 21))
      let slots = storage.get(address)
      if (slots === undefined) {
        slots = new Map()
        storage.set(address, slots)
      }
      slots.set(hex(k.subarray(21)), Uint8Array.from(v))
    }
    return storage
  }

  /** The first `count` stored accounts in key order (a sample for start-up's cross-check). */
  async firstAccounts(count: number): Promise<Array<{ address: Hex; account: AccountState }>> {
    const found: Array<{ address: Hex; account: AccountState }> = []
    if (count <= 0) return found
    for await (const [k, v] of this.db.range('state', Uint8Array.of(ACCOUNT), Uint8Array.of(ACCOUNT + 1))) {
      found.push({ address: hex(k.subarray(1)), account: decodeAccount(Uint8Array.from(v)) })
      if (found.length === count) break
    }
    return found
  }

  /** Batch operations that apply `diff`; async because wiping an account's storage must list its keys. */
  async diffOps(diff: StateDiff): Promise<BatchOp[]> {
    const ops: BatchOp[] = []
    for (const [hash, code] of diff.codes) ops.push(this.db.put('state', key(CODE, hexBytes(hash)), code))
    let accounts = 0
    for (const [address, change] of diff.accounts) {
      // A busy block changes tens of thousands of accounts: let the event loop in now and then.
      if (++accounts % ACCOUNTS_PER_TURN === 0) await nextTurn()
      const addr = hexBytes(address)
      if (change.account === null || change.storageCleared) {
        const prefix = key(SLOT, addr)
        for await (const [slotKey] of this.db.range('state', prefix, prefixEnd(prefix)))
          ops.push(this.db.del('state', Uint8Array.from(slotKey)))
      }
      if (change.account === null) {
        ops.push(this.db.del('state', key(ACCOUNT, addr)))
        continue
      }
      const { nonce, balance, codeHash } = change.account
      ops.push(this.db.put('state', key(ACCOUNT, addr), encodeRlp([unpaddedBytes(nonce), unpaddedBytes(balance), codeHash])))
      for (const [slot, value] of change.storage) {
        const slotKey = key(SLOT, addr, hexBytes(slot))
        ops.push(value.length === 0 ? this.db.del('state', slotKey) : this.db.put('state', slotKey, value))
      }
    }
    return ops
  }

  /**
   * The reverse of `diff` (see `state/reverse-diff.ts`) read from the stored state, which must be the
   * state before it: the slow path, for a block whose parent state the in-memory history no longer holds.
   */
  async reverseDiff(diff: StateDiff): Promise<StateDiff> {
    const accounts = new Map<Hex, AccountState | undefined>()
    const slots = new Map<Hex, Map<Hex, Uint8Array>>()
    const full = new Map<Hex, Map<Hex, Uint8Array>>()
    for (const [address, change] of diff.accounts) {
      const addr = hexBytes(address)
      const stored = await this.db.get('state', key(ACCOUNT, addr))
      accounts.set(address, stored === undefined ? undefined : decodeAccount(stored))
      const values = new Map<Hex, Uint8Array>()
      for (const slot of change.storage.keys())
        values.set(slot, (await this.db.get('state', key(SLOT, addr, hexBytes(slot)))) ?? EMPTY)
      slots.set(address, values)
      if (change.account === null || change.storageCleared) {
        const all = new Map<Hex, Uint8Array>()
        const prefix = key(SLOT, addr)
        for await (const [k, v] of this.db.range('state', prefix, prefixEnd(prefix)))
          all.set(hex(k.subarray(21)), Uint8Array.from(v))
        full.set(address, all)
      }
    }
    const reader: StateReader = {
      getAccount: (address) => accounts.get(address),
      getStorage: (address, slot) => slots.get(address)?.get(slot) ?? EMPTY,
      hasStorage: () => false,
      getCode: () => undefined,
    }
    return reverseDiff({ reader, storageOf: (address) => full.get(address) ?? new Map() }, diff)
  }

  /**
   * Up to `limit` stored entries (accounts, slots and code, as stored) with keys above `after`, as of
   * `snapshot`: what a snapshot sync copies, verbatim, from one node's store into another's.
   */
  rawEntries(after: Uint8Array | undefined, limit: number, snapshot: DbSnapshot): Promise<Array<[Uint8Array, Uint8Array]>> {
    return this.db.entriesAfter('state', after, limit, snapshot)
  }

  /** Stores entries copied from another node's `rawEntries` (each checked with `checkRawStateEntry`). */
  rawEntryOps(entries: ReadonlyArray<readonly [Uint8Array, Uint8Array]>): BatchOp[] {
    return entries.map(([k, v]) => this.db.put('state', k, v))
  }

  /** Removes every entry: a snapshot sync that must start over (its pivot expired, or a peer lied). */
  clear(): Promise<void> {
    return this.db.clear('state')
  }

  /** Every stored account, in address order. */
  async *accounts(): AsyncGenerator<{ address: Hex; account: AccountState }> {
    for await (const [k, v] of this.db.range('state', Uint8Array.of(ACCOUNT), Uint8Array.of(ACCOUNT + 1)))
      yield { address: hex(k.subarray(1)), account: decodeAccount(Uint8Array.from(v)) }
  }

  async load(): Promise<FlatState> {
    const state = new FlatState()
    for await (const [k, v] of this.db.range('state', Uint8Array.of(0), Uint8Array.of(0xff))) {
      const value = Uint8Array.from(v)
      switch (k[0]) {
        case ACCOUNT:
          state.accounts.set(hex(k.subarray(1)), decodeAccount(value))
          break
        case SLOT: {
          const address = hex(k.subarray(1, 21))
          let slots = state.storage.get(address)
          if (slots === undefined) {
            slots = new Map()
            state.storage.set(address, slots)
          }
          slots.set(hex(k.subarray(21)), value)
          break
        }
        case CODE:
          state.codes.set(hex(k.subarray(1)), value)
          break
        default:
          throw new CodecError(`state store: unknown key tag ${k[0]}`)
      }
    }
    return state
  }
}

/** A raw store entry by what it holds (`parseRawStateEntry`); byte fields are views into the entry. */
export type RawStateEntry =
  | { kind: 'account'; address: Uint8Array; account: AccountState }
  | { kind: 'slot'; address: Uint8Array; slot: Uint8Array; value: Uint8Array }
  | { kind: 'code'; codeHash: Uint8Array; code: Uint8Array }

/**
 * What `[k, v]` holds, or a `CodecError` unless it is an entry this store could hold: a known tag, the
 * key's length for it, an account that decodes, a slot value of 1–32 bytes. Code is not hashed here
 * (`checkRawStateEntry` does it). Entries come in store order: accounts, then code, then slots.
 */
export function parseRawStateEntry(k: Uint8Array, v: Uint8Array): RawStateEntry {
  switch (k[0]) {
    case ACCOUNT:
      if (k.length !== 21) throw new CodecError(`state entry: account key of ${k.length} bytes`)
      return { kind: 'account', address: k.subarray(1), account: decodeAccount(v) }
    case SLOT:
      if (k.length !== 53) throw new CodecError(`state entry: slot key of ${k.length} bytes`)
      if (v.length === 0 || v.length > 32) throw new CodecError(`state entry: slot value of ${v.length} bytes`)
      return { kind: 'slot', address: k.subarray(1, 21), slot: k.subarray(21), value: v }
    case CODE:
      if (k.length !== 33) throw new CodecError(`state entry: code key of ${k.length} bytes`)
      return { kind: 'code', codeHash: k.subarray(1), code: v }
    default:
      throw new CodecError(`state entry: unknown key tag ${k[0]}`)
  }
}

/**
 * Throws a `CodecError` unless `[k, v]` is an entry this store could hold (`parseRawStateEntry`), its
 * code stored under its own hash. What it cannot check (that the values are the chain's) the state
 * root checks once all are in.
 */
export function checkRawStateEntry(k: Uint8Array, v: Uint8Array): void {
  const entry = parseRawStateEntry(k, v)
  if (entry.kind === 'code' && !equalsBytes(keccak256(v), entry.codeHash))
    throw new CodecError(`state entry: code ${hex(entry.codeHash)} does not hash to its key`)
}

function decodeAccount(value: Uint8Array): AccountState {
  // Views into `value` (state values are never modified): every state read and snapshot entry decodes here.
  const [nonce, balance, codeHash] = asList(decodeRlpView(value, 'stored account'), 3, 'stored account')
  const hash = asBytes(codeHash, 'code hash', 32)
  return {
    nonce: bytesToBigInt(asBytes(nonce, 'nonce')),
    balance: bytesToBigInt(asBytes(balance, 'balance')),
    // Most accounts have no code: one shared array instead of one each (state values are never mutated).
    codeHash: equalsBytes(hash, KECCAK256_NULL) ? KECCAK256_NULL : hash,
  }
}

function key(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(1 + parts.reduce((n, p) => n + p.length, 0))
  out[0] = tag
  let offset = 1
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

function hex(bytes: Uint8Array): Hex {
  return bytesToHex(bytes) as Hex
}
