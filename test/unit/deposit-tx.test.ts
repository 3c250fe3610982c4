import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { encodeAbiParameters, keccak256 as viemKeccak, type Hex } from 'viem'
import { getL2TransactionHash, getSourceHash, opaqueDataToDepositData, serializeTransaction } from 'viem/op-stack'
import { RLP } from '@ethereumjs/rlp'
import {
  decodeDepositTx,
  type DepositTransaction,
  DepositTxError,
  depositTxHash,
  encodeDepositTx,
  l1InfoDepositSourceHash,
  upgradeDepositSourceHash,
  userDepositSourceHash,
} from '../../src/chain/deposit-tx.ts'
import {
  decodeOpaqueData,
  type DepositLog,
  depositFromLog,
  encodeOpaqueData,
  TRANSACTION_DEPOSITED_TOPIC,
} from '../../src/chain/deposit-log.ts'
import {
  decodeL1Info,
  encodeL1InfoEcotone,
  encodeL1InfoIsthmus,
  L1_BLOCK_ADDRESS,
  L1_INFO_DEPOSITOR_ADDRESS,
  type L1BlockInfo,
  l1InfoDepositTx,
  SET_L1_BLOCK_VALUES_ECOTONE_SELECTOR,
  SET_L1_BLOCK_VALUES_ISTHMUS_SELECTOR,
} from '../../src/chain/l1-info.ts'

/** fast-check's seed for every property here: a failure replays with the same inputs. */
const SEED = 0x7e7e
const RUNS = 300

const hexOf = (size: number) => fc.uint8Array({ minLength: size, maxLength: size }).map((b) => bytesToHex(b) as Hex)
const uint = (bits: number) => fc.bigInt({ min: 0n, max: 2n ** BigInt(bits) - 1n })
const depositArb: fc.Arbitrary<DepositTransaction> = fc
  .record({
    sourceHash: hexOf(32),
    from: hexOf(20),
    to: fc.option(hexOf(20), { nil: null }),
    mint: fc.oneof(fc.constant(0n), uint(256)),
    value: fc.oneof(fc.constant(0n), uint(256)),
    gas: fc.oneof(fc.constant(0n), fc.constant(21_000n), uint(64)),
    isSystemTx: fc.boolean(),
    data: fc.uint8Array({ maxLength: 300 }).map((b) => bytesToHex(b) as Hex),
  })
  .map((tx) => ({ ...tx })) // fc.record builds null-prototype objects, which deepEqual tells apart

test('deposit encoding and hash equal viem op-stack serializeTransaction on random deposits; decode inverts encode', (t) => {
  t.diagnostic(`fast-check seed ${SEED}`)
  fc.assert(
    fc.property(depositArb, (tx) => {
      const ours = encodeDepositTx(tx)
      const viems = serializeTransaction({ type: 'deposit', ...tx, to: tx.to ?? undefined })
      assert.equal(bytesToHex(ours), viems)
      assert.equal(depositTxHash(tx), viemKeccak(viems))
      assert.deepEqual(decodeDepositTx(ours), tx)
    }),
    { seed: SEED, numRuns: RUNS },
  )
})

test('sourceHash equals viem getSourceHash for user and L1-info deposits', (t) => {
  t.diagnostic(`fast-check seed ${SEED}`)
  fc.assert(
    fc.property(hexOf(32), fc.nat({ max: 2 ** 31 }), (blockHash, index) => {
      assert.equal(
        userDepositSourceHash(blockHash, index),
        getSourceHash({ domain: 'userDeposit', l1BlockHash: blockHash, l1LogIndex: index }),
      )
      assert.equal(
        l1InfoDepositSourceHash(blockHash, index),
        getSourceHash({ domain: 'l1InfoDeposit', l1BlockHash: blockHash, sequenceNumber: index }),
      )
    }),
    { seed: SEED, numRuns: RUNS },
  )
})

