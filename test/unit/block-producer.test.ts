// run-tests: alone — asserts what the producer picks under a backlog, which depends on timer cadence
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { Registry } from 'prom-client'
import { deriveDevAccounts } from '../../src/chain/dev.ts'
import type { MiniBlock } from '../../src/chain/mini-block.ts'
import { DEFAULT_SEQUENCER_OPTIONS } from '../../src/sequencer/options.ts'
import type { Sequencer } from '../../src/sequencer/sequencer.ts'
import { openChain, type OpenedChain } from '../../src/node/bootstrap.ts'
import {
  DEV_COMMON as common,
  DEV_CONFIG as config,
  DEV_GENESIS as genesis,
  startDevSequencer,
} from '../helpers/dev-sequencer.ts'

/** Init code that counts down from 1,000 (~26,000 gas of JUMPI loop) and deploys nothing: a slow transaction. */
const SLOW_INIT_CODE = hexToBytes('0x6103e85b600190038060035700')

/**
 * A sequencer on `dir` (opened, or reopened on what a previous one left there), started;
 * `onMiniBlock` is subscribed before it starts, so it sees the very first mini-block.
 */
async function startSequencer(
  dir: string,
  registry = new Registry(),
  onMiniBlock?: (block: MiniBlock) => void,
): Promise<{ sequencer: Sequencer; opened: OpenedChain }> {
  const opened = await openChain(dir, genesis, config, common)
  if (onMiniBlock !== undefined) opened.chain.events.on('miniBlock', onMiniBlock)
  return { sequencer: await startDevSequencer(opened, {}, registry), opened }
}

test('under a backlog of slow transactions the producer picks about what it executes, then returns to the maximum', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'megaeth-producer-'))
  const registry = new Registry()
  const { sequencer, opened } = await startSequencer(dir, registry)
  const pickLimit = async (): Promise<number | undefined> =>
    (await registry.getSingleMetric('megaeth_miniblock_pick_limit')?.get())?.values[0]?.value
  try {
    const senders = deriveDevAccounts(4)
    const raws = senders.flatMap((sender) =>
      Array.from({ length: 30 }, (_, nonce) =>
        createFeeMarket1559Tx(
          {
            nonce: BigInt(nonce),
            maxFeePerGas: 10n ** 10n,
            maxPriorityFeePerGas: 1n,
            gasLimit: 200_000n,
            data: SLOW_INIT_CODE,
            chainId: config.chainId,
          },
          { common },
        )
          .sign(hexToBytes(sender.privateKey))
          .serialize(),
      ),
    )
    const waits = raws.map((raw) => sequencer.submitAndWait(raw, 60_000))
    let lowest = Number.POSITIVE_INFINITY
    let settled = false
    const all = Promise.all(waits).finally(() => (settled = true))
    while (!settled) {
      lowest = Math.min(lowest, (await pickLimit()) ?? Number.POSITIVE_INFINITY)
      await sleep(5)
    }
    const results = await all
    // Nothing lost or reordered by picking less: every transaction included once, each successfully.
    assert.equal(results.length, 120)
    assert.ok(
      results.every((r) => r.receipt?.status === 1),
      'every slow transaction succeeded',
    )
    assert.equal(new Set(results.map((r) => r.hash)).size, 120)
    assert.ok(lowest < 64, `the pick limit stayed at ${lowest} with ${raws.length} slow transactions queued`)
    // Idle mini-blocks execute everything they pick (nothing), so the limit doubles back to the maximum.
    await sleep(300)
    assert.equal(await pickLimit(), DEFAULT_SEQUENCER_OPTIONS.maxTxsPerMiniBlock)
  } finally {
    await sequencer.stop()
    await opened.close()
    await rm(dir, { recursive: true, force: true })
  }
})

test('the mini-block chain continues across a restart: the first new mini-block extends the last one before the stop', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'megaeth-producer-'))
  try {
    let { sequencer, opened } = await startSequencer(dir)
    let last: MiniBlock | undefined
    opened.chain.events.on('miniBlock', (block: MiniBlock) => (last = block))
    await sleep(100)
    await sequencer.stop()
    const head = opened.chain.head
    await opened.close()
    assert.ok(last !== undefined && last.blockNumber === head.header.number, 'the graceful stop sealed the open block')
    assert.equal(head.miniBlocks.lastHash, bytesToHex(last.hash))

    // Subscribed before the restarted sequencer starts: it may produce its first mini-block at once.
    let first: (block: MiniBlock) => void = () => undefined
    const firstAfterRestart = new Promise<MiniBlock>((resolve) => (first = resolve))
    ;({ sequencer, opened } = await startSequencer(dir, new Registry(), (block) => first(block)))
    assert.equal(opened.chain.head.miniBlocks.lastHash, bytesToHex(last.hash), 'the stored head keeps its last mini-block hash')
    const next = await firstAfterRestart
    await sequencer.stop()
    await opened.close()
    assert.equal(next.number, last.number + 1n)
    assert.equal(bytesToHex(next.parentHash), bytesToHex(last.hash))
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})
