/**
 * Gas of deposits against an independent EVM: anvil (revm) running the same messages as transactions
 * at gas price 0 (base fee 0, an impersonated sender funded with the deposits' mint), on the same
 * contracts. A deposit's reported gas must be what that transaction reports: intrinsic gas, warm
 * set, EIP-3529 refunds, the EIP-7623 calldata floor, creation costs — and statuses and contract
 * addresses must agree.
 */
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { bigIntToBytes, bytesToHex, hexToBytes } from '@ethereumjs/util'
import { encodeFunctionData } from 'viem'
import { createChainCommon } from '../../src/chain/config.ts'
import { userDepositSourceHash, type DepositTransaction } from '../../src/chain/deposit-tx.ts'
import { keccak256 } from '../../src/crypto/native.ts'
import type { BlockEnv } from '../../src/execution/block-env.ts'
import { SequentialExecutor } from '../../src/execution/executor.ts'
import type { Hex } from '../../src/primitives/state-diff.ts'
import { FlatState } from '../../src/state/flat-state.ts'
import { contract } from '../helpers/contracts.ts'
import { rpc, startAnvil, type AnvilHandle } from '../helpers/node-process.ts'

const common = createChainCommon({ chainId: 6342n, name: 'deposit-anvil-test' })
const COUNTER = '0x000000000000000000000000000000000000c001' as Hex
const REVERTER = '0x000000000000000000000000000000000000c002' as Hex
const SENDER = '0x00000000000000000000000000000000005e11de' as Hex
const RECIPIENT = '0x000000000000000000000000000000000000be11' as Hex
const MINT = 10n ** 19n

let anvil: AnvilHandle
before(async () => {
  anvil = await startAnvil(['--hardfork', 'osaka', '--block-base-fee-per-gas', '0', '--silent'])
})
after(async () => {
  await anvil.stop()
})

const quantity = (n: bigint): string => `0x${n.toString(16)}`

