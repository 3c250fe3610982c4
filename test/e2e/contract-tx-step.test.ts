// run-tests: pair — one anvil answering eth_calls: no load, no assertion on time
/**
 * ContractTxStep (contracts/L1/ContractTxStep.sol) on a real anvil, differentially against the node's own executor:
 * a block (buildTraceChain, executed by executeBlockBody) with the L1-attributes deposit, a deposit with calldata and
 * a deposit creation, ERC-20 deployments and transfers (one with an EIP-2930 access list, one reverting), an AMM pool
 * deployment, liquidity and a swap, a CREATE2 factory call, an EIP-7702 set-code transaction and a call to the
 * delegated EOA, and a plain transfer. For every transaction, `execute` over the arguments contract-step-proof.ts
 * builds returns the next leaf's state root (buildBlockTrace), the receipt's gas and the receipt bytes the node
 * encodes. Adversarial: a witness missing a node reverts, a code that does not match its hash reverts, a node set of
 * another state cannot pass. Gas per kind is reported.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { RLP } from '@ethereumjs/rlp'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import {
  type Address,
  type Hex,
  createWalletClient,
  encodeAbiParameters,
  encodeFunctionData,
  getContractAddress,
  http,
  parseAbi,
  publicActions,
} from 'viem'
import { privateKeyToAccount, sign, signAuthorization, signTransaction } from 'viem/accounts'
import { contractTxStepAbi, contractTxStepBytecode } from '../../src/bridge/generated/ContractTxStep.ts'
import { evmInterpreterAbi, evmInterpreterBytecode } from '../../src/bridge/generated/EvmInterpreter.ts'
import { evmPrecompilesAbi, evmPrecompilesBytecode } from '../../src/bridge/generated/EvmPrecompiles.ts'
import { evmTxCodecAbi, evmTxCodecBytecode } from '../../src/bridge/generated/EvmTxCodec.ts'
import { DepositTx, type L2Transaction, decodeL2Transaction } from '../../src/chain/l2-transaction.ts'
import { encodeConsensusReceipt } from '../../src/chain/receipt.ts'
import { keccak256 } from '../../src/crypto/native.ts'
import { blockEnvFromHeader } from '../../src/execution/block-execution.ts'
import { SequentialExecutor } from '../../src/execution/executor.ts'
import { fastTxOptions } from '../../src/execution/validated-tx.ts'
import { buildBlockTrace } from '../../src/prover/trace/block-trace.ts'
import {
  type ContractStepContext,
  type ContractStepInput,
  buildContractStepProof,
} from '../../src/prover/trace/contract-step-proof.ts'
import { TrieStateReader } from '../../src/prover/trace/trie-state-reader.ts'
import { StateTrie } from '../../src/trie/index.ts'
import { compileFiles } from '../../scripts/compile-contracts.mjs'
import { contract } from '../helpers/contracts.ts'
import { ALICE, randomProgramCases } from '../helpers/evm-workloads.ts'
import { type AnvilHandle, DEV_KEYS, startAnvil } from '../helpers/node-process.ts'
import {
  ETH,
  TRACE_BLOCK,
  TRACE_DEPOSITOR,
  buildTraceChain,
  devAccounts,
  freshAddress,
  l1AttributesDeposit,
  traceCommon,
  traceConfig,
  traceL1Info,
  traceRules,
  transfer,
  type TraceChain,
  userDeposit,
} from '../helpers/trace-chain.ts'

const CALL_GAS = 1_000_000_000n
const CHAIN_ID = traceConfig.chainId
const account = privateKeyToAccount(DEV_KEYS[0]!)
const hex = (b: Uint8Array): Hex => bytesToHex(b) as Hex

const tokenAbi = parseAbi([
  'function transfer(address to, uint256 value) returns (bool)',
  'function approve(address spender, uint256 value) returns (bool)',
])
const poolAbi = parseAbi([
  'function swap(address tokenIn, uint256 amountIn, uint256 minOut) returns (uint256)',
  'function addLiquidity(uint256 amount0, uint256 amount1) returns (uint256)',
])
const factoryAbi = parseAbi(['function deploy(bytes32 salt, uint256 tag) returns (address)'])
const counterAbi = parseAbi(['function increment() returns (uint256)'])

/** A signed EIP-1559 (or 2930/7702) transaction from dev account `from`. */
async function signed(
  from: number,
  nonce: number,
  fields: { to?: Hex; data?: Hex; value?: bigint; gas?: bigint },
  extra: Record<string, unknown> = {},
): Promise<L2Transaction> {
  const base = { chainId: Number(CHAIN_ID), nonce, gas: fields.gas ?? 500_000n, value: fields.value ?? 0n, data: fields.data }
  const tx =
    extra.type === 'eip2930'
      ? { ...base, to: fields.to, gasPrice: 10n ** 9n, ...extra }
      : { ...base, to: fields.to, type: 'eip1559', maxFeePerGas: 10n ** 9n, maxPriorityFeePerGas: 1_000n, ...extra }
  const raw = await signTransaction({ privateKey: devAccounts[from]!.privateKey, transaction: tx as never })
  return decodeL2Transaction(hexToBytes(raw), fastTxOptions(traceCommon))
}

