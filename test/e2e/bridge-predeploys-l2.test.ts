// run-tests: pair — a node or anvil answering a few calls: no load, no assertion on time
/**
 * The bridge predeploys run on our own L2, not only on anvil: a megaeth-node whose genesis is the dev genesis plus
 * `l2PredeployAlloc()` executes viem's `initiateWithdrawal` against L2ToL1MessagePasser (Cancun code on our Cancun
 * EVM) and L1Block's packed-calldata setter (from the depositor account only, checked with eth_call since nobody can
 * sign for that account).
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  concat,
  createPublicClient,
  createWalletClient,
  defineChain,
  encodePacked,
  http,
  keccak256,
  pad,
  parseEther,
  toFunctionSelector,
  toHex,
  type Hex,
} from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { chainConfig, getWithdrawalHashStorageSlot, getWithdrawals, walletActionsL2 } from 'viem/op-stack'
import { devGenesis } from '../../src/chain/genesis.ts'
import { DEV_CHAIN_ID } from '../../src/chain/config.ts'
import { DEPOSITOR_ACCOUNT, L1_BLOCK_ADDRESS, l2PredeployAlloc, L2_TO_L1_MESSAGE_PASSER_ADDRESS } from '../../src/bridge/index.ts'
import { DEV_KEYS, rpcRaw, startNode, type NodeHandle } from '../helpers/node-process.ts'

let node: NodeHandle
let dir: string
const user = privateKeyToAccount(DEV_KEYS[7]!)

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'megaeth-bridge-genesis-'))
  const genesis = devGenesis()
  genesis.alloc = { ...genesis.alloc, ...l2PredeployAlloc() }
  const path = join(dir, 'genesis.json')
  await writeFile(path, JSON.stringify(genesis))
  node = await startNode({ args: [`--genesis=${path}`] })
})

after(async () => {
  await node?.stop()
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})

test('the genesis carries the predeploys’ runtime code', async () => {
  for (const [address, account] of Object.entries(l2PredeployAlloc())) {
    const code = await rpcRaw<Hex>(node.rpcUrl, 'eth_getCode', [address, 'latest'])
    assert.equal(code.result, account.code)
  }
})

test('viem’s initiateWithdrawal runs on our L2 and sets sentMessages[hash] at the slot the portal proves', async () => {
  const chain = defineChain({
    id: Number(DEV_CHAIN_ID),
    name: 'megaeth-dev',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [node.rpcUrl] } },
    contracts: chainConfig.contracts,
  })
  const wallet = createWalletClient({ chain, transport: http(node.rpcUrl) }).extend(walletActionsL2())
  const client = createPublicClient({ chain, transport: http(node.rpcUrl) })
  const hash = await wallet.initiateWithdrawal({
    account: user,
    request: { to: user.address, gas: 100_000n, value: parseEther('1'), data: '0x' },
  })
  const receipt = await client.waitForTransactionReceipt({ hash })
  assert.equal(receipt.status, 'success')
  const [withdrawal] = getWithdrawals(receipt)
  assert.equal(withdrawal?.nonce, 1n << 240n)
  assert.equal(withdrawal?.value, parseEther('1'))
  const slot = getWithdrawalHashStorageSlot({ withdrawalHash: withdrawal!.withdrawalHash })
  assert.equal(await client.getStorageAt({ address: L2_TO_L1_MESSAGE_PASSER_ADDRESS, slot }), pad('0x01', { size: 32 }))
  assert.equal(await client.getBalance({ address: L2_TO_L1_MESSAGE_PASSER_ADDRESS }), parseEther('1'))
})

test('L1Block’s setL1BlockValuesEcotone runs for the depositor account and reverts NotDepositor for anyone else', async () => {
  const data = concat([
    toFunctionSelector('setL1BlockValuesEcotone()'),
    encodePacked(
      ['uint32', 'uint32', 'uint64', 'uint64', 'uint64', 'uint256', 'uint256', 'bytes32', 'bytes32'],
      [1368, 810_949, 0n, 1_765_000_000n, 21_000_000n, 7n * 10n ** 9n, 1n, keccak256(toHex('l1')), pad('0x01', { size: 32 })],
    ),
  ])
  const asDepositor = await rpcRaw<Hex>(node.rpcUrl, 'eth_call', [
    { from: DEPOSITOR_ACCOUNT, to: L1_BLOCK_ADDRESS, data },
    'latest',
  ])
  assert.equal(asDepositor.error, undefined, JSON.stringify(asDepositor.error))
  assert.equal(asDepositor.result, '0x')
  const asUser = await rpcRaw<Hex>(node.rpcUrl, 'eth_call', [{ from: user.address, to: L1_BLOCK_ADDRESS, data }, 'latest'])
  assert.equal(asUser.error?.code, 3)
  assert.equal(asUser.error?.data, toFunctionSelector('NotDepositor()'))
})
