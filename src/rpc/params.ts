/**
 * Parameter parsing and result encoding for Ethereum JSON-RPC.
 *
 * Parsers take the raw JSON value plus its positional index and either return
 * a typed value or throw an `RpcError` -32602 whose message names the argument
 * and what was wrong, in geth's style (`invalid argument 0: hex string without
 * 0x prefix`). They are deliberately strict where geth is strict (leading zeros
 * in quantities, odd-length data) because clients that work against geth must
 * not silently get different semantics here.
 */
import type { Address, Hash, Hex } from 'viem'
import { type RpcError, invalidParams } from './errors.ts'

/** Where a value sits inside the params: the argument index and, for fields of an object argument, the field name. */
export interface ParamLocation {
  /** Field inside an object argument, e.g. `gas` in an `eth_call` call object. */
  field?: string
}

export interface QuantityOptions extends ParamLocation {
  /** Reject values wider than this many bits. Default 256 (a uint256). */
  maxBits?: number
}

export type BlockTagName = 'latest' | 'pending' | 'safe' | 'finalized' | 'earliest'

/** A block reference as accepted by `eth_getBalance`, `eth_call`, ... (block tag, number, or EIP-1898 object). */
export type BlockSelector =
  | { kind: 'tag'; tag: BlockTagName }
  | { kind: 'number'; number: bigint }
  | { kind: 'hash'; hash: Hash; requireCanonical: boolean }

const BLOCK_TAGS: ReadonlySet<string> = new Set<BlockTagName>(['latest', 'pending', 'safe', 'finalized', 'earliest'])
const HEX_DIGITS = /^[0-9a-fA-F]*$/
const MAX_INT64 = (1n << 63n) - 1n

/** Builds the -32602 error every parser throws: `invalid argument <i>: [<field>: ]<reason>`. */
export function invalidArgument(index: number, reason: string, location: ParamLocation = {}): RpcError {
  const where = location.field === undefined ? '' : `${location.field}: `
  return invalidParams(`invalid argument ${index}: ${where}${reason}`)
}

/** JSON-ish type name for error messages (never echoes the value itself: it may be huge or hostile). */
function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  return typeof value
}

/**
 * Checks the `0x` prefix and returns the digits after it.
 * Like geth we accept `0X` too; digits may be upper or lower case.
 */
function stripHexPrefix(value: unknown, index: number, what: string, location: ParamLocation): string {
  if (typeof value !== 'string') {
    throw invalidArgument(index, `expected ${what} as a 0x-prefixed hex string, got ${describe(value)}`, location)
  }
  if (value.length < 2 || value[0] !== '0' || (value[1] !== 'x' && value[1] !== 'X')) {
    throw invalidArgument(index, 'hex string without 0x prefix', location)
  }
  return value.slice(2)
}

/**
 * Hex quantity (`0x0`, `0x1a`) → bigint. Rejects `0x`, leading zeros (`0x01`)
 * and values wider than `maxBits`, exactly like geth's `hexutil.Big`.
 */
export function parseQuantity(value: unknown, index: number, options: QuantityOptions = {}): bigint {
  const maxBits = options.maxBits ?? 256
  const digits = stripHexPrefix(value, index, 'quantity', options)
  if (digits.length === 0) throw invalidArgument(index, 'empty hex string', options)
  if (digits.length > 1 && digits[0] === '0') throw invalidArgument(index, 'hex number with leading zero digits', options)
  // Length check before BigInt(): bounds the work for hostile megabyte-long inputs.
  if (digits.length > Math.ceil(maxBits / 4)) throw invalidArgument(index, `hex number > ${maxBits} bits`, options)
  if (!HEX_DIGITS.test(digits)) throw invalidArgument(index, 'invalid hex string', options)
  const result = BigInt(`0x${digits}`)
  if (result >> BigInt(maxBits) !== 0n) throw invalidArgument(index, `hex number > ${maxBits} bits`, options)
  return result
}

/** Fixed-size hex data; returns it lower-cased so map keys and comparisons are canonical. */
function parseFixedHex(value: unknown, index: number, bytes: number, what: string, location: ParamLocation): Hex {
  const digits = stripHexPrefix(value, index, what, location)
  if (digits.length !== bytes * 2) {
    throw invalidArgument(index, `hex string has length ${digits.length}, want ${bytes * 2} for ${what}`, location)
  }
  if (!HEX_DIGITS.test(digits)) throw invalidArgument(index, 'invalid hex string', location)
  return `0x${digits.toLowerCase()}`
}

