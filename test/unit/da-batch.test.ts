import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { RLP } from '@ethereumjs/rlp'
import { bytesToHex } from '@ethereumjs/util'
import type { Hex } from 'viem'
import { decodeBatch, encodeSingularBatch, type SingularBatch } from '../../src/da/batch.ts'
import { DaCodecError } from '../../src/da/errors.ts'
import {
  decodeSpanBatch,
  encodeSpanBatch,
  MAX_SPAN_BATCH_ELEMENT_COUNT,
  type SpanBatch,
  type SpanBatchParams,
  spanBatchFromBlocks,
} from '../../src/da/span-batch.ts'
import { rng } from '../helpers/rng.ts'
import { signedTx, type TxKind } from '../helpers/signed-txs.ts'

const SEED = 0xba7c4
const CHAIN_ID = 6342
const params: SpanBatchParams = { genesisTimestamp: 1_700_000_000n, blockTime: 1n, chainId: BigInt(CHAIN_ID) }
const hexOf = (size: number) => fc.uint8Array({ minLength: size, maxLength: size }).map((b) => bytesToHex(b) as Hex)

const singularArb: fc.Arbitrary<SingularBatch> = fc
  .record({
    parentHash: hexOf(32),
    epochNumber: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    epochHash: hexOf(32),
    timestamp: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    transactions: fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 10 }),
  })
  .map((b) => ({ ...b }))

test('singular batches round-trip: 0x00 ‖ rlp([parent_hash, epoch_number, epoch_hash, timestamp, txs])', (t) => {
  t.diagnostic(`fast-check seed ${SEED}`)
  fc.assert(
    fc.property(singularArb, (batch) => {
      const encoded = encodeSingularBatch(batch)
      assert.equal(encoded[0], 0)
      assert.deepEqual(
        RLP.decode(encoded.subarray(1)),
        [
          Buffer.from(batch.parentHash.slice(2), 'hex'),
          batch.epochNumber === 0n ? new Uint8Array(0) : RLP.decode(RLP.encode(batch.epochNumber)),
          Buffer.from(batch.epochHash.slice(2), 'hex'),
          batch.timestamp === 0n ? new Uint8Array(0) : RLP.decode(RLP.encode(batch.timestamp)),
          batch.transactions,
        ].map((x) => (x instanceof Buffer ? new Uint8Array(x) : x)),
      )
      const decoded = decodeBatch(encoded, params)
      assert.ok(decoded.ok && decoded.value.type === 'singular')
      assert.deepEqual(decoded.value.batch, batch)
    }),
    { seed: SEED, numRuns: 200 },
  )
})

test('singular batch decoding is strict on fields and lenient on trailing bytes, as op-node', () => {
  const hash = new Uint8Array(32).fill(1)
  const good = [hash, Uint8Array.of(5), hash, Uint8Array.of(9), [Uint8Array.of(2, 3)]]
  const enc = (fields: unknown[], trailing: number[] = []) =>
    Uint8Array.from([0, ...RLP.encode(fields as Uint8Array[]), ...trailing])
  const code = (bytes: Uint8Array) => {
    const r = decodeBatch(bytes, params)
    return r.ok ? 'ok' : r.error.code
  }
  assert.equal(code(enc(good)), 'ok')
  assert.equal(code(enc(good, [1, 2, 3])), 'ok') // extra content after the batch is ignored
  assert.equal(code(enc(good.slice(0, 4))), 'batch-malformed')
  assert.equal(code(enc([...good, Uint8Array.of(1)])), 'batch-malformed')
  assert.equal(code(enc([hash.subarray(1), ...good.slice(1)])), 'batch-malformed')
  assert.equal(code(enc([hash, Uint8Array.of(0, 5), ...good.slice(2)])), 'batch-malformed') // non-canonical integer
  assert.equal(code(enc([hash, new Uint8Array(9).fill(1), ...good.slice(2)])), 'batch-malformed') // > uint64
  assert.equal(code(enc([...good.slice(0, 4), [[Uint8Array.of(1)]]])), 'batch-malformed') // a list where a tx should be
  assert.equal(code(enc([...good.slice(0, 4), Uint8Array.of(1)])), 'batch-malformed')
  assert.equal(code(Uint8Array.of(2, 0xc0)), 'unknown-batch-type')
  assert.equal(code(new Uint8Array(0)), 'batch-malformed')
})

