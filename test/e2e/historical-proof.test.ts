// run-tests: pair — a node or anvil answering a few calls: no load, no assertion on time
/**
 * eth_getProof at past blocks on a real sequencer (`--dev`, no L1): transfers and a withdrawal
 * (viem's op-stack `initiateWithdrawal` against L2ToL1MessagePasser) land in different blocks; viem's
 * `getProof` at each of those blocks, and the block before, must verify against that block's state
 * root with `@ethereumjs/mpt` and prove that block's values (not the head's); past `--state.history`
 * the answer is -32000 naming the oldest block served.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { verifyMerkleProof } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import { bytesToBigInt, bytesToHex, hexToBytes } from '@ethereumjs/util'
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  parseEther,
  type Address,
  type Hex,
  type PublicClient,
} from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { chainConfig, getWithdrawalHashStorageSlot, getWithdrawals, walletActionsL2 } from 'viem/op-stack'
import { devGenesis } from '../../src/chain/genesis.ts'
import { DEV_CHAIN_ID } from '../../src/chain/config.ts'
import { l2PredeployAlloc, L2_TO_L1_MESSAGE_PASSER_ADDRESS } from '../../src/bridge/index.ts'
import { DEV_KEYS, rpc, rpcRaw, startNode, waitFor, type NodeHandle } from '../helpers/node-process.ts'

const HISTORY = 16
const EMPTY_ROOT = '0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421'
let node: NodeHandle
let dir: string
let client: PublicClient
const user = privateKeyToAccount(DEV_KEYS[6]!)

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'megaeth-histproof-'))
  const genesis = devGenesis()
  genesis.alloc = { ...genesis.alloc, ...l2PredeployAlloc() }
  const path = join(dir, 'genesis.json')
  await writeFile(path, JSON.stringify(genesis))
  node = await startNode({ args: [`--genesis=${path}`, '--block-ms=250', `--state.history=${HISTORY}`] })
  client = createPublicClient({ transport: http(node.rpcUrl), pollingInterval: 50 })
})

after(async () => {
  await node?.stop()
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})

interface WithdrawalProof {
  outputRootProof: { version: Hex; stateRoot: Hex; messagePasserStorageRoot: Hex; latestBlockhash: Hex }
  outputRoot: Hex
  withdrawalProof: Hex[]
  l2BlockNumber: Hex
}

interface Proven {
  exists: boolean
  nonce: bigint
  balance: bigint
  storageHash: Hex
  /** Slot values proven against `storageHash`. */
  slots: bigint[]
}

/** viem's getProof at `blockNumber`, verified against that block's stateRoot with @ethereumjs/mpt. */
async function provenAt(address: Address, slots: Hex[], blockNumber: bigint): Promise<Proven> {
  const [proof, block] = await Promise.all([
    client.getProof({ address, storageKeys: slots, blockNumber }),
    client.getBlock({ blockNumber }),
  ])
  const leaf = await verifyMerkleProof(
    hexToBytes(address),
    proof.accountProof.map((n) => hexToBytes(n)),
    { root: hexToBytes(block.stateRoot), useKeyHashing: true },
  )
  let proven: Proven = { exists: false, nonce: 0n, balance: 0n, storageHash: proof.storageHash, slots: [] }
  if (leaf !== null) {
    const [nonce, balance, storageRoot, codeHash] = RLP.decode(leaf) as Uint8Array[]
    assert.equal(bytesToHex(storageRoot!), proof.storageHash)
    assert.equal(bytesToHex(codeHash!), proof.codeHash)
    proven = {
      exists: true,
      nonce: bytesToBigInt(nonce!),
      balance: bytesToBigInt(balance!),
      storageHash: proof.storageHash,
      slots: [],
    }
  }
  assert.equal(BigInt(proof.nonce), proven.nonce)
  assert.equal(proof.balance, proven.balance)
  for (const [i, entry] of proof.storageProof.entries()) {
    assert.equal(entry.key, slots[i])
    if (proof.storageHash === EMPTY_ROOT) {
      // An empty storage trie has no nodes: the proof is empty (as geth's) and proves every slot zero.
      assert.deepEqual(entry.proof, [])
      assert.equal(entry.value, 0n)
      proven.slots.push(0n)
      continue
    }
    const value = await verifyMerkleProof(
      hexToBytes(slots[i]!),
      entry.proof.map((n) => hexToBytes(n)),
      { root: hexToBytes(proof.storageHash), useKeyHashing: true },
    )
    const slotValue = value === null ? 0n : bytesToBigInt(RLP.decode(value) as Uint8Array)
    assert.equal(entry.value, slotValue)
    proven.slots.push(slotValue)
  }
  return proven
}

