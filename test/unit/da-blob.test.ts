import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { BLOB_SIZE, decodeBlob, encodeBlob, MAX_BLOB_DATA_SIZE } from '../../src/da/blob.ts'
import { DaCodecError } from '../../src/da/errors.ts'
import { rng } from '../helpers/rng.ts'

const SEED = 0xb10b

/** A blob whose first bytes are `prefix` (the rest zero), as op-service's test vectors are written. */
const blobOf = (prefix: number[]): Uint8Array => {
  const blob = new Uint8Array(BLOB_SIZE)
  blob.set(prefix)
  return blob
}
const decoded = (blob: Uint8Array): Uint8Array | string => {
  const r = decodeBlob(blob)
  return r.ok ? r.value : r.error.code
}

test('blob boundaries: 0 bytes, 130,044 bytes, and 130,045 refused', () => {
  assert.equal(MAX_BLOB_DATA_SIZE, 130_044)
  assert.deepEqual(decoded(encodeBlob(new Uint8Array(0))), new Uint8Array(0))
  const max = rng(1).bytes(MAX_BLOB_DATA_SIZE)
  const blob = encodeBlob(max)
  assert.equal(blob.length, 131_072)
  assert.deepEqual(decoded(blob), max)
  assert.throws(
    () => encodeBlob(new Uint8Array(MAX_BLOB_DATA_SIZE + 1)),
    (e) => e instanceof DaCodecError && e.code === 'blob-input-too-large',
  )
})

// Vectors of ethereum-optimism/optimism op-service/eth/blob_test.go (TestEncodeTestVectors, TestDecodeTestVectors).
test('blob encoding matches op-service test vectors', () => {
  assert.deepEqual(encodeBlob(new Uint8Array(0)), blobOf([]))
  assert.deepEqual(encodeBlob(new Uint8Array(MAX_BLOB_DATA_SIZE)), blobOf([0, 0, 0x01, 0xfb, 0xfc]))
  assert.deepEqual(encodeBlob(new Uint8Array(27).fill(0xff)), blobOf([0, 0, 0, 0, 0x1b, ...new Array(27).fill(0xff)]))
  assert.deepEqual(encodeBlob(new Uint8Array(28).fill(0xff)), blobOf([0x3f, 0, 0, 0, 0x1c, ...new Array(27).fill(0xff), 0x30]))

  assert.deepEqual(decoded(blobOf([])), new Uint8Array(0))
  assert.deepEqual(decoded(blobOf([0, 0, 0, 0, 1])), new Uint8Array(1))
  assert.deepEqual(decoded(blobOf([0, 0, 0x01, 0xfb, 0xfc])), new Uint8Array(MAX_BLOB_DATA_SIZE))
  assert.equal(decoded(blobOf([0, 0, 0x01, 0xfb, 0xfd])), 'blob-bad-length')
  assert.deepEqual(
    decoded(blobOf([0, 0, 0, 0, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff])),
    Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff),
  )
  assert.deepEqual(
    decoded(blobOf([0x3f, 0, 0, 0, 0x20, ...new Array(27).fill(0xff), 0x30, 0xff, 0xff, 0xff, 0xff])),
    new Uint8Array(32).fill(0xff),
  )
})

test('blob decoding refuses a bad version, a high bit, and any non-zero byte after the data', () => {
  assert.equal(decoded(blobOf([0, 1])), 'blob-bad-version')
  assert.equal(decoded(new Uint8Array(BLOB_SIZE - 1)), 'blob-bad-size')
  // op-service TestExtraneousData: bits in the first element's top byte beyond a 0-length stream
  assert.equal(decoded(blobOf([0x30])), 'blob-extraneous-data')
  assert.equal(decoded(blobOf([0x01])), 'blob-extraneous-data')
  const data = rng(2).bytes(1000)
  const blob = encodeBlob(data)
  for (let fe = 0; fe < 4096; fe += 97) {
    const copy = blob.slice()
    copy[fe * 32]! |= 0x80
    assert.equal(decoded(copy), 'blob-bad-field-element', `field element ${fe}`)
  }
  for (let i = 1100; i < BLOB_SIZE; i += 331) {
    if (i % 32 === 0) continue // top bytes are checked above
    const copy = blob.slice()
    copy[i] = 1
    assert.equal(decoded(copy), 'blob-extraneous-data', `byte ${i}`)
  }
})

test('blobs round-trip random data of every length class; random blobs decode to a typed result', (t) => {
  t.diagnostic(`fast-check seed ${SEED}`)
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 5000 }), (data) => {
      assert.deepEqual(decoded(encodeBlob(data)), data)
    }),
    { seed: SEED, numRuns: 200 },
  )
  fc.assert(
    fc.property(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat({ max: BLOB_SIZE - 1 }), (seed, value, at) => {
      const blob = rng(seed)
        .bytes(BLOB_SIZE)
        .map((b, i) => (i % 32 === 0 ? b & 0x3f : b))
      blob[at] = value
      const r = decodeBlob(blob)
      if (!r.ok) assert.ok(r.error instanceof DaCodecError)
    }),
    { seed: SEED, numRuns: 30 },
  )
})
