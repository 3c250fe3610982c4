/**
 * A validator's checkpoint (issue 23), with real processes: a dev sequencer (`--block-ms=300`, no L1) carrying a
 * few transfers, and one validator at a time dialling it over libp2p.
 *
 * - `--replica.checkpoint` at a block well behind the sequencer's head: the validator checks it is the sequencer's
 *   block, then verifies every block after it, those sealed before it started included.
 * - a hash the sequencer's block does not have: the validator halts with CHECKPOINT_MISMATCH, says so in
 *   `mega_nodeInfo`, `/readyz` and its metrics, and verifies nothing.
 * - block 0: checked against the validator's own genesis; verification starts at block 1.
 * - no flag and no L1: today's start at the sequencer's head, with a warning saying how to avoid it.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type { Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { metric } from '../helpers/node-observations.ts'
import { DEV_CHAIN_ID, DEV_KEYS, rpc, startNode, waitFor, type NodeHandle } from '../helpers/node-process.ts'
import { logTail, readyz, startValidator, type ValidatorHandle, waitReady } from '../helpers/validator-process.ts'

const BLOCK_MS = 300
/** Blocks the sequencer seals after the checkpoint before the validator starts. */
const BEHIND = 8n

const hex = (n: bigint): Hex => `0x${n.toString(16)}`

interface NodeInfo {
  p2pAddrs: string[]
  checkpoint?: { block: Hex; hash: Hex; source: string }
  verified: { block: Hex; failures: number; failure?: { block: Hex; code: string; message: string } }
}

const nodeInfo = (url: string): Promise<NodeInfo> => rpc<NodeInfo>(url, 'mega_nodeInfo')
const head = async (url: string): Promise<bigint> => BigInt(await rpc<Hex>(url, 'eth_blockNumber'))
const hashOf = async (url: string, n: bigint): Promise<Hex> =>
  (await rpc<{ hash: Hex }>(url, 'eth_getBlockByNumber', [hex(n), false])).hash

/** A few ETH transfers, each waited for: the blocks a validator verifies carry transactions and state changes. */
async function sendTransfers(url: string, count: number): Promise<void> {
  const sender = privateKeyToAccount(DEV_KEYS[1]!)
  let nonce = Number(BigInt(await rpc<Hex>(url, 'eth_getTransactionCount', [sender.address, 'pending'])))
  for (let i = 0; i < count; i++) {
    const raw = await sender.signTransaction({
      chainId: DEV_CHAIN_ID,
      type: 'eip1559',
      nonce: nonce++,
      to: `0x${(0xc0ffee00 + i).toString(16).padStart(40, '0')}`,
      value: 1n,
      gas: 21_000n,
      maxFeePerGas: 10n ** 10n,
      maxPriorityFeePerGas: 10n ** 6n,
    })
    const receipt = await rpc<{ status: Hex }>(url, 'eth_sendRawTransactionSync', [raw, 10_000])
    assert.equal(receipt.status, '0x1')
  }
}

