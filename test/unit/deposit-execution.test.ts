/**
 * OP deposits (type 0x7E) through execution: the mint, the nonce, gas price 0 (no fee anywhere), the
 * receipt (status, gas, logs, depositNonce), consensus-invalid deposits (included, status 0, whole gas
 * limit, only mint and nonce kept), creations, the sequential and parallel executors agreeing on a
 * block that mixes deposits with ordinary transactions (whose senders only the deposits funded), and
 * the stateless verifier accepting such a block and refusing a tampered one.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createBlockHeader, type BlockHeader } from '@ethereumjs/block'
import { createFeeMarket1559Tx, type TypedTransaction } from '@ethereumjs/tx'
import { KECCAK256_NULL, bigIntToBytes, bytesToHex, hexToBytes } from '@ethereumjs/util'
import { encodeFunctionData, getContractAddress, type Abi } from 'viem'
import { createChainCommon } from '../../src/chain/config.ts'
import { DEPOSIT_TX_TYPE, encodeDepositTx, userDepositSourceHash, type DepositTransaction } from '../../src/chain/deposit-tx.ts'
import { DepositTx, type L2Transaction } from '../../src/chain/l2-transaction.ts'
import { encodeConsensusReceipt, type TxReceipt } from '../../src/chain/receipt.ts'
import { orBlooms } from '../../src/chain/header.ts'
import { keccak256, privateKeyToAddress } from '../../src/crypto/native.ts'
import type { BlockEnv } from '../../src/execution/block-env.ts'
import { blockEnvFromHeader, executeBlockBody, InvalidBlockTransactionError } from '../../src/execution/block-execution.ts'
import { depositIntrinsicGas } from '../../src/execution/deposit.ts'
import { SequentialExecutor, type BlockCursor, type TxOutcome } from '../../src/execution/executor.ts'
import {
  ExecWorkerPool,
  ParallelExecutor,
  SequentialMiniBlockExecutor,
  type BatchTx,
  type MiniBlockExecutor,
} from '../../src/execution/parallel/index.ts'
import { encodeRlp } from '../../src/primitives/rlp-fields.ts'
import type { Hex, StateDiff } from '../../src/primitives/state-diff.ts'
import { encodeStateDiff } from '../../src/primitives/state-diff-codec.ts'
import { decodeRawTransaction } from '../../src/sequencer/ingest/decode.ts'
import { FlatState } from '../../src/state/flat-state.ts'
import { trieEntries } from '../../src/state/trie-entries.ts'
import { BlockVerificationError, verifyBlock } from '../../src/stateless/index.ts'
import { StateTrie } from '../../src/trie/index.ts'
import { orderedTrieRoot } from '../../src/trie/ordered-trie.ts'
import { TrieNodeCollector } from '../../src/trie/witness-builder.ts'
import { contract } from '../helpers/contracts.ts'

const CHAIN_ID = 6342n
const common = createChainCommon({ chainId: CHAIN_ID, name: 'deposit-test' })
const BASE_FEE = 1_000_000_000n
const ETH = 10n ** 18n
const COINBASE = '0x00000000000000000000000000000000000c0b1e' as Hex
const COUNTER = '0x000000000000000000000000000000000000c001' as Hex
const REVERTER = '0x000000000000000000000000000000000000c002' as Hex
const L1_BLOCK = `0x${'ab'.repeat(32)}` as Hex

const counterAbi = (): Abi => contract('Counter').abi
const reverterAbi = (): Abi => contract('Reverter').abi
const INCREMENT = (): Hex => encodeFunctionData({ abi: counterAbi(), functionName: 'increment' })
const REVERT = (): Hex => encodeFunctionData({ abi: reverterAbi(), functionName: 'revertWithReason' })

const addr = (n: number): Hex => `0x${n.toString(16).padStart(40, '0')}` as Hex
let logIndex = 0
function deposit(fields: Partial<DepositTransaction> & Pick<DepositTransaction, 'from'>): DepositTransaction {
  return {
    sourceHash: userDepositSourceHash(L1_BLOCK, logIndex++),
    to: null,
    mint: 0n,
    value: 0n,
    gas: 200_000n,
    isSystemTx: false,
    data: '0x',
    ...fields,
  }
}

function putContract(state: FlatState, address: Hex, code: Hex, balance = 0n): void {
  const bytes = hexToBytes(code)
  const codeHash = keccak256(bytes)
  state.codes.set(bytesToHex(codeHash) as Hex, bytes)
  state.accounts.set(address, { nonce: 1n, balance, codeHash })
}

/** A funded EOA for the ordinary-transaction references, and the two contracts. */
const FUNDED_KEY = keccak256(new TextEncoder().encode('deposit-test funded'))
const FUNDED = bytesToHex(privateKeyToAddress(FUNDED_KEY)).toLowerCase() as Hex
function world(): FlatState {
  const state = new FlatState()
  putContract(state, COUNTER, contract('Counter').deployedBytecode)
  putContract(state, REVERTER, contract('Reverter').deployedBytecode, 7n)
  state.accounts.set(FUNDED, { nonce: 0n, balance: 100n * ETH, codeHash: KECCAK256_NULL })
  state.accounts.set(addr(0xf5), { nonce: 5n, balance: 0n, codeHash: KECCAK256_NULL })
  return state
}