/**
 * 20-byte address → lower-case `Address`. Mixed-case input is accepted without
 * checksum validation, as geth does (EIP-55 is a UI concern).
 */
export function parseAddress(value: unknown, index: number, location: ParamLocation = {}): Address {
  return parseFixedHex(value, index, 20, 'address', location)
}

/** 32-byte hash (block hash, tx hash, storage slot) → lower-case `Hash`. */
export function parseHash(value: unknown, index: number, location: ParamLocation = {}): Hash {
  return parseFixedHex(value, index, 32, 'hash', location)
}

/** A storage key as given: the 32-byte key it names, and how many bytes the input spelled out. */
export interface StorageKey {
  key: Hash
  /** Bytes in the input (`0x1` → 1): eth_getProof echoes a 32-byte key as data, a shorter one as a quantity (geth). */
  inputLength: number
}

/**
 * A storage key (or any 32-byte word clients spell loosely) as geth's `decodeStorageKey` takes it:
 * data, not a quantity — up to 32 bytes, leading zeros welcome, left-padded; odd length and a missing
 * `0x` are accepted for compatibility (`0x0`, `0x01` and `0x0000…0001` all name slot 0 or 1).
 */
export function parseStorageKey(value: unknown, index: number, location: ParamLocation = {}): StorageKey {
  if (typeof value !== 'string')
    throw invalidArgument(index, `expected a storage key as a hex string, got ${describe(value)}`, location)
  let digits = value.startsWith('0x') || value.startsWith('0X') ? value.slice(2) : value
  if (digits.length % 2 !== 0) digits = `0${digits}`
  if (digits.length > 64) throw invalidArgument(index, 'storage key too long (want at most 32 bytes)', location)
  if (!HEX_DIGITS.test(digits)) throw invalidArgument(index, 'invalid hex in storage key', location)
  return { key: `0x${digits.toLowerCase().padStart(64, '0')}`, inputLength: digits.length / 2 }
}

/**
 * A count as geth's `math.HexOrDecimal64` takes it (eth_feeHistory's block count): a JSON number, or
 * a string in decimal or in hex with `0x` (leading zeros allowed), at most 64 bits.
 */
export function parseHexOrDecimal64(value: unknown, index: number): bigint {
  const max = (1n << 64n) - 1n
  let parsed: bigint | undefined
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) parsed = BigInt(value)
  else if (typeof value === 'string' && value.length <= 66) {
    if (/^0[xX][0-9a-fA-F]+$/.test(value)) parsed = BigInt(`0x${value.slice(2)}`)
    else if (/^[0-9]+$/.test(value)) parsed = BigInt(value)
  }
  if (parsed === undefined) throw invalidArgument(index, 'expected a hex or decimal number')
  if (parsed > max) throw invalidArgument(index, 'number > 64 bits')
  return parsed
}

/** Arbitrary-length hex data (`0x` allowed = empty) → a fresh `Uint8Array`. */
export function parseBytes(value: unknown, index: number, location: ParamLocation = {}): Uint8Array {
  const digits = stripHexPrefix(value, index, 'data', location)
  if (digits.length % 2 !== 0) throw invalidArgument(index, 'hex string of odd length', location)
  // Decoded natively straight into a plain Uint8Array (never a view into Node's shared Buffer
  // pool). Buffer's hex decoder stops at the first bad digit, so a short count means bad input.
  const bytes = new Uint8Array(digits.length / 2)
  if (Buffer.from(bytes.buffer).write(digits, 'hex') !== bytes.length)
    throw invalidArgument(index, 'invalid hex string', location)
  return bytes
}

export function parseBoolean(value: unknown, index: number, location: ParamLocation = {}): boolean {
  if (typeof value !== 'boolean') throw invalidArgument(index, `expected boolean, got ${describe(value)}`, location)
  return value
}

