import assert from 'node:assert/strict'
import { test } from 'node:test'
import { RLP } from '@ethereumjs/rlp'
import { encodeRlp, type RlpValue } from '../../src/chain/rlp-fields.ts'
import { rng } from '../helpers/rng.ts'

/** Lengths around every boundary of RLP's header forms (1 byte, 0x80+n, 0xb7+len(len)). */
const LENGTHS = [0, 1, 2, 31, 32, 55, 56, 57, 255, 256, 1024, 65535, 65536, 70000]

test('encodeRlp equals RLP.encode at every header boundary', () => {
  for (const n of LENGTHS) {
    for (const fill of [0x00, 0x7f, 0x80, 0xff]) {
      const bytes = new Uint8Array(n).fill(fill)
      assert.deepEqual(encodeRlp(bytes), RLP.encode(bytes), `string of ${n} × 0x${fill.toString(16)}`)
      const list = Array.from({ length: Math.min(n, 4096) }, () => Uint8Array.of(fill))
      assert.deepEqual(encodeRlp(list), RLP.encode(list), `list of ${list.length} single bytes 0x${fill.toString(16)}`)
    }
  }
  const payload56 = [new Uint8Array(54)] // 55-byte payload, then 56
  assert.deepEqual(encodeRlp(payload56), RLP.encode(payload56))
  assert.deepEqual(encodeRlp([new Uint8Array(55)]), RLP.encode([new Uint8Array(55)]))
  assert.deepEqual(encodeRlp([]), RLP.encode([]))
  assert.deepEqual(encodeRlp([[], [[]], [[], [[]]]]), RLP.encode([[], [[]], [[], [[]]]]))
})

test('encodeRlp equals RLP.encode on random nested values', () => {
  const r = rng(7)
  const value = (depth: number): RlpValue => {
    if (depth === 0 || r.next() < 0.55) return r.bytes(r.next() < 0.3 ? 1 : r.int(r.next() < 0.1 ? 300 : 60))
    return Array.from({ length: r.int(r.next() < 0.1 ? 80 : 6) }, () => value(depth - 1))
  }
  for (let i = 0; i < 2000; i++) {
    const v = value(5)
    assert.deepEqual(encodeRlp(v), RLP.encode(v), `seed case ${i}`)
  }
})
