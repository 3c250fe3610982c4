/**
 * The derivation pipeline end to end over an in-memory L1: what the "sequencer" planned (blocks with
 * origins, deposits and transactions, linked by hash) comes back out of batches posted as frames, in
 * order, with the Holocene rules applied to everything else: garbage and strangers' data skipped,
 * out-of-order and duplicate frames, timed-out channels, an invalid batch flushing its channel, the
 * sequencing window forcing deposit-only blocks, and an L1 reorg rewinding the safe chain.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import pino from 'pino'
import { keccak256, toHex } from 'viem'
import type { L1Origin } from '../../src/chain/l1-origin.ts'
import type { RollupConfig } from '../../src/chain/rollup-config.ts'
import { encodeBlob } from '../../src/da/blob.ts'
import { isNodeError } from '../../src/primitives/errors.ts'
import type { Hex } from '../../src/primitives/state-diff.ts'
import { DerivationPipeline, type DerivationMetrics, type DerivedBlock } from '../../src/derive/index.ts'
import {
  batcherData,
  channelFrames,
  genesisRef,
  MemorySafeChain,
  type PlannedBlock,
  planBlocks,
  singularBatches,
  spanBatch,
} from '../helpers/derive-harness.ts'
import {
  MemoryL1,
  type MemoryTx,
  memoryRollup,
  TEST_BATCHER as BATCHER,
  TEST_INBOX as INBOX,
  TEST_SYSTEM_CONFIG as SYSTEM_CONFIG,
} from '../helpers/memory-l1.ts'
import { rng } from '../helpers/rng.ts'
import { signedTx } from '../helpers/signed-txs.ts'

const STRANGER: Hex = '0x0000000000000000000000000000000000000bad'
const CHAIN_ID = 6342n

function setup(overrides: Partial<RollupConfig> = {}) {
  const l1 = new MemoryL1(SYSTEM_CONFIG)
  const rollup = memoryRollup(l1, overrides)
  const safe = new MemorySafeChain(rollup)
  const counts = new Map<string, number>()
  const count = (what: string) => (reason: string) => counts.set(`${what}:${reason}`, (counts.get(`${what}:${reason}`) ?? 0) + 1)
  const metrics: DerivationMetrics = {
    observeL1Block: () => {},
    observeSkippedData: count('skipped'),
    observeDroppedFrame: count('frame'),
    observeDroppedChannel: count('channel'),
    observeDroppedBatch: count('batch'),
    observeDerivedBlock: (source) => count('derived')(source),
    observeReset: count('reset'),
  }
  const pipeline = new DerivationPipeline({ confirmations: 0n }, { rollup, l1, safe, logger: pino({ level: 'silent' }), metrics })
  return { l1, rollup, safe, pipeline, counts }
}

/** Steps until idle, accepting every derived block; follows resets. */
async function drive(pipeline: DerivationPipeline, safe: MemorySafeChain, limit = 500): Promise<DerivedBlock[]> {
  const out: DerivedBlock[] = []
  for (let i = 0; i < limit; i++) {
    const result = await pipeline.step()
    if (result === 'idle') return out
    if (result === 'reset') {
      safe.rewind(pipeline.safeHead)
      continue
    }
    out.push(result)
    pipeline.advanceSafeHead(safe.accept(result))
  }
  throw new Error('pipeline did not go idle')
}

/** Origins as the sequencer picks them (`nextOriginChoice`): the newest L1 block not newer than the L2 block. */
function autoOrigins(
  l1: MemoryL1,
  rollup: RollupConfig,
  after: { timestamp: bigint; l1Origin: { number: bigint } },
  count: number,
) {
  const origins: L1Origin[] = []
  let origin = l1.at(after.l1Origin.number)
  for (let i = 1; i <= count; i++) {
    const timestamp = after.timestamp + BigInt(i) * rollup.blockTime
    const next = l1.chain[Number(origin.number) + 1]?.origin
    if (next !== undefined && next.timestamp <= timestamp) origin = next
    origins.push(origin)
  }
  return origins
}