const ENV: BlockEnv = {
  number: 7n,
  timestamp: 1_700_000_007n,
  coinbase: COINBASE,
  baseFeePerGas: BASE_FEE,
  gasLimit: 30_000_000n,
  prevRandao: new Uint8Array(32).fill(3),
  excessBlobGas: 0n,
  parentBeaconBlockRoot: new Uint8Array(32),
}
const blockHash = async (n: bigint): Promise<Uint8Array> => keccak256(bigIntToBytes(n + 1n))
const newCursor = (): BlockCursor => ({ gasUsed: 0n, txIndex: 0, logIndex: 0, miniBlockNumber: 0n })

/** Runs `deposits` then `txs` in one block on a fresh sequential executor over `state`. */
async function run(
  state: FlatState,
  deposits: DepositTransaction[],
  txs: TypedTransaction[] = [],
): Promise<{ receipts: TxReceipt[]; outcomes: Array<TxOutcome | undefined>; diff: StateDiff; cursor: BlockCursor }> {
  const executor = new SequentialMiniBlockExecutor(await SequentialExecutor.create(common, state, blockHash))
  const cursor = newCursor()
  executor.setBlockEnv(ENV)
  await executor.applySystemCalls(ENV)
  const receipts = await executor.applyDeposits(deposits, cursor)
  const outcomes = await executor.executeBatch(
    txs.map((tx) => ({ tx, sender: tx.getSenderAddress().toString() })),
    cursor,
  )
  return { receipts, outcomes, diff: executor.takeDiff(), cursor }
}

function signed(to: Hex | undefined, data: Hex, value = 0n, nonce = 0n, gasLimit = 200_000n): TypedTransaction {
  return createFeeMarket1559Tx(
    { chainId: CHAIN_ID, nonce, to, data, value, gasLimit, maxFeePerGas: BASE_FEE * 2n, maxPriorityFeePerGas: 0n },
    { common },
  ).sign(FUNDED_KEY)
}

const accountOf = (diff: StateDiff, address: Hex) => diff.accounts.get(address.toLowerCase() as Hex)?.account

before(() => {
  contract('Counter') // compile once
})

