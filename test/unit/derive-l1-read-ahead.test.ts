/**
 * L1 read-ahead (`derive/l1-read-ahead.ts`): blocks come out in order, at most `depth` reads are held,
 * a read ahead that found nothing or failed is read again when the pipeline reaches it; and, as a
 * differential check, a pipeline that reads 8 blocks ahead ends on the same safe chain as one that
 * reads none, over the same in-memory L1, through a reorg that takes blocks the first one had read
 * ahead and derived from.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import pino from 'pino'
import type { L1Origin } from '../../src/chain/l1-origin.ts'
import type { Hex } from '../../src/primitives/state-diff.ts'
import { DerivationPipeline } from '../../src/derive/index.ts'
import { type L1BlockData, L1ReadAhead } from '../../src/derive/l1-read-ahead.ts'
import {
  batcherData,
  channelFrames,
  genesisRef,
  MemorySafeChain,
  planBlocks,
  refOf,
  singularBatches,
} from '../helpers/derive-harness.ts'
import {
  MemoryL1,
  memoryRollup,
  TEST_BATCHER as BATCHER,
  TEST_INBOX as INBOX,
  TEST_SYSTEM_CONFIG as SYSTEM_CONFIG,
} from '../helpers/memory-l1.ts'

/** A fake L1 of `length` blocks for the read-ahead alone: counts reads, can fail or stop at a height. */
function fakeL1(length: number) {
  const origins: L1Origin[] = Array.from({ length: 64 }, (_, i) => ({ number: BigInt(i) }) as unknown as L1Origin)
  const state = { height: length, reads: [] as bigint[], inFlight: 0, maxInFlight: 0, failing: new Set<bigint>() }
  const read = async (parent: L1Origin): Promise<L1BlockData | undefined> => {
    const number = parent.number + 1n
    state.reads.push(number)
    state.inFlight++
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight)
    await new Promise((resolve) => setImmediate(resolve))
    state.inFlight--
    if (state.failing.delete(number)) throw new Error(`read of ${number} failed`)
    if (number >= BigInt(state.height)) return undefined
    return { origin: origins[Number(number)]!, data: [] }
  }
  return { origins, state, read }
}

/** Lets the reads ahead run (each takes one macrotask). */
async function settle(): Promise<void> {
  for (let i = 0; i < 40; i++) await new Promise((resolve) => setImmediate(resolve))
}

describe('L1ReadAhead', () => {
  it('hands blocks over in order and holds at most `depth` reads ahead', async () => {
    const { origins, state, read } = fakeL1(30)
    const ahead = new L1ReadAhead(read, 3)
    let parent = origins[0]!
    for (let n = 1; n < 30; n++) {
      const block = await ahead.next(parent)
      assert.equal(block?.origin.number, BigInt(n))
      await settle()
      // Ahead of the pipeline, never further than 3 blocks.
      assert.ok(state.reads.at(-1)! <= BigInt(n + 3), `read ${state.reads.at(-1)} while at ${n}`)
      parent = block!.origin
    }
    assert.ok(state.maxInFlight <= 3)
    // Every block read once, except the end of the chain, which is asked again when reached.
    const counts = new Map<bigint, number>()
    for (const n of state.reads) counts.set(n, (counts.get(n) ?? 0) + 1)
    for (let n = 1n; n < 30n; n++) assert.equal(counts.get(n), 1, `block ${n} read once`)
  })

  it('a block read ahead past the head is read again when reached: L1 grew meanwhile', async () => {
    const { origins, state, read } = fakeL1(3)
    const ahead = new L1ReadAhead(read, 4)
    assert.equal((await ahead.next(origins[0]!))?.origin.number, 1n)
    await settle() // reads 2, then 3: past the head
    assert.equal((await ahead.next(origins[1]!))?.origin.number, 2n)
    state.height = 5
    assert.equal((await ahead.next(origins[2]!))?.origin.number, 3n, 'not idle: block 3 exists now')
  })

  it('a failed read ahead is read again when reached; a failure then is thrown', async () => {
    const { origins, state, read } = fakeL1(10)
    const ahead = new L1ReadAhead(read, 4)
    state.failing.add(2n)
    assert.equal((await ahead.next(origins[0]!))?.origin.number, 1n)
    await settle()
    assert.equal((await ahead.next(origins[1]!))?.origin.number, 2n)
    // Read now (nothing ahead: depth 0), a failure is the caller's, and the next call reads again.
    const direct = new L1ReadAhead(read, 0)
    state.failing.add(5n)
    await assert.rejects(direct.next(origins[4]!), /read of 5 failed/)
    assert.equal((await direct.next(origins[4]!))?.origin.number, 5n)
  })
})

