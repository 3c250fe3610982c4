// run-tests: pair — waits on L1 (anvil's 1 s blocks, games, batcher and proposer rounds) far more than it computes
/**
 * An L1 reorg under a running rollup: the sequencer and a `--sync=l1` replica both read L1 two blocks
 * behind its head; anvil replaces its newest block (which may hold a batcher transaction) with an empty
 * one. The batcher re-posts what the reorg dropped, derivation resets, and the replica ends up with the
 * sequencer's chain, block for block: no divergence, no alarm.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import type { Hex } from 'viem'
import { makeTempDir, removeTempDir, rpc, startNode, waitFor, type NodeHandle } from '../helpers/node-process.ts'
import { assertSameBlocks, startRollupL1, type RollupL1 } from '../helpers/rollup-l1.ts'

interface SyncStatus {
  safe_l2: { number: number }
}

let dir: string
let l1: RollupL1
const nodes: NodeHandle[] = []

before(async () => {
  dir = await makeTempDir('megaeth-reorg-')
  l1 = await startRollupL1(dir)
})

after(async () => {
  for (const node of nodes) await node.stop()
  await l1?.anvil.stop()
  if (dir !== undefined) await removeTempDir(dir)
})

test('the sequencer and an L1-derived replica ride out an L1 reorg and keep one chain', async () => {
  const sequencer = await startNode({ datadir: join(dir, 'sequencer'), args: [...l1.l1Args(2), ...l1.batcherArgs()] })
  nodes.push(sequencer)
  const replica = await startNode({ datadir: join(dir, 'replica'), args: ['--role=replica', '--sync=l1', ...l1.l1Args(2)] })
  nodes.push(replica)
  const safe = async (): Promise<number> => (await rpc<SyncStatus>(sequencer.rpcUrl, 'optimism_syncStatus')).safe_l2.number
  await waitFor('a safe head of a few blocks', async () => (await safe()) >= 3, 60_000, 250)
  // Three reorgs of the newest L1 block, a few seconds apart: batches land in some of them.
  for (let i = 0; i < 3; i++) {
    await rpc(l1.anvil.rpcUrl, 'anvil_reorg', [1, []])
    await new Promise((resolve) => setTimeout(resolve, 2500))
  }
  const before = await safe()
  const target = BigInt(before + 5)
  await waitFor('the safe head moving on after the reorgs', async () => BigInt(await safe()) >= target, 90_000, 250)
  await waitFor(
    'the replica deriving past the reorgs',
    async () => BigInt(await rpc<Hex>(replica.rpcUrl, 'eth_blockNumber')) >= target,
    90_000,
    250,
  )
  await assertSameBlocks(sequencer.rpcUrl, replica.rpcUrl, target)
  for (const node of [sequencer, replica]) assert.ok(!node.logs().stdout.includes('DERIVATION STOPPED'), 'no derivation alarm')
})