describe('deposit execution', () => {
  it('mints to a fresh account, bumps its nonce and pays no fee to anyone', async () => {
    const from = addr(0xa1)
    const d = deposit({ from, to: from, mint: 3n * ETH, gas: 100_000n })
    const { receipts, diff, cursor } = await run(world(), [d])
    const [r] = receipts
    assert.equal(r!.status, 1)
    assert.equal(r!.type, DEPOSIT_TX_TYPE)
    assert.equal(r!.gasUsed, 21_000n)
    assert.equal(r!.cumulativeGasUsed, 21_000n)
    assert.equal(cursor.gasUsed, 21_000n)
    assert.equal(r!.effectiveGasPrice, 0n)
    assert.equal(r!.depositNonce, 0n)
    assert.equal(r!.depositReceiptVersion, 1)
    assert.equal(r!.transactionHash, bytesToHex(keccak256(encodeDepositTx(d))))
    assert.deepEqual(accountOf(diff, from), { nonce: 1n, balance: 3n * ETH, codeHash: KECCAK256_NULL })
    assert.equal(diff.accounts.has(COINBASE), false, 'the fee recipient is not touched')
  })

  it('moves value to an EOA out of the minted funds', async () => {
    const from = addr(0xa2)
    const to = addr(0xb2)
    const { receipts, diff } = await run(world(), [deposit({ from, to, mint: 2n * ETH, value: ETH })])
    assert.equal(receipts[0]!.status, 1)
    assert.equal(accountOf(diff, to)?.balance, ETH)
    assert.deepEqual(accountOf(diff, from), { nonce: 1n, balance: ETH, codeHash: KECCAK256_NULL })
  })

  it('calls a contract that logs, with the gas an identical ordinary transaction uses, and numbers deposit nonces', async () => {
    const from = FUNDED
    const calls = [deposit({ from, to: COUNTER, data: INCREMENT() }), deposit({ from, to: COUNTER, data: INCREMENT() })]
    const { receipts, diff } = await run(world(), calls)
    const reference = await run(world(), [], [signed(COUNTER, INCREMENT(), 0n, 0n), signed(COUNTER, INCREMENT(), 0n, 1n)])
    for (const [i, r] of receipts.entries()) {
      const ordinary = reference.outcomes[i]
      assert.ok(ordinary?.ok)
      assert.equal(r.status, 1)
      assert.equal(r.depositNonce, BigInt(i))
      assert.equal(r.transactionIndex, i)
      assert.equal(r.logs.length, 1)
      assert.equal(r.logs[0]!.address, COUNTER)
      assert.deepEqual(r.logs, ordinary.receipt.logs)
      assert.deepEqual(r.logsBloom, ordinary.receipt.logsBloom)
      assert.equal(r.gasUsed, ordinary.receipt.gasUsed, 'same intrinsic gas, warm set and refunds as a normal transaction')
    }
    assert.equal(receipts[1]!.logIndexStart, 1)
    // No fee: the sender's balance is untouched; the ordinary sender paid.
    assert.equal(accountOf(diff, FUNDED)?.balance, 100n * ETH)
    assert.equal(accountOf(diff, FUNDED)?.nonce, 2n)
    assert.ok((accountOf(reference.diff, FUNDED)?.balance ?? 0n) < 100n * ETH)
  })

  it('a reverting deposit keeps only the mint and the nonce, and reports the gas it used', async () => {
    const from = addr(0xa4)
    const d = deposit({ from, to: REVERTER, mint: 2n * ETH, value: ETH, data: REVERT(), gas: 300_000n })
    const { receipts, diff } = await run(world(), [d])
    const r = receipts[0]!
    assert.equal(r.status, 0)
    assert.ok(r.gasUsed > depositIntrinsicGas(hexToBytes(REVERT()), false) && r.gasUsed < d.gas, `gas used ${r.gasUsed}`)
    assert.deepEqual(r.logs, [])
    assert.deepEqual(accountOf(diff, from), { nonce: 1n, balance: 2n * ETH, codeHash: KECCAK256_NULL })
    assert.equal(diff.accounts.has(REVERTER), false, 'the value transfer was undone')
    // The same revert as an ordinary transaction (no value: it would not change the gas) uses the same gas.
    const reference = await run(world(), [], [signed(REVERTER, REVERT(), ETH, 0n, 300_000n)])
    const ordinary = reference.outcomes[0]
    assert.ok(ordinary?.ok)
    assert.equal(ordinary.receipt.status, 0)
    assert.equal(r.gasUsed, ordinary.receipt.gasUsed)
  })

  it('a consensus-invalid deposit is included: status 0, its whole gas limit, mint and nonce kept', async () => {
    const from = addr(0xa5)
    const to = addr(0xb5)
    const overdrawn = deposit({ from, to, mint: ETH, value: 2n * ETH, gas: 90_000n })
    const underGassed = deposit({ from, to: COUNTER, data: INCREMENT(), gas: 21_000n })
    const system = deposit({ from, to, value: 1n, gas: 40_000n, isSystemTx: true }) // gone since Regolith
    const fine = deposit({ from, to, value: ETH / 2n, gas: 50_000n })
    const { receipts, diff, cursor } = await run(world(), [overdrawn, underGassed, system, fine])
    assert.deepEqual(
      receipts.map((r) => [r.status, r.gasUsed, r.depositNonce, r.cumulativeGasUsed]),
      [
        [0, 90_000n, 0n, 90_000n],
        [0, 21_000n, 1n, 111_000n],
        [0, 40_000n, 2n, 151_000n],
        [1, 21_000n, 3n, 172_000n],
      ],
    )
    assert.equal(cursor.gasUsed, 172_000n)
    assert.deepEqual(accountOf(diff, from), { nonce: 4n, balance: ETH / 2n, codeHash: KECCAK256_NULL })
    assert.equal(accountOf(diff, to)?.balance, ETH / 2n)
    assert.equal(diff.accounts.has(COUNTER), false)
  })

  it('a deposit over the block gas limit and the EIP-7825 cap is still executed', async () => {
    const from = addr(0xa6)
    const big = deposit({ from, to: from, gas: 40_000_000n })
    const { receipts } = await run(world(), [big])
    assert.equal(receipts[0]!.status, 1)
    assert.equal(receipts[0]!.gasUsed, 21_000n)
  })

  it('a creation deposit deploys at the address of its sender and deposit nonce', async () => {
    const from = addr(0xf5) // nonce 5 in the world
    const d = deposit({ from, data: contract('Counter').bytecode, gas: 1_000_000n })
    const { receipts, diff } = await run(world(), [d])
    const r = receipts[0]!
    const expected = getContractAddress({ from, nonce: 5n }).toLowerCase() as Hex
    assert.equal(r.status, 1)
    assert.equal(r.depositNonce, 5n)
    assert.equal(r.contractAddress, expected)
    assert.equal(r.to, null)
    const deployed = accountOf(diff, expected)
    assert.ok(deployed !== undefined && deployed !== null)
    assert.equal(bytesToHex(deployed.codeHash), bytesToHex(keccak256(hexToBytes(contract('Counter').deployedBytecode))))
    assert.equal(accountOf(diff, from)?.nonce, 6n)
  })
})

