// run-tests: pair — a node or anvil answering a few calls: no load, no assertion on time
/**
 * State witnesses end to end: a real `megaeth-node --dev` produces blocks under a mixed workload
 * (transfers to new and old accounts, deploys, CREATE2, storage writes, ERC-20 transfers), serves
 * each block's raw form and witness over JSON-RPC, and the stateless verifier — given nothing but
 * what RPC returned — must reproduce every block. Then the witness is damaged in each way a
 * dishonest sequencer could, and each damage must be caught with its own error code.
 */
import { test, describe, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createBlockFromRLP, createBlockHeader, type Block } from '@ethereumjs/block'
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  parseEther,
  type Address,
  type Hex,
  type TransactionReceipt,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { keccak256 } from '../../src/crypto/native.ts'
import {
  BlockVerificationError,
  verifyBlock,
  type BlockVerificationErrorCode,
  type ExecutionWitness,
} from '../../src/stateless/index.ts'
import { devCommon, fetchBlockWithWitness, hexBytes, verifyDevBlock, type WitnessJson } from '../helpers/witness.ts'
import { contract } from '../helpers/contracts.ts'
import { DEV_CHAIN_ID, DEV_KEYS, rpc, startNode, waitFor, type NodeHandle } from '../helpers/node-process.ts'
import { rng as seededRng } from '../helpers/rng.ts'

const common = devCommon
const bytes = hexBytes
const fetchBlock = fetchBlockWithWitness
const verify = verifyDevBlock

async function rejectsWith(promise: Promise<unknown>, code: BlockVerificationErrorCode): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof BlockVerificationError, `expected a BlockVerificationError, got ${String(error)}`)
    assert.equal(error.code, code, error.message)
    return true
  })
}

