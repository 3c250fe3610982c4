/**
 * The window of recent sealed blocks a `ChainView` keeps decoded is bounded by blocks and by
 * transactions (a window of blocks alone grew with throughput: a soak's live heap followed it), and
 * what falls out of it is served from LevelDB exactly as before: a view over a real datadir with a tiny
 * window answers every block and receipt as the node's own view does, and a rewind keeps its count right.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import { hexToBytes } from '@ethereumjs/util'
import { deriveDevAccounts } from '../../src/chain/dev.ts'
import type { SealedBlock } from '../../src/chain/block.ts'
import type { Hex } from '../../src/primitives/state-diff.ts'
import { openChain } from '../../src/node/bootstrap.ts'
import { ChainView, type DEFAULT_RECENT_WINDOW } from '../../src/storage/chain-view.ts'
import {
  DEV_COMMON as common,
  DEV_CONFIG as config,
  DEV_GENESIS as genesis,
  startDevSequencer,
} from '../helpers/dev-sequencer.ts'

const [alice] = deriveDevAccounts(1)

test('the recent-block window stays within its block and transaction budgets; what leaves it is read from LevelDB unchanged', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'megaeth-window-'))
  const opened = await openChain(dir, genesis, config, common)
  try {
    const sequencer = await startDevSequencer(opened)
    // Four blocks with transactions: each send waits for its own block to be sealed.
    const hashes: Hex[] = []
    for (let nonce = 0n; nonce < 4n; nonce++) {
      const raw = createFeeMarket1559Tx(
        { nonce, to: `0x${'ab'.repeat(20)}`, value: 1n, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 1n, gasLimit: 21_000n },
        { common },
      )
        .sign(hexToBytes(alice!.privateKey))
        .serialize()
      const { receipt } = await sequencer.submitAndWait(raw, 30_000)
      assert.ok(receipt !== undefined)
      hashes.push(receipt.transactionHash)
      while (opened.chain.head.header.number < receipt.blockNumber) await sleep(20)
    }
    await sequencer.stop()
    const { chain } = opened
    const head = chain.head.header.number
    const sealed: SealedBlock[] = []
    for (let n = 0n; n <= head; n++) sealed.push((await chain.blockByNumber(n))!)
    assert.ok(chain.recentWindow.blocks === sealed.length, 'the node’s own view holds this short chain whole')
    assert.equal(
      chain.recentWindow.transactions,
      sealed.reduce((sum, b) => sum + b.transactions.length, 0),
    )

    const replay = (window: typeof DEFAULT_RECENT_WINDOW): ChainView => {
      const view = new ChainView(opened.blocks, chain.genesisHash, sealed[0]!, chain.state, window)
      for (const block of sealed.slice(1)) view.addSealedBlock(block)
      return view
    }
    // The window is the longest suffix of the chain within both budgets, and never less than the newest block.
    const expected = (window: typeof DEFAULT_RECENT_WINDOW) => {
      let blocks = 0
      let transactions = 0
      for (const block of [...sealed].reverse()) {
        const more = transactions + block.transactions.length
        if (blocks > 0 && (blocks === window.blocks || more > window.transactions)) break
        blocks++
        transactions = more
      }
      return { blocks, transactions }
    }
    const byTransactions = replay({ blocks: 256, transactions: 1 })
    assert.deepEqual(byTransactions.recentWindow, expected({ blocks: 256, transactions: 1 }))
    assert.ok(byTransactions.recentWindow.blocks < sealed.length, 'the transaction budget evicted blocks')
    const byBlocks = replay({ blocks: 2, transactions: 1_000_000 })
    assert.deepEqual(byBlocks.recentWindow, expected({ blocks: 2, transactions: 1_000_000 }))
    for (const view of [byTransactions, byBlocks]) {
      for (const block of sealed) {
        assert.equal((await view.blockByNumber(block.header.number))?.hash, block.hash)
        assert.equal((await view.blockByHash(block.hash))?.header.number, block.header.number)
      }
      for (const hash of hashes) assert.deepEqual(await view.receipt(hash), await chain.receipt(hash))
    }

    // A rewind forgets the later blocks (the window held only those) and counts the head it goes back to.
    const m = sealed[Number(head) - 2]!
    byBlocks.rewindTo(m)
    assert.deepEqual(byBlocks.recentWindow, { blocks: 1, transactions: m.transactions.length })
    assert.equal((await byBlocks.blockByNumber(m.header.number - 1n))?.hash, sealed[Number(head) - 3]!.hash)
  } finally {
    await opened.close()
    await rm(dir, { recursive: true, force: true })
  }
})