describe('deposits in the parallel executor', () => {
  let pool: ExecWorkerPool
  before(async () => {
    pool = await ExecWorkerPool.start(2, { kind: 'chain', chainId: CHAIN_ID, name: 'deposit-test' })
  })
  after(async () => {
    await pool.close()
  })

  it('produces the receipts and state diffs of the sequential executor for a block mixing deposits and transactions', async () => {
    // Senders that only the block's deposits fund: the workers must see the deposits' state.
    const keys = Array.from({ length: 8 }, (_, i) => keccak256(new TextEncoder().encode(`deposit-test sender ${i}`)))
    const senders = keys.map((k) => bytesToHex(privateKeyToAddress(k)).toLowerCase() as Hex)
    const deposits = [
      ...senders.map((from) => deposit({ from, to: from, mint: ETH })),
      deposit({ from: addr(0xd1), to: COUNTER, data: INCREMENT(), mint: ETH }),
      deposit({ from: addr(0xd2), to: REVERTER, data: REVERT(), value: 1n, mint: 1n }),
      deposit({ from: addr(0xd3), data: contract('Counter').bytecode, gas: 1_000_000n }),
      deposit({ from: addr(0xd4), to: addr(0xd5), value: 5n * ETH, mint: ETH }),
    ]
    const raws = senders.flatMap((_, i) => {
      const tx = (nonce: bigint, to: Hex, data: Hex, value = 0n) =>
        createFeeMarket1559Tx(
          {
            chainId: CHAIN_ID,
            nonce,
            to,
            data,
            value,
            gasLimit: 200_000n,
            maxFeePerGas: BASE_FEE * 2n,
            maxPriorityFeePerGas: 3n,
          },
          { common },
        )
          .sign(keys[i]!)
          .serialize()
      // The first deposit of each sender bumped its nonce to 1.
      return [tx(1n, COUNTER, INCREMENT()), tx(2n, addr(0xe0 + i), '0x', 1000n)]
    })
    const batch: BatchTx[] = raws.map((raw) => decodeRawTransaction(raw, common, { blockGasLimit: ENV.gasLimit }))
    const results: string[] = []
    for (const make of [
      (seq: SequentialExecutor) => new SequentialMiniBlockExecutor(seq),
      (seq: SequentialExecutor, state: FlatState) =>
        new ParallelExecutor(pool, seq, state, { workers: 2, cores: 64, minParallelTxs: 2, maxReexecutionRate: 2 }),
    ] as Array<(seq: SequentialExecutor, state: FlatState) => MiniBlockExecutor>) {
      const state = world()
      const executor = make(await SequentialExecutor.create(common, state, blockHash), state)
      await executor.prepare()
      const cursor = newCursor()
      executor.setBlockEnv(ENV)
      await executor.applySystemCalls(ENV)
      const receipts = await executor.applyDeposits(deposits, cursor)
      const outcomes = await executor.executeBatch(batch, cursor)
      assert.ok(
        outcomes.every((o) => o?.ok === true),
        `${executor.mode}: every ordinary transaction is included`,
      )
      const diff = executor.takeDiff()
      if (executor instanceof ParallelExecutor) assert.ok(executor.stats().workerTxs > 0, 'the workers executed transactions')
      results.push(
        JSON.stringify({ receipts, outcomes, diff: bytesToHex(encodeRlp(encodeStateDiff(diff))) }, (_, v) =>
          typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? bytesToHex(v) : v,
        ),
      )
      await executor.close()
    }
    assert.equal(results[1], results[0])
  })
})