describe('state witnesses from a live sequencer', { timeout: 180_000 }, () => {
  let node: NodeHandle
  let head: bigint
  /** A block whose transactions called contracts (so its witness holds code and storage). */
  let contractBlock: { block: Block; witness: ExecutionWitness }

  before(async () => {
    node = await startNode({ args: ['--block-ms=300'] })
    const chain = defineChain({
      id: DEV_CHAIN_ID,
      name: 'megaeth-dev',
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [node.rpcUrl] } },
    })
    const client = createPublicClient({ chain, transport: http(node.rpcUrl), pollingInterval: 50 })
    const wallets = DEV_KEYS.slice(0, 4).map((key) =>
      createWalletClient({ account: privateKeyToAccount(key), chain, transport: http(node.rpcUrl) }),
    )
    const deploy = async (name: 'Counter' | 'Token' | 'Factory', args: unknown[] = []): Promise<Address> => {
      const { abi, bytecode } = contract(name)
      const hash = await wallets[0]!.deployContract({ abi, bytecode, args })
      return (await client.waitForTransactionReceipt({ hash })).contractAddress!
    }
    const counter = await deploy('Counter')
    const token = await deploy('Token', ['Witness', 'WIT', 10n ** 24n])
    const factory = await deploy('Factory')
    const random = seededRng(7)
    const hashes: Hex[] = []
    /** Waits for the receipts of everything sent so far and for the EVM block holding the last one to be sealed. */
    const sealSent = async (): Promise<{ receipts: TransactionReceipt[]; sealed: bigint }> => {
      const receipts = await Promise.all(hashes.map((hash) => client.waitForTransactionReceipt({ hash })))
      const last = receipts.reduce((max, r) => (r.blockNumber > max ? r.blockNumber : max), 0n)
      const sealed = await waitFor('the last workload block to be sealed', async () => {
        const n = BigInt(await rpc<Hex>(node.rpcUrl, 'eth_blockNumber'))
        return n >= last ? n : undefined
      })
      return { receipts, sealed }
    }
    for (let round = 0; round < 6; round++) {
      // Every second round goes out once the blocks holding the earlier ones are sealed: the
      // workload spans at least three blocks however fast the node includes it.
      if (round > 0 && round % 2 === 0) await sealSent()
      const newcomer = `0x${Buffer.from(random.bytes(20)).toString('hex')}` as Address
      hashes.push(
        await wallets[1]!.sendTransaction({ to: newcomer, value: parseEther('0.5') }),
        await wallets[2]!.sendTransaction({ to: wallets[3]!.account.address, value: 12345n }),
        await wallets[0]!.writeContract({
          address: counter,
          abi: contract('Counter').abi,
          functionName: 'increment',
          gas: 300_000n,
        }),
        await wallets[0]!.writeContract({
          address: token,
          abi: contract('Token').abi,
          functionName: 'transfer',
          args: [newcomer, 1000n + BigInt(round)],
          gas: 300_000n,
        }),
        await wallets[0]!.writeContract({
          address: factory,
          abi: contract('Factory').abi,
          functionName: 'deploy',
          args: [`0x${round.toString(16).padStart(64, '0')}`, BigInt(round)],
          gas: 1_000_000n,
        }),
      )
    }
    const { receipts, sealed } = await sealSent()
    head = sealed
    // Explicit gas limits: Counter writes block.number, so an estimate made one block early can fall short.
    assert.deepEqual(
      receipts.filter((r) => r.status !== 'success').map((r) => r.transactionHash),
      [],
    )
    const counterCall = receipts.find((r) => r.to?.toLowerCase() === counter.toLowerCase())!
    contractBlock = await fetchBlock(node.rpcUrl, counterCall.blockNumber)
  })

  after(async () => {
    await node?.stop()
  })

  test('every sealed block verifies statelessly from its RPC witness alone', async () => {
    let withTxs = 0
    let txs = 0
    for (let n = 1n; n <= head; n++) {
      const { block, witness } = await fetchBlock(node.rpcUrl, n)
      const verified = await verify(block, witness)
      assert.equal(verified.stateRoot, `0x${Buffer.from(block.header.stateRoot).toString('hex')}`)
      if (block.transactions.length > 0) withTxs++
      txs += block.transactions.length
    }
    assert.ok(withTxs >= 3, `only ${withTxs} blocks carried transactions`)
    assert.equal(txs, 33)
  })

  test('mega_getBlockWitness serves the same witness by number and by hash; unknown blocks give null', async () => {
    const n = contractBlock.block.header.number
    const hash = `0x${Buffer.from(contractBlock.block.hash()).toString('hex')}`
    const byNumber = await rpc<WitnessJson>(node.rpcUrl, 'mega_getBlockWitness', [{ blockNumber: `0x${n.toString(16)}` }])
    const byHash = await rpc<WitnessJson>(node.rpcUrl, 'mega_getBlockWitness', [{ blockHash: hash }])
    assert.deepEqual(byHash, byNumber)
    assert.equal(
      await rpc(node.rpcUrl, 'mega_getBlockWitness', [{ blockNumber: `0x${n.toString(16)}`, blockHash: `0x${'11'.repeat(32)}` }]),
      null,
    )
    assert.equal(await rpc(node.rpcUrl, 'debug_executionWitness', ['0xffffff']), null)
    assert.ok(byNumber.codes.length > 0, 'a block calling contracts carries their bytecode')
  })

  test('a witness without its root node fails with WITNESS_MISSING_NODE', async () => {
    const { block, witness } = contractBlock
    const root = block.header.stateRoot
    const parentRoot = createBlockFromRLP(
      bytes(await rpc<Hex>(node.rpcUrl, 'debug_getRawBlock', [`0x${(block.header.number - 1n).toString(16)}`])),
      { common },
    ).header.stateRoot
    assert.notDeepEqual(root, parentRoot)
    const state = witness.state.filter((rlp) => Buffer.compare(Buffer.from(keccak256(rlp)), Buffer.from(parentRoot)) !== 0)
    assert.equal(state.length, witness.state.length - 1)
    await rejectsWith(verify(block, { ...witness, state }), 'WITNESS_MISSING_NODE')
  })

  test('a node that hashes into nothing fails with WITNESS_BOGUS_NODE', async () => {
    const { block, witness } = contractBlock
    const bogus = Uint8Array.from(witness.state[witness.state.length - 1]!)
    bogus[bogus.length - 1]! ^= 1
    await rejectsWith(verify(block, { ...witness, state: [...witness.state, bogus] }), 'WITNESS_BOGUS_NODE')
  })

  test('missing bytecode fails with WITNESS_MISSING_CODE, a missing parent header with WITNESS_MISSING_HEADER', async () => {
    const { block, witness } = contractBlock
    await rejectsWith(verify(block, { ...witness, codes: [] }), 'WITNESS_MISSING_CODE')
    await rejectsWith(verify(block, { ...witness, headers: [] }), 'WITNESS_MISSING_HEADER')
  })

  test('a tampered transaction list or header root is a block failure, not a witness failure', async () => {
    const { block, witness } = contractBlock
    const txs = block.transactions.map((tx) => tx.serialize())
    await rejectsWith(
      verifyBlock({ header: block.header, transactions: txs.slice(1) }, witness, { common }),
      'TRANSACTIONS_ROOT_MISMATCH',
    )
    const lying = createBlockFromRLP(
      bytes(await rpc<Hex>(node.rpcUrl, 'debug_getRawBlock', [`0x${block.header.number.toString(16)}`])),
      { common },
    )
    const forged = { ...lying.header.toJSON(), stateRoot: bytes(`0x${'ab'.repeat(32)}`) }
    const header = createBlockHeader(forged, { common, skipConsensusFormatValidation: true })
    await rejectsWith(verifyBlock({ header, transactions: txs }, witness, { common }), 'STATE_ROOT_MISMATCH')
  })
})
