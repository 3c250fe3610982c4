import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { bytesToHex } from '@ethereumjs/util'
import { keccak256, keccak256ViaStream, privateKeyToAddress, signHash, ecdsaRecoverPublicKey, publicKeyToAddress } from '../../src/execution/crypto.ts'

test('keccak256 (native sponge) equals the keccak package and the known vectors', () => {
  assert.equal(bytesToHex(keccak256(new Uint8Array(0))), '0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470')
  assert.equal(bytesToHex(keccak256(new TextEncoder().encode('abc'))), '0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45')
  for (let length = 0; length < 700; length += 7) {
    const data = randomBytes(length)
    assert.deepEqual(keccak256(data), keccak256ViaStream(data), `length ${length}`)
  }
  // Digests must not alias each other (the sponge is reused between calls).
  const a = keccak256(Uint8Array.of(1))
  const b = keccak256(Uint8Array.of(2))
  assert.notDeepEqual(a, b)
  assert.deepEqual(a, keccak256ViaStream(Uint8Array.of(1)))
})

test('signHash and ecdsaRecoverPublicKey round-trip to the signer address', () => {
  const key = randomBytes(32)
  const hash = keccak256(Uint8Array.of(9, 9, 9))
  const { signature, recoveryId } = signHash(hash, key)
  assert.deepEqual(publicKeyToAddress(ecdsaRecoverPublicKey(signature, recoveryId, hash)), privateKeyToAddress(key))
})
