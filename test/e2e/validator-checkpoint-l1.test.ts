// run-tests: pair — waits on the dev L1 (anvil, the rollup's deployment) far more than it computes
/**
 * A validator with an L1 takes its checkpoint from the rollup's anchor, not from the sequencer (issue 23): a `--dev`
 * sequencer spawns its dev L1 (anchored at the L2 genesis output), and a validator given that L1 (`--l1.rpc`,
 * `--rollup.config`) reads the AnchorStateRegistry, checks the anchored root is its own genesis output, and
 * verifies from block 1. (An anchor past genesis, opened by its published preimage, is read against anvil in
 * proposer.test.ts and checked in test/unit/anchor-checkpoint.test.ts: moving the anchor takes a resolved game.)
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import type { Hex } from 'viem'
import { rpc, startNode, waitFor, type NodeHandle } from '../helpers/node-process.ts'
import { logTail, startValidator, type ValidatorHandle, waitReady } from '../helpers/validator-process.ts'

interface NodeInfo {
  p2pAddrs: string[]
  l1?: { rpc: string }
  checkpoint?: { block: Hex; hash: Hex; source: string }
  verified: { block: Hex; failures: number }
}

const nodeInfo = (url: string): Promise<NodeInfo> => rpc<NodeInfo>(url, 'mega_nodeInfo')

describe('validator checkpoint from L1', () => {
  let sequencer: NodeHandle
  let validator: ValidatorHandle | undefined

  before(async () => {
    sequencer = await startNode({ l1: true, args: ['--block-ms=300'] })
  })

  after(async () => {
    await validator?.stop()
    await sequencer?.stop()
  })

  test('without --replica.checkpoint, a validator with an L1 starts from the anchor (genesis here) and verifies from block 1', async () => {
    const info = await nodeInfo(sequencer.rpcUrl)
    assert.ok(info.l1 !== undefined, 'the sequencer runs the dev L1')
    validator = await startValidator(info.p2pAddrs[0]!, [
      `--l1.rpc=${info.l1.rpc}`,
      `--rollup.config=${join(sequencer.datadir, 'rollup.json')}`,
    ])
    const v = validator
    await waitReady('validator', v.rpcUrl, v, 90_000)
    const genesis = (await rpc<{ hash: Hex }>(sequencer.rpcUrl, 'eth_getBlockByNumber', ['0x0', false])).hash
    assert.deepEqual(
      (await nodeInfo(v.rpcUrl)).checkpoint,
      { block: '0x0', hash: genesis, source: 'L1 anchor' },
      logTail('validator', v),
    )
    await waitFor(
      'the validator to verify from block 1',
      async () => BigInt((await nodeInfo(v.rpcUrl)).verified.block) >= 3n,
      60_000,
      200,
    )
    assert.equal((await nodeInfo(v.rpcUrl)).verified.failures, 0, logTail('validator', v))
    assert.ok(!v.logs().stdout.includes('trusts the sequencer’s head'), 'no warning: the checkpoint is L1’s')
    // It reads L1 for the anchor only: no watcher polling L1 for as long as it runs.
    assert.ok(v.logs().stdout.includes('L1 read on demand (not followed)'), logTail('validator', v))
    assert.ok(!v.logs().stdout.includes('"following L1"'), 'a validator does not follow L1')
  })
})
