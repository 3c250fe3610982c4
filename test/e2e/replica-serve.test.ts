/**
 * Full replicas serve the sync protocol, end to end with real processes: a dev sequencer under a light
 * load and a full replica A following it; then two new replicas whose only bootnode is A (they never
 * connect to the sequencer): B catches up block by block from A, C (`--sync.snapshot=always`) copies A's
 * sealed state at a pivot. Both must follow to blocks whose hash and state root are the sequencer's, and
 * verify them all: what A serves carries the sequencer's signatures, stored when A imported the blocks.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Hex } from 'viem'
import { startLightLoad, type LightLoad } from '../helpers/light-load.ts'
import { rpc, startNode, waitFor, type NodeHandle } from '../helpers/node-process.ts'

const BLOCK_MS = 300
const MINI_BLOCK_MS = 50

interface NodeInfo {
  p2pAddrs: string[]
  peers: number
  verified: { block: Hex; failures: number }
}

const nodeInfo = (url: string): Promise<NodeInfo> => rpc<NodeInfo>(url, 'mega_nodeInfo')
const blockNumber = async (url: string): Promise<bigint> => BigInt(await rpc<Hex>(url, 'eth_blockNumber'))
const block = (url: string, number: bigint): Promise<{ hash: Hex; stateRoot: Hex }> =>
  rpc(url, 'eth_getBlockByNumber', [`0x${number.toString(16)}`, false])

/** The snapshot pivot a node's log reports, or undefined when it did not start from a snapshot. */
function snapshotPivot(node: NodeHandle): bigint | undefined {
  const line = node
    .logs()
    .stdout.split('\n')
    .find((l) => l.includes('snapshot sync: state verified'))
  return line === undefined ? undefined : BigInt((JSON.parse(line) as { pivot: string }).pivot)
}

describe('a replica syncing from a full replica', { timeout: 120_000 }, () => {
  let sequencer: NodeHandle | undefined
  let replicaA: NodeHandle | undefined
  let load: LightLoad | undefined
  const started: NodeHandle[] = []

  const replicaArgs = (bootnode: string, ...extra: string[]): string[] => [
    '--role=replica',
    `--p2p.bootnodes=${bootnode}`,
    '--replica.verify-workers=1',
    ...extra,
  ]

  before(async () => {
    sequencer = await startNode({ args: [`--block-ms=${BLOCK_MS}`, `--miniblock-ms=${MINI_BLOCK_MS}`] })
    const bootnode = (await nodeInfo(sequencer.rpcUrl)).p2pAddrs[0]!
    // Started side by side: process start-up is most of this suite's time.
    const [startedLoad, startedA] = await Promise.all([
      startLightLoad(sequencer.rpcUrl),
      startNode({ args: replicaArgs(bootnode) }),
    ])
    load = startedLoad
    replicaA = startedA
    await waitFor(
      'replica A to follow the sequencer past block 5',
      async () => (await blockNumber(replicaA!.rpcUrl)) > 5n,
      30_000,
    )
  })

  after(async () => {
    await Promise.allSettled(started.map((node) => node.stop(10_000)))
    await replicaA?.stop(10_000)
    await load?.stop().catch(() => undefined)
    await sequencer?.stop()
  })

  test('catches up block by block, and from a snapshot, with only the replica as bootnode', async () => {
    const bootnodeA = (await nodeInfo(replicaA!.rpcUrl)).p2pAddrs[0]!
    const [replicaB, replicaC] = await Promise.all([
      startNode({ args: replicaArgs(bootnodeA) }),
      startNode({ args: replicaArgs(bootnodeA, '--sync.snapshot=always') }),
    ])
    started.push(replicaB, replicaC)
    assert.equal(snapshotPivot(replicaB), undefined, 'B should catch up from genesis (A keeps every diff)')
    const pivot = snapshotPivot(replicaC)
    assert.ok(pivot !== undefined && pivot > 0n, `no snapshot sync in C's log:\n${replicaC.logs().stdout.slice(-3000)}`)

    const target = (await blockNumber(sequencer!.rpcUrl)) + 3n
    for (const [name, node] of [
      ['B', replicaB],
      ['C', replicaC],
    ] as const) {
      await waitFor(
        `replica ${name} to verify block ${target}`,
        async () => BigInt((await nodeInfo(node.rpcUrl)).verified.block) >= target,
        30_000,
      )
      const info = await nodeInfo(node.rpcUrl)
      assert.equal(info.verified.failures, 0, `replica ${name} failed a verification`)
      assert.equal(info.peers, 1, `replica ${name} should be connected to A alone`)
      const head = await blockNumber(node.rpcUrl)
      const [mine, sequencers] = await Promise.all([block(node.rpcUrl, head), block(sequencer!.rpcUrl, head)])
      assert.equal(mine.hash, sequencers.hash, `replica ${name}'s head ${head}`)
      assert.equal(mine.stateRoot, sequencers.stateRoot, `replica ${name}'s state root at ${head}`)
    }
    // B holds the chain from genesis, C from its pivot on.
    assert.equal((await block(replicaB.rpcUrl, 1n)).hash, (await block(sequencer!.rpcUrl, 1n)).hash)
    await Promise.all([replicaB.stop(), replicaC.stop()])
  })
})
