/**
 * The derivation stages one at a time, on constructed inputs: batch validity (parent, timestamps,
 * epochs, sequencing window, drift, deposits in batches), span batches checked and split block by
 * block, forced empty batches, attributes (sequence numbers, deposits in seq 0 only), the channel
 * stages on garbage, duplicates and flushes, and SystemConfig's `ConfigUpdate` logs.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import pino from 'pino'
import { keccak256, pad, toHex } from 'viem'
import type { L1Origin, SystemConfigValues } from '../../src/chain/l1-origin.ts'
import { encodeDepositTx } from '../../src/chain/deposit-tx.ts'
import type { RollupConfig } from '../../src/chain/rollup-config.ts'
import { decodeBatch, type SingularBatch } from '../../src/da/batch.ts'
import { blobBaseFeeOf } from '../../src/bridge/l1-fetch.ts'
import { decodeSpanBatch } from '../../src/da/span-batch.ts'
import { batchAttributes } from '../../src/derive/attributes.ts'
import { ChannelAssembler } from '../../src/derive/channel-assembler.ts'
import { ChannelReader } from '../../src/derive/channel-reader.ts'
import { NO_METRICS } from '../../src/derive/metrics.ts'
import {
  checkSingularBatch,
  checkSpanBatchPrefix,
  emptyBatch,
  spanBatchBlocks,
  type SafeBlockRef,
} from '../../src/derive/index.ts'
import { isNodeError } from '../../src/primitives/errors.ts'
import type { Hex } from '../../src/primitives/state-diff.ts'
import {
  batcherData,
  channelFrames,
  genesisRef,
  planBlocks,
  refOf,
  singularBatches,
  spanBatch,
} from '../helpers/derive-harness.ts'
import { MemoryL1 } from '../helpers/memory-l1.ts'
import { rng } from '../helpers/rng.ts'
import { signedTx } from '../helpers/signed-txs.ts'

const CONFIG: SystemConfigValues = {
  batcherHash: pad('0x00000000000000000000000000000000000000ba'),
  baseFeeScalar: 1,
  blobBaseFeeScalar: 2,
  operatorFeeScalar: 0,
  operatorFeeConstant: 0n,
  gasLimit: 30_000_000n,
}
const silent = pino({ level: 'silent' })

function chain() {
  const l1 = new MemoryL1(CONFIG)
  for (let i = 0; i < 4; i++) l1.mine({ deposits: (i + 1) % 2 })
  const g = l1.at(0n)
  const rollup: RollupConfig = {
    genesis: {
      l1: { number: 0n, hash: g.hash },
      l2: { number: 0n, hash: keccak256(toHex('g')) },
      l2Time: g.timestamp,
      systemConfig: CONFIG,
    },
    blockTime: 1n,
    maxSequencerDrift: 3n,
    seqWindowSize: 8n,
    channelTimeout: 4n,
    l1ChainId: 1n,
    l2ChainId: 6342n,
    batchInboxAddress: '0x00ff000000000000000000000000000000000042',
    depositContractAddress: '0x00000000000000000000000000000000000000d0',
    l1SystemConfigAddress: '0x00000000000000000000000000000000000000c0',
  }
  return { l1, rollup, g: genesisRef(rollup) }
}

describe('batch validity (checkSingularBatch)', () => {
  const { l1, rollup, g } = chain()
  const l1Blocks = [l1.at(0n), l1.at(1n), l1.at(2n)]
  const inclusion = l1.at(2n)
  const good: SingularBatch = {
    parentHash: g.hash,
    epochNumber: 0n,
    epochHash: l1.at(0n).hash,
    timestamp: g.timestamp + 1n,
    transactions: [],
  }
  const check = (b: Partial<SingularBatch>, parent: SafeBlockRef = g, blocks: L1Origin[] = l1Blocks, incl = inclusion) =>
    checkSingularBatch(rollup, blocks, parent, { ...good, ...b }, incl).kind

  it('accepts the next block on the safe head, on its epoch or the next', () => {
    assert.equal(check({}), 'accept')
    assert.equal(
      check({ epochNumber: 1n, epochHash: l1.at(1n).hash, timestamp: g.timestamp + 2n }, { ...g, timestamp: g.timestamp + 1n }),
      'accept',
    )
  })
  it('drops a batch for a wrong parent, a future one (Holocene), and marks an old one past', () => {
    assert.equal(check({ parentHash: keccak256('0x01') }), 'drop')
    assert.equal(check({ timestamp: g.timestamp + 2n }), 'drop')
    assert.equal(check({ timestamp: g.timestamp }), 'past')
  })
  it('drops epochs that skip, are older than the parent’s, or name another L1 chain', () => {
    assert.equal(check({ epochNumber: 2n, epochHash: l1.at(2n).hash }), 'drop')
    assert.equal(check({ epochHash: keccak256('0x02') }), 'drop')
    const parentOn1 = { ...g, l1Origin: { number: 1n, hash: l1.at(1n).hash } }
    assert.equal(check({}, parentOn1, [l1.at(1n), l1.at(2n)]), 'drop')
  })
  it('drops a batch included after its epoch’s sequencing window', () => {
    assert.equal(check({}, g, l1Blocks, { ...inclusion, number: 9n }), 'drop')
    assert.equal(check({}, g, l1Blocks, { ...inclusion, number: 8n }), 'accept')
  })
  it('drops a timestamp before its origin’s', () => {
    assert.equal(check({ epochNumber: 1n, epochHash: l1.at(1n).hash, timestamp: g.timestamp + 1n }), 'drop')
  })
  it('past the sequencer drift: transactions are dropped; an empty batch only while the next origin is newer', () => {
    const parent = { ...g, timestamp: g.timestamp + 3n }
    const tx = Uint8Array.of(2, 0xc0)
    // t0 + 4 > origin 0 (t0) + drift 3; the next origin (t0 + 2) could have been adopted.
    assert.equal(check({ timestamp: g.timestamp + 4n, transactions: [tx] }, parent), 'drop')
    assert.equal(check({ timestamp: g.timestamp + 4n }, parent), 'drop')
    // With the next L1 block far ahead, an empty batch on the old origin is fine.
    const late = { ...l1.at(1n), timestamp: g.timestamp + 100n }
    assert.equal(check({ timestamp: g.timestamp + 4n }, parent, [l1.at(0n), late]), 'accept')
    assert.equal(check({ timestamp: g.timestamp + 4n, transactions: [tx] }, parent, [l1.at(0n), late]), 'drop')
  })
  it('drops batches carrying deposits or empty transactions', () => {
    const deposit = encodeDepositTx(l1.at(1n).deposits[0]!)
    assert.equal(check({ transactions: [deposit] }), 'drop')
    assert.equal(check({ transactions: [new Uint8Array()] }), 'drop')
  })
})

describe('span batches and forced batches', () => {
  it('checks a 5-block span batch and splits it block by block, skipping blocks already safe', async () => {
    const { l1, rollup, g } = chain()
    const r = rng(5)
    const origins = [l1.at(0n), l1.at(1n), l1.at(1n), l1.at(2n), l1.at(2n)]
    const planned = planBlocks(
      rollup,
      g,
      await Promise.all(origins.map(async (origin) => ({ origin, txs: [await signedTx('eip1559', 6342, r)] }))),
    )
    const encoded = spanBatch(rollup, planned)
    const decoded = decodeBatch(encoded, { genesisTimestamp: rollup.genesis.l2Time, blockTime: 1n, chainId: 6342n })
    assert.ok(decoded.ok && decoded.value.type === 'span')
    const span = decoded.value.batch
    const l1Blocks = [l1.at(0n), l1.at(1n), l1.at(2n), l1.at(3n)]
    assert.equal(checkSpanBatchPrefix(rollup, l1Blocks, g, span, l1.at(3n), undefined).kind, 'accept')
    const blocks = spanBatchBlocks(span, l1Blocks, g)!
    assert.deepEqual(
      blocks.map((b) => b.epochHash),
      origins.map((o) => o.hash),
    )
    assert.deepEqual(
      blocks.map((b) => b.transactions),
      planned.map((p) => p.batch.transactions),
    )
    // On a safe head at block 2, the span overlaps: its parent is block 0, its remaining blocks are 3–5.
    const head = refOf(planned[1]!)
    assert.equal(checkSpanBatchPrefix(rollup, l1Blocks.slice(1), head, span, l1.at(3n), g).kind, 'accept')
    assert.deepEqual(
      spanBatchBlocks(span, l1Blocks.slice(1), head)!.map((b) => b.timestamp),
      planned.slice(2).map((p) => p.batch.timestamp),
    )
    // Entirely safe already: past. Wrong parent: dropped.
    assert.equal(checkSpanBatchPrefix(rollup, l1Blocks.slice(2), refOf(planned[4]!), span, l1.at(3n), undefined).kind, 'past')
    const other = { ...g, hash: keccak256('0x09') as Hex }
    assert.equal(checkSpanBatchPrefix(rollup, l1Blocks, other, span, l1.at(3n), undefined).kind, 'drop')
    assert.equal(
      decodeSpanBatch(encoded.subarray(1), { genesisTimestamp: rollup.genesis.l2Time, blockTime: 1n, chainId: 6342n }).blocks
        .length,
      5,
    )
  })

  it('forces empty batches only once the epoch’s window is over, staying on the epoch until the next origin fits', () => {
    const { l1, rollup, g } = chain()
    const blocks = [l1.at(0n), l1.at(1n)]
    const at = (n: bigint) => ({ ...l1.at(3n), number: n })
    assert.equal(emptyBatch(rollup, blocks, g, at(7n), true), 'wait')
    assert.equal(emptyBatch(rollup, blocks, g, at(8n), false), 'wait')
    const forced = emptyBatch(rollup, blocks, g, at(8n), true)
    assert.ok(typeof forced === 'object')
    assert.deepEqual(forced, {
      parentHash: g.hash,
      epochNumber: 0n,
      epochHash: l1.at(0n).hash,
      timestamp: g.timestamp + 1n,
      transactions: [],
    })
    const parent = { ...g, timestamp: g.timestamp + 1n }
    assert.equal(emptyBatch(rollup, blocks, parent, at(9n), true), 'advance-epoch', 'epoch 0 is full at t0 + 2 = L1 block 1')
  })
})

describe('attributes', () => {
  it('numbers blocks in their epoch and carries the origin’s deposits in the first block only', () => {
    const { l1, rollup, g } = chain()
    const one = l1.at(1n)
    assert.equal(one.deposits.length, 1)
    const batch = (epoch: L1Origin, timestamp: bigint): SingularBatch => ({
      parentHash: g.hash,
      epochNumber: epoch.number,
      epochHash: epoch.hash,
      timestamp,
      transactions: [],
    })
    const same = batchAttributes(g, batch(l1.at(0n), g.timestamp + 1n), l1.at(0n))
    assert.equal(same.sequenceNumber, 1n)
    assert.equal(same.deposits.length, 1)
    const parent = { ...g, timestamp: one.timestamp - 1n }
    const first = batchAttributes(parent, batch(one, one.timestamp), one)
    assert.equal(first.sequenceNumber, 0n)
    assert.deepEqual(first.deposits.slice(1), one.deposits)
    const second = batchAttributes(
      { ...parent, l1Origin: { number: 1n, hash: one.hash }, sequenceNumber: 0n },
      batch(one, one.timestamp + 1n),
      one,
    )
    assert.equal(second.sequenceNumber, 1n)
    assert.equal(second.deposits.length, 1)
    assert.throws(
      () => batchAttributes(parent, batch(l1.at(2n), one.timestamp), l1.at(2n)),
      (e: unknown) => isNodeError(e, 'DERIVE_L1_REORG') && e.severity === 'reset',
    )
    void rollup
  })
})

describe('channel stages', () => {
  it('skip garbage, count dropped frames, and flush the rest of a channel', () => {
    const { l1, rollup, g } = chain()
    const planned = planBlocks(rollup, g, [{ origin: l1.at(0n) }, { origin: l1.at(0n) }, { origin: l1.at(0n) }])
    const frames = channelFrames(singularBatches(planned), 30)
    const dropped: string[] = []
    const metrics = {
      ...NO_METRICS,
      observeSkippedData: (r: string) => dropped.push(`data:${r}`),
      observeDroppedFrame: (r: string) => dropped.push(`frame:${r}`),
    }
    const assembler = new ChannelAssembler(rollup, silent, metrics)
    const queue = [Uint8Array.of(1, 2, 3), batcherData([frames[1]!]), batcherData(frames), batcherData([frames[0]!])]
    const ready = assembler.next(() => queue.shift(), 2n)
    assert.ok(ready !== undefined)
    assert.deepEqual(dropped, ['data:unknown-batcher-version', 'frame:no-channel'])
    const reader = new ChannelReader(rollup, silent, NO_METRICS)
    const channels = [ready]
    const first = reader.next(() => channels.shift())
    assert.ok(first?.type === 'singular' && first.batch.timestamp === planned[0]!.batch.timestamp)
    reader.flush()
    assert.equal(
      reader.next(() => undefined),
      undefined,
      'the flushed channel yields nothing more',
    )
    const garbage = [{ id: new Uint8Array(16), openL1Block: 0, data: Uint8Array.of(0x78, 1, 2) }]
    assert.equal(
      reader.next(() => garbage.shift()),
      undefined,
    )
  })
})

describe('L1 origin fields', () => {
  // Origins are read by bridge/l1-fetch.ts for derivation and the sequencer alike (its ConfigUpdate rules are tested
  // with the L1 watcher); the blob base fee against EIP-4844's values:
  it('blob base fee is EIP-4844’s fake_exponential with Prague’s update fraction', () => {
    const cases: [bigint, bigint][] = [
      [0n, 1n],
      [5_007_716n, 2n],
      [50_000_000n, 21_689n],
      [123_456_789n, 50_909_368_837n],
    ]
    for (const [excess, fee] of cases)
      assert.equal(blobBaseFeeOf({ excessBlobGas: excess, requestsHash: `0x${'00'.repeat(32)}` }), fee)
  })
})
