/**
 * EIP-1559 transaction signing for the load generator.
 *
 * Four ways were measured (see `sign-bench.ts`, results in bench/results/signing.json); the
 * generator uses `signNative`: RLP by @ethereumjs/rlp, keccak and ECDSA through the native addons
 * (`keccak`, `secp256k1`) that `src/crypto/native.ts` wraps. Its output is checked byte-for-byte
 * against @ethereumjs/tx (RFC 6979 signatures are deterministic).
 */
import { RLP } from '@ethereumjs/rlp'
import { bigIntToUnpaddedBytes } from '@ethereumjs/util'
import secp256k1 from 'secp256k1'
import { keccak256 } from '../../src/crypto/native.ts'

export interface TxFields {
  chainId: bigint
  nonce: number
  maxPriorityFeePerGas: bigint
  maxFeePerGas: bigint
  gasLimit: bigint
  to: Uint8Array
  value: bigint
  data: Uint8Array
}

const EMPTY = new Uint8Array(0)

function unpadded(n: bigint | number): Uint8Array {
  return n === 0n || n === 0 ? EMPTY : bigIntToUnpaddedBytes(BigInt(n))
}

function stripZeros(b: Uint8Array): Uint8Array {
  let i = 0
  while (i < b.length && b[i] === 0) i++
  return b.subarray(i)
}

/** Signed type-2 transaction bytes. */
export function signNative(tx: TxFields, privateKey: Uint8Array): Uint8Array {
  const fields: Array<Uint8Array | Uint8Array[]> = [
    unpadded(tx.chainId),
    unpadded(tx.nonce),
    unpadded(tx.maxPriorityFeePerGas),
    unpadded(tx.maxFeePerGas),
    unpadded(tx.gasLimit),
    tx.to,
    unpadded(tx.value),
    tx.data,
    [],
  ]
  const unsigned = RLP.encode(fields)
  const toHash = new Uint8Array(unsigned.length + 1)
  toHash[0] = 2
  toHash.set(unsigned, 1)
  const { signature, recid } = secp256k1.ecdsaSign(keccak256(toHash), privateKey)
  fields.push(unpadded(recid), stripZeros(signature.subarray(0, 32)), stripZeros(signature.subarray(32, 64)))
  const signed = RLP.encode(fields)
  const out = new Uint8Array(signed.length + 1)
  out[0] = 2
  out.set(signed, 1)
  return out
}

export function toHexString(bytes: Uint8Array): string {
  return `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`
}

export function txHash(raw: Uint8Array): string {
  return toHexString(keccak256(raw))
}
