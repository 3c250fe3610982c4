/**
 * Native (and WebAssembly) cryptography for the hot paths.
 *
 * ethereumjs defaults to noble's pure-JS secp256k1 and keccak: ecrecover costs ~1,060 µs there
 * against ~54 µs through the native `secp256k1` addon, so every VM and every tx decode in this
 * node goes through these functions (see `customCrypto` in `vm-factory.ts`).
 */
import createKeccakHash from 'keccak'
import { createKeccak } from 'hash-wasm'
import secp256k1 from 'secp256k1'
import { createHash } from 'node:crypto'
import type { CustomCrypto } from '@ethereumjs/common'
import { lazyKzg } from './kzg.ts'
import { ShortKeccakCache } from './short-keccak-cache.ts'

/**
 * keccak256 in WebAssembly (hash-wasm), one hasher reset per hash. Interleaved with the `keccak`
 * addon's native sponge in one process (four N-API calls and a Buffer per hash), it took 1.0–1.5 µs
 * for an address against 1.9–2.9 µs, and 2.2–3.1 µs for a 532-byte branch node against 3.7–5.2 µs.
 * The merkleizer, the trie builders, the EVM's KECCAK256 and every transaction hash go through here.
 * Instantiated once per thread, at import.
 */
const hasher = await createKeccak(256)

export function keccak256(data: Uint8Array): Uint8Array {
  hasher.init()
  hasher.update(data)
  return hasher.digest('binary')
}

/** The reference path, kept for the test that pins the fast path to it. */
export function keccak256ViaStream(data: Uint8Array): Uint8Array {
  return new Uint8Array(
    createKeccakHash('keccak256')
      .update(Buffer.from(data.buffer, data.byteOffset, data.byteLength))
      .digest(),
  )
}

export function sha256(data: Uint8Array): Uint8Array {
  const digest = createHash('sha256').update(data).digest()
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength)
}

/** Recovers the 64-byte uncompressed public key (without the 0x04 prefix) that signed `msgHash`. */
export function ecdsaRecoverPublicKey(sig64: Uint8Array, recoveryId: number, msgHash: Uint8Array): Uint8Array {
  return secp256k1.ecdsaRecover(sig64, recoveryId, msgHash, false).subarray(1)
}

/** 65-byte uncompressed public key, the shape ethereumjs' `ecdsaRecover` hook returns. */
function ecdsaRecoverUncompressed(sig: Uint8Array, recId: number, hash: Uint8Array): Uint8Array {
  return secp256k1.ecdsaRecover(sig, recId, hash, false)
}

function ecrecover(msgHash: Uint8Array, v: bigint, r: Uint8Array, s: Uint8Array, chainId?: bigint): Uint8Array {
  // Typed transactions carry a bare y-parity (0/1); legacy ones 27/28 or the EIP-155 form.
  const recovery = v === 0n || v === 1n ? v : chainId === undefined ? v - 27n : v - (2n * chainId + 35n)
  if (recovery !== 0n && recovery !== 1n) throw new Error('Invalid signature v value')
  const sig = new Uint8Array(64)
  sig.set(r.length > 32 ? r.subarray(r.length - 32) : r, 32 - Math.min(32, r.length))
  sig.set(s.length > 32 ? s.subarray(s.length - 32) : s, 64 - Math.min(32, s.length))
  return secp256k1.ecdsaRecover(sig, Number(recovery), msgHash, false).subarray(1)
}

export interface RecoverableSignature {
  /** r ‖ s, 64 bytes */
  signature: Uint8Array
  recoveryId: 0 | 1
}

export function signHash(msgHash: Uint8Array, privateKey: Uint8Array): RecoverableSignature {
  const { signature, recid } = secp256k1.ecdsaSign(msgHash, privateKey)
  return { signature, recoveryId: recid as 0 | 1 }
}

export function publicKeyToAddress(publicKey64: Uint8Array): Uint8Array {
  return keccak256(publicKey64).subarray(12)
}

export function privateKeyToAddress(privateKey: Uint8Array): Uint8Array {
  return publicKeyToAddress(secp256k1.publicKeyCreate(privateKey, false).subarray(1))
}

/** One per thread (module state): the EVM's short hashes repeat (see short-keccak-cache.ts). */
const shortKeccak = new ShortKeccakCache(keccak256)

/**
 * The hooks ethereumjs accepts through `Common({ customCrypto })`, for every Common this node builds.
 * `kzg` is the exception to "native": pure JS, built on first use (see kzg.ts).
 */
export const nativeCrypto: CustomCrypto = {
  keccak256: (data) => shortKeccak.keccak256(data),
  sha256,
  ecrecover,
  ecdsaRecover: ecdsaRecoverUncompressed,
  kzg: lazyKzg,
}
