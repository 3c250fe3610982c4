/**
 * The Bloom filter prune-state marks live trie nodes in (src/util/bloom-filter.ts): never a false
 * "no" (that would delete a live node), a false-positive rate near the one it was sized for, and
 * sizes that follow the formula.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { keccak256 } from '../../src/crypto/native.ts'
import { BloomFilter } from '../../src/util/bloom-filter.ts'

function hashes(from: number, count: number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => keccak256(new TextEncoder().encode(`node ${from + i}`)))
}

describe('BloomFilter', () => {
  test('holds every key added, and answers "maybe" for others at about the rate it was sized for', () => {
    const added = hashes(0, 20_000)
    const filter = BloomFilter.forItems(added.length, 0.01)
    for (const key of added) filter.add(key)
    for (const key of added) assert.ok(filter.has(key))
    const others = hashes(1_000_000, 50_000)
    const falsePositives = others.filter((key) => filter.has(key)).length
    // Expected 500; a factor of two either way would mean the sizing or the positions are wrong.
    assert.ok(falsePositives > 250 && falsePositives < 1000, `${falsePositives} false positives in 50,000 (expected ~500)`)
  })

  test('sized by m = -n ln p / ln² 2 and k = m/n ln 2', () => {
    const filter = BloomFilter.forItems(1_000_000, 0.001)
    assert.equal(filter.hashCount, 10)
    assert.ok(Math.abs(filter.bitCount / 1_000_000 - 14.38) < 0.01, `${filter.bitCount} bits for a million keys`)
    assert.equal(filter.byteLength, Math.ceil(filter.bitCount / 8))
    // An empty store still gets a usable (tiny) filter.
    assert.ok(BloomFilter.forItems(0, 0.001).bitCount >= 8)
  })

  test('an empty filter holds nothing; bad sizes and short keys are refused', () => {
    const filter = new BloomFilter(1024, 4)
    for (const key of hashes(0, 100)) assert.equal(filter.has(key), false)
    assert.throws(() => new BloomFilter(4, 1), RangeError)
    assert.throws(() => new BloomFilter(1024, 0), RangeError)
    assert.throws(() => BloomFilter.forItems(10, 1), RangeError)
    assert.throws(() => filter.add(new Uint8Array(8)), RangeError)
  })
})
