/**
 * A block sealed from the WAL after kill -9 must be the block a replica re-executes: same state root,
 * and a witness with every node its re-execution needs. The deterministic case behind the crash
 * campaign's WITNESS_MISSING_NODE: from Prague a block's system calls wait for the parent's seal, so
 * the first mini-blocks of the block after a seal in progress are empty and carry no system-call
 * writes. Killing the sequencer before that seal's write leaves exactly such mini-blocks in the WAL;
 * sealing them as they are gave a block without its system calls (state root disagreeing with any
 * re-execution, witness lacking the nodes those writes walk).
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { makeTempDir, removeTempDir, rpc, startNode, waitFor, type NodeHandle } from '../helpers/node-process.ts'
import { fetchBlockWithWitness, verifyDevBlock } from '../helpers/witness.ts'

const nodes: NodeHandle[] = []
let datadir: string | undefined

after(async () => {
  for (const node of nodes) await node.stop()
  if (datadir !== undefined) await removeTempDir(datadir)
})

describe('a block sealed from the WAL after kill -9', () => {
  it('verifies statelessly with its own witness, like every other block', async () => {
    datadir = await makeTempDir('megaeth-walwit-')
    // Dies just before the third seal's write: the third block and the empty start of the fourth stay in the WAL.
    const first = await startNode({ datadir, env: { MEGAETH_FAILPOINTS: 'sequencer.seal.before-write=kill@3' } })
    nodes.push(first)
    await waitFor('the failpoint to kill the sequencer', () => first.exited, 30_000)

    const second = await startNode({ datadir })
    nodes.push(second)
    const recovered = second.logs().stdout.match(/"miniBlocks":(\d+),"msg":"recovering unsealed mini-blocks from the WAL"/)
    assert.ok(recovered !== null, 'the restart recovered mini-blocks from the WAL')
    // Two blocks from the WAL (the one being sealed and the one after it), then a couple produced anew.
    const target = 6n
    await waitFor(
      'the chain to move on',
      async () => BigInt(await rpc<string>(second.rpcUrl, 'eth_blockNumber')) >= target,
      30_000,
    )
    for (let n = 1n; n <= target; n++) {
      const { block, witness } = await fetchBlockWithWitness(second.rpcUrl, n)
      const verified = await verifyDevBlock(block, witness)
      assert.equal(verified.stateRoot, `0x${Buffer.from(block.header.stateRoot).toString('hex')}`, `block ${n}`)
    }
  })
})
