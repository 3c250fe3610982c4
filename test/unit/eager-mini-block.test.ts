// run-tests: alone — asserts the spacing of mini-blocks against the producer's timers
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { deriveDevAccounts } from '../../src/chain/dev.ts'
import type { MiniBlock } from '../../src/chain/mini-block.ts'
import type { Sequencer } from '../../src/sequencer/sequencer.ts'
import { openChain, type OpenedChain } from '../../src/node/bootstrap.ts'
import {
  DEV_COMMON as common,
  DEV_CONFIG as config,
  DEV_GENESIS as genesis,
  startDevSequencer,
} from '../helpers/dev-sequencer.ts'

const senders = deriveDevAccounts(4)

/**
 * The tick is stretched to 1 s so that "before the tick" is unambiguous on a loaded machine: an eager
 * mini-block lands milliseconds after the transaction, the tick a second after the previous one.
 */
const TICK_MS = 1_000

function transfer(senderIndex: number, nonce: number): Uint8Array {
  const sender = senders[senderIndex]!
  return createFeeMarket1559Tx(
    {
      nonce: BigInt(nonce),
      maxFeePerGas: 10n ** 10n,
      maxPriorityFeePerGas: 1n,
      gasLimit: 21_000n,
      to: hexToBytes(senders[(senderIndex + 1) % senders.length]!.address),
      value: 1n,
      chainId: config.chainId,
    },
    { common },
  )
    .sign(hexToBytes(sender.privateKey))
    .serialize()
}

interface Harness {
  sequencer: Sequencer
  opened: OpenedChain
  /** Mini-blocks in publication order (after their WAL fsync). */
  published: MiniBlock[]
  /** Resolves with the next mini-block published. */
  next(): Promise<MiniBlock>
  close(): Promise<void>
}