// ethereum-optimism/optimism op-node/rollup/derive/deposit_source_test.go, and the Isthmus spec
// (ethereum-optimism/specs specs/protocol/isthmus/derivation.md, "L1Block deployment").
test('sourceHash matches op-node and spec vectors for all three domains', () => {
  assert.equal(
    upgradeDepositSourceHash('Ecotone: L1 Block Proxy Update'),
    '0x18acb38c5ff1c238a7460ebc1b421fa49ec4874bdf1e0a530d234104e5e67dbc',
  )
  assert.equal(
    upgradeDepositSourceHash('Ecotone: beacon block roots contract deployment'),
    '0x69b763c48478b9dc2f65ada09b3d92133ec592ea715ec65ad6e7f3dc519dc00c',
  )
  assert.equal(
    upgradeDepositSourceHash('Isthmus: L1 Block Deployment'),
    '0x3b2d0821ca2411ad5cd3595804d1213d15737188ae4cbd58aa19c821a6c211bf',
  )
  assert.equal(
    l1InfoDepositSourceHash('0xc00e5d67c2755389aded7d8b151cbd5bcdf7ed275ad5e028b664880fc7581c77', 4),
    '0x0586c503340591999b8b38bc9834bb16aec7d5bc00eb5587ab139c9ddab81977',
  )
})

/** A `TransactionDeposited` log as the portal emits it: `abi.encode(bytes opaqueData)` in the data. */
function depositLog(from: Hex, to: Hex, opaque: Uint8Array, blockHash: Hex, logIndex: number): DepositLog & { opaqueData: Hex } {
  const pad = (address: Hex): Hex => `0x${address.slice(2).padStart(64, '0')}`
  return {
    topics: [TRANSACTION_DEPOSITED_TOPIC, pad(from), pad(to), `0x${'0'.repeat(64)}`],
    data: encodeAbiParameters([{ type: 'bytes' }], [bytesToHex(opaque)]),
    blockHash,
    logIndex,
    opaqueData: bytesToHex(opaque),
  }
}

test('a TransactionDeposited log becomes the deposit whose hash viem getL2TransactionHash computes', (t) => {
  t.diagnostic(`fast-check seed ${SEED}`)
  const opaqueArb = fc
    .record({
      mint: uint(256),
      value: uint(256),
      gas: uint(64),
      isCreation: fc.boolean(),
      data: fc.uint8Array({ maxLength: 200 }).map((b) => bytesToHex(b) as Hex),
    })
    .map((o) => ({ ...o }))
  fc.assert(
    fc.property(hexOf(20), hexOf(20), opaqueArb, hexOf(32), fc.nat({ max: 10_000 }), (from, to, opaque, blockHash, logIndex) => {
      const encoded = encodeOpaqueData(opaque)
      assert.deepEqual(decodeOpaqueData(encoded), opaque)
      assert.deepEqual(opaqueDataToDepositData(bytesToHex(encoded)), opaque)
      const log = depositLog(from, to, encoded, blockHash, logIndex)
      const deposit = depositFromLog(log)
      assert.equal(deposit.to, opaque.isCreation ? null : to)
      assert.equal(deposit.from, from)
      assert.equal(deposit.isSystemTx, false)
      const viemHash = getL2TransactionHash({
        // viem reads only these fields of the decoded log.
        log: { blockHash, logIndex, args: { from, to, version: 0n, opaqueData: log.opaqueData } } as unknown as Parameters<
          typeof getL2TransactionHash
        >[0]['log'],
      })
      assert.equal(depositTxHash(deposit), viemHash)
    }),
    { seed: SEED, numRuns: RUNS },
  )
})

