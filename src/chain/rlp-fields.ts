import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import type { Hex } from './state-diff.ts'

/** What `RLP.decode` yields and `RLP.encode` takes. */
export type RlpValue = Uint8Array | RlpValue[]

/** Thrown for bytes that are not a valid encoding of what they claim to be (p2p input, a corrupt DB). */
export class CodecError extends Error {
  override name = 'CodecError'
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

export function bytesToBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(bytesToHex(bytes))
}

export function hexBytes(hex: Hex): Uint8Array {
  return hexToBytes(hex)
}
