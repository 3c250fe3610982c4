/**
 * A `--dev` node with its dev L1: it spawns anvil, deploys the rollup contracts and anchors its L2 genesis to
 * them; op-node's `optimism_*` methods answer (the rollup config, output roots recomputed here with viem from
 * `eth_getProof`, the sync status following anvil); stopping the node stops its anvil, and a restart on the same
 * datadir finds the same L1 and rollup. An external `--l1.rpc` with credentials never shows in logs or answers;
 * a bad `--rollup.config` is a precise config error (exit code 2).
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { concat, createPublicClient, createWalletClient, defineChain, http, keccak256, type Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { l2ToL1MessagePasserAbi } from '../../src/bridge/index.ts'
import { parseRollupConfig } from '../../src/chain/rollup-config.ts'
import {
  DEV_CHAIN_ID,
  DEV_KEYS,
  makeTempDir,
  removeTempDir,
  rpc,
  runCli,
  startNode,
  waitFor,
  type NodeHandle,
} from '../helpers/node-process.ts'

const MESSAGE_PASSER = '0x4200000000000000000000000000000000000016'
const EMPTY_TRIE_ROOT = '0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421'

interface NodeInfo {
  l1?: { chainId: string; rpc: string; pid: number }
}
interface RpcBlock {
  hash: Hex
  number: Hex
  parentHash: Hex
  stateRoot: Hex
  timestamp: Hex
}
interface Output {
  version: Hex
  outputRoot: Hex
  withdrawalStorageRoot: Hex
  stateRoot: Hex
  blockRef: {
    hash: Hex
    number: number
    parentHash: Hex
    timestamp: number
    l1origin: { hash: Hex; number: number }
    sequenceNumber: number
  }
  syncStatus: Record<string, unknown>
}

let datadir: string
let node: NodeHandle
let info: NodeInfo

before(async () => {
  datadir = await makeTempDir('megaeth-l1-dev-')
  node = await startNode({ l1: true, datadir })
  info = await rpc<NodeInfo>(node.rpcUrl, 'mega_nodeInfo')
})

after(async () => {
  await node?.stop()
  if (datadir !== undefined) await removeTempDir(datadir)
})

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('a --dev node with its dev L1', () => {
  test('optimism_rollupConfig: contracts on the spawned anvil, genesis.l2 = the chain’s genesis', async () => {
    assert.ok(info.l1 !== undefined, 'mega_nodeInfo shows the dev L1')
    assert.equal(info.l1.chainId, '0x384')
    const json = await rpc<Record<string, unknown>>(node.rpcUrl, 'optimism_rollupConfig')
    const rollup = parseRollupConfig(json)
    assert.equal(rollup.l1ChainId, 900n)
    assert.equal(rollup.l2ChainId, BigInt(DEV_CHAIN_ID))
    const l1 = createPublicClient({ transport: http(info.l1.rpc) })
    for (const address of [rollup.depositContractAddress, rollup.l1SystemConfigAddress]) {
      const code = await l1.getCode({ address })
      assert.ok(code !== undefined && code.length > 2, `code at ${address}`)
    }
    const genesis = await rpc<RpcBlock>(node.rpcUrl, 'eth_getBlockByNumber', ['0x0', false])
    assert.equal(rollup.genesis.l2.hash, genesis.hash)
    assert.equal(rollup.genesis.l2Time, BigInt(genesis.timestamp))
    const l1Genesis = await l1.getBlock({ blockNumber: rollup.genesis.l1.number })
    assert.equal(rollup.genesis.l1.hash, l1Genesis.hash)
    assert.equal(rollup.genesis.l2Time, l1Genesis.timestamp, 'the L2 genesis is anchored at the deployment block')
    // rollup.json on disk is the same config.
    assert.deepEqual(JSON.parse(await readFile(join(datadir, 'rollup.json'), 'utf8')), json)
    // The genesis carries the bridge predeploys.
    assert.notEqual(await rpc<Hex>(node.rpcUrl, 'eth_getCode', [MESSAGE_PASSER, '0x0']), '0x')
  })

  test('optimism_outputAtBlock: the output root recomputed from eth_getProof, at the head and in history', async () => {
    const chain = defineChain({
      id: DEV_CHAIN_ID,
      name: 'dev',
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [node.rpcUrl] } },
    })
    const wallet = createWalletClient({ account: privateKeyToAccount(DEV_KEYS[5]!), chain, transport: http(node.rpcUrl) })
    const l2 = createPublicClient({ chain, transport: http(node.rpcUrl), pollingInterval: 50 })
    const hash = await wallet.writeContract({
      address: MESSAGE_PASSER,
      abi: l2ToL1MessagePasserAbi,
      functionName: 'initiateWithdrawal',
      args: [privateKeyToAccount(DEV_KEYS[5]!).address, 100_000n, '0x'],
      value: 1234n,
    })
    const receipt = await l2.waitForTransactionReceipt({ hash })
    assert.equal(receipt.status, 'success')
    const w = receipt.blockNumber
    await waitFor('two blocks after the withdrawal', async () => (await l2.getBlockNumber()) >= w + 2n, 20_000)

    // At the head: eth_getProof's storageHash and the header give the output root.
    let checked = false
    for (let attempt = 0; attempt < 20 && !checked; attempt++) {
      const head = await l2.getBlockNumber()
      const proof = await l2.getProof({ address: MESSAGE_PASSER, storageKeys: [], blockNumber: head }).catch(() => undefined)
      if (proof === undefined) continue // the head moved between the two calls
      const block = await rpc<RpcBlock>(node.rpcUrl, 'eth_getBlockByNumber', [`0x${head.toString(16)}`, false])
      const out = await rpc<Output>(node.rpcUrl, 'optimism_outputAtBlock', [`0x${head.toString(16)}`])
      assert.equal(out.version, `0x${'00'.repeat(32)}`)
      assert.equal(out.stateRoot, block.stateRoot)
      assert.equal(out.withdrawalStorageRoot, proof.storageHash)
      assert.notEqual(proof.storageHash, EMPTY_TRIE_ROOT, 'the withdrawal is in the message passer’s storage')
      assert.equal(out.outputRoot, keccak256(concat([`0x${'00'.repeat(32)}`, block.stateRoot, proof.storageHash, block.hash])))
      assert.deepEqual(
        [out.blockRef.hash, out.blockRef.number, out.blockRef.parentHash, out.blockRef.timestamp],
        [block.hash, Number(head), block.parentHash, Number(block.timestamp)],
      )
      // In history: the block of the withdrawal has the same storage root, the one before it the empty one.
      const atW = await rpc<Output>(node.rpcUrl, 'optimism_outputAtBlock', [`0x${w.toString(16)}`])
      assert.equal(atW.withdrawalStorageRoot, proof.storageHash)
      const blockW = await rpc<RpcBlock>(node.rpcUrl, 'eth_getBlockByNumber', [`0x${w.toString(16)}`, false])
      assert.equal(atW.outputRoot, keccak256(concat([`0x${'00'.repeat(32)}`, blockW.stateRoot, proof.storageHash, blockW.hash])))
      const beforeW = await rpc<Output>(node.rpcUrl, 'optimism_outputAtBlock', [`0x${(w - 1n).toString(16)}`])
      assert.equal(beforeW.withdrawalStorageRoot, EMPTY_TRIE_ROOT)
      checked = true
    }
    assert.ok(checked, 'the head kept moving between eth_getProof and eth_getBlockByNumber')
    const genesisOut = await rpc<Output>(node.rpcUrl, 'optimism_outputAtBlock', ['0x0'])
    const rollup = parseRollupConfig(await rpc(node.rpcUrl, 'optimism_rollupConfig'))
    assert.deepEqual(genesisOut.blockRef.l1origin, { hash: rollup.genesis.l1.hash, number: Number(rollup.genesis.l1.number) })
  })

  test('optimism_syncStatus: op-node’s shape, head_l1 follows anvil', async () => {
    const l1 = createPublicClient({ transport: http(info.l1!.rpc) })
    const l1Head = await l1.getBlockNumber()
    const status = await waitFor(
      'head_l1 to reach anvil’s head',
      async () => {
        const s = await rpc<Record<string, { number: number; hash: Hex }>>(node.rpcUrl, 'optimism_syncStatus')
        return s.head_l1!.number >= Number(l1Head) ? s : undefined
      },
      15_000,
    )
    assert.deepEqual(Object.keys(status).sort(), [
      'cross_unsafe_l2',
      'current_l1',
      'current_l1_finalized',
      'finalized_l1',
      'finalized_l2',
      'head_l1',
      'local_safe_l2',
      'pending_safe_l2',
      'safe_l1',
      'safe_l2',
      'unsafe_l2',
    ])
    const headL1 = await l1.getBlock({ blockNumber: BigInt(status.head_l1!.number) })
    assert.equal(status.head_l1!.hash, headL1.hash)
    for (const key of ['unsafe_l2', 'safe_l2', 'finalized_l2'])
      assert.deepEqual(Object.keys(status[key]!).sort(), [
        'hash',
        'l1origin',
        'number',
        'parentHash',
        'sequenceNumber',
        'timestamp',
      ])
    assert.ok(status.unsafe_l2!.number >= 1)
    // Derivation's heads: what L1 holds of the chain, never past the sequencer's own head.
    assert.ok(status.safe_l2!.number <= status.unsafe_l2!.number)
    assert.ok(status.finalized_l2!.number <= status.safe_l2!.number)
    // A few seconds later head_l1 has moved with anvil's 2 s blocks.
    await waitFor(
      'head_l1 to move',
      async () =>
        (await rpc<Record<string, { number: number }>>(node.rpcUrl, 'optimism_syncStatus')).head_l1!.number >
        status.head_l1!.number,
      10_000,
    )
  })

  test('an external --l1.rpc with credentials is never logged nor answered', async () => {
    const secretUrl = 'http://user:secret@127.0.0.1:1/key'
    const other = await startNode({ args: [`--l1.rpc=${secretUrl}`, `--rollup.config=${join(datadir, 'rollup.json')}`] })
    try {
      const answers = [
        await rpc(other.rpcUrl, 'mega_nodeInfo'),
        await rpc(other.rpcUrl, 'optimism_syncStatus'),
        await rpc(other.rpcUrl, 'optimism_rollupConfig'),
        await rpc(other.rpcUrl, 'rpc_modules'),
      ]
      assert.equal((answers[0] as NodeInfo).l1, undefined)
      // Let the watcher fail a few times against the refusing port.
      await waitFor('the L1 failure to be logged', () => other.logs().stdout.includes('L1 poll failed'), 15_000)
      await sleep(500)
      const text = JSON.stringify(answers)
      for (const secret of ['secret', 'user:', '/key']) assert.ok(!text.includes(secret), `answers hold ${secret}`)
    } finally {
      await other.stop()
    }
    const { stdout, stderr } = other.logs()
    assert.ok(stdout.includes('http://127.0.0.1:1/…'), 'the redacted URL is logged')
    for (const secret of ['secret', 'user:', '1/key']) {
      assert.ok(!stdout.includes(secret), `stdout holds ${secret}`)
      assert.ok(!stderr.includes(secret), `stderr holds ${secret}`)
    }
  })

  test('bad L1 configurations: precise errors, exit code 2', async () => {
    const rollupJson = JSON.parse(await readFile(join(datadir, 'rollup.json'), 'utf8')) as Record<string, unknown>
    const missing = join(datadir, 'bad-rollup.json')
    const { l1_chain_id: _dropped, ...withoutL1ChainId } = rollupJson
    await writeFile(missing, JSON.stringify(withoutL1ChainId))
    const wrongChain = join(datadir, 'wrong-chain.json')
    await writeFile(wrongChain, JSON.stringify({ ...rollupJson, l2_chain_id: 1 }))
    const base = ['--dev', '--dev.l1=false', '--rpc.port=0', '--l1.rpc=http://user:secret@127.0.0.1:1/key']
    const [bad, wrong, sync, noRpc] = await Promise.all([
      runCli([...base, `--rollup.config=${missing}`]),
      runCli([...base, `--rollup.config=${wrongChain}`]),
      runCli(['--dev', '--role=replica', '--sync=l1', '--rpc.port=0', '--p2p.bootnodes=/ip4/127.0.0.1/tcp/1/p2p/12D3KooWabc']),
      runCli(['--dev', '--dev.l1=false', '--rpc.port=0', `--rollup.config=${missing}`]),
    ])
    assert.equal(bad.code, 2, bad.stderr)
    assert.match(bad.stderr, /--rollup\.config .*l1_chain_id/)
    assert.equal(wrong.code, 2, wrong.stderr)
    assert.match(wrong.stderr, /l2_chain_id 1 is not this chain's id 6342/)
    assert.equal(sync.code, 2, sync.stderr)
    assert.match(sync.stderr, /--sync=l1 needs --l1\.rpc and --rollup\.config/)
    assert.equal(noRpc.code, 2, noRpc.stderr)
    assert.match(noRpc.stderr, /--rollup\.config needs --l1\.rpc/)
    for (const r of [bad, wrong]) assert.ok(!`${r.stdout}${r.stderr}`.includes('secret'))
  })

  test('stopping the node stops its anvil; a restart on the datadir finds the same L1 and rollup, and resumes derivation from its safe head', async () => {
    const before = await rpc<Record<string, unknown>>(node.rpcUrl, 'optimism_rollupConfig')
    const pid = info.l1!.pid
    assert.ok(alive(pid))
    const safeBefore = await waitFor(
      'a safe block (derived back from L1)',
      async () => {
        const status = await rpc<{ safe_l2: { number: number } }>(node.rpcUrl, 'optimism_syncStatus')
        return status.safe_l2.number > 0 ? BigInt(status.safe_l2.number) : undefined
      },
      60_000,
      500,
    )
    await node.stop()
    await waitFor('anvil to exit', () => !alive(pid), 10_000)
    node = await startNode({ l1: true, datadir })
    // The restart does not re-derive the chain from genesis: it resumes from the safe head it recorded.
    const resumed = node
      .logs()
      .stdout.split('\n')
      .filter((line) => line.includes('derivation resumes from the recorded safe head'))
      .map((line) => BigInt((JSON.parse(line) as { safe: string }).safe))
    assert.equal(resumed.length, 1, `one resume line in the log:\n${node.logs().stdout.slice(-2000)}`)
    assert.ok(resumed[0]! >= safeBefore, `resumed from ${resumed[0]}, the safe head was ${safeBefore} before the restart`)
    const after = await rpc<Record<string, unknown>>(node.rpcUrl, 'optimism_rollupConfig')
    assert.deepEqual(after, before)
    const restarted = await rpc<NodeInfo>(node.rpcUrl, 'mega_nodeInfo')
    assert.notEqual(restarted.l1!.pid, pid)
    const rollup = parseRollupConfig(after)
    const l1 = createPublicClient({ transport: http(restarted.l1!.rpc) })
    assert.equal((await l1.getBlock({ blockNumber: rollup.genesis.l1.number })).hash, rollup.genesis.l1.hash)
  })

  test('a node killed with SIGKILL leaves no anvil behind', async () => {
    const pid = (await rpc<NodeInfo>(node.rpcUrl, 'mega_nodeInfo')).l1!.pid
    assert.ok(alive(pid))
    await node.kill9()
    await waitFor('the orphaned anvil to exit', () => !alive(pid), 15_000)
  })
})
