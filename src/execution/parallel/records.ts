/**
 * The per-transaction record a worker sends back, and the main thread's side of it: validate the
 * read set against committed state, then replay the write set.
 *
 * Record layout (see `WireWriter`):
 *   u8 kind — 0: speculated; otherwise a `MainThreadReason` (the main thread executes it itself)
 *   kind 0:
 *     u32 readsLength, reads:
 *       u32 n × [address, account | absent]
 *       u32 n × [address, u32 k × [slot, value]]
 *       u32 n × [address, hasStorage]
 *     u32 restLength, writes:
 *       big coinbaseCredit
 *       u32 n × [address, account | deleted]          (first-write order)
 *       u32 n × [address, cleared, u32 k × [slot, value]] (first-write order)
 *       u32 n × [codeHash, code]
 *     receipt parts:
 *       big gasUsed, u8 status, u8 created [address], bloom (256), u32 n × [address, u8 k × topic, data]
 */
import { KECCAK256_NULL } from '@ethereumjs/util'
import type { Log } from '../../chain/receipt.ts'
import type { AccountState, Hex } from '../../chain/state-diff.ts'
import type { ExecutedTxParts } from '../executor.ts'
import type { JournaledState, OverlayWrites } from '../state/journaled-state.ts'
import type { RecordingReader } from './layered-state.ts'
import { equalBytes, sameAccount, type WireReader, type WireWriter } from './wire.ts'

/** Why a transaction is executed on the main thread instead of being committed from a worker. */
export const MainThreadReason = {
  /** Read or wrote the fee recipient before fee payment (its balance is only known at commit). */
  coinbase: 1,
  /** Used BLOCKHASH (workers do not see the chain). */
  blockhash: 2,
  /** Asked whether an account it had written storage for has storage (not composable across layers). */
  emptiness: 3,
  /** The transaction was rejected (bad nonce, cannot pay …): the main thread produces the exact error. */
  failed: 4,
  /** The worker could not decode it. */
  decode: 5,
  /** Anything unexpected in the worker. */
  internal: 6,
} as const
export type MainThreadReason = (typeof MainThreadReason)[keyof typeof MainThreadReason]

export const REASON_NAMES: Record<number, string> = {
  1: 'coinbase',
  2: 'blockhash',
  3: 'emptiness',
  4: 'failed',
  5: 'decode',
  6: 'internal',
}

export interface SpeculatedTx {
  reads: RecordingReader
  writes: OverlayWrites
  coinbaseCredit: bigint
  gasUsed: bigint
  status: 0 | 1
  createdAddress: Hex | undefined
  bloom: Uint8Array
  logs: ReadonlyArray<readonly [Uint8Array, Uint8Array[], Uint8Array]>
}

// --- worker side ---------------------------------------------------------------------------

export function writeMainThreadRecord(w: WireWriter, reason: MainThreadReason): void {
  w.u8(reason)
}

export function writeSpeculatedRecord(w: WireWriter, tx: SpeculatedTx): void {
  w.u8(0)
  const readsAt = w.reserveU32()
  const { reads } = tx
  w.u32(reads.accounts.size)
  for (const [address, account] of reads.accounts) {
    w.hex(address, 20)
    w.account(account)
  }
  w.u32(reads.slots.size)
  for (const [address, slots] of reads.slots) {
    w.hex(address, 20)
    w.u32(slots.size)
    for (const [slot, value] of slots) {
      w.hex(slot, 32)
      w.bytes(value)
    }
  }
  w.u32(reads.emptiness.size)
  for (const [address, has] of reads.emptiness) {
    w.hex(address, 20)
    w.bool(has)
  }
  w.patchU32(readsAt, w.pos - readsAt - 4)

  const restAt = w.reserveU32()
  const { writes } = tx
  w.big(tx.coinbaseCredit)
  w.u32(writes.accounts.size)
  for (const [address, account] of writes.accounts) {
    w.hex(address, 20)
    w.account(account)
  }
  w.u32(writes.storage.size)
  for (const [address, overlay] of writes.storage) {
    w.hex(address, 20)
    w.bool(overlay.cleared)
    w.u32(overlay.slots.size)
    for (const [slot, value] of overlay.slots) {
      w.hex(slot, 32)
      w.bytes(value)
    }
  }
  w.u32(writes.codes.size)
  for (const [hash, code] of writes.codes) {
    w.hex(hash, 32)
    w.bytes(code)
  }
  w.big(tx.gasUsed)
  w.u8(tx.status)
  if (tx.createdAddress === undefined) w.u8(0)
  else {
    w.u8(1)
    w.hex(tx.createdAddress, 20)
  }
  w.fixed(tx.bloom)
  w.u32(tx.logs.length)
  for (const [address, topics, data] of tx.logs) {
    w.fixed(address)
    w.u8(topics.length)
    for (const topic of topics) w.fixed(topic)
    w.bytes(data)
  }
  w.patchU32(restAt, w.pos - restAt - 4)
}

