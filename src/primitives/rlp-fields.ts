import { RLP } from '@ethereumjs/rlp'
import type { Hex } from './state-diff.ts'
import { NodeError, type NodeErrorOptions } from './errors.ts'

/** What `RLP.decode` yields and `RLP.encode` takes. */
export type RlpValue = Uint8Array | RlpValue[]
/**
 * What `encodeRlp` takes: bytes and lists, plus two shorthands it writes straight into its output,
 * so hot encoders (receipts, state diffs: ~15 fields per transaction) allocate no array per field:
 * a non-negative integer (`bigint`, or a safe-integer `number`) stands for its RLP integer form
 * (`unpaddedBytes`), a `Hex` string for its bytes (`hexBytes`).
 */
export type RlpInput = Uint8Array | bigint | number | Hex | readonly RlpInput[]

/** Thrown for bytes that are not a valid encoding of what they claim to be (p2p input, a corrupt DB). */
export class CodecError extends NodeError<'CODEC_INVALID', undefined> {
  override readonly name = 'CodecError'
  constructor(message: string, options?: NodeErrorOptions) {
    super('CODEC_INVALID', message, options)
  }
}

/** `RLP.decode` for untrusted bytes: malformed input is a `CodecError` naming `what`. */
export function decodeRlp(bytes: Uint8Array, what: string): RlpValue {
  try {
    return RLP.decode(bytes) as RlpValue
  } catch (error) {
    throw new CodecError(`${what}: invalid RLP (${error instanceof Error ? error.message : String(error)})`)
  }
}

/**
 * `decodeRlp` without copies: every byte string is a view into `bytes` (valid while it is not
 * modified), with the same canonical-encoding checks. For large messages of many small items (a
 * snapshot page: 65,536 entries), where the generic decoder's copy and two objects per item showed
 * up as a tenth of the fetch, most of it in GC.
 */
export function decodeRlpView(bytes: Uint8Array, what: string): RlpValue {
  const [value, end] = viewItem(bytes, 0, bytes.length, what)
  if (end !== bytes.length) throw new CodecError(`${what}: invalid RLP (trailing bytes after the item)`)
  return value
}

/** The item at `pos` (which must end by `limit`) and where it ends. */
function viewItem(bytes: Uint8Array, pos: number, limit: number, what: string): [RlpValue, number] {
  const prefix = bytes[pos]
  if (prefix === undefined || pos >= limit) throw new CodecError(`${what}: invalid RLP (truncated)`)
  if (prefix < 0x80) return [bytes.subarray(pos, pos + 1), pos + 1]
  const isList = prefix >= 0xc0
  let length = prefix - (isList ? 0xc0 : 0x80)
  let start = pos + 1
  if (length > 55) {
    const lengthOfLength = length - 55
    if (start + lengthOfLength > limit) throw new CodecError(`${what}: invalid RLP (truncated length)`)
    if (bytes[start] === 0) throw new CodecError(`${what}: invalid RLP (length with leading zeros)`)
    length = 0
    for (let i = 0; i < lengthOfLength; i++) length = length * 256 + bytes[start + i]!
    if (length <= 55) throw new CodecError(`${what}: invalid RLP (long form for a length under 56)`)
    start += lengthOfLength
  }
  const end = start + length
  if (end > limit) throw new CodecError(`${what}: invalid RLP (item overruns its container)`)
  if (!isList) {
    if (length === 1 && bytes[start]! < 0x80) throw new CodecError(`${what}: invalid RLP (single byte under 0x80 prefixed)`)
    return [bytes.subarray(start, end), end]
  }
  const items: RlpValue[] = []
  for (let at = start; at < end; ) {
    const [item, itemEnd] = viewItem(bytes, at, end, what)
    items.push(item)
    at = itemEnd
  }
  return [items, end]
}

export function asList(value: RlpValue | undefined, length: number | undefined, what: string): RlpValue[] {
  if (!Array.isArray(value)) throw new CodecError(`${what}: expected a list`)
  if (length !== undefined && value.length !== length)
    throw new CodecError(`${what}: expected ${length} fields, got ${value.length}`)
  return value
}

export function asBytes(value: RlpValue | undefined, what: string, length?: number): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new CodecError(`${what}: expected bytes`)
  if (length !== undefined && value.length !== length)
    throw new CodecError(`${what}: expected ${length} bytes, got ${value.length}`)
  return value
}

export { bytesToBigInt } from '@ethereumjs/util'

/**
 * Big-endian bytes of a non-negative integer without leading zeros (empty for 0): RLP's integer
 * form, what `bigIntToUnpaddedBytes` returns. That one goes through a hex string, a padded copy, a
 * regex check and a strip per call, and receipts, diffs and indexes encode several integers per
 * transaction; values below 2^53 (nonces, gas, indexes, most balances' neighbours) are written
 * straight from a number here.
 */
export function unpaddedBytes(value: bigint): Uint8Array {
  const n = integerLength(value)
  const out = new Uint8Array(n)
  writeInteger(out, 0, n, value)
  return out
}