test('deposit logs with op-node-invalid shapes are refused with DepositTxError', () => {
  const good = depositLog(
    `0x${'11'.repeat(20)}`,
    `0x${'22'.repeat(20)}`,
    encodeOpaqueData({ mint: 1n, value: 2n, gas: 100_000n, isCreation: false, data: '0xabcd' }),
    `0x${'33'.repeat(32)}`,
    5,
  )
  assert.equal(depositFromLog(good).gas, 100_000n)
  const bad = (log: DepositLog, code: string) =>
    assert.throws(
      () => depositFromLog(log),
      (e) => e instanceof DepositTxError && e.code === code,
    )
  bad({ ...good, topics: good.topics.slice(0, 3) }, 'bad-log')
  bad({ ...good, topics: [`0x${'00'.repeat(32)}`, ...good.topics.slice(1)] }, 'bad-log')
  bad({ ...good, topics: [...good.topics.slice(0, 3), `0x${'00'.repeat(31)}01`] }, 'unsupported-version')
  const data = hexToBytes(good.data)
  const withData = (bytes: Uint8Array): DepositLog => ({ ...good, data: bytesToHex(bytes) as Hex })
  const patched = (offset: number, byte: number): Uint8Array => {
    const copy = data.slice()
    copy[offset] = byte
    return copy
  }
  bad(withData(data.subarray(0, 63)), 'bad-log') // header incomplete
  bad(withData(data.subarray(0, data.length - 1)), 'bad-log') // not a multiple of 32
  bad(withData(patched(31, 64)), 'bad-log') // offset ≠ 32
  bad(withData(patched(63, data[63]! + 40)), 'bad-log') // length beyond the data
  bad(withData(Uint8Array.from([...data, ...new Uint8Array(32)])), 'bad-log') // a whole word of padding
  const short = depositLog(`0x${'11'.repeat(20)}`, `0x${'22'.repeat(20)}`, new Uint8Array(72), `0x${'33'.repeat(32)}`, 0)
  bad(short, 'bad-opaque-data')
})

test('deposit decoding is strict: field count, sizes, canonical integers, boolean, trailing bytes', () => {
  const fields = (): Uint8Array[] => [
    new Uint8Array(32).fill(1),
    new Uint8Array(20).fill(2),
    new Uint8Array(20).fill(3),
    Uint8Array.of(5),
    Uint8Array.of(6),
    Uint8Array.of(0x52, 0x08),
    new Uint8Array(0),
    Uint8Array.of(0xaa),
  ]
  const encode = (f: Uint8Array[], trailing: number[] = []) => Uint8Array.from([0x7e, ...RLP.encode(f), ...trailing])
  assert.equal(decodeDepositTx(encode(fields())).gas, 21_000n)
  const rejects = (bytes: Uint8Array, code: string) =>
    assert.throws(
      () => decodeDepositTx(bytes),
      (e) => e instanceof DepositTxError && e.code === code,
      bytesToHex(bytes),
    )
  rejects(Uint8Array.of(0x02, 0xc0), 'not-a-deposit')
  rejects(new Uint8Array(0), 'not-a-deposit')
  rejects(encode(fields().slice(0, 7)), 'malformed-rlp')
  rejects(encode(fields(), [0x00]), 'malformed-rlp')
  const mutated = (i: number, value: Uint8Array) => encode(fields().map((f, j) => (j === i ? value : f)))
  rejects(mutated(0, new Uint8Array(31)), 'bad-field')
  rejects(mutated(1, new Uint8Array(21)), 'bad-field')
  rejects(mutated(2, new Uint8Array(19)), 'bad-field')
  rejects(mutated(3, Uint8Array.of(0, 5)), 'bad-field') // leading zero
  rejects(mutated(4, new Uint8Array(33).fill(1)), 'bad-field') // > uint256
  rejects(mutated(5, new Uint8Array(9).fill(1)), 'bad-field') // > uint64
  rejects(mutated(6, Uint8Array.of(2)), 'bad-field')
  rejects(mutated(6, Uint8Array.of(0)), 'bad-field') // false is 0x80, never 0x00
  assert.equal(decodeDepositTx(mutated(2, new Uint8Array(0))).to, null)
})

test('deposit decoding of random bytes throws nothing but DepositTxError', (t) => {
  t.diagnostic(`fast-check seed ${SEED}`)
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), fc.boolean(), (bytes, typed) => {
      const input = typed ? Uint8Array.from([0x7e, ...bytes]) : bytes
      try {
        decodeDepositTx(input)
      } catch (error) {
        assert.ok(error instanceof DepositTxError, String(error))
      }
    }),
    { seed: SEED, numRuns: 2000 },
  )
})

