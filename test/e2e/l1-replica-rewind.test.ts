// run-tests: pair — waits on L1 (anvil's 1 s blocks, games, batcher and proposer rounds) far more than it computes
/**
 * An L1 reorg takes a batch a `--sync=l1` replica already built blocks from: the replica reads L1 with
 * no confirmations, so it derives each batch as soon as it lands; anvil then replaces the L1 blocks from
 * the batch's on, re-posting the batch transactions in a later block of the new chain. The replica
 * rewinds its chain (stores, state, trie) to the newest block L1 still backs, derives the re-posted
 * batch, and ends hash-identical to the sequencer.
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
interface L1Block {
  number: Hex
  transactions: Array<{ hash: Hex; to: Hex | null }>
}

let dir: string
let l1: RollupL1
const nodes: NodeHandle[] = []

before(async () => {
  dir = await makeTempDir('megaeth-replica-rewind-')
  l1 = await startRollupL1(dir)
})

after(async () => {
  for (const node of nodes) await node.stop()
  await l1?.anvil.stop()
  if (dir !== undefined) await removeTempDir(dir)
})

const REWOUND = 'an L1 reorg took the batches of blocks'

test('a --sync=l1 replica rewinds blocks whose batch an L1 reorg removed and ends on the sequencer’s chain', async () => {
  // The sequencer reads L1 three blocks behind: the reorgs below (at most two blocks) never reach its safe head.
  const sequencer = await startNode({ datadir: join(dir, 'sequencer'), args: [...l1.l1Args(3), ...l1.batcherArgs()] })
  nodes.push(sequencer)
  const replica = await startNode({ datadir: join(dir, 'replica'), args: ['--role=replica', '--sync=l1', ...l1.l1Args(0)] })
  nodes.push(replica)
  const inbox = l1.rollup.batchInboxAddress.toLowerCase()
  const rewinds = (): number =>
    replica
      .logs()
      .stdout.split('\n')
      .filter((line) => line.includes(REWOUND)).length

  const inboxTxs = async (from: bigint, to: bigint): Promise<Hex[]> => {
    const hashes: Hex[] = []
    for (let n = from; n <= to; n++) {
      const block = await rpc<L1Block>(l1.anvil.rpcUrl, 'eth_getBlockByNumber', [`0x${n.toString(16)}`, true])
      for (const tx of block.transactions) if (tx.to?.toLowerCase() === inbox) hashes.push(tx.hash)
    }
    return hashes
  }
  // Wait for a batch in one of the two newest L1 blocks that the replica has derived, then reorg those
  // blocks away: the new ones carry the same batch transactions one block later (a real reorg: the
  // block the replica derived from is gone, and the batcher's nonces stay as they were).
  for (let attempt = 0; attempt < 20 && rewinds() === 0; attempt++) {
    const head = BigInt(await rpc<Hex>(l1.anvil.rpcUrl, 'eth_blockNumber'))
    if ((await inboxTxs(head - 1n, head)).length === 0) {
      await new Promise((resolve) => setTimeout(resolve, 300))
      continue
    }
    const replicaHead = BigInt(await rpc<Hex>(replica.rpcUrl, 'eth_blockNumber'))
    // Give the replica (polling every 200 ms) the time to derive it, then take it away.
    await new Promise((resolve) => setTimeout(resolve, 500))
    if (BigInt(await rpc<Hex>(replica.rpcUrl, 'eth_blockNumber')) <= replicaHead) continue
    const now = BigInt(await rpc<Hex>(l1.anvil.rpcUrl, 'eth_blockNumber'))
    const depth = now - head + 2n
    const raws = await Promise.all(
      (await inboxTxs(head - 1n, now)).map((hash) => rpc<Hex>(l1.anvil.rpcUrl, 'eth_getRawTransactionByHash', [hash])),
    )
    await rpc(l1.anvil.rpcUrl, 'anvil_reorg', [Number(depth), raws.map((raw) => [raw, Number(depth) - 1])])
    await waitFor('the replica noticing the reorg', async () => rewinds() > 0 || undefined, 5_000, 100).catch(() => undefined)
  }
  assert.ok(rewinds() > 0, 'the replica rewound blocks it had built')
  const line = replica
    .logs()
    .stdout.split('\n')
    .find((l) => l.includes(REWOUND))!
  const logged = JSON.parse(line) as { alarm: boolean; dropped: unknown[] }
  assert.equal(logged.alarm, true)
  assert.ok(logged.dropped.length > 0, 'blocks were dropped')

  const safe = async (): Promise<number> => (await rpc<SyncStatus>(sequencer.rpcUrl, 'optimism_syncStatus')).safe_l2.number
  const target = BigInt((await safe()) + 4)
  await waitFor('the safe head moving on after the reorg', async () => BigInt(await safe()) >= target, 90_000, 250)
  await waitFor(
    'the replica deriving past the reorg',
    async () => BigInt(await rpc<Hex>(replica.rpcUrl, 'eth_blockNumber')) >= target,
    90_000,
    250,
  )
  await assertSameBlocks(sequencer.rpcUrl, replica.rpcUrl, target)
  const info = await rpc<{ derivationFailure?: string }>(replica.rpcUrl, 'mega_nodeInfo')
  assert.equal(info.derivationFailure, undefined, 'derivation never stopped')
})
