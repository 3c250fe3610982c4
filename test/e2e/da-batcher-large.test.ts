/**
 * The batcher against anvil, the heavier cases: blocks big enough that a calldata channel spans
 * several transactions and a blob transaction several blobs (frames must land in order), and an L1
 * RPC outage (the batcher pauses with an alarm, resumes, and loses nothing).
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, describe, it } from 'node:test'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { createPublicClient, createWalletClient, custom, type EIP1193RequestFn, type Hex, http, type PublicClient } from 'viem'
import { privateKeyToAccount, signTransaction } from 'viem/accounts'
import type { RollupConfig } from '../../src/chain/rollup-config.ts'
import { Batcher } from '../../src/da/batcher/batcher.ts'
import { captureLogger, compare, decodeInbox, distinct, inboxTxs, TestChain, waitPosted } from '../helpers/batcher.ts'
import { makeBlocks, testRollupConfig } from '../helpers/l2-blocks.ts'
import { type AnvilHandle, DEV_KEYS, startAnvil } from '../helpers/node-process.ts'

const BATCHER_KEY = DEV_KEYS[1]!
const STRANGER_KEY = DEV_KEYS[2]!
const rollup: RollupConfig = testRollupConfig()

const anvils: AnvilHandle[] = []
after(async () => {
  for (const anvil of anvils) await anvil.stop()
})

describe('batcher against anvil: big blocks, L1 outage', { timeout: 120_000 }, () => {
  it('big blocks: calldata channels of several transactions, blob transactions of several blobs, frames in order', async () => {
    // 16 blocks of one 24 KB incompressible transaction each: ~390 KB of channel data.
    const big: Uint8Array[] = []
    for (let i = 0; i < 16; i++)
      big.push(
        hexToBytes(
          await signTransaction({
            privateKey: STRANGER_KEY,
            transaction: {
              type: 'eip1559',
              chainId: Number(rollup.l2ChainId),
              nonce: i,
              gas: 2_000_000n,
              to: `0x${'42'.repeat(20)}`,
              data: bytesToHex(randomBytes(24_000)) as Hex,
              maxFeePerGas: 10n ** 9n,
              maxPriorityFeePerGas: 1n,
            },
          }),
        ),
      )
    const blocks = await makeBlocks(rollup, { count: 16, transactions: (i) => [big[i]!] })
    for (const [da, extra] of [
      ['calldata', { calldataTargetFrames: 3, maxCalldataTxSize: 50_000 }],
      ['blobs', {}],
    ] as const) {
      const anvil = await startAnvil(['--block-time', '1', '--hardfork', 'prague', '--quiet'])
      anvils.push(anvil)
      const l1 = createPublicClient({ transport: http(anvil.rpcUrl), cacheTime: 0 }) as PublicClient
      const wallet = createWalletClient({ account: privateKeyToAccount(BATCHER_KEY), transport: http(anvil.rpcUrl) })
      const chain = new TestChain(blocks)
      const batcher = new Batcher(
        { dataAvailabilityType: da, pollIntervalMs: 200, ...extra, txManager: { pollIntervalMs: 200 } },
        { l1, wallet, rollup, blocks: chain, logger: captureLogger().logger },
      )
      chain.seal(16)
      batcher.start()
      try {
        await waitPosted(batcher, 16n, 60_000)
      } finally {
        await batcher.stop()
      }
      const txs = await inboxTxs(rollup, l1, anvil.rpcUrl, batcher.address)
      if (da === 'calldata') {
        assert.ok(txs.length >= 6, `${txs.length} calldata txs of ≤ 50 KB`)
        for (const tx of txs) assert.ok(tx.data[0]!.length <= 50_000)
      } else {
        assert.ok(
          txs.some((tx) => tx.versionedHashes.length >= 3),
          `blobs per tx: ${txs.map((tx) => tx.versionedHashes.length)}`,
        )
      }
      compare(distinct(decodeInbox(rollup, txs)), blocks)
    }
  })

  it('survives an L1 RPC outage: pauses with an alarm, resumes, posts everything', async () => {
    const anvil = await startAnvil(['--block-time', '1', '--hardfork', 'prague', '--quiet'])
    anvils.push(anvil)
    const direct = createPublicClient({ transport: http(anvil.rpcUrl), cacheTime: 0 }) as PublicClient
    let down = false
    let refused = 0
    // Every L1 call the batcher makes goes through here; while `down`, each fails like a dead endpoint.
    const flaky = custom({
      request: (async ({ method, params }) => {
        if (down) {
          refused++
          throw new Error('connect ECONNREFUSED (test outage)')
        }
        return direct.request({ method, params } as Parameters<typeof direct.request>[0])
      }) as EIP1193RequestFn,
    })
    const l1 = createPublicClient({ transport: flaky, cacheTime: 0 }) as PublicClient
    const wallet = createWalletClient({ account: privateKeyToAccount(BATCHER_KEY), transport: flaky })
    const blocks = await makeBlocks(rollup, { count: 30, seed: 12 })
    const chain = new TestChain(blocks)
    const { logger, lines } = captureLogger()
    const batcher = new Batcher(
      { dataAvailabilityType: 'calldata', pollIntervalMs: 200, txManager: { pollIntervalMs: 200, resubmitAfterBlocks: 2 } },
      { l1, wallet, rollup, blocks: chain, logger },
    )
    batcher.start()
    try {
      chain.seal(10)
      await waitPosted(batcher, 10n)
      down = true
      chain.seal(20)
      await new Promise((r) => setTimeout(r, 3000))
      assert.equal(batcher.postedThrough, 10n, 'nothing confirmed while L1 is unreachable')
      assert.ok(lines.some((l) => l.msg.startsWith('batcher paused') && l['alarm'] === true))
      down = false
      await waitPosted(batcher, 30n)
      assert.ok(lines.some((l) => l.msg === 'batcher resumed'))
      assert.ok(refused > 0)
    } finally {
      await batcher.stop()
    }
    compare(distinct(decodeInbox(rollup, await inboxTxs(rollup, direct, anvil.rpcUrl, batcher.address))), blocks)
  })
})
