import assert from 'node:assert/strict'
import { test } from 'node:test'
import { RLP } from '@ethereumjs/rlp'
import { bigIntToUnpaddedBytes } from '@ethereumjs/util'
import {
  CodecError,
  decodeRlpView,
  encodeRlp,
  rlpListItems,
  rlpStringPayload,
  unpaddedBytes,
  type RlpInput,
  type RlpValue,
} from '../../src/primitives/rlp-fields.ts'
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

test('unpaddedBytes equals bigIntToUnpaddedBytes around every byte boundary and beyond 2^53', () => {
  const values = [0n, 1n, 127n, 128n, 255n, 256n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 64n - 1n, 2n ** 256n - 1n]
  for (let bits = 1n; bits <= 256n; bits++) values.push(2n ** bits - 1n, 2n ** bits, 2n ** bits + 1n)
  const r = rng(11)
  for (let i = 0; i < 2000; i++) values.push(BigInt(`0x${Buffer.from(r.bytes(1 + r.int(32))).toString('hex')}`))
  for (const v of values) assert.deepEqual(unpaddedBytes(v), bigIntToUnpaddedBytes(v), `0x${v.toString(16)}`)
  assert.throws(() => unpaddedBytes(-1n), RangeError)
})

test('encodeRlp writes integers and hex strings as the bytes they stand for', () => {
  // Each shorthand beside its byte form, in random nesting: the two encodings must be identical.
  const r = rng(19)
  const integer = (): bigint => {
    const bits = r.pick([0, 1, 7, 8, 52, 53, 54, 64, 200, 256])
    return bits === 0
      ? 0n
      : BigInt(`0x${Buffer.from(r.bytes(Math.ceil(bits / 8))).toString('hex')}`) >> BigInt((8 - (bits % 8)) % 8)
  }
  const pair = (depth: number): [RlpInput, RlpValue] => {
    const kind = depth === 0 ? r.int(4) : r.int(5)
    if (kind === 0) {
      const v = integer()
      return [v, unpaddedBytes(v)]
    }
    if (kind === 1) {
      const v = integer()
      return v <= BigInt(Number.MAX_SAFE_INTEGER) ? [Number(v), unpaddedBytes(v)] : [v, unpaddedBytes(v)]
    }
    if (kind === 2) {
      const bytes = r.bytes(r.pick([0, 1, 1, 20, 32, 55, 56, 300]))
      const hex = Buffer.from(bytes).toString('hex')
      return [`0x${r.next() < 0.5 ? hex : hex.toUpperCase()}`, bytes]
    }
    if (kind === 3) {
      const bytes = r.bytes(r.int(60))
      return [bytes, bytes]
    }
    const items = Array.from({ length: r.int(8) }, () => pair(depth - 1))
    return [items.map(([input]) => input), items.map(([, bytes]) => bytes)]
  }
  for (let i = 0; i < 2000; i++) {
    const [input, bytes] = pair(4)
    assert.deepEqual(encodeRlp(input), RLP.encode(bytes), `case ${i}`)
  }
  for (const bad of ['0x1', '12', '0xzz', '0x7z', '0x00zz'])
    assert.throws(() => encodeRlp([bad as `0x${string}`]), CodecError, bad)
  for (const bad of [-1n, -1, 1.5, 2 ** 53]) assert.throws(() => encodeRlp([bad]), RangeError, String(bad))
})

test("rlpListItems slices a list into its items' encodings; rlpStringPayload unwraps byte strings", () => {
  const r = rng(3)
  const value = (depth: number): RlpValue =>
    depth === 0 || r.next() < 0.6
      ? r.bytes(r.next() < 0.3 ? 1 : r.int(r.next() < 0.1 ? 300 : 60))
      : Array.from({ length: r.int(6) }, () => value(depth - 1))
  for (let i = 0; i < 500; i++) {
    const list = Array.from({ length: r.int(r.next() < 0.1 ? 100 : 8) }, () => value(3))
    const items = rlpListItems(encodeRlp(list), 'list')
    assert.deepEqual(
      items,
      list.map((item) => encodeRlp(item)),
    )
    items.forEach((item, k) => {
      const original = list[k]!
      if (original instanceof Uint8Array) assert.deepEqual(rlpStringPayload(item, 'item'), original)
      else assert.throws(() => rlpStringPayload(item, 'item'), CodecError)
    })
  }
  for (const bad of [
    new Uint8Array(0),
    Uint8Array.of(0x80),
    Uint8Array.of(0xc2, 0x80),
    Uint8Array.of(0xc1, 0x80, 0x80),
    Uint8Array.of(0xc2, 0x82, 0x00),
    Uint8Array.of(0xf9, 0x01),
  ]) {
    assert.throws(() => rlpListItems(bad, 'bad'), CodecError, `0x${Buffer.from(bad).toString('hex')}`)
  }
})

test('decodeRlpView equals RLP.decode on valid input and refuses what it refuses', () => {
  const r = rng(11)
  const value = (depth: number): RlpValue => {
    if (depth === 0 || r.next() < 0.55) return r.bytes(r.next() < 0.3 ? 1 : r.int(r.next() < 0.1 ? 300 : 60))
    return Array.from({ length: r.int(r.next() < 0.1 ? 80 : 6) }, () => value(depth - 1))
  }
  const accepts = (bytes: Uint8Array): RlpValue | undefined => {
    try {
      return RLP.decode(bytes) as RlpValue
    } catch {
      return undefined
    }
  }
  for (let i = 0; i < 2000; i++) {
    const encoded = RLP.encode(value(5))
    assert.deepEqual(decodeRlpView(encoded, 'case'), RLP.decode(encoded), `seed case ${i}`)
    // Damaged: a byte changed, or the input cut short (never to nothing, which RLP.decode takes for an
    // empty string) or extended. Both decoders agree on validity and value.
    const damaged = encoded.slice()
    damaged[r.int(damaged.length)] = r.int(256)
    const extended = new Uint8Array(encoded.length + 1)
    extended.set(encoded)
    for (const bytes of [damaged, encoded.subarray(0, 1 + r.int(encoded.length - 1)), extended]) {
      const expected = accepts(bytes)
      if (expected === undefined) assert.throws(() => decodeRlpView(bytes, 'damaged'), CodecError, `damaged case ${i}`)
      else assert.deepEqual(decodeRlpView(bytes, 'damaged'), expected, `damaged case ${i}`)
    }
  }
  // The non-canonical forms by name: a prefixed single byte, a long form for a short length, a length with a leading zero.
  for (const bad of [
    [0x81, 0x05],
    [0xb8, 0x05, 1, 2, 3, 4, 5],
    [0xb9, 0x00, 0x38, ...new Array(56).fill(1)],
    [0xf8, 0x01, 0x05],
  ])
    assert.throws(() => decodeRlpView(Uint8Array.from(bad), 'bad'), CodecError)
  assert.throws(() => decodeRlpView(new Uint8Array(0), 'empty'), CodecError)
  // Views, not copies.
  const encoded = RLP.encode([Uint8Array.of(1, 2, 3)])
  const [item] = decodeRlpView(encoded, 'view') as Uint8Array[]
  assert.equal(item!.buffer, encoded.buffer)
})