async function sealed(blockNumber: bigint): Promise<void> {
  await waitFor(`block ${blockNumber} sealed`, async () => (await client.getBlockNumber({ cacheTime: 0 })) >= blockNumber, 10_000)
}

test('eth_getProof at past blocks verifies against their state roots and proves their values; -32000 past --state.history', async () => {
  const chain = defineChain({
    id: Number(DEV_CHAIN_ID),
    name: 'megaeth-dev',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [node.rpcUrl] } },
    contracts: chainConfig.contracts,
  })
  const wallet = createWalletClient({ chain, transport: http(node.rpcUrl), pollingInterval: 50 }).extend(walletActionsL2())

  // Three transfers to fresh accounts, each waited for, so they land in different blocks.
  const recipients: Array<{ to: Address; value: bigint; block: bigint }> = []
  for (let i = 0; i < 3; i++) {
    const to = privateKeyToAccount(generatePrivateKey()).address
    const value = parseEther('0.01') * BigInt(i + 1)
    // Gas given: no eth_estimateGas, whose first call starts the call workers (seconds on a loaded machine).
    const hash = await wallet.sendTransaction({ account: user, to, value, chain, gas: 21_000n })
    const receipt = await client.waitForTransactionReceipt({ hash })
    recipients.push({ to, value, block: receipt.blockNumber })
    await sealed(receipt.blockNumber + 1n)
  }
  const hash = await wallet.initiateWithdrawal({
    account: user,
    gas: 300_000n,
    request: { to: user.address, gas: 100_000n, value: parseEther('1'), data: '0x' },
  })
  const receipt = await client.waitForTransactionReceipt({ hash })
  assert.equal(receipt.status, 'success')
  const [withdrawal] = getWithdrawals(receipt)
  const slot = getWithdrawalHashStorageSlot({ withdrawalHash: withdrawal!.withdrawalHash })
  const withdrawalBlock = receipt.blockNumber
  await sealed(withdrawalBlock)
  assert.ok(recipients[0]!.block < recipients[2]!.block, 'the transfers span blocks')

  // The message passer: before the withdrawal's block the slot is absent (proven absent), at it set.
  const before = await provenAt(L2_TO_L1_MESSAGE_PASSER_ADDRESS, [slot], withdrawalBlock - 1n)
  const at = await provenAt(L2_TO_L1_MESSAGE_PASSER_ADDRESS, [slot], withdrawalBlock)
  assert.deepEqual(before.slots, [0n])
  assert.deepEqual(at.slots, [1n])
  assert.notEqual(before.storageHash, at.storageHash)
  assert.notEqual(at.storageHash, EMPTY_ROOT)
  assert.equal(at.balance - before.balance, parseEther('1'))

  // mega_getWithdrawalProof: what the portal's proveWithdrawalTransaction takes, at the withdrawal's block.
  const hexBlock = `0x${withdrawalBlock.toString(16)}`
  const wp = await rpc<WithdrawalProof>(node.rpcUrl, 'mega_getWithdrawalProof', [withdrawal!.withdrawalHash, hexBlock])
  assert.deepEqual(
    await rpc<WithdrawalProof>(node.rpcUrl, 'eth_getWithdrawalProof', [withdrawal!.withdrawalHash, hexBlock]),
    wp,
    'eth_getWithdrawalProof is the same method',
  )
  const header = await client.getBlock({ blockNumber: withdrawalBlock })
  assert.deepEqual(wp.outputRootProof, {
    version: `0x${'00'.repeat(32)}`,
    stateRoot: header.stateRoot,
    messagePasserStorageRoot: at.storageHash,
    latestBlockhash: header.hash,
  })
  assert.equal(wp.l2BlockNumber, hexBlock)
  const output = await rpc<{ outputRoot: Hex }>(node.rpcUrl, 'optimism_outputAtBlock', [hexBlock])
  assert.equal(wp.outputRoot, output.outputRoot)
  const sent = await verifyMerkleProof(
    hexToBytes(slot),
    wp.withdrawalProof.map((n) => hexToBytes(n)),
    { root: hexToBytes(wp.outputRootProof.messagePasserStorageRoot), useKeyHashing: true },
  )
  assert.deepEqual(sent, Uint8Array.of(1))
  const notYet = await rpcRaw(node.rpcUrl, 'mega_getWithdrawalProof', [
    withdrawal!.withdrawalHash,
    `0x${(withdrawalBlock - 1n).toString(16)}`,
  ])
  assert.equal(notYet.error?.code, -32001)

  // Each recipient: absent before its block, funded at it; the sender's nonce steps block by block.
  const head = await client.getBlockNumber({ cacheTime: 0 })
  let checked = 0
  for (const { to, value, block } of recipients) {
    // A slow machine may have left the early ones behind (4 blocks a second): check those still well inside.
    if (head - (block - 1n) > BigInt(HISTORY - 6)) continue
    const pre = await provenAt(to, [], block - 1n)
    const post = await provenAt(to, [], block)
    assert.equal(pre.exists, false, `${to} does not exist before block ${block}`)
    assert.equal(post.exists, true)
    assert.equal(post.balance, value)
    // The flat-state history agrees with the proof.
    assert.equal(await client.getBalance({ address: to, blockNumber: block }), post.balance)
    const sender = await provenAt(user.address, [], block)
    assert.equal(sender.nonce, BigInt(await client.getTransactionCount({ address: user.address, blockNumber: block })))
    checked++
  }
  assert.ok(checked > 0, 'at least one transfer block checked')

  // Past the retention: -32000 naming the oldest block served and the flag; that block itself is served.
  await sealed(withdrawalBlock + BigInt(HISTORY) + 4n)
  const refused = await rpcRaw(node.rpcUrl, 'eth_getProof', [user.address, [], `0x${(withdrawalBlock - 1n).toString(16)}`])
  assert.equal(refused.error?.code, -32000, JSON.stringify(refused))
  assert.match(refused.error!.message, /historical state not available for block \d+.*--state\.history/)
  const oldest = BigInt((refused.error!.data as { oldestBlock: Hex }).oldestBlock)
  const headNow = BigInt(await rpc<Hex>(node.rpcUrl, 'eth_blockNumber'))
  assert.ok(headNow - oldest >= BigInt(HISTORY) && headNow - oldest <= BigInt(HISTORY) + 4n, `oldest ${oldest}, head ${headNow}`)
  // A block or two of margin: the head keeps moving (one block per 250 ms).
  const served = await provenAt(user.address, [], oldest + 2n)
  assert.equal(served.exists, true)
  const older = await rpcRaw(node.rpcUrl, 'eth_getProof', [user.address, [], `0x${(oldest - 1n).toString(16)}`])
  assert.equal(older.error?.code, -32000)
  // A block not sealed yet is refused as before.
  const future = await rpcRaw(node.rpcUrl, 'eth_getProof', [user.address, [], `0x${(headNow + 1000n).toString(16)}`])
  assert.ok(future.error !== undefined)
})
