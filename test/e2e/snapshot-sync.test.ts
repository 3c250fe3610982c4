/**
 * Snapshot sync end to end, with real processes: a dev sequencer that keeps the witnesses and state
 * diffs of its last 40 blocks only (`--history.witnesses=40`), under a light load (fresh accounts, a
 * contract's code and storage), runs far past that window. A replica started on a new datadir then
 * cannot catch up block by block from genesis:
 *
 * - by default (`--sync.snapshot=auto`) it copies the sequencer's sealed state at a pivot, checks it
 *   against the pivot header's state root, and follows from there: its state at a later block equals
 *   the sequencer's (balances, nonces, code, storage, a contract call), it verifies every block after
 *   the pivot, blocks before the pivot are unknown to it, and a kill -9 and restart reopens the
 *   snapshot-made datadir without syncing again;
 * - through a relay that adds 1 wei to an account in the pages it forwards, the state misses the
 *   pivot's root: the node refuses to start, says why, and leaves a datadir from which a start
 *   through an honest relay syncs and follows.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { encodeFunctionData, type Address, type Hex } from 'viem'
import { contract } from '../helpers/contracts.ts'
import { startLightLoad, type LightLoad } from '../helpers/light-load.ts'
import { makeTempDir, removeTempDir, rpc, startNode, waitFor, type NodeHandle } from '../helpers/node-process.ts'
import { TamperingRelay } from '../helpers/tampering-relay.ts'

const BLOCK_MS = 300
const MINI_BLOCK_MS = 50
/**
 * Blocks whose diffs the sequencer keeps (12 s): a replica behind them needs a snapshot, and a replica
 * restarted within them catches up block by block.
 */
const HISTORY = 40

const hex = (n: bigint | number): Hex => `0x${n.toString(16)}`

interface NodeInfo {
  p2pAddrs: string[]
  head: { block: Hex }
  verified: { block: Hex; failures: number }
}

const nodeInfo = (url: string): Promise<NodeInfo> => rpc<NodeInfo>(url, 'mega_nodeInfo')
const blockNumber = async (url: string): Promise<bigint> => BigInt(await rpc<Hex>(url, 'eth_blockNumber'))

/** The log line a finished snapshot sync writes, parsed; undefined when the node did not sync from a snapshot. */
function snapshotLog(node: NodeHandle): { pivot: string; entries: number } | undefined {
  const line = node
    .logs()
    .stdout.split('\n')
    .find((l) => l.includes('snapshot sync: state verified'))
  return line === undefined ? undefined : (JSON.parse(line) as { pivot: string; entries: number })
}