/** Blocks of signed transactions of every kind a span batch carries. */
async function sampleBlocks(seed: number, blockCount: number, kinds: readonly TxKind[]) {
  const r = rng(seed)
  const blocks = []
  let epoch = 1_000n
  for (let i = 0; i < blockCount; i++) {
    if (i > 0 && r.next() < 0.3) epoch++
    const transactions: Uint8Array[] = []
    for (let j = r.int(5); j > 0; j--) transactions.push(await signedTx(r.pick(kinds), CHAIN_ID, r))
    blocks.push({
      timestamp: params.genesisTimestamp + 100n + BigInt(i),
      epochNumber: epoch,
      transactions,
      parentHash: bytesToHex(r.bytes(32)) as Hex,
      epochHash: bytesToHex(r.bytes(32)) as Hex,
    })
  }
  return blocks
}

const ALL_KINDS: readonly TxKind[] = ['legacy-unprotected', 'legacy', 'eip2930', 'eip1559', 'eip7702', 'create']

test('span batches round-trip byte for byte with every transaction type (legacy ± EIP-155, 2930, 1559, 7702, creations)', async (t) => {
  t.diagnostic(`fast-check seed ${SEED}`)
  const shapeArb = fc.record({
    seed: fc.nat(),
    txCounts: fc.array(fc.nat({ max: 5 }), { minLength: 1, maxLength: 6 }),
    epochSteps: fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
    firstBlockStartsEpoch: fc.boolean(),
  })
  await fc.assert(
    fc.asyncProperty(shapeArb, async ({ seed, txCounts, epochSteps, firstBlockStartsEpoch }) => {
      const r = rng(seed)
      let epoch = 1_000n
      const blocks = []
      for (const [i, count] of txCounts.entries()) {
        if (i > 0 && epochSteps[i]) epoch++
        const transactions: Uint8Array[] = []
        for (let j = 0; j < count; j++) transactions.push(await signedTx(r.pick(ALL_KINDS), CHAIN_ID, r))
        blocks.push({
          timestamp: params.genesisTimestamp + 100n + BigInt(i),
          epochNumber: epoch,
          transactions,
          parentHash: bytesToHex(r.bytes(32)) as Hex,
          epochHash: bytesToHex(r.bytes(32)) as Hex,
        })
      }
      const span = spanBatchFromBlocks(blocks, firstBlockStartsEpoch)
      const encoded = encodeSpanBatch(span, params)
      assert.equal(encoded[0], 1)
      const decoded = decodeBatch(encoded, params)
      assert.ok(decoded.ok && decoded.value.type === 'span', decoded.ok ? '' : decoded.error.message)
      assert.deepEqual(decoded.value.batch, span)
      assert.deepEqual(encodeSpanBatch(decoded.value.batch, params), encoded)
    }),
    { seed: SEED, numRuns: 40 },
  )
})

test('span batch layout: prefix, origin bits, tx counts and bit lists as the Delta spec writes them', () => {
  const span: SpanBatch = {
    parentCheck: `0x${'11'.repeat(20)}`,
    l1OriginCheck: `0x${'22'.repeat(20)}`,
    firstBlockStartsEpoch: true,
    blocks: [
      // 9 blocks: origin bits need two bytes; epochs 7,7,8,8,8,9,9,9,10 → bits 0 (carried), 2, 5, 8 set
      ...[7n, 7n, 8n, 8n, 8n, 9n, 9n, 9n, 10n].map((epochNumber, i) => ({
        timestamp: params.genesisTimestamp + 300n + BigInt(i),
        epochNumber,
        transactions: [],
      })),
    ],
  }
  const encoded = encodeSpanBatch(span, params)
  const hex = Buffer.from(encoded).toString('hex')
  const expected =
    '01' + // batch type
    'ac02' + // rel_timestamp 300 as uvarint
    '0a' + // l1_origin_num 10 (the last block's)
    '11'.repeat(20) +
    '22'.repeat(20) +
    '09' + // block_count
    '0125' + // origin bits 0b1_0010_0101, big-endian, padded to 2 bytes
    '00'.repeat(9) + // block_tx_counts
    '' // no txs: empty bit lists, no protected bits
  assert.equal(hex, expected)
  assert.deepEqual(decodeSpanBatch(encoded.subarray(1), params), span)
})

