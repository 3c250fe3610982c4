/**
 * Channels decoded as their L1 data is read (`derive/channel-prefetch.ts`): a channel completes in the
 * silent assembly as soon as its last frame is read and its transactions are told then; the reader gets
 * the decoding only for the very same bytes (a reused channel id with other bytes is a miss); a gap in
 * the blocks shown restarts the assembly; `clear()` drops everything and ignores reads from before it;
 * the bytes held stay under the bound. And, differentially, a pipeline that decodes channels ahead
 * (and tells their transactions early) ends on the same safe chain as one that does not, through an
 * invalid batch, channels split across L1 blocks, and a reorg that takes blocks it had read and decoded
 * ahead, in whose place the batcher posts two channels under one id (the first: that id with other bytes).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import pino from 'pino'
import { keccak256, toHex } from 'viem'
import type { L1Origin } from '../../src/chain/l1-origin.ts'
import type { RollupConfig } from '../../src/chain/rollup-config.ts'
import { decodeBatch } from '../../src/da/batch.ts'
import { decodeChannel, encodeChannel } from '../../src/da/channel.ts'
import { MAX_RLP_BYTES_PER_CHANNEL } from '../../src/da/compression.ts'
import { channelToFrames, type Frame } from '../../src/da/frame.ts'
import { ChannelPrefetcher } from '../../src/derive/channel-prefetch.ts'
import { DerivationPipeline, type DerivationMetrics, type DerivedBlock } from '../../src/derive/index.ts'
import { NO_METRICS } from '../../src/derive/metrics.ts'
import {
  batcherData,
  genesisRef,
  MemorySafeChain,
  type PlannedBlock,
  planBlocks,
  refOf,
  singularBatches,
  spanBatch,
} from '../helpers/derive-harness.ts'
import {
  MemoryL1,
  memoryRollup,
  TEST_BATCHER as BATCHER,
  TEST_INBOX as INBOX,
  TEST_SYSTEM_CONFIG as SYSTEM_CONFIG,
} from '../helpers/memory-l1.ts'
import { rng } from '../helpers/rng.ts'
import { signedTx } from '../helpers/signed-txs.ts'

const CHAIN_ID = 6342n

const rollupOf = (l1: MemoryL1): RollupConfig => memoryRollup(l1)

function channelId(n: number): Uint8Array {
  const id = new Uint8Array(16)
  id[0] = 0xcc
  new DataView(id.buffer).setUint32(12, n)
  return id
}

/** `batches` as one channel with id `id`, in frames of at most `maxFrame` bytes. */
function frames(id: Uint8Array, batches: readonly Uint8Array[], maxFrame = 100_000): Frame[] {
  return channelToFrames(id, encodeChannel(batches, { algorithm: 'brotli', level: 5 }), maxFrame)
}

async function txs(count: number, seed: number): Promise<Uint8Array[]> {
  const r = rng(seed)
  const out: Uint8Array[] = []
  for (let i = 0; i < count; i++) out.push(await signedTx(r.pick(['eip1559', 'legacy', 'eip2930'] as const), Number(CHAIN_ID), r))
  return out
}

/** L2 block n's origin: L1 block ⌊n/2⌋ (L1 every 2 s, L2 every second). */
async function plan(l1: MemoryL1, rollup: RollupConfig, parent: ReturnType<typeof genesisRef>, count: number, seed: number) {
  const specs = []
  for (let i = 1; i <= count; i++) {
    const n = parent.number + BigInt(i)
    specs.push({ origin: l1.at(n / 2n), txs: await txs(1 + ((i + seed) % 3), seed * 100 + i) })
  }
  return planBlocks(rollup, parent, specs)
}

/** Fake origins for the prefetcher alone: a chain of hashes. */
function originChain(length: number, salt = 'a'): L1Origin[] {
  const out: L1Origin[] = []
  for (let i = 0; i < length; i++)
    out.push({
      number: BigInt(i),
      hash: keccak256(toHex(`${salt}-${i}`)),
      parentHash: i === 0 ? keccak256(toHex('root')) : out[i - 1]!.hash,
    } as unknown as L1Origin)
  return out
}