const info: L1BlockInfo = {
  number: 0x1122334455667788n,
  timestamp: 0x0102030405060708n,
  baseFee: 7n * 10n ** 9n,
  blobBaseFee: 1n,
  hash: `0x${'ab'.repeat(32)}`,
  sequenceNumber: 3n,
  batcherHash: `0x${'00'.repeat(12)}${'cd'.repeat(20)}`,
  baseFeeScalar: 0x11223344,
  blobBaseFeeScalar: 0x55667788,
}

test('L1-info calldata follows the Ecotone and Isthmus packed layouts byte for byte', () => {
  assert.equal(SET_L1_BLOCK_VALUES_ECOTONE_SELECTOR, '0x440a5e20')
  assert.equal(SET_L1_BLOCK_VALUES_ISTHMUS_SELECTOR, '0x098999be')
  const ecotone = encodeL1InfoEcotone(info)
  assert.equal(ecotone.length, 164)
  // Offsets from the table in specs/protocol/ecotone/l1-attributes.md.
  const at = (from: number, to: number) => bytesToHex(ecotone.subarray(from, to))
  assert.equal(at(0, 4), '0x440a5e20')
  assert.equal(at(4, 8), '0x11223344')
  assert.equal(at(8, 12), '0x55667788')
  assert.equal(at(12, 20), '0x0000000000000003')
  assert.equal(at(20, 28), '0x0102030405060708')
  assert.equal(at(28, 36), '0x1122334455667788')
  assert.equal(BigInt(at(36, 68)), info.baseFee)
  assert.equal(BigInt(at(68, 100)), 1n)
  assert.equal(at(100, 132), info.hash)
  assert.equal(at(132, 164), info.batcherHash)
  assert.deepEqual(decodeL1Info(ecotone), info)

  const isthmus = encodeL1InfoIsthmus({ ...info, operatorFeeScalar: 0xdeadbeef, operatorFeeConstant: 0x0102030405060708n })
  assert.equal(isthmus.length, 176)
  assert.equal(bytesToHex(isthmus.subarray(0, 4)), '0x098999be')
  assert.deepEqual(isthmus.subarray(4, 164), ecotone.subarray(4))
  assert.equal(bytesToHex(isthmus.subarray(164)), '0xdeadbeef0102030405060708')
  assert.deepEqual(decodeL1Info(isthmus), { ...info, operatorFeeScalar: 0xdeadbeef, operatorFeeConstant: 0x0102030405060708n })

  assert.throws(
    () => decodeL1Info(ecotone.subarray(0, 163)),
    (e) => e instanceof DepositTxError && e.code === 'bad-l1-info',
  )
  assert.throws(
    () => decodeL1Info(Uint8Array.of(1, 2, 3, 4)),
    (e) => e instanceof DepositTxError && e.code === 'bad-l1-info',
  )
  assert.throws(() => encodeL1InfoEcotone({ ...info, sequenceNumber: 2n ** 64n }), DepositTxError)
  assert.throws(() => encodeL1InfoEcotone({ ...info, baseFeeScalar: 2 ** 32 }), DepositTxError)
})

test('the L1-attributes deposit goes from the depositor to L1Block with 1,000,000 gas and the domain-1 sourceHash', () => {
  const tx = l1InfoDepositTx(info, encodeL1InfoEcotone(info))
  assert.equal(tx.from, L1_INFO_DEPOSITOR_ADDRESS)
  assert.equal(tx.from, '0xDeaDDEaDDeAdDeAdDEAdDEaddeAddEAdDEAd0001'.toLowerCase())
  assert.equal(tx.to, L1_BLOCK_ADDRESS)
  assert.equal(tx.gas, 1_000_000n)
  assert.equal(tx.mint, 0n)
  assert.equal(tx.isSystemTx, false)
  assert.equal(tx.sourceHash, getSourceHash({ domain: 'l1InfoDeposit', l1BlockHash: info.hash, sequenceNumber: 3 }))
  assert.equal(bytesToHex(encodeDepositTx(tx)), serializeTransaction({ type: 'deposit', ...tx, to: tx.to ?? undefined }))
})