/** Block number as geth's `rpc.BlockNumber`: a quantity that fits in int64. */
function parseBlockNumber(value: unknown, index: number, location: ParamLocation): bigint {
  const number = parseQuantity(value, index, { ...location, maxBits: 64 })
  if (number > MAX_INT64) throw invalidArgument(index, 'block number larger than int64', location)
  return number
}

/** A tag or a block number (the string forms geth's `BlockNumber` accepts). */
function parseTagOrNumber(value: unknown, index: number, location: ParamLocation): BlockSelector {
  if (typeof value === 'string' && BLOCK_TAGS.has(value)) return { kind: 'tag', tag: value as BlockTagName }
  if (typeof value === 'string' && !value.startsWith('0x') && !value.startsWith('0X')) {
    throw invalidArgument(
      index,
      'invalid block tag: expected a hex block number, a block hash or one of latest, pending, safe, finalized, earliest',
      location,
    )
  }
  return { kind: 'number', number: parseBlockNumber(value, index, location) }
}

/**
 * A block reference:
 * - a tag: `latest` | `pending` | `safe` | `finalized` | `earliest`
 * - a hex block number: `0x1b4`
 * - a bare 32-byte block hash (geth accepts this too)
 * - EIP-1898: `{ blockNumber }` or `{ blockHash, requireCanonical? }`
 *
 * `fallback` is returned when the argument is absent (`undefined`), which is
 * how `expectParams` reports an omitted optional parameter.
 */
export function parseBlockTag(value: unknown, index: number, fallback?: BlockSelector): BlockSelector {
  if (value === undefined && fallback !== undefined) return fallback
  if (typeof value === 'string') {
    // 0x + 64 hex digits can only be a hash: the longest valid block number is 0x + 16.
    if (value.length === 66) return { kind: 'hash', hash: parseHash(value, index), requireCanonical: false }
    return parseTagOrNumber(value, index, {})
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>
    const hasNumber = obj['blockNumber'] !== undefined && obj['blockNumber'] !== null
    const hasHash = obj['blockHash'] !== undefined && obj['blockHash'] !== null
    if (hasNumber && hasHash) {
      throw invalidArgument(index, 'cannot specify both blockHash and blockNumber, choose one or the other')
    }
    if (hasHash) {
      const hash = parseHash(obj['blockHash'], index, { field: 'blockHash' })
      const rc = obj['requireCanonical']
      const requireCanonical = rc === undefined || rc === null ? false : parseBoolean(rc, index, { field: 'requireCanonical' })
      return { kind: 'hash', hash, requireCanonical }
    }
    if (hasNumber) return parseTagOrNumber(obj['blockNumber'], index, { field: 'blockNumber' })
    throw invalidArgument(index, 'expected an object with blockNumber or blockHash')
  }
  throw invalidArgument(index, `expected a block number, tag or hash, got ${describe(value)}`)
}

/**
 * Positional parameter count check. Returns an array of exactly `max`
 * entries: omitted optional parameters — and explicit `null`s in optional
 * positions, which clients commonly send — come back as `undefined`.
 * Geth's messages: `missing value for required argument N`, `too many arguments, want at most N`.
 */
export function expectParams(params: readonly unknown[], min: number, max: number = min): unknown[] {
  if (params.length > max) throw invalidParams(`too many arguments, want at most ${max}`)
  const out: unknown[] = new Array<unknown>(max)
  for (let i = 0; i < max; i++) {
    const value = i < params.length ? params[i] : undefined
    if (i < min && (value === undefined || value === null)) {
      throw invalidParams(`missing value for required argument ${i}`)
    }
    out[i] = value === null && i >= min ? undefined : value
  }
  return out
}

// --- encoders ---------------------------------------------------------------

/**
 * bigint/number → hex quantity (`0x0`, `0x1a`; never leading zeros).
 * Throws `RangeError` for negative or non-integer input: that is a bug in the
 * caller, and the server reports it as an internal error.
 */
export function toQuantity(value: bigint | number): Hex {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw new RangeError(`toQuantity: ${value} is not a safe integer`)
  }
  if (value < 0) throw new RangeError(`toQuantity: negative value ${value}`)
  return `0x${value.toString(16)}`
}

/** Bytes → `0x`-prefixed lower-case hex data (`0x` for empty). */
export function toData(bytes: Uint8Array): Hex {
  return `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`
}