// --- main-thread side ----------------------------------------------------------------------

/** A record's position in its chunk's buffer, split into its sections. */
export interface RecordView {
  /** 0: speculated; otherwise a `MainThreadReason`. */
  kind: number
  readsAt: number
  restAt: number
}

/** Splits a chunk's result buffer into records (without decoding them). */
export function indexRecords(r: WireReader, count: number): RecordView[] {
  const out: RecordView[] = new Array(count)
  for (let i = 0; i < count; i++) {
    const kind = r.u8()
    if (kind !== 0) {
      out[i] = { kind, readsAt: -1, restAt: -1 }
      continue
    }
    const readsLength = r.u32()
    const readsAt = r.pos
    r.skip(readsLength)
    const restLength = r.u32()
    const restAt = r.pos
    r.skip(restLength)
    out[i] = { kind, readsAt, restAt }
  }
  return out
}

/** Whether every value the transaction read still is the committed value. */
export function readsStillValid(r: WireReader, view: RecordView, state: JournaledState): boolean {
  r.pos = view.readsAt
  for (let n = r.u32(); n > 0; n--) {
    const address = r.hex(20)
    if (!sameAccount(r.account(), state.readAccount(address))) return false
  }
  for (let n = r.u32(); n > 0; n--) {
    const address = r.hex(20)
    for (let k = r.u32(); k > 0; k--) {
      const slot = r.hex(32)
      const length = r.u32()
      if (!equalBytes(r.fixed(length), state.readSlot(address, slot))) return false
    }
  }
  for (let n = r.u32(); n > 0; n--) {
    const address = r.hex(20)
    if (r.bool() !== state.hasStorage(address)) return false
  }
  return true
}

const EMPTY_ACCOUNT: AccountState = { nonce: 0n, balance: 0n, codeHash: KECCAK256_NULL }

function isEmptyAccount(a: AccountState): boolean {
  return a.nonce === 0n && a.balance === 0n && equalBytes(a.codeHash, KECCAK256_NULL)
}

/**
 * Replays a validated transaction's writes onto the committed overlay in the order the transaction
 * made them, so the overlay's maps end up exactly as direct execution leaves them (the encoded
 * `StateDiff` follows map insertion order).
 *
 * The fee recipient's entry is recomputed here, as `runTx` would have done it against committed
 * state: credit the fee (writing the account even for +0: EIP-158 "touch"), and — as the journal's
 * end-of-transaction cleanup does, after every other account — delete it if it is left empty.
 */
export function applyRecordWrites(r: WireReader, view: RecordView, state: JournaledState, coinbase: Hex): ExecutedTxParts {
  r.pos = view.restAt
  const credit = r.big()
  let coinbaseEmptied = false
  for (let n = r.u32(); n > 0; n--) {
    const address = r.hex(20)
    const account = r.account() ?? null
    if (address === coinbase) {
      const current = state.readAccount(coinbase) ?? EMPTY_ACCOUNT
      const credited: AccountState = { nonce: current.nonce, balance: current.balance + credit, codeHash: current.codeHash }
      state.writeAccount(coinbase, credited)
      coinbaseEmptied = isEmptyAccount(credited)
    } else {
      state.writeAccount(address, account)
    }
  }
  for (let n = r.u32(); n > 0; n--) {
    const address = r.hex(20)
    const cleared = r.bool()
    const skip = address === coinbase
    if (cleared && !skip) state.wipeStorage(address)
    for (let k = r.u32(); k > 0; k--) {
      const slot = r.hex(32)
      const value = r.bytes()
      if (!skip) state.writeSlot(address, slot, value)
    }
  }
  for (let n = r.u32(); n > 0; n--) {
    const hash = r.hex(32)
    state.writeCode(hash, r.bytes())
  }
  if (coinbaseEmptied) {
    state.writeAccount(coinbase, null)
    state.wipeStorage(coinbase)
  }
  const gasUsed = r.big()
  const status = r.u8() === 1 ? 1 : 0
  const contractAddress = r.u8() === 1 ? r.hex(20) : null
  const logsBloom = r.fixedCopy(256)
  const logs: Log[] = []
  for (let n = r.u32(); n > 0; n--) {
    const address = r.hex(20)
    const topics: Hex[] = []
    for (let k = r.u8(); k > 0; k--) topics.push(r.hex(32))
    const length = r.u32()
    logs.push({ address, topics, data: r.hex(length) })
  }
  return { gasUsed, status, logs, logsBloom, contractAddress }
}
