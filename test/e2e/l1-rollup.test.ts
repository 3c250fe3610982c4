// run-tests: pair — waits on L1 (anvil's 1 s blocks, games, batcher and proposer rounds) far more than it computes
/**
 * The L2 on its L1, end to end with real processes: a `--dev` sequencer with its dev L1 (anvil); viem's
 * `viem/op-stack` `depositTransaction`, unmodified, credits an L2 account within seconds and
 * `getL2TransactionHashes` of the L1 receipt finds the deposit's L2 receipt; the L1-attributes deposit
 * opens every block and names its L1 origin; the sequencer's batcher posts the chain to L1 and a
 * `--sync=l1` replica started from the rollup config alone (no p2p) rebuilds it hash for hash, state root
 * for state root, receipt for receipt, and keeps following; the sequencer's `safe` head is what L1 holds.
 */
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createPublicClient, createWalletClient, defineChain, http, parseEther, type Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { chainConfig, getL2TransactionHashes, publicActionsL2, walletActionsL1 } from 'viem/op-stack'
import {
  DEV_CHAIN_ID,
  DEV_KEYS,
  makeTempDir,
  removeTempDir,
  rpc,
  startNode,
  waitFor,
  type NodeHandle,
} from '../helpers/node-process.ts'

interface NodeInfo {
  l1: { chainId: string; rpc: string; pid: number }
  p2pAddrs: string[]
  verified?: { block: Hex; failures: number }
}
interface RollupJson {
  deposit_contract_address: Hex
  batch_inbox_address: Hex
  l1_chain_id: number
}

let datadir: string
let sequencer: NodeHandle
let info: NodeInfo
let rollup: RollupJson

const l2Chain = defineChain({
  ...chainConfig,
  id: DEV_CHAIN_ID,
  name: 'megaeth-dev',
  nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
  rpcUrls: { default: { http: ['http://127.0.0.1'] } },
})

before(async () => {
  datadir = await makeTempDir('megaeth-l1-rollup-')
  // Batches in blobs here (the forced-inclusion suite posts calldata): the replica reads them through anvil's
  // beacon-style blobs endpoint (`--l1.beacon`) and checks each against its versioned hash.
  sequencer = await startNode({ l1: true, datadir, args: ['--batcher.data-availability-type=blobs'] })
  info = await rpc<NodeInfo>(sequencer.rpcUrl, 'mega_nodeInfo')
  rollup = await rpc<RollupJson>(sequencer.rpcUrl, 'optimism_rollupConfig')
})

after(async () => {
  await sequencer?.stop()
  if (datadir !== undefined) await removeTempDir(datadir)
})

