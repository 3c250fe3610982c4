// run-tests: pair — waits on L1 (anvil's 1 s blocks, games, batcher and proposer rounds) far more than it computes
/**
 * The batcher against a real L1 (anvil, 1 s blocks, Prague: blob transactions with version-0
 * sidecars): it posts sealed L2 blocks as calldata and as blobs, the inbox data read back from L1
 * decodes to the same blocks (heavier cases: da-batcher-large.test.ts); a transaction stuck under a base-fee spike is replaced and lands; a
 * reorg that drops posted data makes it post again; a stranger's transactions to the inbox change
 * nothing.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { hexToBytes } from '@ethereumjs/util'
import { Registry } from 'prom-client'
import { createPublicClient, createWalletClient, type Hex, http, type PublicClient } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import type { SealedBlock } from '../../src/chain/block.ts'
import { depositCount } from '../../src/chain/l2-block-attributes.ts'
import type { RollupConfig } from '../../src/chain/rollup-config.ts'
import { Batcher } from '../../src/da/batcher/batcher.ts'
import { type BatcherMetrics, createBatcherMetrics } from '../../src/da/batcher/metrics.ts'
import type { BatcherOptions } from '../../src/da/batcher/options.ts'
import { decodeBlob } from '../../src/da/blob.ts'
import {
  captureLogger,
  compare,
  distinct,
  decodeInbox,
  type InboxTx,
  inboxTxs,
  TestChain,
  waitPosted,
} from '../helpers/batcher.ts'
import { makeBlocks, testRollupConfig } from '../helpers/l2-blocks.ts'
import { type AnvilHandle, DEV_KEYS, rpc, startAnvil, waitFor } from '../helpers/node-process.ts'

const BATCHER_KEY = DEV_KEYS[1]!
const STRANGER_KEY = DEV_KEYS[2]!
const rollup: RollupConfig = testRollupConfig()

const anvils: AnvilHandle[] = []
after(async () => {
  for (const anvil of anvils) await anvil.stop()
})

async function setup(
  options: Partial<BatcherOptions>,
  count = 50,
  metrics?: BatcherMetrics,
  extra: { rollup?: RollupConfig; safeHead?: () => bigint } = {},
) {
  const anvil = await startAnvil(['--block-time', '1', '--hardfork', 'prague', '--quiet'])
  anvils.push(anvil)
  const l1 = createPublicClient({ transport: http(anvil.rpcUrl), cacheTime: 0 }) as PublicClient
  const wallet = createWalletClient({ account: privateKeyToAccount(BATCHER_KEY), transport: http(anvil.rpcUrl) })
  const blocks = await makeBlocks(rollup, { count, seed: 11, txsPerBlock: (_, r) => r.int(6) })
  const chain = new TestChain(blocks)
  const { logger, lines } = captureLogger()
  const batcher = new Batcher(
    {
      pollIntervalMs: 200,
      maxChannelDuration: 2,
      ...options,
      txManager: { pollIntervalMs: 200, resubmitAfterBlocks: 2, ...options.txManager },
    },
    { l1, wallet, rollup: extra.rollup ?? rollup, blocks: chain, logger, metrics, safeHead: extra.safeHead },
  )
  return { anvil, l1, wallet, blocks, chain, batcher, lines }
}

function costs(label: string, txs: readonly InboxTx[], blocks: readonly SealedBlock[]): Record<string, number> {
  const l2Txs = blocks.reduce((n, b) => n + b.transactions.length - depositCount(b.transactions), 0)
  const rawBytes = blocks.reduce(
    (n, b) => n + b.transactions.slice(depositCount(b.transactions)).reduce((m, t) => m + t.length, 0),
    0,
  )
  const dataBytes = txs.reduce((n, tx) => n + tx.data.reduce((m, d) => m + d.length, 0), 0)
  const gas = txs.reduce((n, tx) => n + tx.gasUsed, 0n)
  const blobGas = txs.reduce((n, tx) => n + tx.blobGasUsed, 0n)
  const numbers = {
    l2Txs,
    l1Txs: txs.length,
    bytesPerL2Tx: dataBytes / l2Txs,
    compressionRatio: rawBytes / dataBytes,
    l1GasPerL2Tx: Number(gas) / l2Txs,
    blobGasPerL2Tx: Number(blobGas) / l2Txs,
  }
  console.log(`# ${label}: ${JSON.stringify(numbers)}`)
  return numbers
}

describe('batcher against anvil', { timeout: 120_000 }, () => {
  it('posts 50 blocks as calldata; the inbox data decodes to the same blocks; a stranger’s inbox transactions change nothing', async () => {
    const registry = new Registry()
    const { anvil, l1, blocks, chain, batcher } = await setup(
      { dataAvailabilityType: 'calldata' },
      50,
      createBatcherMetrics(registry),
    )
    const stranger = createWalletClient({ account: privateKeyToAccount(STRANGER_KEY), transport: http(anvil.rpcUrl) })
    const chainDef = {
      id: 31337,
      name: 'anvil',
      nativeCurrency: { name: 'E', symbol: 'E', decimals: 18 },
      rpcUrls: { default: { http: [anvil.rpcUrl] } },
    }
    batcher.start()
    try {
      for (let i = 0; i < 5; i++) {
        chain.seal(10)
        // garbage, and a well-formed frame of a channel that never completes
        await stranger.sendTransaction({
          chain: chainDef,
          to: rollup.batchInboxAddress,
          data: i % 2 === 0 ? '0x00deadbeef' : `0x00${'11'.repeat(16)}0000000000050102030405${'00'}`,
        })
        await new Promise((r) => setTimeout(r, 700))
      }
      await waitPosted(batcher, 50n)
    } finally {
      await batcher.stop()
    }
    const txs = await inboxTxs(rollup, l1, anvil.rpcUrl, batcher.address)
    assert.ok(txs.length >= 2, `${txs.length} batcher txs: blocks arrived over several channels`)
    for (const tx of txs) assert.equal(tx.type, 'eip1559')
    compare(distinct(decodeInbox(rollup, txs)), blocks)
    const numbers = costs('calldata', txs, blocks)
    assert.ok(numbers.bytesPerL2Tx < 200)
    const metric = async (name: string): Promise<number> =>
      (await registry.getSingleMetric(name)!.get()).values.reduce((n, v) => n + v.value, 0)
    assert.equal(await metric('megaeth_batcher_l2_txs_posted_total'), numbers.l2Txs)
    assert.equal(await metric('megaeth_batcher_posted_through'), 50)
    assert.equal(await metric('megaeth_batcher_txs_sent_total'), txs.length)
    assert.ok((await metric('megaeth_batcher_channels_total')) >= 2)
    assert.equal(await metric('megaeth_batcher_l1_gas_total'), Number(txs.reduce((n, tx) => n + tx.gasUsed, 0n)))
  })

  it('posts 50 blocks in blobs (auto picks blobs at anvil’s fees); blobs read back with anvil_getBlobsByTransactionHash', async () => {
    const { anvil, l1, blocks, chain, batcher } = await setup({ dataAvailabilityType: 'auto' })
    batcher.start()
    try {
      chain.seal(25)
      await new Promise((r) => setTimeout(r, 1500))
      chain.seal(25)
      await waitPosted(batcher, 50n, 60_000)
    } finally {
      await batcher.stop()
    }
    const txs = await inboxTxs(rollup, l1, anvil.rpcUrl, batcher.address)
    assert.ok(txs.length >= 1)
    for (const tx of txs) {
      assert.equal(tx.type, 'eip4844')
      assert.ok(tx.versionedHashes.length >= 1)
      assert.ok(tx.blobGasUsed > 0n)
    }
    // The beacon API anvil serves has the same blobs.
    const beacon = (await (await fetch(`${anvil.rpcUrl}/eth/v1/beacon/blobs/${txs[0]!.blockNumber}`)).json()) as { data: Hex[] }
    const first = decodeBlob(hexToBytes(beacon.data[0]!))
    assert.ok(first.ok)
    assert.deepEqual(first.value, txs[0]!.data[0])
    compare(distinct(decodeInbox(rollup, txs)), blocks)
    costs('blobs', txs, blocks)
  })

  it('replaces a transaction stuck under a base-fee spike with bumped fees; it lands', async () => {
    const { anvil, l1, blocks, chain, batcher, lines } = await setup({ dataAvailabilityType: 'calldata' }, 10)
    await rpc(anvil.rpcUrl, 'evm_setIntervalMining', [0])
    chain.seal(10)
    batcher.start()
    // L1 stands still: no channel would time out, so close it now.
    batcher.flush()
    try {
      const pending = await waitFor(
        'the batcher tx in the pool',
        async () => {
          const content = await rpc<{ pending: Record<string, Record<string, { hash: Hex; maxFeePerGas: Hex; nonce: Hex }>> }>(
            anvil.rpcUrl,
            'txpool_content',
          )
          const mine = Object.entries(content.pending).find(([from]) => from.toLowerCase() === batcher.address)
          return mine === undefined ? undefined : Object.values(mine[1])[0]
        },
        20_000,
        100,
      )
      // Every block from now on costs 100 gwei base fee for a while (it decays 12.5 % per empty block).
      await rpc(anvil.rpcUrl, 'anvil_setNextBlockBaseFeePerGas', ['0x174876e800'])
      await rpc(anvil.rpcUrl, 'evm_mine')
      assert.ok(BigInt(pending.maxFeePerGas) < 100_000_000_000n / 2n, 'the first version is below the spike')
      await rpc(anvil.rpcUrl, 'evm_setIntervalMining', [1])
      await waitPosted(batcher, 10n)
      const txs = await inboxTxs(rollup, l1, anvil.rpcUrl, batcher.address)
      assert.equal(txs.length, 1)
      assert.notEqual(txs[0]!.hash, pending.hash, 'a replacement landed')
      const landed = await l1.getTransaction({ hash: txs[0]!.hash })
      assert.equal(landed.nonce, Number(BigInt(pending.nonce)), 'same nonce')
      assert.ok(landed.maxFeePerGas! >= (BigInt(pending.maxFeePerGas) * 110n) / 100n)
      assert.equal(await l1.getTransactionReceipt({ hash: pending.hash }).catch(() => null), null)
      assert.ok(lines.some((l) => l.msg === 'batcher tx sent' && l['replacement'] === true))
      compare(distinct(decodeInbox(rollup, txs)), blocks)
    } finally {
      await batcher.stop()
    }
  })

  it('an L1 reorg that drops posted batches makes the batcher post them again', async () => {
    const { anvil, l1, blocks, chain, batcher, lines } = await setup({ dataAvailabilityType: 'calldata' }, 20)
    batcher.start()
    try {
      chain.seal(20)
      await waitPosted(batcher, 20n)
      const before = await inboxTxs(rollup, l1, anvil.rpcUrl, batcher.address)
      assert.ok(before.length >= 1)
      // Mining paused, so that the depth counted is the depth replaced.
      await rpc(anvil.rpcUrl, 'evm_setIntervalMining', [0])
      const head = await l1.getBlock({ blockTag: 'latest' })
      const depth = Number(head.number - before[0]!.blockNumber + 1n)
      await rpc(anvil.rpcUrl, 'anvil_reorg', [depth, []])
      await rpc(anvil.rpcUrl, 'evm_setIntervalMining', [1])
      assert.equal((await inboxTxs(rollup, l1, anvil.rpcUrl, batcher.address)).length, 0, 'the reorg dropped every batcher tx')
      await waitFor(
        'the batcher to see the reorg',
        () => lines.some((l) => l.msg === 'L1 reorg dropped posted batches; re-posting'),
        20_000,
        100,
      )
      assert.ok(batcher.postedThrough < 20n || lines.some((l) => l.msg === 'batcher reset: rebuilding channels'))
      await waitPosted(batcher, 20n)
      const again = await inboxTxs(rollup, l1, anvil.rpcUrl, batcher.address)
      assert.ok(again.length >= 1, 'posted again')
      compare(distinct(decodeInbox(rollup, again)), blocks)
    } finally {
      await batcher.stop()
    }
  })

  it('a safe head that stays behind the posted blocks for longer than the channel timeout makes the batcher post again from it', async () => {
    // Derivation "never" accepts anything: safe head stuck at genesis, channel timeout 3 L1 blocks.
    const { anvil, l1, blocks, chain, batcher, lines } = await setup({ dataAvailabilityType: 'calldata' }, 10, undefined, {
      rollup: testRollupConfig({ channelTimeout: 3n }),
      safeHead: () => 0n,
    })
    chain.seal(10)
    batcher.start()
    try {
      await waitPosted(batcher, 10n)
      await waitFor(
        'the lag rule',
        () => lines.some((l) => l.msg === 'safe head stays behind posted batches; re-posting from it'),
        20_000,
        100,
      )
      await waitFor(
        'a second posting',
        async () => (await inboxTxs(rollup, l1, anvil.rpcUrl, batcher.address)).length >= 2,
        20_000,
        200,
      )
    } finally {
      await batcher.stop()
    }
    const txs = await inboxTxs(rollup, l1, anvil.rpcUrl, batcher.address)
    const decoded = decodeInbox(rollup, txs)
    assert.ok(decoded.length >= 20, `${decoded.length} blocks decoded: everything twice`)
    compare(distinct(decoded), blocks)
  })
})