/** One transaction of the block and what its step is called in the report. */
interface Item {
  kind: string
  tx: L2Transaction
}

async function blockItems(): Promise<Item[]> {
  const token = contract('Token')
  const [pool] = compileFiles(['test/EvmRefPool.sol'], 'cancun')
  const factory = contract('Factory')
  const counter = contract('Counter')
  const dev = (i: number) => devAccounts[i]!.address as Hex
  const tokenArgs = (name: string) =>
    encodeAbiParameters([{ type: 'string' }, { type: 'string' }, { type: 'uint256' }], [name, name, 10n ** 24n]).slice(2)
  const tokenA = getContractAddress({ from: dev(0), nonce: 0n })
  const tokenB = getContractAddress({ from: dev(0), nonce: 1n })
  const poolAddr = getContractAddress({ from: dev(0), nonce: 2n })
  const factoryAddr = getContractAddress({ from: dev(1), nonce: 0n })
  const counterAddr = getContractAddress({ from: dev(1), nonce: 1n })
  const auth = await signAuthorization({
    privateKey: devAccounts[4]!.privateKey,
    address: counterAddr,
    chainId: Number(CHAIN_ID),
    nonce: 0,
  })
  // dev5 delegates itself (the authorization's nonce is its nonce after the transaction's bump); dev4 clears its
  // delegation; an authority with no account (created with nonce 1, no refund); a tuple with a stale nonce (skipped,
  // its authority still warm).
  const selfAuth = await signAuthorization({
    privateKey: devAccounts[5]!.privateKey,
    address: counterAddr,
    chainId: Number(CHAIN_ID),
    nonce: 3,
  })
  const clearAuth = await signAuthorization({
    privateKey: devAccounts[4]!.privateKey,
    address: '0x0000000000000000000000000000000000000000',
    chainId: 0,
    nonce: 1,
  })
  const freshKey = hex(keccak256(new TextEncoder().encode('contract-tx-step: an authority without an account')))
  const freshAuth = await signAuthorization({ privateKey: freshKey, address: counterAddr, chainId: Number(CHAIN_ID), nonce: 0 })
  const staleAuth = await signAuthorization({
    privateKey: devAccounts[1]!.privateKey,
    address: counterAddr,
    chainId: Number(CHAIN_ID),
    nonce: 0,
  })
  const call = (abi: readonly unknown[], functionName: string, args: readonly unknown[]) =>
    encodeFunctionData({ abi, functionName, args } as never)
  const depositCreate = DepositTx.fromFields({
    sourceHash: hex(keccak256(new TextEncoder().encode('deposit create'))),
    from: TRACE_DEPOSITOR,
    to: null,
    mint: 3n * ETH,
    value: 0n,
    gas: 1_000_000n,
    isSystemTx: false,
    data: counter.bytecode,
  })
  const depositCall = DepositTx.fromFields({
    sourceHash: hex(keccak256(new TextEncoder().encode('deposit call'))),
    from: TRACE_DEPOSITOR,
    to: getContractAddress({ from: TRACE_DEPOSITOR, nonce: 0n }),
    mint: 0n,
    value: 0n,
    gas: 200_000n,
    isSystemTx: false,
    data: call(counterAbi, 'increment', []),
  })
  return [
    { kind: 'l1Attributes deposit', tx: l1AttributesDeposit(traceL1Info()) },
    { kind: 'deposit creation', tx: depositCreate },
    { kind: 'deposit with calldata', tx: depositCall },
    // An invalid deposit (value above the balance after the mint: only the nonce moves and the mint stays, all gas).
    { kind: 'deposit (invalid)', tx: userDeposit({ from: freshAddress('d', 1), to: dev(0), mint: 1n, value: ETH }, 3) },
    // A deposit whose call reverts (Counter has no such function): the mint and the nonce stay, the value does not move.
    {
      kind: 'deposit (reverting call)',
      tx: userDeposit(
        {
          from: freshAddress('d', 2),
          to: getContractAddress({ from: TRACE_DEPOSITOR, nonce: 0n }),
          mint: ETH,
          value: 5n,
          data: '0xdeadbeef',
        },
        4,
      ),
    },
    { kind: 'deployment (Token)', tx: await signed(0, 0, { data: `${token.bytecode}${tokenArgs('A')}`, gas: 2_000_000n }) },
    { kind: 'deployment (Token)', tx: await signed(0, 1, { data: `${token.bytecode}${tokenArgs('B')}`, gas: 2_000_000n }) },
    {
      kind: 'deployment (pool)',
      tx: await signed(0, 2, {
        data: `${pool!.bytecode}${encodeAbiParameters([{ type: 'address' }, { type: 'address' }], [tokenA, tokenB]).slice(2)}` as Hex,
        gas: 2_000_000n,
      }),
    },
    { kind: 'erc20 approve', tx: await signed(0, 3, { to: tokenA, data: call(tokenAbi, 'approve', [poolAddr, 10n ** 30n]) }) },
    { kind: 'erc20 approve', tx: await signed(0, 4, { to: tokenB, data: call(tokenAbi, 'approve', [poolAddr, 10n ** 30n]) }) },
    {
      kind: 'pool addLiquidity',
      tx: await signed(0, 5, { to: poolAddr, data: call(poolAbi, 'addLiquidity', [10n ** 22n, 2n * 10n ** 22n]) }),
    },
    { kind: 'swap', tx: await signed(0, 6, { to: poolAddr, data: call(poolAbi, 'swap', [tokenA, 10n ** 20n, 0n]) }) },
    { kind: 'erc20 transfer', tx: await signed(0, 7, { to: tokenA, data: call(tokenAbi, 'transfer', [dev(2), 5n * ETH]) }) },
    {
      kind: 'erc20 transfer (access list)',
      tx: await signed(
        0,
        8,
        { to: tokenA, data: call(tokenAbi, 'transfer', [freshAddress('e', 1), ETH]) },
        { type: 'eip2930', accessList: [{ address: tokenA, storageKeys: [`0x${'00'.repeat(31)}03`] }] },
      ),
    },
    { kind: 'reverting call', tx: await signed(3, 0, { to: tokenA, data: call(tokenAbi, 'transfer', [dev(0), ETH]) }) },
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
    { kind: 'transfer', tx: await transfer(2, freshAddress('f', 2), ETH, 1) },
    { kind: 'transfer', tx: await transfer(5, dev(1), 3n, 0, 'legacy') },
    // EIP-7623: calldata-heavy, execution-light, the floor is what it pays.
    { kind: 'calldata floor', tx: await signed(5, 1, { to: dev(1), data: `0x${'ab'.repeat(2_000)}`, gas: 200_000n }) },
    {
      kind: 'set-code (self-sponsored, fresh authority, stale tuple)',
      tx: await signed(
        5,
        2,
        { to: dev(5), data: call(counterAbi, 'increment', []) },
        {
          type: 'eip7702',
          authorizationList: [selfAuth, freshAuth, staleAuth],
        },
      ),
    },
    {
      kind: 'set-code (clearing a delegation)',
      tx: await signed(3, 2, { to: dev(4), value: 1n }, { type: 'eip7702', authorizationList: [clearAuth] }),
    },
    // BLOCKHASH(number − 1) stored by an initcode (PUSH1 1 NUMBER SUB BLOCKHASH PUSH1 0 SSTORE STOP): the hash is
    // proven from EIP-2935's ring.
    { kind: 'blockhash', tx: await signed(5, 4, { data: '0x600143034060005500', gas: 100_000n }) },
    // Precompiles as the transaction's recipient (value to the identity precompile; SHA-256).
    {
      kind: 'precompile call',
      tx: await signed(3, 3, { to: '0x0000000000000000000000000000000000000004', data: '0x1234', value: 5n }),
    },
    { kind: 'precompile call', tx: await signed(3, 4, { to: '0x0000000000000000000000000000000000000002', data: '0xabcdef' }) },
    // A creation that self-destructs to a beneficiary (EIP-6780: deleted, created in the same transaction).
    {
      kind: 'selfdestruct in creation',
      tx: await signed(3, 5, { data: `0x73${freshAddress('d', 3).slice(2)}ff`, value: 9n, gas: 100_000n }),
    },
    // A zero-value call to an address with no account: touched, left empty, not created (EIP-161).
    { kind: 'transfer', tx: await signed(3, 6, { to: freshAddress('d', 4), gas: 21_000n }) },
    // A balance slot emptied: a refund.
    { kind: 'erc20 transfer', tx: await signed(0, 9, { to: tokenA, data: call(tokenAbi, 'transfer', [dev(1), 7n]) }) },
    {
      kind: 'erc20 transfer (balance to zero)',
      tx: await signed(1, 3, { to: tokenA, data: call(tokenAbi, 'transfer', [dev(0), 7n]) }),
    },
  ]
}