describe('deposits from L1', () => {
  test('viem depositTransaction credits the L2 account and getL2TransactionHashes finds its receipt', async () => {
    const l1Chain = defineChain({
      id: rollup.l1_chain_id,
      name: 'dev-l1',
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [info.l1.rpc] } },
    })
    const account = privateKeyToAccount(DEV_KEYS[5]!)
    const l1Wallet = createWalletClient({ account, chain: l1Chain, transport: http(info.l1.rpc) }).extend(walletActionsL1())
    const l1 = createPublicClient({ chain: l1Chain, transport: http(info.l1.rpc) })
    const l2 = createPublicClient({ chain: l2Chain, transport: http(sequencer.rpcUrl) }).extend(publicActionsL2())
    const recipient = privateKeyToAccount(`0x${'42'.repeat(32)}`).address
    const started = Date.now()
    const hash = await l1Wallet.depositTransaction({
      portalAddress: rollup.deposit_contract_address,
      request: { to: recipient, mint: parseEther('1.5'), value: parseEther('0.5'), gas: 100_000n },
    })
    const l1Receipt = await l1.waitForTransactionReceipt({ hash })
    assert.equal(l1Receipt.status, 'success')
    const [l2Hash] = getL2TransactionHashes(l1Receipt)
    assert.ok(l2Hash !== undefined, 'the L1 receipt holds a TransactionDeposited log')
    const l2Receipt = await waitFor(
      'the deposit on L2',
      async () => await l2.getTransactionReceipt({ hash: l2Hash }).catch(() => undefined),
      30_000,
      200,
    )
    const seconds = (Date.now() - started) / 1000
    assert.ok(seconds < 30, `credited after ${seconds} s`)
    assert.equal(l2Receipt.status, 'success')
    // viem's OP receipt formatter leaves the type as the node sent it.
    assert.equal(l2Receipt.type, '0x7e')
    // The sender is the L1 EOA itself (not aliased); it kept mint − value on L2, the recipient got value.
    assert.equal(await l2.getBalance({ address: recipient }), parseEther('0.5'))
    const tx = await l2.getTransaction({ hash: l2Hash })
    assert.equal(tx.type, 'deposit')
    assert.equal(tx.mint, parseEther('1.5'))
    assert.equal(tx.from.toLowerCase(), account.address.toLowerCase())
    // A user deposit comes right after the block's L1-attributes deposit, in the first block of its epoch.
    const block = await l2.getBlock({ blockHash: l2Receipt.blockHash, includeTransactions: true })
    const first = block.transactions[0]!
    assert.equal(first.type, 'deposit')
    assert.equal(first.to, '0x4200000000000000000000000000000000000015')
    assert.ok(block.transactions.findIndex((t) => t.hash === l2Hash) >= 1)
  })

  test('every block opens with the L1-attributes deposit naming an L1 origin that anvil has', async () => {
    const l2 = createPublicClient({ chain: l2Chain, transport: http(sequencer.rpcUrl) })
    const l1 = createPublicClient({ transport: http(info.l1.rpc) })
    const head = await l2.getBlockNumber()
    for (let n = head > 5n ? head - 5n : 1n; n <= head; n++) {
      const block = await l2.getBlock({ blockNumber: n, includeTransactions: true })
      const info0 = block.transactions[0]!
      assert.equal(info0.type, 'deposit', `block ${n} opens with a deposit`)
      // Isthmus L1-attributes calldata: L1 number at bytes 28..36, hash at 100..132.
      const data = info0.input.slice(2)
      const l1Number = BigInt(`0x${data.slice(56, 72)}`)
      const l1Hash = `0x${data.slice(200, 264)}` as Hex
      const l1Block = await l1.getBlock({ blockNumber: l1Number })
      assert.equal(l1Block.hash, l1Hash, `block ${n}'s L1 origin is on anvil`)
      assert.equal(block.mixHash, l1Block.mixHash, `block ${n}'s PREVRANDAO is its origin's`)
      assert.ok(block.timestamp >= l1Block.timestamp)
    }
  })
})

interface RpcBlock {
  hash: Hex
  number: Hex
  stateRoot: Hex
  receiptsRoot: Hex
  transactions: Hex[]
}
interface SyncStatus {
  safe_l2: { number: number; hash: Hex }
  unsafe_l2: { number: number; hash: Hex }
}

