/**
 * A block of contract transactions for the trace's tests (issue 18), after the L1-attributes deposit: a deposit
 * creation and a deposit call, an ERC-20 deployment (contracts/Token.sol) and transfers (one with an EIP-2930 access
 * list; both emit logs), a reverting call, a CREATE2 through a factory, an EIP-7702 set-code transaction and a call
 * to the delegated EOA, and plain transfers. Signed by the dev accounts, which the trace chain funds.
 */
import { hexToBytes } from '@ethereumjs/util'
import { type Hex, encodeAbiParameters, encodeFunctionData, getContractAddress, parseAbi } from 'viem'
import { signAuthorization, signTransaction } from 'viem/accounts'
import { DepositTx, type L2Transaction, decodeL2Transaction } from '../../src/chain/l2-transaction.ts'
import { fastTxOptions } from '../../src/execution/validated-tx.ts'
import { contract } from './contracts.ts'
import {
  ETH,
  TRACE_DEPOSITOR,
  devAccounts,
  freshAddress,
  l1AttributesDeposit,
  traceCommon,
  traceConfig,
  traceL1Info,
  transfer,
} from './trace-chain.ts'

/** One transaction of the block and what its step is called in reports. */
export interface ContractBlockItem {
  kind: string
  tx: L2Transaction
}

const tokenAbi = parseAbi(['function transfer(address to, uint256 value) returns (bool)'])
const factoryAbi = parseAbi(['function deploy(bytes32 salt, uint256 tag) returns (address)'])
const counterAbi = parseAbi(['function increment() returns (uint256)'])
const CHAIN_ID = Number(traceConfig.chainId)

/** A signed EIP-1559 (or 7702) transaction from dev account `from`. */
async function signed(
  from: number,
  nonce: number,
  fields: { to?: Hex; data?: Hex; value?: bigint; gas?: bigint },
  extra: Record<string, unknown> = {},
): Promise<L2Transaction> {
  const tx = {
    chainId: CHAIN_ID,
    nonce,
    gas: fields.gas ?? 500_000n,
    value: fields.value ?? 0n,
    data: fields.data,
    to: fields.to,
    type: 'eip1559',
    maxFeePerGas: 10n ** 9n,
    maxPriorityFeePerGas: 1_000n,
    ...extra,
  }
  const raw = await signTransaction({ privateKey: devAccounts[from]!.privateKey, transaction: tx as never })
  return decodeL2Transaction(hexToBytes(raw), fastTxOptions(traceCommon))
}

const call = (abi: readonly unknown[], functionName: string, args: readonly unknown[]): Hex =>
  encodeFunctionData({ abi, functionName, args } as never)

/** The block's transactions, the L1-attributes deposit first. */
export async function contractBlock(): Promise<ContractBlockItem[]> {
  const token = contract('Token')
  const factory = contract('Factory')
  const counter = contract('Counter')
  const dev = (i: number) => devAccounts[i]!.address as Hex
  const tokenAddr = getContractAddress({ from: dev(0), nonce: 0n })
  const factoryAddr = getContractAddress({ from: dev(1), nonce: 0n })
  const counterAddr = getContractAddress({ from: dev(1), nonce: 1n })
  const depositCounter = getContractAddress({ from: TRACE_DEPOSITOR, nonce: 0n })
  const tokenArgs = encodeAbiParameters(
    [{ type: 'string' }, { type: 'string' }, { type: 'uint256' }],
    ['T', 'T', 10n ** 24n],
  ).slice(2)
  const auth = await signAuthorization({
    privateKey: devAccounts[4]!.privateKey,
    address: counterAddr,
    chainId: CHAIN_ID,
    nonce: 0,
  })
  const deposit = (label: string, to: Hex | null, mint: bigint, gas: bigint, data: Hex) =>
    DepositTx.fromFields({
      sourceHash: `0x${Buffer.from(label.padEnd(32, '.')).toString('hex')}` as Hex,
      from: TRACE_DEPOSITOR,
      to,
      mint,
      value: 0n,
      gas,
      isSystemTx: false,
      data,
    })
  return [
    { kind: 'l1Attributes', tx: l1AttributesDeposit(traceL1Info()) },
    { kind: 'deposit creation', tx: deposit('contract-block create', null, 3n * ETH, 1_000_000n, counter.bytecode) },
    {
      kind: 'deposit call',
      tx: deposit('contract-block call', depositCounter, 0n, 200_000n, call(counterAbi, 'increment', [])),
    },
    { kind: 'deployment (Token)', tx: await signed(0, 0, { data: `${token.bytecode}${tokenArgs}`, gas: 2_000_000n }) },
    { kind: 'erc20 transfer', tx: await signed(0, 1, { to: tokenAddr, data: call(tokenAbi, 'transfer', [dev(2), 5n * ETH]) }) },
    {
      kind: 'erc20 transfer (access list)',
      tx: await signed(
        0,
        2,
        { to: tokenAddr, data: call(tokenAbi, 'transfer', [freshAddress('c', 1), ETH]) },
        {
          type: 'eip2930',
          gasPrice: 10n ** 9n,
          maxFeePerGas: undefined,
          maxPriorityFeePerGas: undefined,
          accessList: [{ address: tokenAddr, storageKeys: [`0x${'00'.repeat(31)}03`] }],
        },
      ),
    },
    // dev3 holds no tokens: the transfer reverts (status 0, its gas still spent).
    { kind: 'reverting call', tx: await signed(3, 0, { to: tokenAddr, data: call(tokenAbi, 'transfer', [dev(0), ETH]) }) },
    { kind: 'deployment (Factory)', tx: await signed(1, 0, { data: factory.bytecode, gas: 1_000_000n }) },
    { kind: 'deployment (Counter)', tx: await signed(1, 1, { data: counter.bytecode, gas: 500_000n }) },
    {
      kind: 'create2',
      tx: await signed(1, 2, { to: factoryAddr, data: call(factoryAbi, 'deploy', [`0x${'11'.repeat(32)}`, 7n]) }),
    },
    {
      kind: 'set-code (7702)',
      tx: await signed(
        3,
        1,
        { to: dev(4), data: call(counterAbi, 'increment', []) },
        { type: 'eip7702', authorizationList: [auth] },
      ),
    },
    { kind: 'call to delegated EOA', tx: await signed(2, 0, { to: dev(4), data: call(counterAbi, 'increment', []) }) },
    { kind: 'transfer', tx: await transfer(2, freshAddress('c', 2), ETH, 1) },
    { kind: 'transfer', tx: await transfer(5, dev(1), 3n, 0, 'legacy') },
  ]
}