let anvil: AnvilHandle
let client: ReturnType<typeof createWalletClient> & ReturnType<typeof publicActions>
let step: Address

async function deploy(abi: readonly unknown[], bytecode: Hex, args: readonly unknown[]): Promise<Address> {
  const hash = await client.deployContract({ chain: null, abi, bytecode, args } as Parameters<typeof client.deployContract>[0])
  const receipt = await client.waitForTransactionReceipt({ hash })
  assert.ok(receipt.contractAddress, 'deployment failed')
  return receipt.contractAddress
}

interface StepOutput {
  valid: boolean
  postRoot: Hex
  gasUsed: bigint
  receipt: Hex
  logsBloom: Hex
}

async function execute(input: ContractStepInput): Promise<StepOutput> {
  return (await client.readContract({
    address: step,
    abi: contractTxStepAbi,
    functionName: 'execute',
    args: [input] as never,
    gas: CALL_GAS,
  } as never)) as StepOutput
}

async function l1Gas(input: ContractStepInput): Promise<bigint> {
  return client.estimateContractGas({
    address: step,
    abi: contractTxStepAbi,
    functionName: 'execute',
    args: [input] as never,
    account,
  } as never)
}

/** Every transaction's step arguments, built by walking the block as the trace does. */
interface Walked {
  /** The state after the block's transactions, for transactions the block cannot include. */
  ctx: ContractStepContext
  cumulative: bigint
  proofs: ContractStepInput[]
  gas: bigint[]
  receipts: Hex[]
}

