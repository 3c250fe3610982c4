/**
 * The other side of a restart: the sequencer goes down (graceful stop, then kill -9) while a replica
 * follows it, and comes back on the same datadir and p2p port. The replica must reconnect on its
 * own (bootnode redial), catch up on what it missed, verify every block with no failure, and end
 * with the sequencer's chain — including the blocks the sequencer sealed from its WAL after the crash.
 */
import { test, describe, after } from 'node:test'
import assert from 'node:assert/strict'
import type { Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import {
  DEV_CHAIN_ID,
  DEV_KEYS,
  freePort,
  makeTempDir,
  removeTempDir,
  rpc,
  startNode,
  waitFor,
  type NodeHandle,
} from '../helpers/node-process.ts'

interface NodeInfo {
  p2pAddrs: string[]
  peers: number
  head: { block: Hex; miniBlock: Hex }
  verified?: { block: Hex; failures: number; failure?: { code: string; message: string } }
}

const FEES = { maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 0n }
const nodes: NodeHandle[] = []
const dirs: string[] = []

after(async () => {
  for (const node of nodes) await node.stop()
  for (const dir of dirs) await removeTempDir(dir)
})

describe('a replica across sequencer restarts (slow)', { timeout: 180_000 }, () => {
  test('graceful stop and kill -9 of the sequencer: the replica reconnects, catches up, verifies everything', async () => {
    const datadir = await makeTempDir('megaeth-seq-restart-')
    dirs.push(datadir)
    const p2pPort = await freePort()
    const rpcPort = await freePort()
    // Same datadir (same p2p identity), same ports: the replica's bootnode address stays valid.
    const startSequencer = async (): Promise<NodeHandle> => {
      const node = await startNode({ datadir, port: rpcPort, args: ['--block-ms=300', `--p2p.port=${p2pPort}`] })
      nodes.push(node)
      return node
    }
    let sequencer = await startSequencer()
    const bootnode = (await rpc<NodeInfo>(sequencer.rpcUrl, 'mega_nodeInfo')).p2pAddrs[0]!
    const replica = await startNode({ args: ['--role=replica', '--replica.verify-workers=1', `--p2p.bootnodes=${bootnode}`] })
    nodes.push(replica)

    const account = privateKeyToAccount(DEV_KEYS[9]!)
    let nonce = 0
    /** Sends `count` transfers; resolves with the block the last one landed in. */
    const send = async (count: number): Promise<bigint> => {
      let block = 0n
      for (let i = 0; i < count; i++) {
        const raw = await account.signTransaction({
          chainId: DEV_CHAIN_ID,
          type: 'eip1559',
          nonce: nonce++,
          gas: 21_000n,
          to: `0x${(0xdead00 + i).toString(16).padStart(40, '0')}`,
          value: 1n,
          ...FEES,
        })
        block = BigInt((await rpc<{ blockNumber: Hex }>(sequencer.rpcUrl, 'eth_sendRawTransactionSync', [raw])).blockNumber)
      }
      return block
    }
    /** Waits until the replica has verified block `target` (sealed on the sequencer by then) with no failure. */
    const caughtUp = async (what: string, target: bigint): Promise<bigint> => {
      return waitFor(
        what,
        async () => {
          const info = await rpc<NodeInfo>(replica.rpcUrl, 'mega_nodeInfo').catch(() => undefined)
          if (info?.verified?.failures !== 0 && info?.verified !== undefined)
            throw new Error(`verification failed: ${JSON.stringify(info.verified.failure)}`)
          return info !== undefined && BigInt(info.verified!.block) >= target ? BigInt(info.verified!.block) : undefined
        },
        60_000,
        100,
      )
    }

    await caughtUp('the replica to verify the first blocks', await send(10))

    // 1. Graceful stop: everything sealed; the replica waits, then reconnects by itself.
    assert.equal((await sequencer.stop()).code, 0)
    await waitFor(
      'the replica to notice the sequencer is gone',
      async () => (await rpc<NodeInfo>(replica.rpcUrl, 'mega_nodeInfo')).peers === 0,
      15_000,
      100,
    )
    sequencer = await startSequencer()
    await caughtUp('the replica to catch up after a graceful restart', await send(10))

    // 2. kill -9 with transactions in the open block: the restarted sequencer seals them from its WAL.
    await send(5)
    await sequencer.kill9()
    sequencer = await startSequencer()
    const verified = await caughtUp('the replica to catch up after kill -9', await send(5))

    // Same chain, block by block, and the replica's state matches at the newest verified block.
    for (let n = 1n; n <= verified; n++) {
      const [ours, theirs] = await Promise.all(
        [replica.rpcUrl, sequencer.rpcUrl].map((url) =>
          rpc<{ hash: Hex; stateRoot: Hex }>(url, 'eth_getBlockByNumber', [`0x${n.toString(16)}`, false]),
        ),
      )
      assert.equal(ours!.hash, theirs!.hash, `block ${n}`)
    }
    const [a, b] = await Promise.all([
      rpc(replica.rpcUrl, 'eth_getTransactionCount', [account.address, `0x${verified.toString(16)}`]),
      rpc(sequencer.rpcUrl, 'eth_getTransactionCount', [account.address, `0x${verified.toString(16)}`]),
    ])
    assert.equal(a, b)
    assert.equal(BigInt(a as Hex), 30n, "all 30 transactions are in the replica's verified chain")
    const info = await rpc<NodeInfo>(replica.rpcUrl, 'mega_nodeInfo')
    assert.equal(info.verified?.failures, 0)
    assert.equal((await fetch(`${replica.rpcUrl}/readyz`)).status, 200)
  })
})