describe('blocks with deposits: executeBlockBody and the stateless verifier', () => {
  const parent = createBlockHeader(
    {
      number: ENV.number - 1n,
      timestamp: ENV.timestamp - 1n,
      gasLimit: ENV.gasLimit,
      baseFeePerGas: BASE_FEE,
      stateRoot: StateTrie.fromAccounts(trieEntries(world())).root(),
    },
    { common },
  )
  const headerFields = {
    number: ENV.number,
    parentHash: parent.hash(),
    timestamp: ENV.timestamp,
    gasLimit: ENV.gasLimit,
    baseFeePerGas: BASE_FEE,
    coinbase: hexToBytes(COINBASE),
    mixHash: ENV.prevRandao,
    parentBeaconBlockRoot: ENV.parentBeaconBlockRoot,
  }
  const lookup = async (n: bigint): Promise<Uint8Array | undefined> => (n === parent.number ? parent.hash() : undefined)

  const body = (): L2Transaction[] => [
    DepositTx.fromFields(deposit({ from: addr(0xc1), to: COUNTER, data: INCREMENT(), mint: ETH })),
    DepositTx.fromFields(deposit({ from: addr(0xc2), to: addr(0xc3), mint: 2n * ETH, value: ETH })),
    signed(COUNTER, INCREMENT(), 0n, 0n),
  ]

  /** The header the body's execution on `world()` gives, and a witness holding every node of the pre-state. */
  async function sealed(txs: L2Transaction[]): Promise<{ header: BlockHeader; witness: Parameters<typeof verifyBlock>[1] }> {
    const pre = world()
    const executor = new SequentialMiniBlockExecutor(await SequentialExecutor.create(common, pre, lookup))
    const env = blockEnvFromHeader(createBlockHeader(headerFields, { common }))
    const executed = await executeBlockBody(executor, env, txs)
    const collector = new TrieNodeCollector()
    const trie = StateTrie.fromAccounts(trieEntries(pre), { onNodeRead: collector.onNodeRead })
    trie.root()
    collector.begin()
    for (const { address, storage } of pre.entries()) {
      trie.account(hexToBytes(address))
      for (const slot of storage.keys()) trie.storageValue(hexToBytes(address), hexToBytes(slot))
    }
    const nodes = collector.end()
    const header = createBlockHeader(
      {
        ...headerFields,
        stateRoot: trie.applyDiff(executed.diff),
        transactionsTrie: orderedTrieRoot(txs.map((tx) => tx.serialize())),
        receiptTrie: orderedTrieRoot(executed.receipts.map(encodeConsensusReceipt)),
        logsBloom: orBlooms(executed.receipts.map((r) => r.logsBloom)),
        gasUsed: executed.gasUsed,
      },
      { common },
    )
    return { header, witness: { state: nodes, codes: [...pre.codes.values()], keys: [], headers: [parent.serialize()] } }
  }

  it('verifies a block whose body opens with deposits', async () => {
    const txs = body()
    const { header, witness } = await sealed(txs)
    const verified = await verifyBlock({ header, transactions: txs.map((tx) => tx.serialize()) }, witness, { common })
    assert.deepEqual(
      verified.receipts.map((r) => [r.type, r.depositNonce]),
      [
        [DEPOSIT_TX_TYPE, 0n],
        [DEPOSIT_TX_TYPE, 0n],
        [2, undefined],
      ],
    )
    assert.equal(verified.receipts[2]!.cumulativeGasUsed, header.gasUsed)
  })

  it('refuses the block when a deposit was tampered with (another mint)', async () => {
    const txs = body()
    const { header, witness } = await sealed(txs)
    const tampered = [...txs]
    const first = txs[0] as DepositTx
    tampered[0] = DepositTx.fromFields({ ...first.fields, mint: first.fields.mint + 1n })
    const raws = tampered.map((tx) => tx.serialize())
    // Same header but for the transactions root, so execution (not the root check) must catch it.
    const forged = createBlockHeader({ ...header.toJSON(), transactionsTrie: orderedTrieRoot(raws) }, { common })
    await assert.rejects(
      verifyBlock({ header: forged, transactions: raws }, witness, { common }),
      (e: unknown) => e instanceof BlockVerificationError && e.code === 'STATE_ROOT_MISMATCH',
    )
  })

  it('refuses a deposit after an ordinary transaction', async () => {
    const [d1, d2, tx] = body()
    const executor = new SequentialMiniBlockExecutor(await SequentialExecutor.create(common, world(), lookup))
    await assert.rejects(
      executeBlockBody(executor, ENV, [d1!, tx!, d2!]),
      (e: unknown) => e instanceof InvalidBlockTransactionError && /tx 2 invalid: deposit after a non-deposit/.test(e.message),
    )
  })
})
