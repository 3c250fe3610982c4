// run-tests: pair — waits on L1 (anvil's 1 s blocks, games, batcher and proposer rounds) far more than it computes
/**
 * Forced inclusion, with the adversary being the sequencer's absence: the sequencer's batches land,
 * it stops; a deposit is made on L1 and L1 moves past the sequencing window. A `--sync=l1` replica
 * then derives blocks that include the deposit without any batch; the restarted sequencer adopts
 * exactly those blocks (same number, same hash) and the chain goes on from there. The L1 is an anvil
 * this test owns, so it keeps running while the sequencer is down.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { parseEther, type Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { makeTempDir, removeTempDir, rpc, startNode, waitFor, type NodeHandle } from '../helpers/node-process.ts'
import { depositOnL1, startRollupL1, type RollupL1 } from '../helpers/rollup-l1.ts'

interface SyncStatus {
  safe_l2: { number: number }
  unsafe_l2: { number: number }
}
interface RpcReceipt {
  blockNumber: Hex
  blockHash: Hex
  status: Hex
}

let dir: string
let l1: RollupL1
const nodes: NodeHandle[] = []

before(async () => {
  dir = await makeTempDir('megaeth-forced-')
  l1 = await startRollupL1(dir)
})

after(async () => {
  for (const node of nodes) await node.stop()
  await l1?.anvil.stop()
  if (dir !== undefined) await removeTempDir(dir)
})

async function startSequencer(): Promise<NodeHandle> {
  const node = await startNode({ datadir: join(dir, 'sequencer'), args: [...l1.l1Args(0), ...l1.batcherArgs()] })
  nodes.push(node)
  return node
}

test('a deposit the sequencer never saw is forced in after the sequencing window, and the restarted sequencer adopts it', async () => {
  let sequencer = await startSequencer()
  // Let batches land: the safe head is what L1 holds of the sequencer's chain.
  await waitFor(
    'a safe head of a few blocks',
    async () => (await rpc<SyncStatus>(sequencer.rpcUrl, 'optimism_syncStatus')).safe_l2.number >= 4,
    60_000,
    250,
  )
  await sequencer.stop() // a graceful stop posts the last sealed blocks (the batcher drains)

  const recipient = privateKeyToAccount(`0x${'24'.repeat(32)}`).address
  const { l2Hash } = await depositOnL1(l1, 7, recipient)
  // Past the window: every epoch up to the deposit's must now be derived without batches.
  await rpc(l1.anvil.rpcUrl, 'anvil_mine', [`0x${(l1.rollup.seqWindowSize + 5n).toString(16)}`])

  const replica = await startNode({ datadir: join(dir, 'replica'), args: ['--role=replica', '--sync=l1', ...l1.l1Args(0)] })
  nodes.push(replica)
  const forced = await waitFor(
    'the replica deriving the forced deposit',
    async () => (await rpc<RpcReceipt | null>(replica.rpcUrl, 'eth_getTransactionReceipt', [l2Hash])) ?? undefined,
    90_000,
    250,
  )
  assert.equal(forced.status, '0x1')
  assert.equal(BigInt(await rpc<Hex>(replica.rpcUrl, 'eth_getBalance', [recipient, forced.blockNumber])), parseEther('1'))

  sequencer = await startSequencer()
  const adopted = await waitFor(
    'the restarted sequencer holding the deposit',
    async () => (await rpc<RpcReceipt | null>(sequencer.rpcUrl, 'eth_getTransactionReceipt', [l2Hash])) ?? undefined,
    60_000,
    250,
  )

  assert.equal(adopted.blockNumber, forced.blockNumber)
  assert.equal(adopted.blockHash, forced.blockHash, 'the same block, hash for hash')
  // The chain goes on past the forced blocks, and the replica follows it there.
  const next = BigInt(forced.blockNumber) + 3n
  await waitFor(
    'the sequencer producing on top',
    async () => BigInt(await rpc<Hex>(sequencer.rpcUrl, 'eth_blockNumber')) >= next,
    60_000,
    250,
  )
  await waitFor(
    'the replica following the restarted sequencer',
    async () => BigInt(await rpc<Hex>(replica.rpcUrl, 'eth_blockNumber')) >= next,
    90_000,
    250,
  )
  const tag = `0x${next.toString(16)}`
  const [ours, theirs] = await Promise.all([
    rpc<{ hash: Hex }>(sequencer.rpcUrl, 'eth_getBlockByNumber', [tag, false]),
    rpc<{ hash: Hex }>(replica.rpcUrl, 'eth_getBlockByNumber', [tag, false]),
  ])
  assert.equal(theirs.hash, ours.hash)
})