describe('a pipeline reading L1 ahead derives what one reading none derives', () => {
  it('through a reorg of L1 blocks it had read ahead', async () => {
    const l1 = new MemoryL1(SYSTEM_CONFIG)
    const rollup = memoryRollup(l1)
    const sides = [8, 0].map((readAhead) => {
      const safe = new MemorySafeChain(rollup)
      const pipeline = new DerivationPipeline(
        { confirmations: 0n, readAhead },
        { rollup, l1, safe, logger: pino({ level: 'silent' }) },
      )
      return { safe, pipeline, log: [] as string[] }
    })
    /** Steps each side `count` times (or to idle), logging what came out. */
    const step = async (count: number) => {
      for (const side of sides)
        for (let i = 0; i < count; i++) {
          const result = await side.pipeline.step()
          if (result === 'idle') {
            side.log.push('idle')
            break
          }
          if (result === 'reset') {
            side.safe.rewind(side.pipeline.safeHead)
            side.log.push(`reset to ${side.pipeline.safeHead.number}`)
            continue
          }
          side.log.push(
            `${result.number} ${result.parentHash} ${result.derivedFrom.hash} ${result.attributes.transactions.length}`,
          )
          side.pipeline.advanceSafeHead(side.safe.accept(result))
          // Let the reads ahead run between blocks, as execution gives them time to.
          await settle()
        }
    }
    // Batches in L1 blocks 2..7, two L2 blocks each (L2 block n's origin: L1 block n / 2).
    l1.mine()
    let head = genesisRef(rollup)
    for (let k = 1; k <= 6; k++) {
      const planned = planBlocks(
        rollup,
        head,
        [2 * k - 1, 2 * k].map((n) => ({ origin: l1.at(BigInt(Math.floor(n / 2))) })),
      )
      l1.mine({ txs: [{ from: BATCHER, to: INBOX, calldata: batcherData(channelFrames(singularBatches(planned))) }] })
      head = refOf(planned.at(-1)!)
    }
    await step(3) // blocks 1–3 derived (L1 blocks 2–3); the first side has read L1 blocks 4–7 ahead
    // L1 drops blocks 4–7 (read ahead by the first side, never by the second) and grows another fork
    // without batches: the sequencing window then forces deposit-only blocks on both sides.
    const dropped = new Set([4, 5, 6, 7].map((n) => l1.at(BigInt(n)).hash))
    l1.reorg(4)
    l1.mineEmpty(14)
    await step(200)
    const [ahead, none] = sides
    // The side reading ahead handled the dropped blocks as if it had reached them before the reorg: it
    // derived from them, then found the reorg and rewound; the other never saw them.
    assert.ok(
      ahead!.log.some((line) => dropped.has(line.split(' ')[2] as Hex)),
      'derived from a block read ahead',
    )
    assert.ok(ahead!.log.some((line) => line.startsWith('reset')))
    assert.ok(!none!.log.some((line) => dropped.has(line.split(' ')[2] as Hex)))
    // Both end on the same safe chain, block for block.
    const tip = (await none!.safe.safeHead()).number
    assert.ok(tip > 12n, `forced blocks past the batches (${tip})`)
    assert.equal((await ahead!.safe.safeHead()).number, tip)
    for (let n = 1n; n <= tip; n++)
      assert.deepEqual(await ahead!.safe.blockRef(n), await none!.safe.blockRef(n), `safe block ${n}`)
  })
})
