/**
 * A block sealed from the WAL after kill -9 must be the block a replica re-executes: same state root,
 * and a witness with every node its re-execution needs. The deterministic case behind the crash
 * campaign's WITNESS_MISSING_NODE: from Prague a block's system calls wait for the parent's seal, so
 * the first mini-blocks of the block after a seal in progress are empty and carry no system-call
 * writes. Killing the sequencer before that seal's write leaves exactly such mini-blocks in the WAL;
 * sealing them as they are gave a block without its system calls (state root disagreeing with any
 * re-execution, witness lacking the nodes those writes walk).
 *
 * With L1 the same empty mini-blocks also lack the block's L1-attributes deposit (it rides with the
 * system calls), and the origin it was anchored to died with the process: recovery sealed the block
 * with neither (the crash campaign with L1 hit WITNESS_MISSING_NODE on a replica). It now chooses the
 * origin as the producing loop would and closes the block with its system calls and deposits.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import {
  freePort,
  makeTempDir,
  removeTempDir,
  rpc,
  spawnNodeProcess,
  startNode,
  waitFor,
  type NodeHandle,
} from '../helpers/node-process.ts'
import { startRollupL1, type RollupL1 } from '../helpers/rollup-l1.ts'
import { TcpProxy } from '../helpers/tcp-proxy.ts'
import { devCommon, fetchBlockToVerify, fetchBlockWithWitness, verifyDevBlock } from '../helpers/witness.ts'
import { verifyBlock } from '../../src/stateless/index.ts'

const nodes: NodeHandle[] = []
const datadirs: string[] = []
let l1: RollupL1 | undefined
let proxy: TcpProxy | undefined

after(async () => {
  for (const node of nodes) await node.stop()
  await proxy?.stop()
  await l1?.anvil.stop()
  for (const dir of datadirs) await removeTempDir(dir)
})

/** Kills the sequencer just before the third seal's write, restarts it, and returns the restarted node once it produced `target`. */
async function crashBeforeThirdSeal(
  args: string[],
  target: bigint,
  restart: { args: string[]; before?: () => void } = { args },
): Promise<NodeHandle> {
  const datadir = await makeTempDir('megaeth-walwit-')
  datadirs.push(datadir)
  // Dies just before the third seal's write: the third block and the empty start of the fourth stay in the WAL.
  // Spawned, not `startNode`: with L1 the node catches up on L1's time and may die before RPC answers.
  const first = spawnNodeProcess(['--dev', `--rpc.port=${await freePort()}`, `--datadir=${datadir}`, '--dev.l1=false', ...args], {
    MEGAETH_FAILPOINTS: 'sequencer.seal.before-write=kill@3',
  })
  await waitFor(
    'the failpoint to kill the sequencer',
    () => first.child.signalCode !== null || first.child.exitCode !== null,
    30_000,
  )
  assert.equal(first.child.signalCode, 'SIGKILL', `killed by its failpoint:\n${first.stdout.toString().slice(-2000)}`)
  restart.before?.()
  const second = await startNode({ datadir, args: restart.args })
  nodes.push(second)
  const recovered = second.logs().stdout.match(/"miniBlocks":(\d+),"msg":"recovering unsealed mini-blocks from the WAL"/)
  assert.ok(recovered !== null, 'the restart recovered mini-blocks from the WAL')
  assert.match(second.logs().stdout, /recovered block lacks its system calls: closing it with them/, 'the case under test')
  // Two blocks from the WAL (the one being sealed and the one after it), then a couple produced anew.
  await waitFor('the chain to move on', async () => BigInt(await rpc<string>(second.rpcUrl, 'eth_blockNumber')) >= target, 30_000)
  return second
}

describe('a block sealed from the WAL after kill -9', () => {
  it('verifies statelessly with its own witness, like every other block', async () => {
    const target = 6n
    const second = await crashBeforeThirdSeal([], target)
    for (let n = 1n; n <= target; n++) {
      const { block, witness } = await fetchBlockWithWitness(second.rpcUrl, n)
      const verified = await verifyDevBlock(block, witness)
      assert.equal(verified.stateRoot, `0x${Buffer.from(block.header.stateRoot).toString('hex')}`, `block ${n}`)
    }
  })

  it('with L1: opens with its L1-attributes deposit and verifies statelessly', async () => {
    const dir = await makeTempDir('megaeth-walwit-l1-')
    datadirs.push(dir)
    l1 = await startRollupL1(dir)
    const target = 6n
    const args = [...l1.l1Args(0), ...l1.batcherArgs()]
    // The restart reaches L1 through a slow link for its first seconds: recovery runs while the L1 watcher has
    // not followed L1 yet, and must wait for it (it exited on L1_ORIGIN_UNAVAILABLE in the crash campaign's long form).
    proxy = await TcpProxy.start({ targetPort: Number(new URL(l1.anvil.rpcUrl).port) })
    const slowL1 = proxy
    const restartArgs = args.map((a) => (a.startsWith('--l1.rpc=') ? `--l1.rpc=http://127.0.0.1:${slowL1.port}` : a))
    let healed: NodeJS.Timeout | undefined
    const before = (): void => {
      slowL1.setMode('delay', 1_500)
      healed = setTimeout(() => slowL1.setMode('pass'), 6_000)
    }
    const second = await crashBeforeThirdSeal(args, target, { args: restartArgs, before }).finally(() => clearTimeout(healed))
    for (let n = 1n; n <= target; n++) {
      const block = await rpc<{ transactions: Array<{ type: string; to: string }> }>(second.rpcUrl, 'eth_getBlockByNumber', [
        `0x${n.toString(16)}`,
        true,
      ])
      assert.equal(block.transactions[0]?.type, '0x7e', `block ${n} opens with its L1-attributes deposit`)
      assert.equal(block.transactions[0]?.to, '0x4200000000000000000000000000000000000015', `block ${n}: to L1Block`)
      const { block: raw, witness } = await fetchBlockToVerify(second.rpcUrl, n)
      const verified = await verifyBlock(raw, witness, { common: devCommon })
      assert.equal(verified.stateRoot, `0x${Buffer.from(raw.header.stateRoot).toString('hex')}`, `block ${n}`)
    }
  })
})
