// run-tests: pair — waits on L1 (anvil's 1 s blocks, games, batcher and proposer rounds) far more than it computes
/**
 * L1 overrules the sequencer: it seals blocks (one holds a user transaction) with no batcher, so none
 * reaches L1, and is killed -9. A deposit is made on L1 and L1 moves past the sequencing window: a
 * `--sync=l1` replica derives deposit-only blocks at those heights, with the deposit. The restarted
 * sequencer (batcher on) rewinds its own blocks, adopts L1's (hash for hash), re-includes the user
 * transaction from the dropped block on top, and goes on.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { createWalletClient, defineChain, http, type Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { DEV_KEYS, makeTempDir, removeTempDir, rpc, startNode, waitFor, type NodeHandle } from '../helpers/node-process.ts'
import { depositOnL1, startRollupL1, type RollupL1 } from '../helpers/rollup-l1.ts'

interface RpcReceipt {
  blockNumber: Hex
  blockHash: Hex
  status: Hex
}

let dir: string
let l1: RollupL1
const nodes: NodeHandle[] = []

before(async () => {
  dir = await makeTempDir('megaeth-seq-rewind-')
  // A short window, waited out in real time: L1's clock must stay the wall clock's (anvil_mine would run it
  // ahead, and a restarted sequencer's blocks would then carry origins too old for their batches to count).
  l1 = await startRollupL1(dir, { seqWindowSize: 12n })
})

after(async () => {
  for (const node of nodes) await node.stop()
  await l1?.anvil.stop()
  if (dir !== undefined) await removeTempDir(dir)
})

async function startSequencer(batcher: boolean): Promise<NodeHandle> {
  const node = await startNode({
    datadir: join(dir, 'sequencer'),
    args: [...l1.l1Args(0), ...(batcher ? l1.batcherArgs() : [])],
  })
  nodes.push(node)
  return node
}

const receiptOf = async (url: string, hash: Hex): Promise<RpcReceipt | undefined> =>
  (await rpc<RpcReceipt | null>(url, 'eth_getTransactionReceipt', [hash])) ?? undefined

test('a sequencer whose unbatched blocks L1 replaced rewinds to L1, adopts its blocks and re-includes the dropped transaction', async () => {
  let sequencer = await startSequencer(false)
  const sender = privateKeyToAccount(DEV_KEYS[3]!)
  const l2Chain = defineChain({
    id: Number(l1.rollup.l2ChainId),
    name: 'l2',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [sequencer.rpcUrl] } },
  })
  const l2Wallet = createWalletClient({ account: sender, chain: l2Chain, transport: http(sequencer.rpcUrl) })
  const userTx = await l2Wallet.sendTransaction({ to: `0x${'77'.repeat(20)}`, value: 12345n })
  const preconfirmed = await waitFor('the user transaction preconfirmed', () => receiptOf(sequencer.rpcUrl, userTx), 30_000, 100)
  await waitFor(
    'its block sealed, and one more',
    async () => BigInt(await rpc<Hex>(sequencer.rpcUrl, 'eth_blockNumber')) > BigInt(preconfirmed.blockNumber),
    30_000,
    100,
  )
  const dropped = await rpc<{ hash: Hex }>(sequencer.rpcUrl, 'eth_getBlockByNumber', [preconfirmed.blockNumber, false])
  await sequencer.kill9()

  const recipient = privateKeyToAccount(`0x${'25'.repeat(32)}`).address
  const { l1Block: depositBlock, l2Hash: deposit } = await depositOnL1(l1, 7, recipient)
  await waitFor(
    'L1 past the sequencing window of the deposit',
    async () => BigInt(await rpc<Hex>(l1.anvil.rpcUrl, 'eth_blockNumber')) > depositBlock + l1.rollup.seqWindowSize + 2n,
    60_000,
    500,
  )

  const replica = await startNode({ datadir: join(dir, 'replica'), args: ['--role=replica', '--sync=l1', ...l1.l1Args(0)] })
  nodes.push(replica)
  const forced = await waitFor('the replica deriving the forced deposit', () => receiptOf(replica.rpcUrl, deposit), 90_000, 250)
  // L1 has other blocks at the sequencer's heights: deposit-only, without the user transaction.
  const theirs = await rpc<{ hash: Hex }>(replica.rpcUrl, 'eth_getBlockByNumber', [preconfirmed.blockNumber, false])
  assert.notEqual(theirs.hash, dropped.hash)
  assert.equal(await receiptOf(replica.rpcUrl, userTx), undefined)

  sequencer = await startSequencer(true)
  const adopted = await waitFor(
    'the restarted sequencer holding the deposit',
    () => receiptOf(sequencer.rpcUrl, deposit),
    60_000,
    250,
  )
  assert.equal(adopted.blockNumber, forced.blockNumber)
  assert.equal(adopted.blockHash, forced.blockHash, 'the same block, hash for hash')
  const ours = await rpc<{ hash: Hex }>(sequencer.rpcUrl, 'eth_getBlockByNumber', [preconfirmed.blockNumber, false])
  assert.equal(ours.hash, theirs.hash, 'the dropped block is replaced by L1’s')
  const rewound = sequencer
    .logs()
    .stdout.split('\n')
    .find((line) => line.includes('L1 overruled sequencer blocks'))
  assert.ok(rewound !== undefined, 'the rewind is logged')
  assert.equal(JSON.parse(rewound).alarm, true)
  assert.ok(rewound.includes(dropped.hash), 'the log names the dropped blocks')

  // The user transaction of the dropped block went back to the pool and lands again, after the forced blocks.
  const reincluded = await waitFor('the dropped transaction re-included', () => receiptOf(sequencer.rpcUrl, userTx), 60_000, 250)
  assert.equal(reincluded.status, '0x1')
  assert.ok(BigInt(reincluded.blockNumber) > BigInt(forced.blockNumber))
  // The chain goes on past it.
  await waitFor(
    'the sequencer producing on top',
    async () => BigInt(await rpc<Hex>(sequencer.rpcUrl, 'eth_blockNumber')) > BigInt(reincluded.blockNumber) + 2n,
    30_000,
    250,
  )
})