describe('snapshot sync', { timeout: 240_000 }, () => {
  let sequencer: NodeHandle | undefined
  let load: LightLoad | undefined
  let sequencerAddr = ''
  const started: NodeHandle[] = []
  const relays: TamperingRelay[] = []
  const dirs: string[] = []

  before(async () => {
    sequencer = await startNode({
      args: [`--block-ms=${BLOCK_MS}`, `--miniblock-ms=${MINI_BLOCK_MS}`, `--history.witnesses=${HISTORY}`],
    })
    sequencerAddr = (await nodeInfo(sequencer.rpcUrl)).p2pAddrs[0]!
    load = await startLightLoad(sequencer.rpcUrl)
    const url = sequencer.rpcUrl
    await waitFor(
      'the sequencer to run past its diff window',
      async () => (await blockNumber(url)) > BigInt(HISTORY) + 10n,
      60_000,
    )
  })

  after(async () => {
    await Promise.allSettled(started.map((node) => node.stop(10_000)))
    await Promise.allSettled(relays.map((relay) => relay.stop()))
    await load?.stop().catch(() => undefined)
    await sequencer?.stop()
    await Promise.allSettled(dirs.map(removeTempDir))
  })

  const replicaArgs = (bootnode: string): string[] => [
    '--role=replica',
    `--p2p.bootnodes=${bootnode}`,
    '--replica.verify-workers=1',
  ]

  test('a new replica past the diff window starts from a verified snapshot and follows', async () => {
    const datadir = await makeTempDir()
    dirs.push(datadir)
    const replica = await startNode({ datadir, args: replicaArgs(sequencerAddr) })
    started.push(replica)
    const synced = snapshotLog(replica)
    assert.ok(synced !== undefined, `no snapshot sync in the replica's log:\n${replica.logs().stdout.slice(-3000)}`)
    const pivot = BigInt(synced.pivot)
    assert.ok(pivot > BigInt(HISTORY), `pivot ${pivot} is not past the diff window`)
    assert.ok(synced.entries > 0)

    // Blocks before the pivot are not this replica's to serve; the pivot and later ones are.
    assert.equal(await rpc(replica.rpcUrl, 'eth_getBlockByNumber', [hex(1), false]), null)
    const pivotBlock = await rpc<{ hash: Hex; stateRoot: Hex }>(replica.rpcUrl, 'eth_getBlockByNumber', [hex(pivot), false])
    const sequencerPivot = await rpc<{ hash: Hex; stateRoot: Hex }>(sequencer!.rpcUrl, 'eth_getBlockByNumber', [
      hex(pivot),
      false,
    ])
    assert.equal(pivotBlock.hash, sequencerPivot.hash)

    // It follows: a few blocks on, it has verified every block after the pivot.
    const target = (await blockNumber(sequencer!.rpcUrl)) + 3n
    await waitFor(
      'the replica to verify blocks past the pivot',
      async () => {
        const info = await nodeInfo(replica.rpcUrl)
        return BigInt(info.verified.block) >= target
      },
      60_000,
    )
    const info = await nodeInfo(replica.rpcUrl)
    assert.equal(info.verified.failures, 0)

    // Its state at a block both hold equals the sequencer's, accounts the load made before the pivot included.
    const at = hex(target)
    const block = await rpc<{ hash: Hex; transactions: Array<{ from: Address; to: Address | null }> }>(
      sequencer!.rpcUrl,
      'eth_getBlockByNumber',
      [at, true],
    )
    assert.equal((await rpc<{ hash: Hex }>(replica.rpcUrl, 'eth_getBlockByNumber', [at, false])).hash, block.hash)
    const earlier = await rpc<{ transactions: Array<{ from: Address; to: Address | null }> }>(
      sequencer!.rpcUrl,
      'eth_getBlockByNumber',
      [hex(pivot - 2n), true],
    )
    const addresses = new Set<Address>()
    for (const tx of [...earlier.transactions, ...block.transactions]) {
      addresses.add(tx.from)
      if (tx.to !== null) addresses.add(tx.to)
    }
    assert.ok(addresses.size >= 2, 'the load left no transactions to compare')
    const counter = load!.counter
    const count = encodeFunctionData({ abi: contract('Counter').abi, functionName: 'count' })
    const reads: Array<[string, unknown[]]> = [
      ['eth_getCode', [counter, at]],
      ['eth_getStorageAt', [counter, '0x0', at]],
      ['eth_call', [{ to: counter, data: count }, at]],
    ]
    for (const address of addresses) reads.push(['eth_getBalance', [address, at]], ['eth_getTransactionCount', [address, at]])
    for (const [method, params] of reads) {
      const [mine, theirs] = await Promise.all([rpc(replica.rpcUrl, method, params), rpc(sequencer!.rpcUrl, method, params)])
      assert.deepEqual(mine, theirs, `${method}(${JSON.stringify(params)})`)
    }
    assert.notEqual(await rpc(replica.rpcUrl, 'eth_getCode', [counter, at]), '0x')

    // A crash and a restart reopen the datadir the snapshot made: no second sync, and it keeps following.
    await replica.kill9()
    const restarted = await startNode({ datadir, args: replicaArgs(sequencerAddr) })
    started.push(restarted)
    assert.equal(snapshotLog(restarted), undefined, 'the restart synced a snapshot again')
    const again = (await blockNumber(sequencer!.rpcUrl)) + 2n
    await waitFor('the restarted replica to follow', async () => (await blockNumber(restarted.rpcUrl)) >= again, 60_000)
    assert.equal(await rpc(restarted.rpcUrl, 'eth_getBlockByNumber', [hex(1), false]), null)
    await restarted.stop()
  })

  test('a snapshot that misses the pivot root is refused, and the datadir syncs again honestly', async () => {
    const relay = await TamperingRelay.start({ sequencer: sequencerAddr })
    relays.push(relay)
    relay.setMode('tampered-snapshot')
    const datadir = await makeTempDir()
    dirs.push(datadir)
    await assert.rejects(startNode({ datadir, args: replicaArgs(relay.bootnode) }), (error: Error) => {
      assert.match(error.message, /SNAPSHOT_STATE_MISMATCH|does not match|but the block's header says/)
      return true
    })
    assert.ok(relay.stats.tampered.stateRanges > 0, 'the relay tampered with nothing')

    relay.setMode('honest')
    const replica = await startNode({ datadir, args: replicaArgs(relay.bootnode) })
    started.push(replica)
    assert.ok(snapshotLog(replica) !== undefined, 'the honest start did not sync a snapshot')
    const target = (await blockNumber(sequencer!.rpcUrl)) + 2n
    await waitFor(
      'the replica to follow through the honest relay',
      async () => (await blockNumber(replica.rpcUrl)) >= target,
      60_000,
    )
    await replica.stop()
  })
})
