// run-tests: pair — a node or anvil answering a few calls: no load, no assertion on time
/**
 * `megaeth-node init` → `megaeth-node --config D/config.toml` runs a new chain, and a replica started
 * from the same config file (role, datadir, ports and bootnode overridden by flags: flags beat the
 * file) follows it over libp2p to the same head hash, including a transaction from an account
 * `init --prefund` funded. Real processes, no --dev anywhere; the keys init wrote are 0600 and
 * appear in no output.
 */
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import {
  DEV_KEYS,
  freePort,
  makeTempDir,
  removeTempDir,
  rpc,
  runCli,
  spawnNodeProcess,
  waitFor,
} from '../helpers/node-process.ts'
import { loadOrCreateIdentity } from '../../src/p2p/identity.ts'

interface Proc {
  child: ChildProcess
  rpcUrl: string
  output(): string
}

async function spawnNode(args: string[], rpcPort: number): Promise<Proc> {
  const { child, stdout, stderr } = spawnNodeProcess(args)
  const rpcUrl = `http://127.0.0.1:${rpcPort}`
  const output = () => `${stdout.toString()}\n${stderr.toString()}`
  await waitFor(
    `megaeth-node ${args.join(' ')} to answer`,
    async () => {
      if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}: ${output().slice(-3000)}`)
      return (await rpc<string>(rpcUrl, 'eth_chainId')) ?? undefined
    },
    90_000,
    200,
  )
  return { child, rpcUrl, output }
}

async function stop(proc: Proc | undefined): Promise<void> {
  if (proc === undefined || proc.child.exitCode !== null) return
  const exited = new Promise((resolve) => proc.child.once('exit', resolve))
  proc.child.kill('SIGTERM')
  await exited
}

describe('init → --config → a chain a replica follows', { timeout: 180_000 }, () => {
  let root: string
  let chain: string
  let sequencer: Proc | undefined
  let replica: Proc | undefined
  let initOutput = ''
  const funder = privateKeyToAccount(DEV_KEYS[3]!)

  before(async () => {
    root = await makeTempDir()
    chain = join(root, 'chain')
  })

  after(async () => {
    await Promise.all([stop(replica), stop(sequencer)])
    await removeTempDir(root)
  })

  it('init writes the chain, prints addresses and paths, never a key', async () => {
    const result = await runCli(['init', `--datadir=${chain}`, '--chain-id=918273', `--prefund=${funder.address}`])
    assert.equal(result.code, 0, result.stderr)
    initOutput = result.stdout + result.stderr
    assert.match(initOutput, /new chain 918273/)
    for (const name of ['sequencer-key.hex', 'batcher-key.hex', 'proposer-key.hex', 'admin-jwt.hex']) {
      assert.equal(statSync(join(chain, name)).mode & 0o777, 0o600, name)
      const secret = readFileSync(join(chain, name), 'utf8').trim().slice(2)
      assert.ok(!initOutput.includes(secret), `${name} printed`)
    }
    // A second init on the same directory changes nothing.
    const again = await runCli(['init', `--datadir=${chain}`])
    assert.equal(again.code, 2)
    assert.match(again.stderr, /already holds a chain/)
  })

  it('the config starts the sequencer; a replica from the same file follows it to the same head', async () => {
    const [rpcPort, p2pPort, adminPort, replicaRpc, replicaP2p] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ])
    const config = join(chain, 'config.toml')
    // The sequencer's p2p identity made here (where it would create it), so both nodes start at once.
    const peerId = peerIdFromPrivateKey(await loadOrCreateIdentity(join(chain, 'p2p-key'))).toString()
    ;[sequencer, replica] = await Promise.all([
      spawnNode(
        ['--config', config, `--rpc.port=${rpcPort}`, `--p2p.port=${p2pPort}`, `--admin.port=${adminPort}`, '--block-ms=500'],
        rpcPort,
      ),
      spawnNode(
        [
          '--config',
          config,
          '--role=replica',
          `--datadir=${join(root, 'replica')}`,
          `--rpc.port=${replicaRpc}`,
          `--p2p.port=${replicaP2p}`,
          `--p2p.bootnodes=/ip4/127.0.0.1/tcp/${p2pPort}/p2p/${peerId}`,
        ],
        replicaRpc,
      ),
    ])
    assert.equal(await rpc<string>(sequencer.rpcUrl, 'eth_chainId'), `0x${(918273).toString(16)}`)
    // The admin port from the flag, with init's secret from the file: a request without a token is refused.
    const adminUrl = `http://127.0.0.1:${adminPort}`
    await waitFor('the admin API', async () => (await fetch(adminUrl, { method: 'POST' })).status === 401 || undefined, 30_000)
    const info = await rpc<{ p2pAddrs: string[]; sequencerAddress: string; peerId: string }>(sequencer.rpcUrl, 'mega_nodeInfo')
    assert.equal(info.peerId, peerId)
    assert.ok(initOutput.includes(info.sequencerAddress), 'init printed the sequencer address the node runs with')
    const raw = await funder.signTransaction({
      type: 'eip1559',
      chainId: 918273,
      nonce: 0,
      to: `0x${'77'.repeat(20)}`,
      value: 12345n,
      gas: 21_000n,
      maxFeePerGas: 10_000_000_000n,
      maxPriorityFeePerGas: 1n,
    })
    // Sent to the replica: it forwards to the sequencer.
    const hash = await rpc<Hex>(replica.rpcUrl, 'eth_sendRawTransaction', [raw])
    const receipt = await waitFor(
      'the receipt on the sequencer',
      async () =>
        (await rpc<{ status: Hex; blockNumber: Hex } | null>(sequencer!.rpcUrl, 'eth_getTransactionReceipt', [hash])) ??
        undefined,
      30_000,
    )
    assert.equal(receipt.status, '0x1')
    const target = BigInt(await rpc<string>(sequencer.rpcUrl, 'eth_blockNumber'))
    await waitFor(
      'the replica at the sequencer head',
      async () => (BigInt(await rpc<string>(replica!.rpcUrl, 'eth_blockNumber')) >= target ? true : undefined),
      60_000,
      200,
    )
    const [a, b] = await Promise.all(
      [sequencer, replica].map((n) => rpc<{ hash: Hex }>(n.rpcUrl, 'eth_getBlockByNumber', [`0x${target.toString(16)}`, false])),
    )
    assert.equal(b!.hash, a!.hash)
    assert.equal(await rpc(replica.rpcUrl, 'eth_getBalance', [`0x${'77'.repeat(20)}`, 'latest']), `0x${(12345).toString(16)}`)

    for (const name of ['sequencer-key.hex', 'batcher-key.hex', 'proposer-key.hex', 'admin-jwt.hex']) {
      const secret = readFileSync(join(chain, name), 'utf8').trim().slice(2)
      assert.ok(!sequencer.output().includes(secret), `${name} in the sequencer's output`)
      assert.ok(!replica.output().includes(secret), `${name} in the replica's output`)
    }
  })
})
