/**
 * Restarts open the persisted state trie instead of rebuilding it (issue 23), end to end: a --dev
 * sequencer with a datadir takes ETH and token traffic (accounts and a storage trie), stops; the
 * restart logs that it opened the persisted root; the chain, balances and `eth_getProof` answers
 * are those from before, and every proof verifies against its block's state root. Then the trie
 * directory is removed (a datadir from before persisted tries): the start rebuilds from the flat
 * state, says so, and serves the same.
 *
 * Each restart seals blocks of its own (the EIP-2935 system call changes the root every block), so
 * proofs are compared by what they prove (the account leaf, its fields, the storage proofs), and
 * each is verified against the state root of the block it was asked at.
 */
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { verifyMerkleProof } from '@ethereumjs/mpt'
import { hexToBytes } from '@ethereumjs/util'
import { encodeDeployData, encodeFunctionData, keccak256, pad, toHex, type Address, type Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { keccak256 as nativeKeccak } from '../../src/crypto/native.ts'
import { contract } from '../helpers/contracts.ts'
import { DEV_KEYS, makeTempDir, removeTempDir, rpc, startNode, waitFor, type NodeHandle } from '../helpers/node-process.ts'
import { succeedingSender } from '../helpers/receipts.ts'

const FEE = { maxFeePerGas: 10_000_000_000n, maxPriorityFeePerGas: 0n }
const ARGS = ['--block-ms=300']

interface RpcProof {
  accountProof: Hex[]
  balance: Hex
  nonce: Hex
  codeHash: Hex
  storageHash: Hex
  storageProof: Array<{ key: Hex; value: Hex; proof: Hex[] }>
}

const nodes: NodeHandle[] = []
let datadir: string | undefined

after(async () => {
  for (const node of nodes) await node.stop()
  if (datadir !== undefined) await removeTempDir(datadir)
})

async function start(dir: string): Promise<NodeHandle> {
  const node = await startNode({ datadir: dir, args: ARGS })
  nodes.push(node)
  return node
}

/** The `stateTrie` field of the node's "opened chain" log line. */
function openedTrie(node: NodeHandle): string | undefined {
  for (const line of node.logs().stdout.split('\n')) {
    if (!line.includes('opened chain')) continue
    return (JSON.parse(line) as { stateTrie?: string }).stateTrie
  }
  return undefined
}

async function sealedHead(node: NodeHandle): Promise<{ number: bigint; stateRoot: Hex; hash: Hex }> {
  const block = await rpc<{ number: Hex; stateRoot: Hex; hash: Hex }>(node.rpcUrl, 'eth_getBlockByNumber', ['latest', false])
  return { number: BigInt(block.number), stateRoot: block.stateRoot, hash: block.hash }
}

/**
 * What the node proves about `accounts` at its latest sealed block, after checking every proof
 * against that block's state root: the parts that do not depend on the rest of the state.
 */
async function provenState(node: NodeHandle, accounts: Address[], slots: Hex[]): Promise<unknown[]> {
  const head = await sealedHead(node)
  const tag = toHex(head.number)
  const out: unknown[] = []
  for (const address of accounts) {
    const proof = await rpc<RpcProof>(node.rpcUrl, 'eth_getProof', [address, slots, tag])
    const leaf = await verifyMerkleProof(
      hexToBytes(address),
      proof.accountProof.map((n) => hexToBytes(n)),
      { root: hexToBytes(head.stateRoot), useKeyHashing: true, useKeyHashingFunction: nativeKeccak },
    )
    assert.ok(leaf !== null, `${address}: the account proof proves a leaf under block ${head.number}'s root`)
    const balance = await rpc<Hex>(node.rpcUrl, 'eth_getBalance', [address, tag])
    assert.equal(BigInt(balance), BigInt(proof.balance), `${address}: eth_getBalance agrees with the proof`)
    out.push({
      address,
      balance: proof.balance,
      nonce: proof.nonce,
      codeHash: proof.codeHash,
      storageHash: proof.storageHash,
      leaf: proof.accountProof.at(-1),
      storage: proof.storageProof.map((p) => ({ key: p.key, value: p.value, proof: p.proof })),
    })
  }
  return out
}

/** The hashes of blocks 0..n: the chain a restart must come back with. */
async function chainHashes(node: NodeHandle, n: bigint): Promise<Hex[]> {
  const hashes: Hex[] = []
  for (let i = 0n; i <= n; i++) {
    hashes.push((await rpc<{ hash: Hex }>(node.rpcUrl, 'eth_getBlockByNumber', [toHex(i), false])).hash)
  }
  return hashes
}

describe('persisted state trie across restarts', { timeout: 150_000 }, () => {
  test('a restart opens the persisted root with the same chain, balances and proofs; an older datadir is migrated once', async () => {
    datadir = await makeTempDir('megaeth-trie-restart-')
    const first = await start(datadir)
    assert.equal(openedTrie(first), 'genesis')

    // Traffic: a token (a storage trie with several slots) and ETH to fresh accounts.
    const token = contract('Token')
    const sender = privateKeyToAccount(DEV_KEYS[0]!)
    const send = succeedingSender(first.rpcUrl, sender, FEE)
    const deployed = await send({
      data: encodeDeployData({ abi: token.abi, bytecode: token.bytecode, args: ['Persist', 'PT', 10n ** 24n] }),
      gas: 2_000_000n,
    })
    const tokenAddress = deployed.contractAddress!
    const recipients: Address[] = Array.from(
      { length: 6 },
      (_, i) => `0x${'7'.repeat(38)}${i.toString(16).padStart(2, '0')}` as Address,
    )
    for (const [i, to] of recipients.entries()) {
      await send({ to, value: 10n ** 15n * BigInt(i + 1), gas: 21_000n })
      await send({
        to: tokenAddress,
        data: encodeFunctionData({ abi: token.abi, functionName: 'transfer', args: [to, 1000n * BigInt(i + 1)] }),
        gas: 100_000n,
      })
    }
    const lastTxBlock = BigInt((await send({ to: recipients[0]!, value: 1n, gas: 21_000n })).blockNumber)
    await waitFor('the traffic sealed', async () => (await sealedHead(first)).number > lastTxBlock, 20_000)

    // The token's balance slots (`balanceOf`, slot 3 of contracts/Token.sol) of the sender and the recipients.
    const holders = [sender.address, ...recipients]
    const slots = holders.map((h) => keccak256(`${pad(h)}${pad('0x3').slice(2)}` as Hex))
    const watched: Address[] = [sender.address, tokenAddress, ...recipients]
    const before = await provenState(first, watched, [])
    const tokenBefore = await provenState(first, [tokenAddress], slots)
    assert.ok(
      (tokenBefore[0] as { storage: Array<{ value: Hex }> }).storage.some((s) => BigInt(s.value) !== 0n),
      'the token slots guessed hold balances (else the storage comparison proves nothing)',
    )
    const sealed = (await sealedHead(first)).number
    const hashes = await chainHashes(first, sealed)
    await first.stop()

    // Restart: the persisted root is opened, not rebuilt.
    const second = await start(datadir)
    assert.equal(openedTrie(second), 'persisted', 'the restart opened the persisted trie')
    assert.deepEqual(await chainHashes(second, sealed), hashes)
    assert.deepEqual(await provenState(second, watched, []), before)
    assert.deepEqual(await provenState(second, [tokenAddress], slots), tokenBefore)
    await second.stop()

    // A datadir from before persisted tries: rebuilt from the flat state once, then opened again.
    await rm(join(datadir, 'trie'), { recursive: true, force: true })
    const migrated = await start(datadir)
    assert.equal(openedTrie(migrated), 'rebuilt', 'a datadir without a trie is rebuilt from the flat state')
    assert.deepEqual(await provenState(migrated, watched, []), before)
    assert.deepEqual(await provenState(migrated, [tokenAddress], slots), tokenBefore)
    await migrated.stop()
    // That the start after a migration opens the persisted root again: test/unit/bootstrap.test.ts.
  })
})
