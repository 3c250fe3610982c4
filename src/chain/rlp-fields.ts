import { RLP } from '@ethereumjs/rlp'
import type { Hex } from './state-diff.ts'

/** What `RLP.decode` yields and `RLP.encode` takes. */
export type RlpValue = Uint8Array | RlpValue[]

/** Thrown for bytes that are not a valid encoding of what they claim to be (p2p input, a corrupt DB). */
export class CodecError extends Error {
  override name = 'CodecError'
}

/** `RLP.decode` for untrusted bytes: malformed input is a `CodecError` naming `what`. */
export function decodeRlp(bytes: Uint8Array, what: string): RlpValue {
  try {
    return RLP.decode(bytes) as RlpValue
  } catch (error) {
    throw new CodecError(`${what}: invalid RLP (${error instanceof Error ? error.message : String(error)})`)
  }
}

export function asList(value: RlpValue | undefined, length: number | undefined, what: string): RlpValue[] {
  if (!Array.isArray(value)) throw new CodecError(`${what}: expected a list`)
  if (length !== undefined && value.length !== length) throw new CodecError(`${what}: expected ${length} fields, got ${value.length}`)
  return value
}

export function asBytes(value: RlpValue | undefined, what: string, length?: number): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new CodecError(`${what}: expected bytes`)
  if (length !== undefined && value.length !== length) throw new CodecError(`${what}: expected ${length} bytes, got ${value.length}`)
  return value
}

export { bytesToBigInt } from '@ethereumjs/util'

/**
 * The bytes of a 0x hex string the node produced itself (hashes, addresses, slots it formatted).
 * ethereumjs' `hexToBytes` re-validates every string with a regex, which showed up in profiles of
 * the seal path; this checks only that every digit was consumed.
 */
export function hexBytes(hex: Hex): Uint8Array {
  const buffer = Buffer.from(hex.slice(2), 'hex')
  if (buffer.length * 2 !== hex.length - 2) throw new CodecError(`invalid hex string: ${hex.length > 70 ? `${hex.slice(0, 70)}…` : hex}`)
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.length)
}

/** The RLP prefix of a list whose items encode to `payloadLength` bytes. */
export function rlpListHeader(payloadLength: number): Uint8Array {
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