async function walk(chain: TraceChain, items: Item[]): Promise<Walked> {
  const nodes = new Map<Hex, Uint8Array>(chain.witness.state.map((rlp) => [hex(keccak256(rlp)), rlp]))
  const source = { get: (h: Uint8Array) => nodes.get(hex(h)) }
  const trie = new StateTrie({ open: { root: chain.parentHeader.stateRoot, source } })
  const codes = new Map<Hex, Uint8Array>(chain.witness.codes.map((c) => [hex(keccak256(c)), c]))
  const lookup = async (n: bigint) => (n === chain.parentHeader.number ? chain.parentHeader.hash() : undefined)
  const env = blockEnvFromHeader(chain.header)
  const opener = await SequentialExecutor.create(traceCommon, new TrieStateReader(trie, codes), lookup)
  opener.setBlockEnv(env)
  await opener.applySystemCalls(env)
  trie.applyDiff(opener.takeDiff())
  const commit = () => {
    for (const [h, rlp] of trie.commit()) nodes.set(hex(h), rlp)
  }
  commit()
  const ctx: ContractStepContext = { common: traceCommon, trie, nodes: source, codes, env, blockHash: lookup }
  const out: Walked = { ctx, cumulative: 0n, proofs: [], gas: [], receipts: [] }
  let cumulative = 0n
  for (const item of items) {
    const proof = await buildContractStepProof(ctx, item.tx.serialize(), cumulative)
    assert.ok(proof.receipt !== undefined && proof.diff !== undefined, `${item.kind}: the executor refused it`)
    out.proofs.push(proof.input)
    out.gas.push(proof.receipt.cumulativeGasUsed - cumulative)
    out.receipts.push(hex(encodeConsensusReceipt(proof.receipt)))
    cumulative = proof.receipt.cumulativeGasUsed
    trie.applyDiff(proof.diff)
    for (const [h, c] of proof.diff.codes) codes.set(h, c)
    commit()
  }
  out.cumulative = cumulative
  return out
}

