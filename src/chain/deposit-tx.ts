/**
 * OP Stack deposit transactions (EIP-2718 type 0x7E): the codec, the hash and the `sourceHash` rules.
 *
 * Format (OP specs, `specs/protocol/deposits.md`): `0x7E ‖ rlp([sourceHash, from, to, mint, value, gas,
 * isSystemTx, data])` — no nonce, no signature; `to` is the empty string for a contract creation. The
 * decoder is as strict as op-geth's: exactly 8 fields, canonical integers, fixed-size hashes and
 * addresses, a boolean that is 0x80 or 0x01, nothing after the list. The transaction hash is the
 * keccak of the whole encoding, what viem's `getL2TransactionHash` computes.
 */
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { keccak256 } from '../crypto/native.ts'
import { asBytes, asList, bytesToBigInt, CodecError, decodeRlp, encodeRlp, type RlpValue } from '../primitives/rlp-fields.ts'
import type { Hex } from '../primitives/state-diff.ts'
import { NodeError } from '../primitives/errors.ts'

export const DEPOSIT_TX_TYPE = 0x7e

/** A deposit transaction's fields, viem-style: hashes, addresses and data as 0x strings. */
export interface DepositTransaction {
  /** 32 bytes: identifies the deposit's origin (see the `*SourceHash` functions). */
  readonly sourceHash: Hex
  /** 20 bytes: the sender, already aliased by L1 when it is a contract. */
  readonly from: Hex
  /** 20 bytes, or `null` for a contract creation. */
  readonly to: Hex | null
  /** Wei minted to `from` on L2 before execution. */
  readonly mint: bigint
  readonly value: bigint
  /** The L2 gas limit (uint64). */
  readonly gas: bigint
  /** Always `false` since Regolith; kept for the format. */
  readonly isSystemTx: boolean
  readonly data: Hex
}

export type DepositTxErrorCode =
  | 'not-a-deposit'
  | 'malformed-rlp'
  | 'bad-field'
  | 'bad-log'
  | 'unsupported-version'
  | 'bad-opaque-data'
  | 'bad-l1-info'

/** Bytes that are not a valid deposit (or deposit log, or L1-info calldata), or fields that cannot be encoded. */
export class DepositTxError extends NodeError<DepositTxErrorCode, undefined> {
  override name = 'DepositTxError'
}

const UINT64_MAX = 2n ** 64n - 1n
const UINT256_MAX = 2n ** 256n - 1n

/** `0x7E ‖ rlp(fields)`. */
export function encodeDepositTx(tx: DepositTransaction): Uint8Array {
  const fields = [
    fixedBytes(tx.sourceHash, 32, 'sourceHash'),
    fixedBytes(tx.from, 20, 'from'),
    tx.to === null ? new Uint8Array(0) : fixedBytes(tx.to, 20, 'to'),
    boundedInteger(tx.mint, UINT256_MAX, 'mint'),
    boundedInteger(tx.value, UINT256_MAX, 'value'),
    boundedInteger(tx.gas, UINT64_MAX, 'gas'),
    tx.isSystemTx ? 1 : 0,
    anyBytes(tx.data, 'data'),
  ]
  const body = encodeRlp(fields)
  const out = new Uint8Array(1 + body.length)
  out[0] = DEPOSIT_TX_TYPE
  out.set(body, 1)
  return out
}

/** Parses `0x7E ‖ rlp(fields)` strictly. @throws DepositTxError */
export function decodeDepositTx(encoded: Uint8Array): DepositTransaction {
  if (encoded[0] !== DEPOSIT_TX_TYPE)
    throw new DepositTxError('not-a-deposit', `expected type 0x7e, got ${describeType(encoded)}`)
  let fields: RlpValue[]
  try {
    fields = asList(decodeRlp(encoded.subarray(1), 'deposit tx'), 8, 'deposit tx')
  } catch (error) {
    throw new DepositTxError('malformed-rlp', (error as CodecError).message)
  }
  const field = <T>(read: () => T): T => {
    try {
      return read()
    } catch (error) {
      if (error instanceof CodecError) throw new DepositTxError('bad-field', error.message)
      throw error
    }
  }
  const to = field(() => asBytes(fields[2], 'deposit to'))
  if (to.length !== 0 && to.length !== 20)
    throw new DepositTxError('bad-field', `deposit to: expected 0 or 20 bytes, got ${to.length}`)
  const isSystemTx = field(() => asBytes(fields[6], 'deposit isSystemTx'))
  if (isSystemTx.length > 1 || (isSystemTx.length === 1 && isSystemTx[0] !== 1)) {
    throw new DepositTxError('bad-field', 'deposit isSystemTx: expected 0x80 or 0x01')
  }
  return {
    sourceHash: bytesToHex(field(() => asBytes(fields[0], 'deposit sourceHash', 32))),
    from: bytesToHex(field(() => asBytes(fields[1], 'deposit from', 20))),
    to: to.length === 0 ? null : bytesToHex(to),
    mint: canonicalInteger(
      field(() => asBytes(fields[3], 'deposit mint')),
      32,
      'mint',
    ),
    value: canonicalInteger(
      field(() => asBytes(fields[4], 'deposit value')),
      32,
      'value',
    ),
    gas: canonicalInteger(
      field(() => asBytes(fields[5], 'deposit gas')),
      8,
      'gas',
    ),
    isSystemTx: isSystemTx.length === 1,
    data: bytesToHex(field(() => asBytes(fields[7], 'deposit data'))),
  }
}