describe('ChannelPrefetcher', () => {
  it('decodes a channel when its last frame is read, tells its transactions, and hands the same batches to the reader', async () => {
    const l1 = new MemoryL1(SYSTEM_CONFIG)
    const rollup = rollupOf(l1)
    l1.mine()
    const planned = await plan(l1, rollup, genesisRef(rollup), 3, 1)
    const id = channelId(1)
    const parts = frames(id, [spanBatch(rollup, planned)], 200)
    assert.ok(parts.length >= 2, 'the channel spans frames')
    const told: Uint8Array[][] = []
    const prefetch = new ChannelPrefetcher(rollup, (raws) => told.push([...raws]))
    const origins = originChain(4)
    prefetch.observe(origins[1]!, [batcherData(parts.slice(0, 1))], prefetch.generation)
    assert.equal(told.length, 0, 'not complete yet')
    prefetch.observe(origins[2]!, [batcherData(parts.slice(1))], prefetch.generation)
    assert.deepEqual(
      told,
      planned.map((p) => p.batch.transactions),
      'each block’s transactions, in order, as the channel completes',
    )
    const data = encodeChannel([spanBatch(rollup, planned)], { algorithm: 'brotli', level: 5 })
    // A reused id with other bytes is not this channel.
    assert.equal(prefetch.take(id, data.slice(0, -1)), undefined)
    const taken = prefetch.take(id, data.slice())
    assert.ok(taken !== undefined)
    const expected = decodeChannel(data, { maxBytes: MAX_RLP_BYTES_PER_CHANNEL, fjord: true })
    assert.deepEqual(taken.decoded, expected)
    assert.deepEqual(
      taken.batches,
      expected.batches.map((b) => decodeBatch(b, { genesisTimestamp: rollup.genesis.l2Time, blockTime: 1n, chainId: CHAIN_ID })),
    )
    // The transactions told are the very arrays the decoded batches carry (the tx prefetcher keys by identity).
    const span = taken.batches[0]!
    assert.ok(span.ok && span.value.type === 'span')
    assert.ok(span.value.batch.blocks.every((block, i) => block.transactions[0] === told[i]![0]))
    assert.equal(prefetch.take(id, data), undefined, 'taken once')
    assert.deepEqual(prefetch.stats, { decoded: 1, skipped: 0, hits: 1, misses: 2, heldBytes: 0 })
  })

  it('a gap in the blocks shown restarts the assembly; clear() drops all and ignores reads from before it; passed() drops what was not taken', async () => {
    const l1 = new MemoryL1(SYSTEM_CONFIG)
    const rollup = rollupOf(l1)
    l1.mine()
    const planned = await plan(l1, rollup, genesisRef(rollup), 2, 2)
    const id = channelId(2)
    const parts = frames(id, singularBatches(planned), 150)
    const told: Uint8Array[][] = []
    const prefetch = new ChannelPrefetcher(rollup, (raws) => told.push([...raws]))
    const a = originChain(6, 'a')
    const b = originChain(6, 'b')
    // First frame on one fork, the rest on a block of another: no channel.
    prefetch.observe(a[1]!, [batcherData(parts.slice(0, 1))], prefetch.generation)
    prefetch.observe(b[2]!, [batcherData(parts.slice(1))], prefetch.generation)
    assert.equal(told.length, 0)
    // A read started before a clear() lands after it: ignored.
    const before = prefetch.generation
    prefetch.clear()
    prefetch.observe(b[3]!, [batcherData(parts)], before)
    assert.equal(told.length, 0)
    prefetch.observe(b[3]!, [batcherData(parts)], prefetch.generation)
    assert.equal(told.length, 2)
    assert.ok(prefetch.stats.heldBytes > 0)
    prefetch.passed(3n)
    assert.ok(prefetch.stats.heldBytes > 0, 'still held while the pipeline reads block 3')
    prefetch.passed(4n)
    assert.equal(prefetch.stats.heldBytes, 0)
    prefetch.observe(b[4]!, [batcherData(frames(channelId(3), singularBatches(planned)))], prefetch.generation)
    prefetch.clear()
    assert.equal(prefetch.stats.heldBytes, 0)
  })

  it('holds at most maxBytes: past it a channel is left to the reader', async () => {
    const l1 = new MemoryL1(SYSTEM_CONFIG)
    const rollup = rollupOf(l1)
    l1.mineEmpty(3)
    const planned = await plan(l1, rollup, genesisRef(rollup), 6, 3)
    const told: Uint8Array[][] = []
    // What a channel of blocks [from, from + 2) holds once decoded: its compressed bytes and its batches.
    const size = (from: number) => {
      const batches = singularBatches(planned.slice(from, from + 2))
      return encodeChannel(batches, { algorithm: 'brotli', level: 5 }).length + batches.reduce((s, b) => s + b.length, 0)
    }
    // Room for the first two channels and half of the third.
    const maxBytes = size(0) + size(2) + Math.floor(size(4) / 2)
    const prefetch = new ChannelPrefetcher(rollup, (raws) => told.push([...raws]), { maxBytes })
    const origins = originChain(8)
    for (let k = 0; k < 3; k++) {
      prefetch.observe(
        origins[k + 1]!,
        [batcherData(frames(channelId(10 + k), singularBatches(planned.slice(2 * k, 2 * k + 2))))],
        prefetch.generation,
      )
      assert.ok(prefetch.stats.heldBytes <= maxBytes)
    }
    assert.equal(prefetch.stats.decoded, 2)
    assert.equal(prefetch.stats.skipped, 1)
    assert.equal(told.length, 4, 'only the decoded channels’ transactions are told')
    // Taking one makes room again.
    const data = encodeChannel(singularBatches(planned.slice(0, 2)), { algorithm: 'brotli', level: 5 })
    assert.ok(prefetch.take(channelId(10), data) !== undefined)
    prefetch.observe(origins[4]!, [batcherData(frames(channelId(13), singularBatches(planned.slice(4, 6))))], prefetch.generation)
    assert.equal(prefetch.stats.decoded, 3)
  })
})

