import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SortedLeaves } from '../../src/trie/sorted-leaves.ts'
import { rng } from '../helpers/rng.ts'

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

test('leaves come back in ascending key order with their values, across chunks and shared prefixes', () => {
  const r = rng(7)
  const leaves = new SortedLeaves()
  const expected = new Map<string, string>()
  let previous = r.bytes(32)
  for (let i = 0; i < 40_000; i++) {
    const key = r.bytes(32)
    // Every fourth key shares its first 8 bytes with the one before: the 6-byte prefix ties, the full compare decides.
    if (i % 4 === 3) key.set(previous.subarray(0, 8), 0)
    // Some keys in the first and the last of the 65,536 buckets (by their first two bytes).
    if (i % 1000 === 1) key.fill(i % 2000 === 1 ? 0x00 : 0xff, 0, 2)
    previous = key
    if (expected.has(hex(key))) continue
    // Values from empty to 5 KB: the chunks (64 KiB first, doubling) fill and roll over many times.
    const value = r.bytes(i % 97 === 0 ? 5000 : r.int(120))
    leaves.add(key, value)
    expected.set(hex(key), hex(value))
  }
  const want = [...expected.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  const got = [...leaves.sorted()].map(([k, v]) => [hex(k), hex(v)])
  assert.equal(leaves.size, want.length)
  assert.deepEqual(got, want)
})

test('a key added twice and a key that is not 32 bytes are refused', () => {
  const leaves = new SortedLeaves()
  leaves.add(new Uint8Array(32).fill(1), Uint8Array.of(1))
  leaves.add(new Uint8Array(32).fill(1), Uint8Array.of(2))
  assert.throws(() => [...leaves.sorted()], /added twice: 0101/)
  assert.throws(() => leaves.add(new Uint8Array(20), Uint8Array.of(1)), /32 bytes/)
})
