// run-tests: pair — a node or anvil answering a few calls: no load, no assertion on time
/**
 * The L1 fetch functions and the L1 watcher against a real anvil with the bridge contracts deployed:
 * deposits land in the origin of their L1 block with viem's source hash, SystemConfig updates apply from
 * their block on, a reorg (evm_snapshot / evm_revert) drops the old deposit and reads the new one once, an
 * outage (SIGSTOP) sets `failure` and polling resumes after SIGCONT without losing a block.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createPublicClient, createTestClient, createWalletClient, http, pad, parseEther, type Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { foundry } from 'viem/chains'
import { getSourceHash } from 'viem/op-stack'
import pino from 'pino'
import {
  applyConfigUpdates,
  blobBaseFeeOf,
  CONFIG_UPDATE_TOPIC,
  fakeExponential,
  fetchBatcherTransactions,
  fetchL1BlockRef,
  fetchL1Origin,
} from '../../src/bridge/l1-fetch.ts'
import { L1Watcher, type L1Reorg } from '../../src/bridge/l1-watcher.ts'
import { batcherHash, deployL1Contracts, optimismPortal2Abi, systemConfigAbi, type L1Deployment } from '../../src/bridge/index.ts'
import type { L1Origin, SystemConfigValues } from '../../src/chain/l1-origin.ts'
import type { RollupConfig } from '../../src/chain/rollup-config.ts'
import { DEV_KEYS, startAnvil, waitFor, type AnvilHandle } from '../helpers/node-process.ts'

const deployer = privateKeyToAccount(DEV_KEYS[0]!)
const batcher = privateKeyToAccount(DEV_KEYS[1]!)
const user = privateKeyToAccount(DEV_KEYS[3]!)
const logger = pino({ level: 'silent' })

let anvil: AnvilHandle
let deployment: L1Deployment
let rollup: RollupConfig
let c: ReturnType<typeof clients>

function clients(rpcUrl: string) {
  const transport = http(rpcUrl, { timeout: 1_000, retryCount: 0 })
  const chain = { ...foundry, id: 900 }
  return {
    public: createPublicClient({ chain, transport }),
    wallet: createWalletClient({ chain, transport }),
    test: createTestClient({ chain, transport, mode: 'anvil' }),
  }
}

const GENESIS_CONFIG: SystemConfigValues = {
  batcherHash: batcherHash(batcher.address),
  baseFeeScalar: 1368,
  blobBaseFeeScalar: 810_949,
  operatorFeeScalar: 0,
  operatorFeeConstant: 0n,
  gasLimit: 2_000_000_000n,
}

async function deposit(value: bigint): Promise<{ blockHash: Hex; blockNumber: bigint; logIndex: number }> {
  const hash = await c.wallet.writeContract({
    account: user,
    chain: null,
    address: deployment.optimismPortal,
    abi: optimismPortal2Abi,
    functionName: 'depositTransaction',
    args: [user.address, value, 100_000n, false, '0x'],
    value,
  })
  const receipt = await c.public.waitForTransactionReceipt({ hash })
  assert.equal(receipt.status, 'success')
  const log = receipt.logs.find((l) => l.address.toLowerCase() === deployment.optimismPortal.toLowerCase())!
  return { blockHash: receipt.blockHash, blockNumber: receipt.blockNumber, logIndex: log.logIndex }
}

function watcher(options: Partial<ConstructorParameters<typeof L1Watcher>[0]['options']> = {}): L1Watcher {
  return new L1Watcher({ client: c.public, rollup, logger, options: { pollMs: 50, confirmations: 0, ...options } })
}

before(async () => {
  anvil = await startAnvil(['--chain-id', '900', '--quiet'])
  c = clients(anvil.rpcUrl)
  deployment = await deployL1Contracts({
    l1Client: c.wallet,
    deployer,
    params: {
      l2ChainId: 6342n,
      guardian: deployer.address,
      owner: deployer.address,
      batcher: batcher.address,
      unsafeBlockSigner: deployer.address,
      gasLimit: GENESIS_CONFIG.gasLimit,
      basefeeScalar: GENESIS_CONFIG.baseFeeScalar,
      blobbasefeeScalar: GENESIS_CONFIG.blobBaseFeeScalar,
    },
  })
  const start = await fetchL1BlockRef(c.public, deployment.startBlock)
  rollup = {
    genesis: {
      l1: { number: start.number, hash: start.hash },
      l2: { number: 0n, hash: `0x${'11'.repeat(32)}` },
      l2Time: start.timestamp,
      systemConfig: GENESIS_CONFIG,
    },
    blockTime: 1n,
    maxSequencerDrift: 600n,
    seqWindowSize: 40n,
    channelTimeout: 20n,
    l1ChainId: 900n,
    l2ChainId: 6342n,
    batchInboxAddress: deployment.batchInbox.toLowerCase() as Hex,
    depositContractAddress: deployment.optimismPortal.toLowerCase() as Hex,
    l1SystemConfigAddress: deployment.systemConfig.toLowerCase() as Hex,
  }
})

after(async () => {
  await anvil?.stop()
})

describe('L1 fetch (pure parts)', () => {
  test('blob base fee: fake_exponential follows e^(excess/fraction) and picks the fraction by fork', () => {
    assert.equal(fakeExponential(1n, 0n, 5_007_716n), 1n)
    for (const excess of [1_000_000n, 10_000_000n, 50_000_000n, 100_000_000n]) {
      for (const fraction of [3_338_477n, 5_007_716n]) {
        const exact = Math.exp(Number(excess) / Number(fraction))
        const got = Number(fakeExponential(1n, excess, fraction))
        // The Taylor series truncates each term: it stays within a few units below e^x.
        assert.ok(got <= exact + 1 && got >= exact * 0.999 - 2, `excess ${excess}, fraction ${fraction}: ${got} vs ${exact}`)
      }
    }
    assert.equal(
      blobBaseFeeOf({ excessBlobGas: 100_000_000n, requestsHash: `0x${'00'.repeat(32)}` }),
      fakeExponential(1n, 100_000_000n, 5_007_716n),
    )
    assert.equal(blobBaseFeeOf({ excessBlobGas: 100_000_000n }), fakeExponential(1n, 100_000_000n, 3_338_477n))
    assert.equal(blobBaseFeeOf({ excessBlobGas: undefined }), 1n)
  })

  test('config updates: applied in order, malformed or unsupported ones ignored with the config kept', () => {
    const topics = (type: number): Hex[] => [CONFIG_UPDATE_TOPIC, pad('0x0'), pad(`0x${type.toString(16)}`)]
    const bytesArg = (...words: Hex[]): Hex =>
      `0x${[pad('0x20'), pad(`0x${(32 * words.length).toString(16)}`), ...words].map((w) => w.slice(2)).join('')}`
    const newBatcher = pad('0x00000000000000000000000000000000000000ab')
    const scalar: Hex = `0x01${'00'.repeat(23)}0000000900000007`
    const ignored: string[] = []
    const out = applyConfigUpdates(
      GENESIS_CONFIG,
      [
        { topics: topics(0), data: bytesArg(newBatcher) },
        { topics: topics(1), data: bytesArg(pad('0x0'), scalar) },
        { topics: topics(2), data: bytesArg(pad('0x5f5e100')) },
        { topics: topics(5), data: bytesArg(pad(`0x${((3n << 64n) | 77n).toString(16)}`)) },
        // taken silently, changing nothing here: an unsafe-signer update (SystemConfig emits one at deployment)
        { topics: topics(3), data: bytesArg(newBatcher) },
        // ignored: wrong length, a version-2 scalar, a gas limit over 64 bits, an unknown update type, a bad version topic
        { topics: topics(2), data: bytesArg(pad('0x1'), pad('0x2')) },
        { topics: topics(1), data: bytesArg(pad('0x0'), `0x02${'00'.repeat(31)}`) },
        { topics: topics(2), data: bytesArg(`0x01${'00'.repeat(31)}`) },
        { topics: topics(9), data: bytesArg(newBatcher) },
        { topics: [CONFIG_UPDATE_TOPIC, pad('0x1'), pad('0x2')], data: bytesArg(pad('0x1')) },
      ],
      (_log, reason) => ignored.push(reason),
    )
    assert.deepEqual(out, {
      batcherHash: newBatcher,
      baseFeeScalar: 7,
      blobBaseFeeScalar: 9,
      gasLimit: 100_000_000n,
      operatorFeeScalar: 3,
      operatorFeeConstant: 77n,
    })
    assert.equal(ignored.length, 5)
  })
})

describe('L1 watcher on anvil', () => {
  test('origins from genesis: the genesis config, deposits with viem’s source hash, config updates from their block on', async () => {
    const w = watcher()
    const origins: L1Origin[] = []
    w.on('origin', (o) => origins.push(o))
    await w.start()
    try {
      const genesis = w.origin(rollup.genesis.l1.number)!
      assert.equal(genesis.hash, rollup.genesis.l1.hash)
      assert.deepEqual(genesis.systemConfig, GENESIS_CONFIG)
      assert.equal(w.confirmedHead?.number, await c.public.getBlockNumber())

      const d = await deposit(parseEther('1'))
      const origin = await waitFor('the deposit origin', () => w.origin(d.blockNumber))
      assert.equal(origin.hash, d.blockHash.toLowerCase())
      assert.equal(origin.deposits.length, 1)
      assert.equal(
        origin.deposits[0]!.sourceHash,
        getSourceHash({ domain: 'userDeposit', l1BlockHash: d.blockHash, l1LogIndex: d.logIndex }),
      )
      assert.equal(origin.deposits[0]!.mint, parseEther('1'))
      assert.equal(origin.deposits[0]!.from, user.address.toLowerCase())
      const block = await c.public.getBlock({ blockNumber: d.blockNumber })
      assert.equal(origin.mixHash, block.mixHash.toLowerCase())
      assert.equal(origin.baseFeePerGas, block.baseFeePerGas)
      assert.equal(origin.blobBaseFee, blobBaseFeeOf(block as { excessBlobGas: bigint }))
      // fetchL1Origin reads the same block to the same origin.
      assert.deepEqual(await fetchL1Origin(c.public, rollup, origin, w.origin(d.blockNumber - 1n)!.systemConfig), origin)

      const newBatcher = privateKeyToAccount(DEV_KEYS[7]!).address
      await c.public.waitForTransactionReceipt({
        hash: await c.wallet.writeContract({
          account: deployer,
          chain: null,
          address: deployment.systemConfig,
          abi: systemConfigAbi,
          functionName: 'setGasConfigEcotone',
          args: [11, 22],
        }),
      })
      const r = await c.public.waitForTransactionReceipt({
        hash: await c.wallet.writeContract({
          account: deployer,
          chain: null,
          address: deployment.systemConfig,
          abi: systemConfigAbi,
          functionName: 'setBatcherHash',
          args: [batcherHash(newBatcher)],
        }),
      })
      const updated = await waitFor('the config update origin', () => w.origin(r.blockNumber))
      assert.equal(updated.systemConfig.batcherHash, batcherHash(newBatcher))
      assert.equal(updated.systemConfig.baseFeeScalar, 11)
      assert.equal(updated.systemConfig.blobBaseFeeScalar, 22)
      const before = w.origin(r.blockNumber - 1n)!
      assert.equal(before.systemConfig.baseFeeScalar, 11, 'the fee update (one block earlier) applies from its block on')
      assert.equal(before.systemConfig.batcherHash, GENESIS_CONFIG.batcherHash)
      assert.equal(w.origin(d.blockNumber)!.systemConfig.baseFeeScalar, 1368)
      // Every origin came once, in order.
      const numbers = origins.map((o) => o.number)
      assert.deepEqual(
        numbers,
        [...numbers].sort((a, b) => (a < b ? -1 : 1)),
      )
      assert.equal(new Set(numbers).size, numbers.length)

      // A block outside the window by hash (crash recovery) gets the same origin, config included.
      const small = watcher({ retainOrigins: 1 })
      await small.start()
      assert.ok(small.origin(d.blockNumber) === undefined, 'pruned')
      assert.deepEqual(await small.originByHash(origin.hash), origin)
      assert.deepEqual(await small.originByHash(updated.hash), updated)
      await small.stop()

      // The batcher's transactions to the inbox, in block order.
      await c.test.setAutomine(false)
      const tx1 = await c.wallet.sendTransaction({ account: batcher, chain: null, to: deployment.batchInbox, data: '0x00aa' })
      await c.wallet.sendTransaction({ account: user, chain: null, to: deployment.batchInbox, data: '0x00bb' })
      const tx2 = await c.wallet.sendTransaction({ account: batcher, chain: null, to: deployment.batchInbox, data: '0x00cc' })
      await c.test.mine({ blocks: 1 })
      await c.test.setAutomine(true)
      const receipt = await c.public.waitForTransactionReceipt({ hash: tx2 })
      const txs = await fetchBatcherTransactions(c.public, { hash: receipt.blockHash }, deployment.batchInbox, batcher.address)
      assert.deepEqual(
        txs.map((t) => [t.hash, t.type, t.input, t.blobVersionedHashes.length]),
        [
          [tx1, 2, '0x00aa', 0],
          [tx2, 2, '0x00cc', 0],
        ],
      )
    } finally {
      await w.stop()
    }
  })

  test('reorg: the dropped deposit is gone, the new one read once, `reorg` emitted', async () => {
    const w = watcher()
    const reorgs: L1Reorg[] = []
    const origins: L1Origin[] = []
    w.on('reorg', (r) => reorgs.push(r))
    w.on('origin', (o) => origins.push(o))
    await w.start()
    try {
      const snapshot = await c.test.snapshot()
      const old = await deposit(1n)
      await waitFor('the first deposit', () => w.origin(old.blockNumber)?.hash === old.blockHash.toLowerCase())
      await c.test.revert({ id: snapshot })
      const replacement = await deposit(2n)
      assert.equal(replacement.blockNumber, old.blockNumber)
      assert.notEqual(replacement.blockHash, old.blockHash)
      await c.test.mine({ blocks: 1 })
      await waitFor('the replacement deposit', () => w.origin(old.blockNumber + 1n))
      const origin = w.origin(old.blockNumber)!
      assert.equal(origin.hash, replacement.blockHash.toLowerCase())
      assert.deepEqual(
        origin.deposits.map((d) => d.mint),
        [2n],
      )
      assert.equal(reorgs.length, 1)
      assert.equal(reorgs[0]!.commonAncestor.number, old.blockNumber - 1n)
      assert.deepEqual(
        reorgs[0]!.dropped.map((d) => d.hash),
        [old.blockHash.toLowerCase()],
      )
      // The new block came once, after the old one.
      assert.equal(origins.filter((o) => o.hash === replacement.blockHash.toLowerCase()).length, 1)
      await assert.rejects(w.originByHash(old.blockHash), { name: 'L1OriginUnavailableError' })
    } finally {
      await w.stop()
    }
  })

  test('outage: failure is set while anvil is stopped and clears after, without a lost block', async () => {
    const w = watcher({ maxBackoffMs: 400 })
    await w.start()
    try {
      const before = w.confirmedHead!.number
      process.kill(anvil.pid, 'SIGSTOP')
      try {
        await waitFor('the failure alarm', () => w.failure, 15_000)
        assert.equal((w.failure as { code?: string }).code, 'L1_RPC_FAILED')
      } finally {
        process.kill(anvil.pid, 'SIGCONT')
      }
      await c.test.mine({ blocks: 3 })
      await waitFor('recovery', () => w.failure === undefined && w.confirmedHead!.number >= before + 3n, 15_000)
      for (let n = rollup.genesis.l1.number; n <= w.confirmedHead!.number; n++) assert.ok(w.origin(n), `origin ${n}`)
    } finally {
      await w.stop()
    }
  })
})