/** Whether the eth_call reverts, and with which error name (the ABI's errors, PartialTrie's and the interpreter's). */
async function reverts(input: ContractStepInput): Promise<string | undefined> {
  try {
    await execute(input)
    return undefined
  } catch (error) {
    const text = String((error as Error).message)
    const m = /reverted with the following (?:signature|reason):\s*(\S+)|Error: (\w+)\(/.exec(text)
    return m?.[1] ?? m?.[2] ?? 'reverted'
  }
}

before(async () => {
  anvil = await startAnvil(['--quiet', '--gas-limit', String(CALL_GAS)])
  client = createWalletClient({ transport: http(anvil.rpcUrl, { retryCount: 0 }), account }).extend(publicActions)
  const precompiles = await deploy(evmPrecompilesAbi, evmPrecompilesBytecode, [])
  const interpreter = await deploy(evmInterpreterAbi, evmInterpreterBytecode, [precompiles])
  const codec = await deploy(evmTxCodecAbi, evmTxCodecBytecode, [])
  step = await deploy(contractTxStepAbi, contractTxStepBytecode, [CHAIN_ID, interpreter, codec])
})

after(async () => {
  await anvil?.stop()
})

describe('ContractTxStep: any transaction, differentially against the node’s executor', () => {
  let items: Item[]
  let chain: TraceChain
  let walked: Walked
  const gasByKind = new Map<string, string[]>()

  before(async () => {
    items = await blockItems()
    chain = await buildTraceChain(items.map((i) => i.tx))
    walked = await walk(chain, items)
  })

  after(() => {
    const lines = [...gasByKind].map(([k, v]) => `  ${k}: ${v.join(', ')}`)
    if (lines.length > 0) console.log(`ContractTxStep L1 gas per transaction kind:\n${lines.join('\n')}`)
  })

  it('returns the next leaf’s state root, the receipt’s gas and the node’s receipt bytes for every transaction', async () => {
    const trace = await buildBlockTrace({
      common: traceCommon,
      rules: traceRules,
      ...chain,
      disputed: chain.disputed,
      block: TRACE_BLOCK,
    })
    // Leaf 0 opens the block; leaf i + 1 follows transaction i; the last seals it (VALID: the block is the node's).
    assert.equal(trace.states.length, items.length + 2)
    for (let i = 0; i < items.length; i++) {
      const input = walked.proofs[i]!
      assert.equal(input.preRoot, trace.states[i]!.stateRoot, `${i} ${items[i]!.kind}: pre-state root`)
      const out = await execute(input)
      assert.equal(out.valid, true, `${i} ${items[i]!.kind}: valid`)
      assert.equal(out.postRoot, trace.states[i + 1]!.stateRoot, `${i} ${items[i]!.kind}: post-state root`)
      assert.equal(out.gasUsed, walked.gas[i], `${i} ${items[i]!.kind}: gas`)
      assert.equal(out.gasUsed, trace.states[i + 1]!.gasUsed - trace.states[i]!.gasUsed, `${i} ${items[i]!.kind}: leaf gas`)
      assert.equal(out.receipt, walked.receipts[i], `${i} ${items[i]!.kind}: receipt`)
      assert.equal(out.receipt, hex(encodeConsensusReceipt(chain.receipts[i]!)), `${i} ${items[i]!.kind}: block receipt`)
      // Each case does what its name says: only the reverting call fails.
      const failing = ['reverting call', 'deposit (invalid)', 'deposit (reverting call)'].includes(items[i]!.kind)
      assert.equal(chain.receipts[i]!.status, failing ? 0 : 1, `${i} ${items[i]!.kind}: status`)
      const list = gasByKind.get(items[i]!.kind) ?? []
      const witness = input.nodes.reduce((n, node) => n + (node.length - 2) / 2, 0)
      list.push(
        `${await l1Gas(input)} (${input.nodes.length} nodes, ${witness} B; ${input.accounts.length} accounts, ${input.slots.length} slots)`,
      )
      gasByKind.set(items[i]!.kind, list)
    }
    // The EIP-7702 and floor cases did what their names say (in the state after the block).
    const trie = walked.ctx.trie
    const codeHash = (a: Hex) => hex(trie.account(hexToBytes(a))?.account.codeHash ?? new Uint8Array())
    const counterAddr = getContractAddress({ from: devAccounts[1]!.address as Hex, nonce: 1n })
    assert.equal(codeHash(devAccounts[5]!.address as Hex), hex(keccak256(hexToBytes(`0xef0100${counterAddr.slice(2)}`))))
    assert.equal(codeHash(devAccounts[4]!.address as Hex), hex(keccak256(new Uint8Array())))
    const fresh = privateKeyToAccount(
      hex(keccak256(new TextEncoder().encode('contract-tx-step: an authority without an account'))),
    )
    assert.equal(trie.account(hexToBytes(fresh.address))?.account.nonce, 1n)
    assert.equal(trie.account(hexToBytes(devAccounts[1]!.address as Hex))?.account.nonce, 4n, 'the stale tuple bumped nothing')
    assert.equal(walked.gas[items.findIndex((i) => i.kind === 'calldata floor')], 21_000n + 10n * 4n * 2_000n)
    const destroyed = getContractAddress({ from: devAccounts[3]!.address as Hex, nonce: 5n })
    assert.equal(trie.account(hexToBytes(destroyed)), undefined)
    assert.equal(trie.account(hexToBytes(freshAddress('d', 3)))?.account.balance, 9n)
    assert.equal(trie.account(hexToBytes(freshAddress('d', 4))), undefined)
    assert.equal(trie.account(hexToBytes(freshAddress('d', 2)))?.account.balance, ETH)
    const hashed = getContractAddress({ from: devAccounts[5]!.address as Hex, nonce: 4n })
    assert.deepEqual(trie.storageValue(hexToBytes(hashed), new Uint8Array(32)), chain.parentHeader.hash())
    assert.deepEqual(walked.proofs[items.findIndex((i) => i.kind === 'blockhash')]!.blockNumbers, [chain.parentHeader.number])
  })

  it('finds invalid what the executor refuses: nonce, funds, fee cap, gas caps, intrinsic gas, chain id', async () => {
    const dev0 = devAccounts[0]!.address as Hex
    const data = encodeFunctionData({ abi: tokenAbi, functionName: 'transfer', args: [dev0, 1n] })
    const cases: Array<[string, L2Transaction, bigint?]> = [
      ['nonce too high', await signed(0, 99, { to: dev0 })],
      ['nonce too low', await signed(0, 1, { to: dev0 })],
      ['value above the balance', await signed(2, 2, { to: dev0, value: 10n ** 30n })],
      ['fee cap below the base fee', await signed(2, 2, { to: dev0 }, { maxFeePerGas: 1n, maxPriorityFeePerGas: 1n })],
      ['intrinsic gas above the limit', await signed(2, 2, { to: dev0, data, gas: 21_000n })],
      [
        'gas above the block’s remaining gas',
        await signed(2, 2, { to: dev0, gas: 100_000n }),
        traceConfig.blockGasLimit - 50_000n,
      ],
    ]
    for (const [name, tx, cumulative] of cases) {
      const proof = await buildContractStepProof(walked.ctx, tx.serialize(), cumulative ?? walked.cumulative)
      assert.equal(proof.receipt, undefined, `${name}: the executor includes it`)
      const out = await execute(proof.input)
      assert.equal(out.valid, false, name)
    }
    // And the same sender's next valid transaction passes in that state (the cases fail for their reason).
    const ok = await buildContractStepProof(walked.ctx, (await signed(2, 2, { to: dev0 })).serialize(), walked.cumulative)
    assert.ok(ok.receipt !== undefined)
    assert.equal((await execute(ok.input)).valid, true)
    // Over EIP-7825's cap the node cannot even decode it; the step finds it invalid before reading the state.
    const overCap = await signTransaction({
      privateKey: devAccounts[2]!.privateKey,
      transaction: {
        chainId: Number(CHAIN_ID),
        nonce: 2,
        to: dev0,
        gas: (1n << 24n) + 1n,
        maxFeePerGas: 10n ** 9n,
        maxPriorityFeePerGas: 1n,
      },
    })
    assert.equal((await execute({ ...ok.input, rawTx: overCap })).valid, false)
    // gasLimit × feeCap beyond 2^256 (ethereumjs refuses to decode it): invalid, not an overflow revert.
    const overflow = await signTransaction({
      privateKey: devAccounts[2]!.privateKey,
      transaction: {
        chainId: Number(CHAIN_ID),
        nonce: 2,
        to: dev0,
        gas: 21_000n,
        maxFeePerGas: 2n ** 250n,
        maxPriorityFeePerGas: 1n,
      },
    })
    assert.equal((await execute({ ...ok.input, rawTx: overflow })).valid, false)
    // A tip cap above the fee cap (viem and ethereumjs refuse to build one: encoded and signed by hand).
    const fields = [CHAIN_ID, 2n, 10n ** 10n, 10n ** 9n, 21_000n, hexToBytes(dev0), 0n, new Uint8Array(), []] as const
    const unsigned = RLP.encode(fields as never)
    const sig = await sign({ hash: hex(keccak256(new Uint8Array([2, ...unsigned]))), privateKey: devAccounts[2]!.privateKey })
    const tipAbove = hex(
      new Uint8Array([2, ...RLP.encode([...fields, BigInt(sig.yParity!), BigInt(sig.r), BigInt(sig.s)] as never)]),
    )
    assert.equal((await execute({ ...ok.input, rawTx: tipAbove })).valid, false)
    // The same fields with the caps in order pass: the signature and encoding above are right.
    const fieldsOk = [CHAIN_ID, 2n, 10n ** 9n, 10n ** 9n, 21_000n, hexToBytes(dev0), 0n, new Uint8Array(), []] as const
    const sigOk = await sign({
      hash: hex(keccak256(new Uint8Array([2, ...RLP.encode(fieldsOk as never)]))),
      privateKey: devAccounts[2]!.privateKey,
    })
    const rawOk = hex(
      new Uint8Array([2, ...RLP.encode([...fieldsOk, BigInt(sigOk.yParity!), BigInt(sigOk.r), BigInt(sigOk.s)] as never)]),
    )
    assert.equal(
      (await execute((await buildContractStepProof(walked.ctx, hexToBytes(rawOk), walked.cumulative)).input)).valid,
      true,
    )
    // Signed for another chain: no sender here.
    const otherChain = await signTransaction({
      privateKey: devAccounts[2]!.privateKey,
      transaction: { chainId: 1, nonce: 2, to: dev0, gas: 21_000n, maxFeePerGas: 10n ** 9n, maxPriorityFeePerGas: 1n },
    })
    assert.equal((await execute({ ...ok.input, rawTx: otherChain })).valid, false)
  })

  it('reverts on a witness missing a node, a code that does not match its hash; a node set of another state cannot pass', async () => {
    const at = items.findIndex((i) => i.kind === 'swap')
    const input = walked.proofs[at]!
    // Every node of the witness is needed: dropping any one reverts.
    for (let k = 0; k < input.nodes.length; k += Math.max(1, Math.floor(input.nodes.length / 8))) {
      const nodes = input.nodes.filter((_, j) => j !== k)
      assert.equal(await reverts({ ...input, nodes }), 'PartialTrie_MissingNode', `node ${k} dropped`)
    }
    // A contract's code changed by one byte.
    const c = input.accounts.findIndex((a) => a.code.length > 2)
    const accounts = input.accounts.map((a, j) =>
      j === c ? { ...a, code: `${a.code.slice(0, -2)}${a.code.endsWith('00') ? '01' : '00'}` as Hex } : a,
    )
    assert.equal(await reverts({ ...input, accounts }), 'BadCode')
    // An account's code given where the state has none.
    const e = input.accounts.findIndex((a) => a.code === '0x')
    assert.equal(
      await reverts({ ...input, accounts: input.accounts.map((a, j) => (j === e ? { ...a, code: '0x00' } : a)) }),
      'BadCode',
    )
    // The node set of another state (the block after the swap's neighbours ran, where the slot values differ): the
    // pre-state root does not reach them, or the result is not the leaf.
    for (const other of [walked.proofs[at - 1]!, walked.proofs[at + 1]!]) {
      let passed = false
      try {
        const out = await execute({ ...input, nodes: other.nodes })
        passed = out.valid && out.postRoot === walked.proofs[at + 1]!.preRoot
      } catch {
        passed = false
      }
      assert.equal(passed, false)
    }
    // With the other state's root too, the step executes that state, not the claimed one: a different post root.
    const forged = await execute({
      ...input,
      preRoot: walked.proofs[at + 1]!.preRoot,
      nodes: walked.proofs[at + 1]!.nodes,
    }).catch(() => undefined)
    assert.ok(forged === undefined || forged.postRoot !== walked.proofs[at + 1]!.preRoot)
    // The honest input still passes.
    assert.equal((await execute(input)).postRoot, walked.proofs[at + 1]!.preRoot)
  })
})

/**
 * The reference harness's seeded random programs (test/helpers/evm-workloads.ts: calls of every kind, CREATE/CREATE2,
 * SELFDESTRUCT, storage, logs, memory, faults), each run as a real signed transaction over a state holding the
 * case's accounts (the caller a dev account) and EIP-2935's ring for the 256 blocks before: `execute` returns the
 * state root, gas and receipt of the node's executor.
 */
describe('ContractTxStep: random programs as transactions', () => {
  const NUMBER = 300n
  const history = '0x0000f90827f1c53a10cb7a02335b175320002935' as Hex
  const blockHashOf = (n: bigint) => keccak256(new TextEncoder().encode(`contract-tx-step block ${n}`))

  it('matches the executor on seeded random programs (SEED, COUNT: 1818, 24)', async () => {
    const sender = devAccounts[0]!
    const cases = randomProgramCases(Number(process.env.SEED ?? 1818), Number(process.env.COUNT ?? 24))
    let compared = 0
    // Each case as a signed transaction, and as a deposit (mint, gas price zero, no fees, no signature).
    for (const [c, asDeposit] of cases.flatMap((c) => [[c, false] as const, [c, true] as const])) {
      const entries = c.pre.map((p) => {
        const address = (p.address.toLowerCase() === ALICE.toLowerCase() ? sender.address : p.address).toLowerCase() as Hex
        const code = hexToBytes(p.code ?? '0x')
        return {
          address: hexToBytes(address),
          account: { nonce: p.nonce ?? 0n, balance: p.balance ?? 0n, codeHash: keccak256(code) },
          storage: Object.entries(p.storage ?? {})
            .filter(([, v]) => BigInt(v) !== 0n)
            .map(([k, v]) => [hexToBytes(k as Hex), hexToBytes(toMinimal(BigInt(v)))] as [Uint8Array, Uint8Array]),
          code,
        }
      })
      const ring: [Uint8Array, Uint8Array][] = []
      for (let n = NUMBER - 256n; n < NUMBER; n++) ring.push([hexToBytes(word(n % 8191n)), blockHashOf(n)])
      entries.push({
        address: hexToBytes(history),
        account: { nonce: 1n, balance: 0n, codeHash: keccak256(new Uint8Array([0x00])) },
        storage: ring,
        code: new Uint8Array([0x00]),
      })
      const trie = StateTrie.fromAccounts(entries)
      const nodes = new Map<Hex, Uint8Array>()
      for (const [h, rlp] of trie.commit()) nodes.set(hex(h), rlp)
      const codes = new Map<Hex, Uint8Array>(entries.map((e) => [hex(e.account.codeHash), e.code]))
      const env = {
        number: NUMBER,
        timestamp: 1_765_000_000n,
        coinbase: '0xc0ffee000000000000000000000000000000c0de' as Hex,
        baseFeePerGas: 7n,
        gasLimit: 30_000_000n,
        prevRandao: keccak256(new TextEncoder().encode('randao')),
        excessBlobGas: 0n,
        parentBeaconBlockRoot: new Uint8Array(32),
      }
      const ctx: ContractStepContext = {
        common: traceCommon,
        trie,
        nodes: { get: (h) => nodes.get(hex(h)) },
        codes,
        env,
        blockHash: async (n) => (n < NUMBER && n + 256n >= NUMBER ? blockHashOf(n) : undefined),
      }
      const aliceNonce = c.pre.find((p) => p.address.toLowerCase() === ALICE.toLowerCase())?.nonce ?? 0n
      const m = c.message
      const signedRaw = async () =>
        signTransaction({
          privateKey: sender.privateKey,
          transaction: {
            type: 'eip1559',
            chainId: Number(CHAIN_ID),
            nonce: Number(aliceNonce),
            to: m.to,
            value: m.value ?? 0n,
            data: m.data,
            gas: (m.gas ?? 1_000_000n) + 200_000n,
            maxFeePerGas: 100n,
            maxPriorityFeePerGas: 3n,
            accessList: m.accessList ?? [],
          },
        })
      const deposit = () =>
        DepositTx.fromFields({
          sourceHash: hex(keccak256(new TextEncoder().encode(c.name))),
          from: sender.address as Hex,
          to: m.to ?? null,
          mint: 1_000n,
          value: m.value ?? 0n,
          gas: (m.gas ?? 1_000_000n) + 200_000n,
          isSystemTx: false,
          data: m.data ?? '0x',
        }).serialize()
      const raw = asDeposit ? hex(deposit()) : await signedRaw()
      const proof = await buildContractStepProof(ctx, hexToBytes(raw), 0n)
      assert.ok(proof.receipt !== undefined && proof.diff !== undefined, `${c.name}: the executor refused it`)
      const name = `${c.name}${asDeposit ? ' as a deposit' : ''}`
      const out = await execute(proof.input)
      trie.applyDiff(proof.diff)
      assert.equal(out.valid, true, name)
      assert.equal(out.postRoot, hex(trie.root()), `${name}: post-state root`)
      assert.equal(out.gasUsed, proof.receipt.gasUsed, `${name}: gas`)
      assert.equal(out.receipt, hex(encodeConsensusReceipt(proof.receipt)), `${name}: receipt`)
      compared++
    }
    assert.equal(compared, 2 * cases.length)
    console.log(`random programs compared: ${compared}`)
  })
})

describe('ContractTxStep: EIP-3607', () => {
  it('finds a sender with code invalid, unless the code is an EIP-7702 delegation', async () => {
    const sender = devAccounts[0]!
    for (const [code, valid] of [
      ['0x6000', false],
      [`0xef0100${'11'.repeat(20)}`, true],
      ['0xef01', false],
    ] as const) {
      const bytes = hexToBytes(code)
      const trie = StateTrie.fromAccounts([
        {
          address: hexToBytes(sender.address as Hex),
          account: { nonce: 0n, balance: ETH, codeHash: keccak256(bytes) },
          storage: [],
        },
      ])
      const nodes = new Map<Hex, Uint8Array>()
      for (const [h, rlp] of trie.commit()) nodes.set(hex(h), rlp)
      const ctx: ContractStepContext = {
        common: traceCommon,
        trie,
        nodes: { get: (h) => nodes.get(hex(h)) },
        codes: new Map([[hex(keccak256(bytes)), bytes]]),
        env: {
          number: 5n,
          timestamp: 1_765_000_000n,
          coinbase: '0xc0ffee000000000000000000000000000000c0de',
          baseFeePerGas: 7n,
          gasLimit: 30_000_000n,
          prevRandao: new Uint8Array(32),
          excessBlobGas: 0n,
          parentBeaconBlockRoot: new Uint8Array(32),
        },
        blockHash: async () => undefined,
      }
      const raw = await signTransaction({
        privateKey: sender.privateKey,
        transaction: {
          chainId: Number(CHAIN_ID),
          nonce: 0,
          to: freshAddress('a', 1),
          value: 1n,
          gas: 21_000n,
          maxFeePerGas: 100n,
          maxPriorityFeePerGas: 1n,
        },
      })
      const proof = await buildContractStepProof(ctx, hexToBytes(raw), 0n)
      assert.equal(proof.receipt !== undefined, valid, `${code}: the executor`)
      const out = await execute(proof.input)
      assert.equal(out.valid, valid, code)
      if (valid) {
        trie.applyDiff(proof.diff!)
        assert.equal(out.postRoot, hex(trie.root()))
      }
    }
  })
})

function word(n: bigint): Hex {
  return `0x${n.toString(16).padStart(64, '0')}` as Hex
}

function toMinimal(n: bigint): Hex {
  const h = n.toString(16)
  return `0x${h.length % 2 === 1 ? `0${h}` : h}` as Hex
}