function batcherTx(data: Uint8Array, from: Hex = BATCHER): MemoryTx {
  return { from, to: INBOX, calldata: data }
}

function assertDerivedEqual(derived: readonly DerivedBlock[], planned: readonly PlannedBlock[]) {
  assert.equal(derived.length, planned.length, 'number of derived blocks')
  derived.forEach((d, i) => {
    const p = planned[i]!
    assert.equal(d.number, p.number)
    assert.equal(d.parentHash, p.parentHash)
    assert.deepEqual(d.attributes, p.attributes, `attributes of block ${p.number}`)
  })
}

async function txs(count: number, seed: number): Promise<Uint8Array[]> {
  const r = rng(seed)
  const out: Uint8Array[] = []
  for (let i = 0; i < count; i++) out.push(await signedTx(r.pick(['eip1559', 'legacy', 'eip2930'] as const), Number(CHAIN_ID), r))
  return out
}

describe('derivation pipeline (in-memory L1)', () => {
  it('derives a span batch of 5 blocks and singular batches: origins, sequence numbers, deposits in seq-0 blocks only', async () => {
    const { l1, rollup, safe, pipeline, counts } = setup()
    l1.mine({ deposits: 2 })
    l1.mine()
    l1.mine({ deposits: 1 })
    const origins = autoOrigins(l1, rollup, genesisRef(rollup), 7)
    const specs = await Promise.all(origins.map(async (origin, i) => ({ origin, txs: await txs(i % 3, i) })))
    const planned = planBlocks(rollup, genesisRef(rollup), specs)
    // Blocks 1–5 in a span batch, 6–7 as singular batches, in two channels of one batcher transaction each;
    // a stranger's valid-looking data and malformed data from the batcher around them.
    const span = channelFrames([spanBatch(rollup, planned.slice(0, 5))])
    const singles = channelFrames(singularBatches(planned.slice(5)))
    const strangerData = batcherData(channelFrames(singularBatches(planned.slice(0, 1))))
    l1.mine({
      txs: [
        batcherTx(strangerData, STRANGER),
        batcherTx(Uint8Array.of(0, 1, 2, 3)),
        batcherTx(batcherData(span)),
        batcherTx(Uint8Array.of(7, 7)),
        batcherTx(batcherData(singles)),
      ],
    })
    const derived = await drive(pipeline, safe)
    assertDerivedEqual(derived, planned)
    assert.deepEqual(
      derived.map((d) => [d.attributes.origin.number, d.attributes.sequenceNumber]),
      [
        [0n, 1n],
        [1n, 0n],
        [1n, 1n],
        [2n, 0n],
        [2n, 1n],
        [3n, 0n],
        [3n, 1n],
      ],
    )
    for (const d of derived) {
      const userDeposits = d.attributes.deposits.length - 1
      const expected = d.attributes.sequenceNumber === 0n ? l1.at(d.attributes.origin.number).deposits.length : 0
      assert.equal(userDeposits, expected, `block ${d.number}: user deposits`)
    }
    assert.ok(derived.every((d) => d.source === 'batch' && d.derivedFrom.number === 4n))
    assert.equal(counts.get('skipped:frame-truncated'), 1)
    assert.equal(counts.get('skipped:unknown-batcher-version'), 1)
    assert.equal(pipeline.currentL1.number, 4n)
  })

  it('drops out-of-order and duplicate frames (Holocene), assembles the channel from the frames in order', async () => {
    const { l1, rollup, safe, pipeline, counts } = setup()
    l1.mine()
    const planned = planBlocks(
      rollup,
      genesisRef(rollup),
      autoOrigins(l1, rollup, genesisRef(rollup), 3).map((origin) => ({ origin })),
    )
    const frames = channelFrames(singularBatches(planned), 40)
    assert.ok(frames.length >= 3, 'several frames')
    // Tx 1: frames 0, 1 and a duplicate of 1 (dropped); tx 2: frame 1 again (dropped); tx 3: the rest.
    l1.mine({
      txs: [
        batcherTx(batcherData([frames[0]!, frames[1]!, frames[1]!])),
        batcherTx(batcherData([frames[1]!])),
        batcherTx(batcherData(frames.slice(2))),
      ],
    })
    assertDerivedEqual(await drive(pipeline, safe), planned)
    assert.equal(counts.get('frame:out-of-order'), 2)
  })

  it('a channel whose frames arrive in the wrong order never completes; the sequencing window then forces deposit-only blocks', async () => {
    const { l1, rollup, safe, pipeline, counts } = setup()
    l1.mine({ deposits: 1 })
    const origins = autoOrigins(l1, rollup, genesisRef(rollup), 4)
    const planned = planBlocks(
      rollup,
      genesisRef(rollup),
      await Promise.all(origins.map(async (origin, i) => ({ origin, txs: await txs(1, 100 + i) }))),
    )
    const frames = channelFrames(singularBatches(planned), 60)
    l1.mine({ txs: [batcherTx(batcherData(frames.slice(1))), batcherTx(batcherData(frames.slice(0, 1)))] })
    assert.deepEqual(await drive(pipeline, safe), [], 'nothing before the window expires')
    // Epoch 0's window ends at L1 block 0 + 8: at block 8 (data used up) the pipeline fills epoch 0 itself.
    l1.mineEmpty(6)
    assert.equal(l1.head.number, 8n)
    const forced = await drive(pipeline, safe)
    const summary = (ds: DerivedBlock[]) =>
      ds.map((d) => [
        d.attributes.timestamp - rollup.genesis.l2Time,
        d.attributes.origin.number,
        d.attributes.sequenceNumber,
        d.derivedFrom.number,
      ])
    // Epoch 0 is filled until L1 block 1 (t0 + 2) can be adopted; epoch 1 waits for its own window (1 + 8).
    assert.deepEqual(summary(forced), [[1n, 0n, 1n, 8n]])
    l1.mine()
    const forced1 = await drive(pipeline, safe)
    assert.deepEqual(summary(forced1), [
      [2n, 1n, 0n, 9n],
      [3n, 1n, 1n, 9n],
    ])
    for (const d of [...forced, ...forced1]) {
      assert.equal(d.source, 'sequencing-window')
      assert.deepEqual(d.attributes.transactions, [])
    }
    assert.equal(forced1[0]!.attributes.deposits.length, 2, 'L1-info + the deposit of L1 block 1')
    assert.deepEqual(forced1[0]!.attributes.deposits[1], l1.at(1n).deposits[0])
    assert.equal(forced1[1]!.attributes.deposits.length, 1, 'seq 1: the L1-info deposit only')
    assert.ok((counts.get('frame:no-channel') ?? 0) > 0 || (counts.get('frame:out-of-order') ?? 0) > 0)
  })

  it('drops a timed-out channel; the batcher resubmits and the blocks derive', async () => {
    const { l1, rollup, safe, pipeline, counts } = setup()
    l1.mine()
    const planned = planBlocks(
      rollup,
      genesisRef(rollup),
      autoOrigins(l1, rollup, genesisRef(rollup), 2).map((origin) => ({ origin })),
    )
    const frames = channelFrames(singularBatches(planned), 50)
    l1.mine({ txs: [batcherTx(batcherData(frames.slice(0, 1)))] }) // opens in block 2
    l1.mineEmpty(4) // blocks 3–6: 6 > 2 + channelTimeout (4)
    l1.mine({ txs: [batcherTx(batcherData(frames.slice(1)))] }) // block 7: too late
    assert.deepEqual(await drive(pipeline, safe), [])
    assert.equal(counts.get('channel:timed-out'), 1)
    l1.mine({ txs: [batcherTx(batcherData(frames))] }) // block 8, still inside epoch 0's window
    assertDerivedEqual(await drive(pipeline, safe), planned)
  })

  it('a batch for a wrong parent is dropped with the rest of its channel; a later channel carries the blocks', async () => {
    const { l1, rollup, safe, pipeline, counts } = setup()
    l1.mine()
    const planned = planBlocks(
      rollup,
      genesisRef(rollup),
      autoOrigins(l1, rollup, genesisRef(rollup), 3).map((origin) => ({ origin })),
    )
    const wrong = { ...planned[0]!.batch, parentHash: keccak256(toHex('not the genesis')) }
    const bad = channelFrames([singularBatches([{ ...planned[0]!, batch: wrong }])[0]!, ...singularBatches(planned)])
    l1.mine({ txs: [batcherTx(batcherData(bad))] })
    assert.deepEqual(await drive(pipeline, safe), [], 'the good batches after the bad one went with its channel')
    assert.equal(counts.get('batch:invalid'), 1)
    l1.mine({ txs: [batcherTx(batcherData(channelFrames(singularBatches(planned))))] })
    assertDerivedEqual(await drive(pipeline, safe), planned)
  })

  it('a batch with transactions beyond the sequencer drift is dropped; the window then forces an empty block', async () => {
    const { l1, rollup, safe, pipeline, counts } = setup({ maxSequencerDrift: 2n })
    l1.mine()
    l1.mine()
    // The sequencer keeps origin 0 for 3 blocks: block 3 (t0 + 3) is past 0's timestamp + 2 with a transaction.
    const g = genesisRef(rollup)
    const planned = planBlocks(rollup, g, [
      { origin: l1.at(0n) },
      { origin: l1.at(0n) },
      { origin: l1.at(0n), txs: await txs(1, 7) },
    ])
    l1.mine({ txs: [batcherTx(batcherData(channelFrames(singularBatches(planned))))] })
    const derived = await drive(pipeline, safe)
    assertDerivedEqual(derived, planned.slice(0, 2))
    assert.equal(counts.get('batch:invalid'), 1)
    l1.mineEmpty(6) // L1 block 9 > 0 + 8: epoch 0's window is over
    const forced = await drive(pipeline, safe)
    assert.equal(forced[0]!.number, 3n)
    assert.equal(forced[0]!.source, 'sequencing-window')
    assert.equal(forced[0]!.attributes.origin.number, 1n, 'the forced block adopts the next origin (t0 + 2 ≤ t0 + 3)')
    assert.deepEqual(forced[0]!.attributes.transactions, [])
  })

  it('an L1 reorg that removes a batch rewinds the safe chain; the batch reposted on the new fork derives the same blocks', async () => {
    const { l1, rollup, safe, pipeline, counts } = setup()
    l1.mine({ deposits: 1 })
    const planned = planBlocks(
      rollup,
      genesisRef(rollup),
      autoOrigins(l1, rollup, genesisRef(rollup), 4).map((origin) => ({ origin })),
    )
    l1.mine({ txs: [batcherTx(batcherData(channelFrames(singularBatches(planned.slice(0, 2)))))] }) // block 2
    l1.mine({ txs: [batcherTx(batcherData(channelFrames(singularBatches(planned.slice(2)))))] }) // block 3
    assertDerivedEqual(await drive(pipeline, safe), planned)
    // L1 drops block 3 (the second batch) and grows a longer fork without it.
    l1.reorg(1)
    l1.mine()
    l1.mine()
    const afterReorg = await drive(pipeline, safe)
    assert.equal(counts.get('reset:reorg'), 1)
    assert.equal((await safe.safeHead()).number, 2n, 'blocks 3–4 came from the dropped L1 block')
    assert.deepEqual(afterReorg, [])
    l1.mine({ txs: [batcherTx(batcherData(channelFrames(singularBatches(planned.slice(2)))))] })
    assertDerivedEqual(await drive(pipeline, safe), planned.slice(2))
    assert.equal((await safe.safeHead()).hash, planned[3]!.hash)
  })

  it('a failed L1 read is a temporary error; the next step resumes where it stopped', async () => {
    const { l1, rollup, safe, pipeline } = setup()
    assert.equal(await pipeline.step(), 'idle')
    l1.mine()
    const planned = planBlocks(
      rollup,
      genesisRef(rollup),
      autoOrigins(l1, rollup, genesisRef(rollup), 2).map((origin) => ({ origin })),
    )
    l1.mine({ txs: [batcherTx(batcherData(channelFrames(singularBatches(planned))))] })
    l1.failNext = 2
    for (let i = 0; i < 2; i++)
      await assert.rejects(pipeline.step(), (e: unknown) => isNodeError(e, 'DERIVE_L1_UNAVAILABLE') && e.severity === 'temporary')
    assertDerivedEqual(await drive(pipeline, safe), planned)
  })

  it('a restarted pipeline resumes from the safe head and still reads a channel opened in the L1 block its head came from', async () => {
    const { l1, rollup, safe, pipeline } = setup()
    l1.mine({ deposits: 1 })
    const planned = planBlocks(
      rollup,
      genesisRef(rollup),
      autoOrigins(l1, rollup, genesisRef(rollup), 4).map((origin) => ({ origin })),
    )
    const later = channelFrames(singularBatches(planned.slice(2)), 40)
    assert.ok(later.length >= 2)
    // L1 block 2: the channel of blocks 1–2, then the first frame of the channel of blocks 3–4.
    l1.mine({
      txs: [
        batcherTx(batcherData(channelFrames(singularBatches(planned.slice(0, 2))))),
        batcherTx(batcherData(later.slice(0, 1))),
      ],
    })
    assertDerivedEqual(await drive(pipeline, safe), planned.slice(0, 2))
    // A new pipeline over the same safe chain (a node restart): its head came from L1 block 2, whose
    // second transaction it must read again to complete the next channel in block 3.
    const restarted = new DerivationPipeline({ confirmations: 0n }, { rollup, l1, safe, logger: pino({ level: 'silent' }) })
    l1.mine({ txs: [batcherTx(batcherData(later.slice(1)))] })
    assertDerivedEqual(await drive(restarted, safe), planned.slice(2))
  })

  it('reads batcher data from blobs when it can, and reports blob batches as unreadable once when it cannot', async () => {
    for (const withBlobs of [true, false]) {
      const { l1, rollup, safe, pipeline, counts } = setup()
      const errors: string[] = []
      const logger = pino({ level: 'error' }, { write: (line: string) => errors.push(line) })
      const p = withBlobs
        ? pipeline
        : new DerivationPipeline({ confirmations: 0n }, { rollup, l1, safe, logger, metrics: undefined })
      if (withBlobs) l1.enableBlobs()
      l1.mine()
      const planned = planBlocks(
        rollup,
        genesisRef(rollup),
        autoOrigins(l1, rollup, genesisRef(rollup), 4).map((origin) => ({ origin })),
      )
      const blob = encodeBlob(batcherData(channelFrames(singularBatches(planned.slice(0, 2)))))
      // A type-3 transaction whose calldata would parse (it must be ignored), then a calldata batch.
      const decoy = batcherData(
        channelFrames(singularBatches([{ ...planned[0]!, batch: { ...planned[0]!.batch, transactions: await txs(1, 9) } }])),
      )
      l1.mine({ txs: [{ ...batcherTx(decoy), blobs: [blob, encodeBlob(new Uint8Array())] }, batcherTx(Uint8Array.of(0))] })
      l1.mine({ txs: [{ ...batcherTx(new Uint8Array()), blobs: [blob] }] })
      l1.mine({ txs: [batcherTx(batcherData(channelFrames(singularBatches(planned.slice(2)))))] })
      const derived = await drive(p, safe)
      if (withBlobs) {
        assertDerivedEqual(derived, planned)
        assert.equal(counts.get('skipped:empty-batcher-data'), 1, 'the empty blob')
        assert.equal(counts.get('skipped:no-frames'), 1, 'the version byte alone')
      } else {
        assert.deepEqual(derived, [], 'blocks 1–2 are only in blobs, so 3–4 do not link up')
        assert.equal(errors.filter((line) => line.includes('no blob source')).length, 1, 'said once')
      }
    }
  })
})
