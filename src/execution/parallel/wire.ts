/**
 * A small binary codec for what crosses the worker boundary on the hot path (state syncs, chunk
 * results). Structured clone costs ~1 µs per typed array and per Map entry on *both* sides; the
 * main thread's share is serial time in the parallel executor, so records are written into one
 * growable buffer and transferred.
 */
import { KECCAK256_NULL, bytesToHex } from '@ethereumjs/util'
import type { AccountState, Hex, StateDiff } from '../../primitives/state-diff.ts'

const HEX_VALUES: Int8Array = (() => {
  const table = new Int8Array(128).fill(-1)
  for (let i = 0; i < 10; i++) table[48 + i] = i
  for (let i = 0; i < 6; i++) {
    table[97 + i] = 10 + i
    table[65 + i] = 10 + i
  }
  return table
})()

const BYTE_HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

const textEncoder = new TextEncoder()
const textDecoder = new TextDecoder()

export class WireWriter {
  private buf: Uint8Array
  private view: DataView
  pos = 0

  constructor(initial = 4096) {
    this.buf = new Uint8Array(initial)
    this.view = new DataView(this.buf.buffer)
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.pos + n) size *= 2
    const next = new Uint8Array(size)
    next.set(this.buf.subarray(0, this.pos))
    this.buf = next
    this.view = new DataView(next.buffer)
  }

  u8(v: number): void {
    this.ensure(1)
    this.buf[this.pos++] = v
  }

  u32(v: number): void {
    this.ensure(4)
    this.view.setUint32(this.pos, v)
    this.pos += 4
  }

  /** Reserves a u32 to fill in later (`patchU32`), e.g. a section length. */
  reserveU32(): number {
    this.ensure(4)
    const at = this.pos
    this.pos += 4
    return at
  }

  patchU32(at: number, v: number): void {
    this.view.setUint32(at, v)
  }

  f64(v: number): void {
    this.ensure(8)
    this.view.setFloat64(this.pos, v)
    this.pos += 8
  }

  /** Raw bytes, no length (fixed-size fields). */
  fixed(b: Uint8Array): void {
    this.ensure(b.length)
    this.buf.set(b, this.pos)
    this.pos += b.length
  }

  /** Length-prefixed bytes. */
  bytes(b: Uint8Array): void {
    this.u32(b.length)
    this.fixed(b)
  }

  /** A 0x-prefixed hex string of exactly `size` bytes, stored as bytes. */
  hex(h: string, size: number): void {
    if (h.length !== 2 + size * 2) throw new Error(`wire: expected ${size}-byte hex, got ${h}`)
    this.ensure(size)
    const buf = this.buf
    let pos = this.pos
    for (let i = 2; i < h.length; i += 2) {
      const hi = HEX_VALUES[h.charCodeAt(i)]!
      const lo = HEX_VALUES[h.charCodeAt(i + 1)]!
      if (hi < 0 || lo < 0) throw new Error(`wire: bad hex ${h}`)
      buf[pos++] = (hi << 4) | lo
    }
    this.pos = pos
  }

  str(s: string): void {
    this.bytes(textEncoder.encode(s))
  }

  /** Unsigned bigints up to 2^53 as a float; larger ones as packed hex digits (V8's toString(16) is fast). */
  big(v: bigint): void {
    if (v >= 0n && v <= 0x1fffffffffffffn) {
      this.u8(0)
      this.f64(Number(v))
      return
    }
    if (v < 0n) throw new Error('wire: negative bigint')
    let hex = v.toString(16)
    if (hex.length % 2 === 1) hex = `0${hex}`
    const size = hex.length / 2
    this.u8(size)
    this.ensure(size)
    const buf = this.buf
    let pos = this.pos
    for (let i = 0; i < hex.length; i += 2)
      buf[pos++] = (HEX_VALUES[hex.charCodeAt(i)]! << 4) | HEX_VALUES[hex.charCodeAt(i + 1)]!
    this.pos = pos
  }

  bool(v: boolean): void {
    this.u8(v ? 1 : 0)
  }

  /** An account state or "absent" (`undefined`/`null`, told apart by the reader's caller). */
  account(a: AccountState | null | undefined): void {
    if (a === undefined || a === null) {
      this.u8(0)
      return
    }
    const emptyCode = equalBytes(a.codeHash, KECCAK256_NULL)
    this.u8(emptyCode ? 1 : 2)
    this.big(a.nonce)
    this.big(a.balance)
    if (!emptyCode) this.fixed(a.codeHash)
  }

  /** The bytes written so far (a copy sized to fit, transferable). */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos)
  }
}