async function startSequencer(eagerMiniBlockMs: number): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'megaeth-eager-'))
  const opened = await openChain(dir, genesis, config, common)
  const published: MiniBlock[] = []
  let waiting: ((block: MiniBlock) => void)[] = []
  opened.chain.events.on('miniBlock', (block: MiniBlock) => {
    published.push(block)
    const resolvers = waiting
    waiting = []
    for (const resolve of resolvers) resolve(block)
  })
  // One EVM block for the whole test: block boundaries (and the wait for the parent's seal) stay out.
  const sequencer = await startDevSequencer(opened, { miniBlockMs: TICK_MS, blockMs: 600_000, eagerMiniBlockMs })
  return {
    sequencer,
    opened,
    published,
    next: () => new Promise((resolve) => waiting.push(resolve)),
    close: async () => {
      await sequencer.stop()
      await opened.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/** µs between two mini-blocks' production timestamps, as milliseconds. */
function gapMs(earlier: MiniBlock, later: MiniBlock): number {
  return Number(later.timestampUs - earlier.timestampUs) / 1000
}

describe('eager mini-blocks', () => {
  it('a sync send is answered from the mini-block right after the last tick, long before the next tick', async () => {
    const h = await startSequencer(2)
    try {
      // Wait past the block's first mini-block (system calls) for a heartbeat: the next tick is then 1 s away.
      while (h.published.length < 2) await h.next()
      const tick = h.published.at(-1)!
      const { receipt } = await h.sequencer.submitAndWait(transfer(0, 0), 30_000)
      assert.ok(receipt !== undefined && receipt.status === 1)
      // Its mini-block is the one after the tick's, published (so fsynced) before the answer.
      assert.equal(receipt.miniBlockNumber, tick.number + 1n)
      const carrier = h.published.find((mb) => mb.number === receipt.miniBlockNumber)
      assert.ok(carrier !== undefined, 'the receipt left only after its mini-block was published')
      assert.deepEqual(carrier.transactions.length, 1)
      assert.ok(
        gapMs(tick, carrier) < TICK_MS / 2,
        `produced ${gapMs(tick, carrier)} ms after the tick's mini-block: not eagerly`,
      )
      // The WAL holds it: the durable copy is the one that was answered.
      const logged = (await h.opened.wal.readAll()).find((mb) => mb.number === carrier.number)
      assert.ok(logged !== undefined, 'the eager mini-block is in the WAL')
      assert.equal(bytesToHex(logged.hash), bytesToHex(carrier.hash))
      // The heartbeat goes on: the tick still produces (empty) mini-blocks when nothing arrives.
      const before = h.published.length
      while (h.published.length < before + 2) await h.next()
      const [a, b] = h.published.slice(-2)
      assert.equal(b!.number, a!.number + 1n)
      assert.equal(b!.transactions.length, 0)
    } finally {
      await h.close()
    }
  })

  it('with eager mini-blocks off (--miniblock-eager-ms = --miniblock-ms) the transaction waits for the tick', async () => {
    const h = await startSequencer(TICK_MS)
    try {
      while (h.published.length < 2) await h.next()
      const tick = h.published.at(-1)!
      const { receipt } = await h.sequencer.submitAndWait(transfer(0, 0), 30_000)
      assert.ok(receipt !== undefined && receipt.status === 1)
      assert.equal(receipt.miniBlockNumber, tick.number + 1n)
      const carrier = h.published.find((mb) => mb.number === receipt.miniBlockNumber)!
      // setTimeout never fires early: the tick-produced mini-block is about a whole interval later. Timestamps are
      // taken after execution, which a loaded machine can delay by a lot: half the interval still tells it from 2 ms.
      assert.ok(gapMs(tick, carrier) >= TICK_MS / 2, `produced ${gapMs(tick, carrier)} ms after the tick's mini-block`)
    } finally {
      await h.close()
    }
  })

  it('transactions arriving in a burst share mini-blocks spaced by the eager interval, in order, nothing lost', async () => {
    const eagerMs = 200
    const h = await startSequencer(eagerMs)
    try {
      while (h.published.length < 2) await h.next()
      const firstNumber = h.published.at(-1)!.number + 1n
      // 4 senders × 5 nonces, one every ~20 ms: ~400 ms of arrivals, a few eager mini-blocks.
      const waits: Promise<Awaited<ReturnType<Sequencer['submitAndWait']>>>[] = []
      for (let nonce = 0; nonce < 5; nonce++)
        for (let s = 0; s < senders.length; s++) {
          waits.push(h.sequencer.submitAndWait(transfer(s, nonce), 30_000))
          await sleep(20)
        }
      const results = await Promise.all(waits)
      assert.ok(results.every((r) => r.receipt?.status === 1))
      const carriers = h.published.filter((mb) => mb.number >= firstNumber && mb.transactions.length > 0)
      assert.equal(
        carriers.reduce((n, mb) => n + mb.transactions.length, 0),
        20,
      )
      // Far fewer mini-blocks than transactions (the interval batches arrivals), and fewer than the tick alone would need
      // to carry them at one per tick: eager starts happened, but never closer than the interval.
      assert.ok(carriers.length < 20, `${carriers.length} mini-blocks for 20 transactions`)
      const produced = h.published.filter((mb) => mb.number >= firstNumber)
      for (let i = 1; i < produced.length; i++) {
        assert.equal(produced[i]!.number, produced[i - 1]!.number + 1n, 'published in order, without gaps')
        // Timestamps are taken after execution, so allow three quarters of the interval of jitter (a loaded machine).
        assert.ok(
          gapMs(produced[i - 1]!, produced[i]!) >= eagerMs / 4,
          `two mini-blocks ${gapMs(produced[i - 1]!, produced[i]!)} ms apart`,
        )
      }
      // Each sender's nonces in order across mini-blocks.
      const last = h.published.at(-1)!
      const byNumber = new Map(results.map((r) => [r.hash, r.receipt!]))
      for (let s = 0; s < senders.length; s++) {
        const mbs = results.filter((_, i) => i % senders.length === s).map((r) => byNumber.get(r.hash)!.miniBlockNumber)
        assert.deepEqual(
          mbs,
          [...mbs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      }
      assert.ok(last.number >= firstNumber)
    } finally {
      await h.close()
    }
  })
})
