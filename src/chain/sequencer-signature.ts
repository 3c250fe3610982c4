import { bytesToHex, concatBytes, setLengthLeft } from '@ethereumjs/util'
import { ecdsaRecoverPublicKey, keccak256, publicKeyToAddress, signHash } from '../crypto/native.ts'
import { CodecError, unpaddedBytes } from '../primitives/rlp-fields.ts'
import type { Hex } from '../primitives/state-diff.ts'

/**
 * Signatures by the sequencer key over `keccak256(domain ‖ chainId ‖ hash)`: the domain keeps a
 * signature for one kind of message (a mini-block, a block announcement) from being valid as
 * another, and the chain id keeps it from being valid on another chain.
 */
export function signingHash(domain: Uint8Array, chainId: bigint, hash: Uint8Array): Uint8Array {
  return keccak256(concatBytes(domain, setLengthLeft(unpaddedBytes(chainId), 32), hash))
}

/** 65 bytes: r ‖ s ‖ recoveryId. */
export function signAsSequencer(domain: Uint8Array, chainId: bigint, hash: Uint8Array, key: Uint8Array): Uint8Array {
  const { signature, recoveryId } = signHash(signingHash(domain, chainId, hash), key)
  return concatBytes(signature, Uint8Array.of(recoveryId))
}

/** The address that signed; throws `CodecError` (naming `what`) for a malformed signature. */
export function recoverSequencer(
  domain: Uint8Array,
  chainId: bigint,
  hash: Uint8Array,
  signature: Uint8Array,
  what: string,
): Hex {
  if (signature.length !== 65) throw new CodecError(`${what} signature must be 65 bytes`)
  const recoveryId = signature[64]!
  if (recoveryId > 1) throw new CodecError(`${what} signature recovery id must be 0 or 1`)
  try {
    const publicKey = ecdsaRecoverPublicKey(signature.subarray(0, 64), recoveryId, signingHash(domain, chainId, hash))
    return bytesToHex(publicKeyToAddress(publicKey)) as Hex
  } catch {
    throw new CodecError(`${what} signature does not recover to a public key`)
  }
}