test('deposits report the gas, status and contract address anvil reports for the same messages at gas price 0', async () => {
  const counter = contract('Counter')
  const reverter = contract('Reverter')
  const increment = encodeFunctionData({ abi: counter.abi, functionName: 'increment' })
  const messages: Array<{ to: Hex | null; value: bigint; data: Hex; gas: bigint; what: string }> = [
    { to: RECIPIENT, value: 10n ** 18n, data: '0x', gas: 100_000n, what: 'value transfer to a fresh EOA' },
    { to: COUNTER, value: 0n, data: increment, gas: 200_000n, what: 'first increment (cold, 0 → 1)' },
    { to: COUNTER, value: 0n, data: increment, gas: 200_000n, what: 'second increment' },
    {
      to: REVERTER,
      value: 0n,
      data: encodeFunctionData({ abi: reverter.abi, functionName: 'revertWithReason' }),
      gas: 200_000n,
      what: 'revert with reason',
    },
    { to: null, value: 0n, data: counter.bytecode, gas: 1_000_000n, what: 'creation' },
    {
      to: RECIPIENT,
      value: 0n,
      data: bytesToHex(new Uint8Array(1000).fill(0xaa)) as Hex,
      gas: 100_000n,
      what: 'calldata floor (EIP-7623)',
    },
    { to: COUNTER, value: 0n, data: increment, gas: 30_000n, what: 'out of gas' },
    // Init code CALLER SELFDESTRUCT: created and destroyed in one transaction (EIP-6780 deletes it).
    { to: null, value: 5n, data: '0x33ff', gas: 100_000n, what: 'creation that self-destructs' },
  ]

  // anvil: the contracts as our state holds them, the sender funded as the mint would, then each message.
  for (const [address, code] of [
    [COUNTER, counter.deployedBytecode],
    [REVERTER, reverter.deployedBytecode],
  ] as const) {
    await rpc(anvil.rpcUrl, 'anvil_setCode', [address, code])
    await rpc(anvil.rpcUrl, 'anvil_setNonce', [address, '0x1'])
  }
  await rpc(anvil.rpcUrl, 'anvil_setBalance', [SENDER, quantity(MINT)])
  await rpc(anvil.rpcUrl, 'anvil_impersonateAccount', [SENDER])
  // One block, as our deposits share one: a Counter slot holding block.number is then rewritten with the same value.
  await rpc(anvil.rpcUrl, 'evm_setAutomine', [false])
  const hashes: Hex[] = []
  for (const m of messages) {
    hashes.push(
      await rpc<Hex>(anvil.rpcUrl, 'eth_sendTransaction', [
        {
          from: SENDER,
          ...(m.to === null ? {} : { to: m.to }),
          value: quantity(m.value),
          data: m.data,
          gas: quantity(m.gas),
          gasPrice: '0x0',
        },
      ]),
    )
  }
  await rpc(anvil.rpcUrl, 'evm_mine', [])
  type Receipt = { gasUsed: Hex; status: Hex; contractAddress: string | null; blockNumber: Hex }
  const expected: Array<{ gasUsed: bigint; status: number; contractAddress: string | null }> = []
  const blocks = new Set<string>()
  for (const hash of hashes) {
    const receipt = await rpc<Receipt | null>(anvil.rpcUrl, 'eth_getTransactionReceipt', [hash])
    assert.ok(receipt !== null, `anvil mined no receipt for ${hash}`)
    blocks.add(receipt.blockNumber)
    expected.push({
      gasUsed: BigInt(receipt.gasUsed),
      status: Number(receipt.status),
      contractAddress: receipt.contractAddress?.toLowerCase() ?? null,
    })
  }
  assert.equal(blocks.size, 1, 'anvil mined the messages in one block')

  // Ours: the same messages as deposits, the first one minting what anvil's sender was given.
  const state = new FlatState()
  for (const [address, code] of [
    [COUNTER, counter.deployedBytecode],
    [REVERTER, reverter.deployedBytecode],
  ] as const) {
    const bytes = hexToBytes(code)
    const codeHash = keccak256(bytes)
    state.codes.set(bytesToHex(codeHash) as Hex, bytes)
    state.accounts.set(address, { nonce: 1n, balance: 0n, codeHash })
  }
  const env: BlockEnv = {
    number: 1n,
    timestamp: 1_700_000_000n,
    coinbase: '0x00000000000000000000000000000000000c0b1e',
    baseFeePerGas: 1_000_000_000n, // deposits pay nothing whatever the base fee
    gasLimit: 30_000_000n,
    prevRandao: new Uint8Array(32),
    excessBlobGas: 0n,
    parentBeaconBlockRoot: new Uint8Array(32),
  }
  const executor = await SequentialExecutor.create(common, state, async (n) => keccak256(bigIntToBytes(n)))
  executor.setBlockEnv(env)
  const cursor = { gasUsed: 0n, txIndex: 0, logIndex: 0, miniBlockNumber: 0n }
  for (const [i, m] of messages.entries()) {
    const deposit: DepositTransaction = {
      sourceHash: userDepositSourceHash(`0x${'11'.repeat(32)}`, i),
      from: SENDER,
      to: m.to,
      mint: i === 0 ? MINT : 0n,
      value: m.value,
      gas: m.gas,
      isSystemTx: false,
      data: m.data,
    }
    const receipt = await executor.applyDeposit(deposit, cursor)
    assert.deepEqual(
      { gasUsed: receipt.gasUsed, status: receipt.status, contractAddress: receipt.contractAddress },
      m.to === null ? expected[i] : { ...expected[i]!, contractAddress: null },
      m.what,
    )
  }
  // And the sender's balance is what anvil's is: nothing paid for gas on either side.
  const diff = executor.takeDiff()
  const destroyed = expected[expected.length - 1]!.contractAddress as Hex
  assert.equal(await rpc(anvil.rpcUrl, 'eth_getCode', [destroyed, 'latest']), '0x')
  assert.equal(diff.accounts.get(destroyed)?.account ?? null, null, 'the self-destructed contract is gone')
  const balance = BigInt(await rpc<Hex>(anvil.rpcUrl, 'eth_getBalance', [SENDER, 'latest']))
  assert.equal(diff.accounts.get(SENDER)?.account?.balance, balance)
})