describe('a pipeline decoding channels ahead derives what one decoding them when reached derives', () => {
  it('through an invalid batch, split channels and a reorg of blocks it had decoded ahead', async () => {
    const l1 = new MemoryL1(SYSTEM_CONFIG)
    const rollup = rollupOf(l1)
    const silent = pino({ level: 'silent' })
    const outcomes = { hit: 0, miss: 0 }
    const metrics = (): DerivationMetrics => ({
      ...NO_METRICS,
      observeChannelPrefetch: (outcome) => outcomes[outcome]++,
    })
    // When each transaction was first told (the L1 block the pipeline was at then).
    const toldAt = new Map<Uint8Array, bigint>()
    const sides = [true, false].map((ahead) => {
      const safe = new MemorySafeChain(rollup)
      const pipeline: DerivationPipeline = new DerivationPipeline(
        { confirmations: 0n, readAhead: ahead ? 8 : 0 },
        {
          rollup,
          l1,
          safe,
          logger: silent,
          metrics: metrics(),
          ...(ahead
            ? {
                onBatchRead: (raws: readonly Uint8Array[]) => {
                  let at = -1n
                  try {
                    at = pipeline.currentL1.number
                  } catch {
                    // Before the first block the pipeline is at nothing yet.
                  }
                  for (const raw of raws) if (!toldAt.has(raw)) toldAt.set(raw, at)
                },
              }
            : {}),
        },
      )
      return { ahead, safe, pipeline, derived: [] as DerivedBlock[], resets: 0 }
    })
    const step = async (count: number) => {
      for (const side of sides)
        for (let i = 0; i < count; i++) {
          const result = await side.pipeline.step()
          if (result === 'idle') break
          if (result === 'reset') {
            side.safe.rewind(side.pipeline.safeHead)
            side.resets++
            continue
          }
          if (side.ahead)
            for (const raw of result.attributes.transactions)
              assert.ok(toldAt.has(raw), `block ${result.number}: its transactions were told before it was derived`)
          side.derived.push(result)
          side.pipeline.advanceSafeHead(side.safe.accept(result))
          // Let the reads ahead run between blocks, as execution gives them time to.
          for (let j = 0; j < 20; j++) await new Promise((resolve) => setImmediate(resolve))
        }
    }
    // Channel k carries L2 blocks 2k−1, 2k (a span batch); channels 1, 2, 4 are split over two L1 blocks.
    l1.mine()
    const blocks: PlannedBlock[] = []
    let head = genesisRef(rollup)
    const channel = async (k: number, maxFrame = 100_000, seed = k, id = k): Promise<Frame[]> => {
      const planned = await plan(l1, rollup, head, 2, seed)
      blocks.push(...planned)
      head = refOf(planned.at(-1)!)
      return frames(channelId(id), [spanBatch(rollup, planned)], maxFrame)
    }
    const tx = (f: readonly Frame[]) => ({ from: BATCHER, to: INBOX, calldata: batcherData(f) })
    const ch1 = await channel(1, 150)
    l1.mine({ txs: [tx(ch1.slice(0, 1))] }) // L1 2
    const ch2 = await channel(2, 150)
    l1.mine({ txs: [tx(ch1.slice(1)), tx(ch2.slice(0, 1))] }) // L1 3
    // A batch for block 5 on a wrong parent: dropped, its channel flushed; channel 3 then carries block 5.
    const wrong = planBlocks(rollup, { ...head, hash: keccak256(toHex('not the safe head')) }, [{ origin: l1.at(2n) }])
    const ch3 = await channel(3)
    l1.mine({ txs: [tx(ch2.slice(1)), tx(frames(channelId(99), singularBatches(wrong))), tx(ch3)] }) // L1 4
    const ch4 = await channel(4, 150)
    l1.mine({ txs: [tx(ch4.slice(0, 1))] }) // L1 5
    l1.mine({ txs: [tx(ch4.slice(1))] }) // L1 6
    const beforeReorg = head
    const ch5 = await channel(5)
    l1.mine({ txs: [tx(ch5)] }) // L1 7
    await step(7) // blocks 1–7 (L1 up to 6); the first side has read and decoded L1 7 ahead
    assert.equal(sides[0]!.derived.length, 7)
    // L1 drops block 7; in the block that replaces it the batcher posts blocks 9, 10 again (other
    // transactions) in a channel with channel 5's id and other bytes, then channel 6 under the same id.
    l1.reorg(1)
    blocks.length = 8
    head = beforeReorg
    const ch5b = await channel(5, 100_000, 55)
    const ch6 = await channel(6, 100_000, 6, 5)
    l1.mine({ txs: [tx(ch5b), tx(ch6)] }) // L1 7'
    l1.mineEmpty(3)
    await step(200)
    const [ahead, none] = sides
    assert.equal(none!.resets, 0, 'the side reading one block at a time never saw block 7')
    const tip = (await none!.safe.safeHead()).number
    assert.equal(tip, 12n)
    assert.equal((await ahead!.safe.safeHead()).number, tip)
    for (let n = 1n; n <= tip; n++)
      assert.deepEqual(await ahead!.safe.blockRef(n), await none!.safe.blockRef(n), `safe block ${n}`)
    // The derived blocks are the planned ones, transactions included.
    const final = (side: (typeof sides)[number]) => {
      const byNumber = new Map<bigint, DerivedBlock>()
      for (const d of side.derived) byNumber.set(d.number, d)
      return [...byNumber.values()].sort((x, y) => Number(x.number - y.number))
    }
    for (const side of sides)
      assert.deepEqual(
        final(side).map((d) => d.attributes),
        blocks.map((b) => b.attributes),
      )
    // Decoded ahead: most channels were hits, and most blocks' transactions were told before the
    // pipeline reached the L1 block they were derived from.
    assert.ok(outcomes.hit >= 4, `hits ${outcomes.hit}, misses ${outcomes.miss}`)
    const early = ahead!.derived.filter((d) => d.attributes.transactions.every((raw) => toldAt.get(raw)! < d.derivedFrom.number))
    assert.ok(early.length >= 6, `${early.length} of ${ahead!.derived.length} blocks told ahead`)
  })
})
