/**
 * The records a worker sends back for its share of a round, and the main thread's side of them:
 * validate a transaction's read set against committed state, then replay its write set.
 *
 * Chunk layout (see `WireWriter`): a table of the distinct addresses and of the distinct storage
 * slots the records refer to (each converted to a hex key once per chunk on the main thread,
 * however many reads and writes name it), then one record per transaction:
 *
 *   u8 kind — 0: speculated; otherwise a `MainThreadReason` (the main thread executes it itself)
 *   kind 0:
 *     u32 readsLength, reads:
 *       u32 n × [address#, account | absent]
 *       u32 n × [address#, u32 k × [slot#, value]]
 *       u32 n × [address#, hasStorage]
 *     u32 restLength, writes (first-write order):
 *       big coinbaseCredit
 *       u32 n × [address#, account | deleted]
 *       u32 n × [address#, cleared, u32 k × [slot#, value]]
 *       u32 n × [codeHash, code]
 *     receipt parts:
 *       big gasUsed, u8 status, u8 created [address#], u8 hasBloom [bloom], u32 n × [address#, u8 k × topic, data]
 */
import { KECCAK256_NULL, bytesToHex } from '@ethereumjs/util'
import type { Log } from '../../chain/receipt.ts'
import type { AccountState, Hex } from '../../primitives/state-diff.ts'
import type { ExecutedTxParts } from '../executor.ts'
import type { JournaledState, OverlayWrites } from '../../state/journaled-state.ts'
import type { RecordingReader } from './layered-state.ts'
import { WireReader, WireWriter, equalBytes, sameAccount } from './wire.ts'

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
  /** The coordinator abandoned the round (too many conflicts) before the worker reached it. */
  abandoned: 7,
} as const
export type MainThreadReason = (typeof MainThreadReason)[keyof typeof MainThreadReason]