export class WireReader {
  private readonly view: DataView
  pos = 0

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  }

  get done(): boolean {
    return this.pos >= this.buf.length
  }

  u8(): number {
    return this.buf[this.pos++]!
  }

  u32(): number {
    const v = this.view.getUint32(this.pos)
    this.pos += 4
    return v
  }

  f64(): number {
    const v = this.view.getFloat64(this.pos)
    this.pos += 8
    return v
  }

  /** A view (not a copy) of the next `n` bytes. */
  fixed(n: number): Uint8Array {
    const v = this.buf.subarray(this.pos, this.pos + n)
    this.pos += n
    return v
  }

  /** A copy: values kept beyond the buffer's life must not pin it. */
  fixedCopy(n: number): Uint8Array {
    const v = this.buf.slice(this.pos, this.pos + n)
    this.pos += n
    return v
  }

  bytes(): Uint8Array {
    return this.fixedCopy(this.u32())
  }

  hex(size: number): Hex {
    return bytesToHex(this.fixed(size)) as Hex
  }

  str(): string {
    return textDecoder.decode(this.fixed(this.u32()))
  }

  big(): bigint {
    const size = this.u8()
    if (size === 0) return BigInt(this.f64())
    let hex = '0x'
    const buf = this.buf
    for (let i = this.pos; i < this.pos + size; i++) hex += BYTE_HEX[buf[i]!]!
    this.pos += size
    return BigInt(hex)
  }

  bool(): boolean {
    return this.u8() !== 0
  }

  account(): AccountState | undefined {
    const tag = this.u8()
    if (tag === 0) return undefined
    const nonce = this.big()
    const balance = this.big()
    return { nonce, balance, codeHash: tag === 1 ? KECCAK256_NULL : this.fixedCopy(32) }
  }

  skip(n: number): void {
    this.pos += n
  }
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

export function sameAccount(a: AccountState | null | undefined, b: AccountState | null | undefined): boolean {
  if (a === undefined || a === null || b === undefined || b === null) return (a ?? undefined) === (b ?? undefined)
  return a.nonce === b.nonce && a.balance === b.balance && equalBytes(a.codeHash, b.codeHash)
}

/**
 * A `StateDiff` (`FlatState.apply` semantics: final account values, optional wipe, slot values).
 * Used for worker state syncs and full snapshots.
 */
export function writeStateDiff(w: WireWriter, diff: StateDiff): void {
  w.u32(diff.codes.size)
  for (const [hash, code] of diff.codes) {
    w.hex(hash, 32)
    w.bytes(code)
  }
  w.u32(diff.accounts.size)
  for (const [address, change] of diff.accounts) {
    w.hex(address, 20)
    w.account(change.account)
    w.bool(change.storageCleared)
    w.u32(change.storage.size)
    for (const [slot, value] of change.storage) {
      w.hex(slot, 32)
      w.bytes(value)
    }
  }
}

export function readStateDiff(r: WireReader): StateDiff {
  const codes = new Map<Hex, Uint8Array>()
  for (let n = r.u32(); n > 0; n--) codes.set(r.hex(32), r.bytes())
  const accounts: StateDiff['accounts'] = new Map()
  for (let n = r.u32(); n > 0; n--) {
    const address = r.hex(20)
    const account = r.account() ?? null
    const storageCleared = r.bool()
    const storage = new Map<Hex, Uint8Array>()
    for (let k = r.u32(); k > 0; k--) storage.set(r.hex(32), r.bytes())
    accounts.set(address, { account, storageCleared, storage })
  }
  return { accounts, codes }
}