/** The transaction hash: keccak256 of the full typed encoding. */
export function depositTxHash(tx: DepositTransaction): Hex {
  return bytesToHex(keccak256(encodeDepositTx(tx)))
}

/** The `sourceHash` domains of `specs/protocol/deposits.md` (interop adds 3 and 4). */
export const SourceHashDomain = { userDeposit: 0, l1InfoDeposit: 1, upgradeDeposit: 2 } as const

/** User deposit: `keccak256(bytes32(0) ‖ keccak256(l1BlockHash ‖ bytes32(logIndex)))`. */
export function userDepositSourceHash(l1BlockHash: Hex, logIndex: number | bigint): Hex {
  return domainSourceHash(SourceHashDomain.userDeposit, keccak256(hashAndIndex(l1BlockHash, logIndex, 'logIndex')))
}

/** L1-attributes deposit: domain 1 over the epoch's L1 block hash and the L2 block's sequence number in the epoch. */
export function l1InfoDepositSourceHash(l1BlockHash: Hex, sequenceNumber: number | bigint): Hex {
  return domainSourceHash(SourceHashDomain.l1InfoDeposit, keccak256(hashAndIndex(l1BlockHash, sequenceNumber, 'sequenceNumber')))
}

/** Network-upgrade deposit: domain 2 over `keccak256(intent)` (the intent as UTF-8, e.g. "Ecotone: L1 Block Proxy Update"). */
export function upgradeDepositSourceHash(intent: string): Hex {
  return domainSourceHash(SourceHashDomain.upgradeDeposit, keccak256(new TextEncoder().encode(intent)))
}

function hashAndIndex(hash: Hex, index: number | bigint, what: string): Uint8Array {
  const input = new Uint8Array(64)
  input.set(fixedBytes(hash, 32, 'l1BlockHash'))
  input.set(uint256Word(BigInt(index), what), 32)
  return input
}

function domainSourceHash(domain: number, inner: Uint8Array): Hex {
  const input = new Uint8Array(64)
  input[31] = domain
  input.set(inner, 32)
  return bytesToHex(keccak256(input))
}

/** A big-endian 32-byte word of an integer in [0, 2^256). @throws DepositTxError */
export function uint256Word(value: bigint, what: string): Uint8Array {
  if (value < 0n || value > UINT256_MAX) throw new DepositTxError('bad-field', `${what}: ${value} is not a uint256`)
  const out = new Uint8Array(32)
  for (let i = 31, v = value; v > 0n; i--, v >>= 8n) out[i] = Number(v & 0xffn)
  return out
}

/** The bytes of a 0x string of exactly `size` bytes. @throws DepositTxError */
export function fixedBytes(hex: Hex, size: number, what: string): Uint8Array {
  const bytes = anyBytes(hex, what)
  if (bytes.length !== size) throw new DepositTxError('bad-field', `${what}: expected ${size} bytes, got ${bytes.length}`)
  return bytes
}

function anyBytes(hex: Hex, what: string): Uint8Array {
  try {
    return hexToBytes(hex)
  } catch {
    throw new DepositTxError('bad-field', `${what}: not a 0x hex string`)
  }
}

function boundedInteger(value: bigint, max: bigint, what: string): bigint {
  if (typeof value !== 'bigint' || value < 0n || value > max)
    throw new DepositTxError('bad-field', `${what}: ${value} out of range`)
  return value
}

/** An RLP integer as op-geth decodes it: no leading zero byte, at most `maxBytes` bytes. */
function canonicalInteger(bytes: Uint8Array, maxBytes: number, what: string): bigint {
  if (bytes.length > maxBytes) throw new DepositTxError('bad-field', `deposit ${what}: more than ${maxBytes} bytes`)
  if (bytes[0] === 0) throw new DepositTxError('bad-field', `deposit ${what}: non-canonical integer (leading zero)`)
  return bytesToBigInt(bytes)
}

function describeType(encoded: Uint8Array): string {
  return encoded.length === 0 ? 'nothing' : `0x${encoded[0]!.toString(16).padStart(2, '0')}`
}