export const REASON_NAMES: Record<number, string> = {
  1: 'coinbase',
  2: 'blockhash',
  3: 'emptiness',
  4: 'failed',
  5: 'decode',
  6: 'internal',
  7: 'abandoned',
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

/** Writes one chunk's records (worker side). */
export class RecordEncoder {
  private readonly w = new WireWriter(16_384)
  private readonly addresses = new Map<string, number>()
  private readonly slots = new Map<string, number>()

  private address(address: string): void {
    let i = this.addresses.get(address)
    if (i === undefined) {
      i = this.addresses.size
      this.addresses.set(address, i)
    }
    this.w.u32(i)
  }

  /** Log addresses come as bytes; the table is keyed by hex. */
  private addressBytes(address: Uint8Array): void {
    this.address(bytesToHex(address))
  }

  private slot(slot: Hex): void {
    let i = this.slots.get(slot)
    if (i === undefined) {
      i = this.slots.size
      this.slots.set(slot, i)
    }
    this.w.u32(i)
  }

  mainThread(reason: MainThreadReason): void {
    this.w.u8(reason)
  }

  speculated(tx: SpeculatedTx): void {
    const w = this.w
    w.u8(0)
    const readsAt = w.reserveU32()
    const { reads } = tx
    w.u32(reads.accounts.size)
    for (const [address, account] of reads.accounts) {
      this.address(address)
      w.account(account)
    }
    w.u32(reads.slots.size)
    for (const [address, slots] of reads.slots) {
      this.address(address)
      w.u32(slots.size)
      for (const [slot, value] of slots) {
        this.slot(slot)
        w.bytes(value)
      }
    }
    w.u32(reads.emptiness.size)
    for (const [address, has] of reads.emptiness) {
      this.address(address)
      w.bool(has)
    }
    w.patchU32(readsAt, w.pos - readsAt - 4)

    const restAt = w.reserveU32()
    const { writes } = tx
    w.big(tx.coinbaseCredit)
    w.u32(writes.accounts.size)
    for (const [address, account] of writes.accounts) {
      this.address(address)
      w.account(account)
    }
    w.u32(writes.storage.size)
    for (const [address, overlay] of writes.storage) {
      this.address(address)
      w.bool(overlay.cleared)
      w.u32(overlay.slots.size)
      for (const [slot, value] of overlay.slots) {
        this.slot(slot)
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
      this.address(tx.createdAddress)
    }
    // A transaction without logs has an all-zero bloom: not worth 256 bytes.
    if (tx.logs.length === 0) w.u8(0)
    else {
      w.u8(1)
      w.fixed(tx.bloom)
    }
    w.u32(tx.logs.length)
    for (const [address, topics, data] of tx.logs) {
      this.addressBytes(address)
      w.u8(topics.length)
      for (const topic of topics) w.fixed(topic)
      w.bytes(data)
    }
    w.patchU32(restAt, w.pos - restAt - 4)
  }

  /** Tables, then records: one transferable buffer. */
  finish(): Uint8Array {
    const records = this.w.finish()
    const head = new WireWriter(8 + this.addresses.size * 20 + this.slots.size * 32 + records.length)
    head.u32(this.addresses.size)
    for (const address of this.addresses.keys()) head.hex(address, 20)
    head.u32(this.slots.size)
    for (const slot of this.slots.keys()) head.hex(slot, 32)
    head.fixed(records)
    return head.finish()
  }
}

// --- main-thread side ----------------------------------------------------------------------

interface RecordView {
  /** 0: speculated; otherwise a `MainThreadReason`. */
  kind: number
  readsAt: number
  restAt: number
}

const EMPTY_ACCOUNT: AccountState = { nonce: 0n, balance: 0n, codeHash: KECCAK256_NULL }

function isEmptyAccount(a: AccountState): boolean {
  return a.nonce === 0n && a.balance === 0n && equalBytes(a.codeHash, KECCAK256_NULL)
}

/** One chunk's records, decoded lazily (main thread). */
export class ChunkRecords {
  private readonly r: WireReader
  private readonly views: RecordView[]
  private readonly addressAt: number
  private readonly addressCache: Array<Hex | undefined>
  private readonly slotAt: number
  private readonly slotCache: Array<Hex | undefined>
  private readonly buf: Uint8Array

  constructor(buf: Uint8Array, count: number) {
    this.buf = buf
    const r = new WireReader(buf)
    this.r = r
    const addresses = r.u32()
    this.addressAt = r.pos
    this.addressCache = new Array(addresses)
    r.skip(addresses * 20)
    const slots = r.u32()
    this.slotAt = r.pos
    this.slotCache = new Array(slots)
    r.skip(slots * 32)
    this.views = new Array(count)
    for (let i = 0; i < count; i++) {
      const kind = r.u8()
      if (kind !== 0) {
        this.views[i] = { kind, readsAt: -1, restAt: -1 }
        continue
      }
      const readsLength = r.u32()
      const readsAt = r.pos
      r.skip(readsLength)
      const restLength = r.u32()
      const restAt = r.pos
      r.skip(restLength)
      this.views[i] = { kind, readsAt, restAt }
    }
  }

  /** 0: speculated; otherwise a `MainThreadReason`. */
  kind(i: number): number {
    return this.views[i]!.kind
  }

  private address(): Hex {
    const i = this.r.u32()
    let hex = this.addressCache[i]
    if (hex === undefined) {
      const at = this.addressAt + i * 20
      hex = bytesToHex(this.buf.subarray(at, at + 20)) as Hex
      this.addressCache[i] = hex
    }
    return hex
  }

  private slot(): Hex {
    const i = this.r.u32()
    let hex = this.slotCache[i]
    if (hex === undefined) {
      const at = this.slotAt + i * 32
      hex = bytesToHex(this.buf.subarray(at, at + 32)) as Hex
      this.slotCache[i] = hex
    }
    return hex
  }

  /** Whether every value transaction `i` read still is the committed value. */
  readsStillValid(i: number, state: JournaledState): boolean {
    const r = this.r
    r.pos = this.views[i]!.readsAt
    for (let n = r.u32(); n > 0; n--) {
      const address = this.address()
      if (!sameAccount(r.account(), state.readAccount(address))) return false
    }
    for (let n = r.u32(); n > 0; n--) {
      const address = this.address()
      for (let k = r.u32(); k > 0; k--) {
        const slot = this.slot()
        const length = r.u32()
        if (!equalBytes(r.fixed(length), state.readSlot(address, slot))) return false
      }
    }
    for (let n = r.u32(); n > 0; n--) {
      const address = this.address()
      if (r.bool() !== state.hasStorage(address)) return false
    }
    return true
  }

  /**
   * Replays validated transaction `i`'s writes onto the committed overlay in the order the
   * transaction made them, so the overlay's maps end up exactly as direct execution leaves them (the
   * encoded `StateDiff` follows map insertion order).
   *
   * The fee recipient's entry is recomputed here, as `runTx` would have done it against committed
   * state: credit the fee (writing the account even for +0: the EIP-158 "touch"), and — as the
   * journal's end-of-transaction cleanup does, after every other account — delete it if it is left
   * empty.
   */
  applyWrites(i: number, state: JournaledState, coinbase: Hex): ExecutedTxParts {
    const r = this.r
    r.pos = this.views[i]!.restAt
    const credit = r.big()
    let coinbaseEmptied = false
    for (let n = r.u32(); n > 0; n--) {
      const address = this.address()
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
      const address = this.address()
      const cleared = r.bool()
      const skip = address === coinbase
      if (cleared && !skip) state.wipeStorage(address)
      for (let k = r.u32(); k > 0; k--) {
        const slot = this.slot()
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
    const contractAddress = r.u8() === 1 ? this.address() : null
    const logsBloom = r.u8() === 1 ? r.fixedCopy(256) : new Uint8Array(256)
    const logs: Log[] = []
    for (let n = r.u32(); n > 0; n--) {
      const address = this.address()
      const topics: Hex[] = []
      for (let k = r.u8(); k > 0; k--) topics.push(r.hex(32))
      const length = r.u32()
      logs.push({ address, topics, data: r.hex(length) })
    }
    return { gasUsed, status, logs, logsBloom, contractAddress }
  }
}