/**
 * The bytes of a 0x hex string the node produced itself (hashes, addresses, slots it formatted).
 * ethereumjs' `hexToBytes` re-validates every string with a regex, which showed up in profiles of
 * the seal path; this checks only that every digit was consumed.
 */
export function hexBytes(hex: Hex): Uint8Array {
  const buffer = Buffer.from(hex.slice(2), 'hex')
  if (buffer.length * 2 !== hex.length - 2) throw new CodecError(`invalid hex string: ${clip(hex)}`)
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.length)
}

/**
 * RLP encoding of bytes and nested lists of bytes: the same output as `RLP.encode` for such input.
 *
 * `RLP.encode` concatenates every item's encoding into its parent's, so each byte is copied once
 * per nesting level, and it formats every length through a hex string; on the sequencer's hot
 * paths (mini-block bodies, receipts, block bodies, indexes) that was ~10 % of the main thread.
 * This measures the tree once, then writes every byte once into a buffer of the exact size.
 */
export function encodeRlp(value: RlpInput): Uint8Array {
  lengths.count = 0
  const out = new Uint8Array(measure(value))
  write(value, { out, next: 0, hexView: undefined }, 0)
  return out
}

/**
 * Each list's payload length and each integer's and hex string's byte length, in pre-order, as
 * `measure` finds them and `write` consumes them. One growing buffer for every call (encoding is
 * synchronous and each thread has its own module): a mini-block body has thousands of entries.
 */
const lengths = { values: new Int32Array(1024), count: 0 }

function pushLength(n: number): number {
  if (lengths.count === lengths.values.length) {
    const grown = new Int32Array(lengths.values.length * 2)
    grown.set(lengths.values)
    lengths.values = grown
  }
  lengths.values[lengths.count] = n
  return lengths.count++
}

/** One `encodeRlp` call's output and its position in `lengths`. */
interface Writer {
  out: Uint8Array
  next: number
  /** A Buffer over `out`, made on first need, for native writes of `Hex` strings. */
  hexView: Buffer | undefined
}

/** Encoded size of `value`; records the lengths `write` needs in `lengths`, in pre-order. */
function measure(value: RlpInput): number {
  if (value instanceof Uint8Array) {
    const n = value.length
    return n === 1 && value[0]! < 0x80 ? 1 : headerLength(n) + n
  }
  if (typeof value === 'bigint' || typeof value === 'number') {
    const n = integerLength(value)
    pushLength(n)
    return n === 1 && value < 0x80 ? 1 : headerLength(n) + n
  }
  if (typeof value === 'string') {
    if (value.length % 2 !== 0 || !value.startsWith('0x')) throw new CodecError(`invalid hex string: ${clip(value)}`)
    const n = (value.length - 2) / 2
    pushLength(n)
    return n === 1 && Number(value) < 0x80 ? 1 : headerLength(n) + n
  }
  const slot = pushLength(0)
  let payload = 0
  for (let i = 0; i < value.length; i++) payload += measure(value[i]!)
  lengths.values[slot] = payload
  return headerLength(payload) + payload
}

function integerLength(value: bigint | number): number {
  if (typeof value === 'number' ? !Number.isSafeInteger(value) || value < 0 : value < 0n)
    throw new RangeError(`RLP integer must be a non-negative (safe) integer, got ${value}`)
  if (value <= Number.MAX_SAFE_INTEGER) {
    let length = 0
    for (let m = Number(value); m > 0; m = Math.floor(m / 256)) length++
    return length
  }
  return (value.toString(16).length + 1) >> 1
}