test('span batch decoding refuses what op-node refuses', async () => {
  const [block] = await sampleBlocks(99, 1, ['eip1559', 'legacy'])
  const span = spanBatchFromBlocks(
    [
      {
        ...block!,
        transactions: block!.transactions.length ? block!.transactions : [await signedTx('legacy', CHAIN_ID, rng(5))],
      },
    ],
    true,
  )
  const good = encodeSpanBatch(span, params)
  const code = (bytes: Uint8Array) => {
    const r = decodeBatch(bytes, params)
    return r.ok ? 'ok' : r.error.code
  }
  assert.equal(code(good), 'ok')
  const prefix = good.subarray(0, 1 + 1 + 2 + 40) // type, rel_timestamp 100 (1 byte), origin num 1000 (2 bytes), checks
  assert.equal(code(Uint8Array.from([...prefix, 0])), 'span-batch-empty')
  const tooMany = [0x81, 0xad, 0xe2, 0x04] // uvarint 10,000,001
  assert.equal(MAX_SPAN_BATCH_ELEMENT_COUNT + 1, 0x81 - 0x80 + (0xad - 0x80) * 128 + (0xe2 - 0x80) * 128 ** 2 + 4 * 128 ** 3)
  assert.equal(code(Uint8Array.from([...prefix, ...tooMany])), 'span-batch-too-big')
  assert.equal(code(Uint8Array.from([...prefix, 1, 0b10, 0])), 'batch-malformed') // origin bit beyond block_count
  assert.equal(code(Uint8Array.from([...prefix, 1, 1, ...tooMany])), 'span-batch-too-big') // one block's tx count
  assert.equal(code(Uint8Array.of(1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02)), 'batch-malformed') // varint > 64 bits
  for (let cut = 1; cut < good.length; cut += 7) assert.notEqual(code(good.subarray(0, cut)), 'ok', `cut at ${cut}`)
  // a 1-block, 1-tx batch whose tx_data is type 3 (blob txs never go in span batches)
  const oneTx = [...prefix, 1, 1, 1, 0, 0, ...new Uint8Array(64), ...new Uint8Array(20)]
  assert.equal(code(Uint8Array.from([...oneTx, 3, 0xc0, 0, 0, 0])), 'span-batch-bad-tx')
  assert.equal(code(Uint8Array.from([...oneTx, 0x80, 0, 0, 0])), 'span-batch-bad-tx') // an RLP string, not a list
  assert.equal(code(Uint8Array.from([...oneTx, 2, 0xc0, 0, 0])), 'span-batch-bad-tx') // type 2 with 0 fields
  // a tx_data list announcing more than MAX_SPAN_BATCH_ELEMENT_COUNT bytes (op-node TestSpanBatchMaxTxData)
  assert.equal(code(Uint8Array.from([...oneTx, 2, 0xfa, 0x98, 0x96, 0x81, 0xc0])), 'span-batch-too-big')
})

test('span batch encoding refuses what it cannot express', async () => {
  const [a, b] = await sampleBlocks(7, 2, ['eip1559'])
  const err = (f: () => unknown, code: string) => assert.throws(f, (e) => e instanceof DaCodecError && e.code === code)
  err(() => encodeSpanBatch(spanBatchFromBlocks([a!, { ...b!, timestamp: b!.timestamp + 1n }], true), params), 'bad-input')
  err(() => encodeSpanBatch(spanBatchFromBlocks([a!, { ...b!, epochNumber: a!.epochNumber + 2n }], true), params), 'bad-input')
  err(
    () =>
      encodeSpanBatch(
        { parentCheck: `0x${'00'.repeat(20)}`, l1OriginCheck: `0x${'00'.repeat(20)}`, firstBlockStartsEpoch: true, blocks: [] },
        params,
      ),
    'span-batch-empty',
  )
  const otherChain = await signedTx('eip1559', CHAIN_ID + 1, rng(3))
  err(() => encodeSpanBatch(spanBatchFromBlocks([{ ...a!, transactions: [otherChain] }], true), params), 'bad-input')
  const otherLegacy = await signedTx('legacy', CHAIN_ID + 1, rng(3))
  err(() => encodeSpanBatch(spanBatchFromBlocks([{ ...a!, transactions: [otherLegacy] }], true), params), 'bad-input')
  err(
    () => encodeSpanBatch(spanBatchFromBlocks([{ ...a!, transactions: [Uint8Array.of(0x7e, 0xc0)] }], true), params),
    'bad-input',
  )
  err(
    () => encodeSpanBatch(spanBatchFromBlocks([{ ...a!, transactions: [Uint8Array.of(0x03, 0xc0)] }], true), params),
    'bad-input',
  )
})

test('decoding random and mutated batches never throws anything but a typed result', async (t) => {
  t.diagnostic(`fast-check seed ${SEED}`)
  const blocks = await sampleBlocks(42, 3, ALL_KINDS)
  const valid = encodeSpanBatch(spanBatchFromBlocks(blocks, true), params)
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 500 }),
      fc.constantFrom(0, 1),
      fc.nat(),
      fc.integer({ min: 1, max: 255 }),
      (bytes, type, at, flip) => {
        const r = decodeBatch(Uint8Array.from([type, ...bytes]), params)
        if (!r.ok) assert.ok(r.error instanceof DaCodecError)
        const mutated = valid.slice()
        mutated[1 + (at % (mutated.length - 1))]! ^= flip
        const m = decodeBatch(mutated, params)
        if (!m.ok) assert.ok(m.error instanceof DaCodecError)
      },
    ),
    { seed: SEED, numRuns: 3000 },
  )
})