describe('derivation from L1', () => {
  test('a --sync=l1 replica rebuilds the sequencer chain from L1 alone, and both agree on safe', async () => {
    const replicaDir = await makeTempDir('megaeth-l1-replica-')
    const replica = await startNode({
      datadir: replicaDir,
      args: [
        '--role=replica',
        '--sync=l1',
        `--l1.rpc=${info.l1.rpc}`,
        `--rollup.config=${join(datadir, 'rollup.json')}`,
        `--l1.beacon=${info.l1.rpc}`,
        '--l1.confirmations=0',
      ],
    })
    try {
      // A few ordinary transactions too, so batches carry more than deposits.
      const account = privateKeyToAccount(DEV_KEYS[6]!)
      const l2Wallet = createWalletClient({ account, chain: l2Chain, transport: http(sequencer.rpcUrl) })
      for (let i = 0; i < 5; i++) await l2Wallet.sendTransaction({ to: `0x${'77'.repeat(20)}`, value: BigInt(i + 1) })
      const target = BigInt(await rpc<Hex>(sequencer.rpcUrl, 'eth_blockNumber'))
      const safe = await waitFor(
        'the sequencer safe head past the transactions',
        async () => {
          const status = await rpc<SyncStatus>(sequencer.rpcUrl, 'optimism_syncStatus')
          return BigInt(status.safe_l2.number) >= target ? BigInt(status.safe_l2.number) : undefined
        },
        60_000,
        500,
      )
      await waitFor(
        'the replica at the safe head',
        async () => BigInt(await rpc<Hex>(replica.rpcUrl, 'eth_blockNumber')) >= safe,
        60_000,
        500,
      )
      for (let n = 1n; n <= safe; n++) {
        const tag = `0x${n.toString(16)}`
        const [ours, theirs] = await Promise.all([
          rpc<RpcBlock>(sequencer.rpcUrl, 'eth_getBlockByNumber', [tag, false]),
          rpc<RpcBlock>(replica.rpcUrl, 'eth_getBlockByNumber', [tag, false]),
        ])
        assert.equal(theirs.hash, ours.hash, `block ${n} hash`)
        assert.equal(theirs.stateRoot, ours.stateRoot)
        assert.equal(theirs.receiptsRoot, ours.receiptsRoot)
        assert.deepEqual(theirs.transactions, ours.transactions)
      }
      // Receipts as RPC serves them, on both — but the mini-block number, which L1 does not carry.
      const last = await rpc<RpcBlock>(sequencer.rpcUrl, 'eth_getBlockByNumber', [`0x${safe.toString(16)}`, false])
      const withoutMiniBlock = (receipts: Array<Record<string, unknown>>) =>
        receipts.map(({ miniBlockNumber: _, ...rest }) => rest)
      const replicaReceipts = await rpc<Array<Record<string, unknown>>>(replica.rpcUrl, 'eth_getBlockReceipts', [last.hash])
      const sequencerReceipts = await rpc<Array<Record<string, unknown>>>(sequencer.rpcUrl, 'eth_getBlockReceipts', [last.hash])
      assert.ok(sequencerReceipts.length >= 1)
      assert.deepEqual(withoutMiniBlock(replicaReceipts), withoutMiniBlock(sequencerReceipts))
      // It keeps following: more blocks get posted and derived.
      await waitFor(
        'the replica following on',
        async () => BigInt(await rpc<Hex>(replica.rpcUrl, 'eth_blockNumber')) > safe + 3n,
        60_000,
        500,
      )
      const replicaSafe = await rpc<{ number: Hex }>(replica.rpcUrl, 'eth_getBlockByNumber', ['safe', false])
      assert.ok(BigInt(replicaSafe.number) > safe)
      // The batches it derived from were blob transactions to the inbox.
      const l1 = createPublicClient({ transport: http(info.l1.rpc) })
      const l1Head = await l1.getBlockNumber()
      let blobTxs = 0
      for (let n = 0n; n <= l1Head; n++) {
        const block = await l1.getBlock({ blockNumber: n, includeTransactions: true })
        blobTxs += block.transactions.filter((tx) => tx.to === rollup.batch_inbox_address && tx.type === 'eip4844').length
      }
      assert.ok(blobTxs > 0, 'the batcher posted blob transactions')
    } finally {
      await replica.stop()
      await removeTempDir(replicaDir)
    }
  })
})

describe('p2p replicas of an L1-anchored chain', () => {
  test('a replica following over libp2p verifies statelessly the blocks that carry deposits', async () => {
    // The L1 and the rollup config give it the chain's genesis (anchored to the rollup); blocks come over p2p.
    const replica = await startNode({
      args: [
        '--role=replica',
        `--p2p.bootnodes=${info.p2pAddrs[0]!}`,
        `--l1.rpc=${info.l1.rpc}`,
        `--rollup.config=${join(datadir, 'rollup.json')}`,
      ],
    })
    try {
      const target = BigInt(await rpc<Hex>(sequencer.rpcUrl, 'eth_blockNumber')) + 3n
      const verified = await waitFor(
        'the replica verifying past the current head',
        async () => {
          const status = await rpc<NodeInfo>(replica.rpcUrl, 'mega_nodeInfo')
          assert.equal(status.verified?.failures, 0, 'no verification failure')
          return status.verified !== undefined && BigInt(status.verified.block) >= target
            ? BigInt(status.verified.block)
            : undefined
        },
        60_000,
        250,
      )
      // Every block verified opens with its L1-attributes deposit; the deposit block of the first test is among them.
      const block = await rpc<{ hash: Hex; transactions: Array<{ type: Hex }> }>(replica.rpcUrl, 'eth_getBlockByNumber', [
        `0x${verified.toString(16)}`,
        true,
      ])
      assert.equal(block.transactions[0]!.type, '0x7e')
      const ours = await rpc<{ hash: Hex }>(sequencer.rpcUrl, 'eth_getBlockByNumber', [`0x${verified.toString(16)}`, false])
      assert.equal(block.hash, ours.hash)
    } finally {
      await replica.stop()
    }
  })
})