describe('validator checkpoint', () => {
  let sequencer: NodeHandle
  let bootnode: string
  let validator: ValidatorHandle | undefined

  before(async () => {
    sequencer = await startNode({ args: [`--block-ms=${BLOCK_MS}`] })
    bootnode = (await nodeInfo(sequencer.rpcUrl)).p2pAddrs[0]!
  })

  after(async () => {
    await validator?.stop()
    await sequencer?.stop()
  })

  /** Starts the validator under test (the previous one stopped first: two cores). */
  async function start(args: string[]): Promise<ValidatorHandle> {
    await validator?.stop()
    validator = await startValidator(bootnode, args)
    return validator
  }

  test('--replica.checkpoint at an earlier block: the validator verifies every block after it, older than its start too', async () => {
    await waitFor('the sequencer to seal 2 blocks', async () => (await head(sequencer.rpcUrl)) >= 2n, 30_000, 100)
    const checkpoint = await head(sequencer.rpcUrl)
    const hash = await hashOf(sequencer.rpcUrl, checkpoint)
    await sendTransfers(sequencer.rpcUrl, 4)
    await waitFor(
      'the sequencer to move past the checkpoint',
      async () => (await head(sequencer.rpcUrl)) >= checkpoint + BEHIND,
      30_000,
      100,
    )
    const headAtStart = await head(sequencer.rpcUrl)

    const v = await start([`--replica.checkpoint=${checkpoint}:${hash}`])
    await waitReady('validator', v.rpcUrl, v)
    const info = await nodeInfo(v.rpcUrl)
    assert.deepEqual(info.checkpoint, { block: hex(checkpoint), hash, source: 'flag' }, logTail('validator', v))
    await waitFor(
      'the validator to verify past the head it started at',
      async () => {
        const { verified } = await nodeInfo(v.rpcUrl)
        assert.equal(verified.failures, 0, `${JSON.stringify(verified)}${logTail('validator', v)}`)
        return BigInt(verified.block) > headAtStart
      },
      60_000,
      200,
    )
    // Blocks checkpoint+1 … headAtStart were sealed before the validator started: verified all the same.
    const verifiedBlocks = await metric(v.metricsUrl, 'megaeth_replica_verified_blocks_total')
    assert.ok(
      verifiedBlocks >= Number(headAtStart - checkpoint),
      `verified ${verifiedBlocks} blocks since block ${checkpoint}; the head at its start was ${headAtStart}`,
    )
    const logged = v
      .logs()
      .stdout.split('\n')
      .find((line) => line.includes('validator checkpoint'))
    assert.ok(logged !== undefined, `the checkpoint is logged${logTail('validator', v)}`)
    assert.deepEqual((({ block, hash, source }) => ({ block, hash, source }))(JSON.parse(logged) as Record<string, unknown>), {
      block: checkpoint.toString(),
      hash,
      source: 'flag',
    })
  })

  test('a checkpoint hash that is not the sequencer’s block halts the validator with CHECKPOINT_MISMATCH', async () => {
    const checkpoint = 3n
    const hash = await hashOf(sequencer.rpcUrl, checkpoint)
    const wrong = `${hash.slice(0, -1)}${hash.endsWith('0') ? '1' : '0'}` as Hex
    const v = await start([`--replica.checkpoint=${checkpoint}:${wrong}`])
    const failure = await waitFor(
      'the validator to report the mismatch',
      async () => (await nodeInfo(v.rpcUrl)).verified.failure,
      30_000,
      200,
    ).catch((error: unknown) =>
      assert.fail(`${error instanceof Error ? error.message : String(error)}${logTail('validator', v)}`),
    )
    assert.equal(failure.code, 'CHECKPOINT_MISMATCH', failure.message)
    assert.equal(failure.block, hex(checkpoint))
    assert.match(failure.message, new RegExp(`${wrong}.*${hash}`))
    const info = await nodeInfo(v.rpcUrl)
    assert.equal(info.verified.failures, 1)
    assert.equal(info.verified.block, '0x0', 'nothing verified from a checkpoint that is not the chain')
    assert.equal(info.checkpoint, undefined, 'no checkpoint accepted')
    const ready = await readyz(v.rpcUrl)
    assert.equal(ready.status, 503)
    assert.match(ready.body, /CHECKPOINT_MISMATCH/)
    assert.equal(await metric(v.metricsUrl, 'megaeth_replica_verification_failures_total', { code: 'CHECKPOINT_MISMATCH' }), 1)
  })

  test('block 0 is checked against the validator’s own genesis; verification starts at block 1', async () => {
    const genesis = await hashOf(sequencer.rpcUrl, 0n)
    const v = await start([`--replica.checkpoint=0:${genesis}`])
    await waitReady('validator', v.rpcUrl, v)
    assert.deepEqual((await nodeInfo(v.rpcUrl)).checkpoint, { block: '0x0', hash: genesis, source: 'flag' })
    await waitFor(
      'the validator to verify from block 1',
      async () => BigInt((await nodeInfo(v.rpcUrl)).verified.block) >= 5n,
      60_000,
      200,
    )
    assert.equal((await nodeInfo(v.rpcUrl)).verified.failures, 0)
  })

  test('neither flag nor L1: the validator starts at the sequencer’s head and warns that it trusts it', async () => {
    const v = await start([])
    await waitReady('validator', v.rpcUrl, v)
    const info = await nodeInfo(v.rpcUrl)
    assert.equal(info.checkpoint?.source, 'sequencer head')
    assert.equal(info.checkpoint?.hash, await hashOf(sequencer.rpcUrl, BigInt(info.checkpoint.block)))
    const warning = v
      .logs()
      .stdout.split('\n')
      .find((line) => line.includes('trusts the sequencer’s head'))
    assert.ok(warning !== undefined, `the warning is logged${logTail('validator', v)}`)
    assert.match(warning, /--replica\.checkpoint/)
    assert.match(warning, /--l1\.rpc/)
  })
})