/** Writes the `n` (= `integerLength`) big-endian bytes of `value` at `pos`. */
function writeInteger(out: Uint8Array, pos: number, n: number, value: bigint | number): void {
  if (value <= Number.MAX_SAFE_INTEGER) {
    for (let i = pos + n - 1, m = Number(value); i >= pos; i--, m = Math.floor(m / 256)) out[i] = m % 256
    return
  }
  const hex = value.toString(16)
  Buffer.from(out.buffer, out.byteOffset + pos, n).write(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex')
}

function headerLength(payloadLength: number): number {
  if (payloadLength < 56) return 1
  let size = 1
  for (let n = payloadLength; n >= 256; n = Math.floor(n / 256)) size++
  return 1 + size
}

/** Writes `value` at `pos`; returns the position after it. */
function write(value: RlpInput, w: Writer, pos: number): number {
  const { out } = w
  const measured = lengths.values
  if (value instanceof Uint8Array) {
    const n = value.length
    if (n === 1 && value[0]! < 0x80) {
      out[pos] = value[0]!
      return pos + 1
    }
    pos = writeHeader(out, pos, n, 0x80)
    out.set(value, pos)
    return pos + n
  }
  if (typeof value === 'bigint' || typeof value === 'number') {
    const n = measured[w.next++]!
    if (n === 1 && value < 0x80) {
      out[pos] = Number(value)
      return pos + 1
    }
    pos = writeHeader(out, pos, n, 0x80)
    writeInteger(out, pos, n, value)
    return pos + n
  }
  if (typeof value === 'string') {
    const n = measured[w.next++]!
    if (n === 1) {
      // Number() of a 0x string is NaN unless every digit is hex (parseInt would stop early).
      const byte = Number(value)
      if (byte < 0x80) {
        out[pos] = byte
        return pos + 1
      }
    }
    pos = writeHeader(out, pos, n, 0x80)
    writeHexDigits(w, value.slice(2), pos, n)
    return pos + n
  }
  pos = writeHeader(out, pos, measured[w.next++]!, 0xc0)
  for (let i = 0; i < value.length; i++) pos = write(value[i]!, w, pos)
  return pos
}

function writeHexDigits(w: Writer, digits: string, pos: number, n: number): void {
  w.hexView ??= Buffer.from(w.out.buffer, w.out.byteOffset, w.out.byteLength)
  // Buffer's hex decoder stops at the first character that is not a hex digit.
  if (w.hexView.write(digits, pos, n, 'hex') !== n) throw new CodecError(`invalid hex string: 0x${clip(digits)}`)
}

function clip(text: string): string {
  return text.length > 70 ? `${text.slice(0, 70)}…` : text
}

function writeHeader(out: Uint8Array, pos: number, length: number, offset: 0x80 | 0xc0): number {
  if (length < 56) {
    out[pos] = offset + length
    return pos + 1
  }
  const size = headerLength(length) - 1
  out[pos] = offset + 55 + size
  for (let i = size, n = length; i > 0; i--, n = Math.floor(n / 256)) out[pos + i] = n % 256
  return pos + 1 + size
}

/**
 * The items of the RLP list `encoded`, each as a subarray of it holding the item's whole encoding
 * (header included): lets bytes that are already encoded be regrouped without decoding them.
 * @throws CodecError when `encoded` is not one well-formed list
 */
export function rlpListItems(encoded: Uint8Array, what: string): Uint8Array[] {
  const [start, end] = rlpSpan(encoded, 0, what)
  if (encoded[0]! < 0xc0) throw new CodecError(`${what}: expected a list`)
  if (end !== encoded.length) throw new CodecError(`${what}: trailing bytes after the list`)
  const items: Uint8Array[] = []
  for (let pos = start; pos < end; ) {
    const itemEnd = rlpSpan(encoded, pos, what)[1]
    if (itemEnd > end) throw new CodecError(`${what}: item overruns the list`)
    items.push(encoded.subarray(pos, itemEnd))
    pos = itemEnd
  }
  return items
}

/** The contents of the RLP byte string `encoded` (an item from `rlpListItems`). */
export function rlpStringPayload(encoded: Uint8Array, what: string): Uint8Array {
  if (encoded.length === 0 || encoded[0]! >= 0xc0) throw new CodecError(`${what}: expected bytes`)
  const [start, end] = rlpSpan(encoded, 0, what)
  if (end !== encoded.length) throw new CodecError(`${what}: trailing bytes`)
  return encoded.subarray(start, end)
}

/** [payload start, item end) of the item at `pos`. */
function rlpSpan(encoded: Uint8Array, pos: number, what: string): [number, number] {
  const prefix = encoded[pos]
  if (prefix === undefined) throw new CodecError(`${what}: truncated`)
  if (prefix < 0x80) return [pos, pos + 1]
  const base = prefix < 0xc0 ? 0x80 : 0xc0
  let length = prefix - base
  let start = pos + 1
  if (length > 55) {
    const lengthOfLength = length - 55
    length = 0
    for (let i = 0; i < lengthOfLength; i++) length = length * 256 + (encoded[start + i] ?? 0)
    start += lengthOfLength
  }
  if (start + length > encoded.length) throw new CodecError(`${what}: truncated`)
  return [start, start + length]
}

/** An RLP list of items that are already RLP-encoded. */
export function concatRlpList(encodedItems: readonly Uint8Array[]): Uint8Array {
  let payload = 0
  for (const item of encodedItems) payload += item.length
  const header = rlpListHeader(payload)
  const out = new Uint8Array(header.length + payload)
  out.set(header)
  let pos = header.length
  for (const item of encodedItems) {
    out.set(item, pos)
    pos += item.length
  }
  return out
}

/** The RLP prefix of a list whose items encode to `payloadLength` bytes. */
function rlpListHeader(payloadLength: number): Uint8Array {
  if (payloadLength < 56) return Uint8Array.of(0xc0 + payloadLength)
  const bytes: number[] = []
  for (let n = payloadLength; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256)
  return Uint8Array.of(0xf7 + bytes.length, ...bytes)
}

/** How many bytes the RLP list prefix at the start of `encoded` takes. */
export function rlpListHeaderLength(encoded: Uint8Array): number {
  const first = encoded[0]!
  if (first < 0xc0) throw new CodecError('not an RLP list')
  return first <= 0xf7 ? 1 : 1 + (first - 0xf7)
}
