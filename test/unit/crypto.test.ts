import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { bytesToHex } from '@ethereumjs/util'
import {
  keccak256,
  keccak256ViaStream,
  privateKeyToAddress,
  signHash,
  ecdsaRecoverPublicKey,
  publicKeyToAddress,
} from '../../src/crypto/native.ts'
import { SHORT_INPUT_MAX_BYTES, ShortKeccakCache } from '../../src/crypto/short-keccak-cache.ts'

test('keccak256 (WebAssembly) equals the keccak package and the known vectors', () => {
  assert.equal(bytesToHex(keccak256(new Uint8Array(0))), '0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470')
  assert.equal(
    bytesToHex(keccak256(new TextEncoder().encode('abc'))),
    '0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45',
  )
  for (let length = 0; length < 700; length += 7) {
    const data = randomBytes(length)
    assert.deepEqual(keccak256(data), keccak256ViaStream(data), `length ${length}`)
  }
  // A view into a larger buffer hashes its own bytes only; a 128 KiB input (contract code) too.
  const backing = randomBytes(300)
  const view = new Uint8Array(backing.buffer, backing.byteOffset + 17, 200)
  assert.deepEqual(keccak256(view), keccak256ViaStream(view))
  const code = randomBytes(128 * 1024)
  assert.deepEqual(keccak256(code), keccak256ViaStream(code))
  // Digests must not alias each other (the hasher is reused between calls).
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

test('the short-input keccak cache returns the hash of every input, in a fresh array at offset 0, within its bound', () => {
  let hashed = 0
  const cache = new ShortKeccakCache((data) => {
    hashed++
    return keccak256(data)
  }, 8)
  // Views at odd offsets into a shared buffer, of lengths around an address, a word and the cut-off.
  const pool = randomBytes(4096)
  const lengths = [0, 1, 19, 20, 31, 32, 33, SHORT_INPUT_MAX_BYTES - 1, SHORT_INPUT_MAX_BYTES, SHORT_INPUT_MAX_BYTES + 1, 100]
  const inputs = Array.from(
    { length: 40 },
    (_, i) => new Uint8Array(pool.buffer, pool.byteOffset + i * 37, lengths[i % lengths.length]!),
  )
  for (let round = 0; round < 3; round++) {
    for (const data of inputs) {
      const digest = cache.keccak256(data)
      assert.deepEqual(digest, keccak256ViaStream(data), `length ${data.length}`)
      // ethereumjs' bloom reads the digest through `new DataView(digest.buffer)`.
      assert.equal(digest.byteOffset, 0)
      assert.equal(digest.buffer.byteLength, 32)
      digest.fill(0) // a caller scribbling on its copy must not corrupt the next answer
    }
  }
  // 40 inputs through two generations of 8: most were evicted between passes and hashed again.
  assert.ok(hashed > 2 * inputs.length, `${hashed} hashes: entries beyond two generations must age out`)
  const repeated = new Uint8Array(32).fill(7)
  const long = new Uint8Array(SHORT_INPUT_MAX_BYTES + 1)
  const before = hashed
  for (let i = 0; i < 5; i++) {
    cache.keccak256(repeated)
    cache.keccak256(long)
  }
  assert.equal(hashed, before + 1 + 5, 'a repeated short input is hashed once, a long one every time')
})
