/**
 * Checked access to decoded RLP items for the batch codecs, with go-ethereum's strictness on
 * integers (canonical: no leading zero byte, bounded size), so that what we accept op-node accepts.
 */
import { hexToBytes } from '@ethereumjs/util'
import { bytesToBigInt, type RlpValue } from '../primitives/rlp-fields.ts'
import type { Hex } from '../primitives/state-diff.ts'
import { DaCodecError } from './errors.ts'

export function rlpList(value: RlpValue | undefined, length: number | undefined, what: string): RlpValue[] {
  if (!Array.isArray(value)) throw new DaCodecError('batch-malformed', `${what}: expected a list`)
  if (length !== undefined && value.length !== length)
    throw new DaCodecError('batch-malformed', `${what}: expected ${length} fields, got ${value.length}`)
  return value
}

export function rlpBytes(value: RlpValue | undefined, what: string, length?: number): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new DaCodecError('batch-malformed', `${what}: expected bytes`)
  if (length !== undefined && value.length !== length)
    throw new DaCodecError('batch-malformed', `${what}: expected ${length} bytes, got ${value.length}`)
  return value
}

/** A canonical RLP integer of at most `maxBytes` bytes (8 for uint64, 32 for uint256). */
export function rlpUint(value: RlpValue | undefined, maxBytes: number, what: string): bigint {
  const bytes = rlpBytes(value, what)
  if (bytes.length > maxBytes)
    throw new DaCodecError('batch-malformed', `${what}: integer of ${bytes.length} bytes, at most ${maxBytes}`)
  if (bytes[0] === 0) throw new DaCodecError('batch-malformed', `${what}: non-canonical integer (leading zero)`)
  return bytesToBigInt(bytes)
}

/** The bytes of an encoder input given as a 0x string of exactly `size` bytes. */
export function fixedBytes(hex: Hex, size: number, what: string): Uint8Array {
  let bytes: Uint8Array
  try {
    bytes = hexToBytes(hex)
  } catch {
    throw new DaCodecError('bad-input', `${what}: not a 0x hex string`)
  }
  if (bytes.length !== size) throw new DaCodecError('bad-input', `${what}: expected ${size} bytes, got ${bytes.length}`)
  return bytes
}

/** Where the RLP item at `pos` lies: its kind, its payload [start, end). */
export interface RlpItemSpan {
  readonly kind: 'string' | 'list'
  readonly start: number
  readonly end: number
}

/**
 * The extent of the RLP item at `pos` in a byte stream, with go-ethereum's canonical-size rules
 * (a single byte below 0x80 is never prefixed; long forms only for 56+ bytes, no leading zero in the
 * length). `maxPayload` bounds what the item may announce, as `rlp.NewStream`'s input limit does.
 */
export function rlpItemSpan(stream: Uint8Array, pos: number, maxPayload: number, what: string): RlpItemSpan {
  const prefix = stream[pos]
  if (prefix === undefined) throw new DaCodecError('batch-malformed', `${what}: truncated`)
  if (prefix < 0x80) return { kind: 'string', start: pos, end: pos + 1 }
  const kind = prefix < 0xc0 ? 'string' : 'list'
  const shortMax = kind === 'string' ? 0xb7 : 0xf7
  let start = pos + 1
  let length = prefix - (kind === 'string' ? 0x80 : 0xc0)
  if (prefix > shortMax) {
    const lengthOfLength = prefix - shortMax
    if (start + lengthOfLength > stream.length) throw new DaCodecError('batch-malformed', `${what}: truncated length`)
    if (stream[start] === 0) throw new DaCodecError('batch-malformed', `${what}: length with a leading zero`)
    length = 0
    for (let i = 0; i < lengthOfLength; i++) length = length * 256 + stream[start + i]!
    if (length < 56) throw new DaCodecError('batch-malformed', `${what}: non-canonical length`)
    start += lengthOfLength
  } else if (kind === 'string' && length === 1 && (stream[start] ?? 0x80) < 0x80) {
    throw new DaCodecError('batch-malformed', `${what}: non-canonical single byte`)
  }
  if (length > maxPayload)
    throw new DaCodecError('span-batch-too-big', `${what}: ${length} bytes exceed the limit of ${maxPayload}`)
  if (start + length > stream.length)
    throw new DaCodecError('batch-malformed', `${what}: ${length} bytes announced, ${stream.length - start} left`)
  return { kind, start, end: start + length }
}
