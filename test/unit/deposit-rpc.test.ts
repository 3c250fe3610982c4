/**
 * Deposits as clients see them: our JSON-RPC transaction and receipt shapes parsed by viem's OP Stack
 * formatters, hashes equal to viem's `getL2TransactionHash(es)` of the L1 logs, the deposit receipt's
 * consensus and storage encodings, and the refusal of a 0x7E payload submitted like a user transaction.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { RLP } from '@ethereumjs/rlp'
import { bigIntToUnpaddedBytes, bytesToHex, hexToBytes } from '@ethereumjs/util'
import { encodeAbiParameters, getContractAddress } from 'viem'
import { chainConfig, getL2TransactionHash, getL2TransactionHashes } from 'viem/op-stack'
import type { SealedBlock } from '../../src/chain/block.ts'
import { createChainCommon } from '../../src/chain/config.ts'
import { depositFromLog, encodeOpaqueData, TRANSACTION_DEPOSITED_TOPIC } from '../../src/chain/deposit-log.ts'
import { DEPOSIT_TX_TYPE } from '../../src/chain/deposit-tx.ts'
import { decodeL2Transaction, DepositTx, isDepositTx } from '../../src/chain/l2-transaction.ts'
import { decodeReceipt, encodeConsensusReceipt, encodeReceipt, type TxReceipt } from '../../src/chain/receipt.ts'
import type { BlockEnv } from '../../src/execution/block-env.ts'
import { SequentialExecutor } from '../../src/execution/executor.ts'
import { decodeValidatedL2Tx, fastTxOptions } from '../../src/execution/validated-tx.ts'
import { encodeRlp, decodeRlp } from '../../src/primitives/rlp-fields.ts'
import type { Hex } from '../../src/primitives/state-diff.ts'
import { rewardPercentiles } from '../../src/rpc/eth/fee-methods.ts'
import { formatReceipt, formatTransaction, placementOf } from '../../src/rpc/eth/format.ts'
import { decodeRawTransaction } from '../../src/sequencer/ingest/decode.ts'
import { isTxRejectedError, txRejectionToJsonRpc } from '../../src/sequencer/ingest/errors.ts'
import { FlatState } from '../../src/state/flat-state.ts'

const common = createChainCommon({ chainId: 6342n, name: 'deposit-rpc-test' })
const L1_BLOCK_HASH = `0x${'5a'.repeat(32)}` as Hex
const BLOCK_HASH = `0x${'b1'.repeat(32)}` as Hex
const PORTAL = '0x00000000000000000000000000000000000b0a7a' as Hex
const pad = (address: Hex): Hex => `0x${address.slice(2).padStart(64, '0')}`

/** A portal `TransactionDeposited` log, as viem's `Log` (with its decoded args, which getL2TransactionHash reads). */
function portalLog(
  from: Hex,
  to: Hex,
  d: { mint: bigint; value: bigint; gas: bigint; isCreation: boolean; data: Hex },
  logIndex: number,
) {
  const opaqueData = bytesToHex(encodeOpaqueData(d)) as Hex
  return {
    address: PORTAL,
    topics: [TRANSACTION_DEPOSITED_TOPIC, pad(from), pad(to), `0x${'0'.repeat(64)}`] as [Hex, ...Hex[]],
    data: encodeAbiParameters([{ type: 'bytes' }], [opaqueData]) as Hex,
    blockHash: L1_BLOCK_HASH,
    blockNumber: 100n,
    logIndex,
    transactionHash: `0x${'77'.repeat(32)}` as Hex,
    transactionIndex: 0,
    removed: false,
    args: { from, to, version: 0n, opaqueData },
    eventName: 'TransactionDeposited' as const,
  }
}

const FROM = '0x00000000000000000000000000000000000a11ce' as Hex
const TO = '0x000000000000000000000000000000000000b0b0' as Hex
/** The three kinds: a call with mint and value, a creation, a consensus-invalid one (value over balance). */
const LOGS = [
  portalLog(FROM, TO, { mint: 10n ** 18n, value: 10n ** 17n, gas: 100_000n, isCreation: false, data: '0x' }, 3),
  portalLog(FROM, `0x${'0'.repeat(40)}`, { mint: 0n, value: 0n, gas: 200_000n, isCreation: true, data: '0x60006000f3' }, 4),
  portalLog(FROM, TO, { mint: 5n, value: 10n ** 20n, gas: 60_000n, isCreation: false, data: '0xdeadbeef' }, 9),
]

const ENV: BlockEnv = {
  number: 3n,
  timestamp: 1_700_000_003n,
  coinbase: '0x00000000000000000000000000000000000c0b1e',
  baseFeePerGas: 7n,
  gasLimit: 30_000_000n,
  prevRandao: new Uint8Array(32),
  excessBlobGas: 0n,
  parentBeaconBlockRoot: new Uint8Array(32),
}

async function executed(): Promise<{ txs: DepositTx[]; receipts: TxReceipt[] }> {
  const deposits = LOGS.map((log) => depositFromLog(log))
  const executor = await SequentialExecutor.create(common, new FlatState(), async () => new Uint8Array(32))
  executor.setBlockEnv(ENV)
  const cursor = { gasUsed: 0n, txIndex: 0, logIndex: 0, miniBlockNumber: 4n }
  const receipts: TxReceipt[] = []
  for (const d of deposits) receipts.push(await executor.applyDeposit(d, cursor))
  return { txs: deposits.map((d) => DepositTx.fromFields(d)), receipts }
}

test('deposit transactions and receipts keep their OP fields through viem op-stack formatters, with viem hashes', async () => {
  const { txs, receipts } = await executed()
  assert.deepEqual(
    receipts.map((r) => [r.status, r.depositNonce]),
    [
      [1, 0n],
      [1, 1n],
      [0, 2n],
    ],
  )
  const l2Hashes = getL2TransactionHashes({ logs: LOGS } as unknown as Parameters<typeof getL2TransactionHashes>[0])
  assert.deepEqual(
    txs.map((tx) => tx.hashHex()),
    l2Hashes,
  )
  for (const [i, tx] of txs.entries()) {
    const receipt = receipts[i]!
    const log = LOGS[i]!
    const viemHash = getL2TransactionHash({ log } as unknown as Parameters<typeof getL2TransactionHash>[0])
    assert.equal(tx.hashHex(), viemHash)
    assert.equal(receipt.transactionHash, viemHash)

    const json = formatTransaction(tx, placementOf(receipt, BLOCK_HASH))
    assert.equal(json.type, '0x7e')
    assert.equal(json.gasPrice, '0x0')
    assert.equal(json.v, '0x0')
    assert.equal('chainId' in json, false)
    const parsed = chainConfig.formatters.transaction.format(json as never) as unknown as Record<string, unknown>
    assert.equal(parsed.type, 'deposit')
    assert.equal(parsed.hash, viemHash)
    assert.equal(parsed.sourceHash, tx.fields.sourceHash)
    assert.equal(parsed.mint, tx.fields.mint)
    assert.equal(parsed.isSystemTx, false)
    assert.equal(parsed.nonce, Number(receipt.depositNonce))
    assert.equal(parsed.from, FROM)
    assert.equal(parsed.to, tx.fields.to)
    assert.equal(parsed.value, tx.fields.value)
    assert.equal(parsed.gas, tx.fields.gas)
    assert.equal(parsed.input, tx.fields.data)
    assert.equal(parsed.gasPrice, 0n)
    assert.equal(parsed.blockHash, BLOCK_HASH)
    assert.equal(parsed.transactionIndex, i)

    const rjson = formatReceipt(receipt, BLOCK_HASH)
    assert.equal(rjson.type, '0x7e')
    assert.equal(rjson.effectiveGasPrice, '0x0')
    assert.equal(rjson.depositReceiptVersion, '0x1')
    const parsedReceipt = chainConfig.formatters.transactionReceipt.format(rjson as never) as unknown as Record<string, unknown>
    assert.equal(parsedReceipt.depositNonce, receipt.depositNonce)
    assert.equal(rjson.depositNonce, `0x${receipt.depositNonce!.toString(16)}`)
    assert.equal(parsedReceipt.depositReceiptVersion, 1)
    assert.equal(parsedReceipt.transactionHash, viemHash)
    assert.equal(parsedReceipt.effectiveGasPrice, 0n)
    assert.equal(parsedReceipt.status, receipt.status === 1 ? 'success' : 'reverted')
  }
  // The creation's receipt names the address derived from the sender and its deposit nonce.
  assert.equal(receipts[1]!.contractAddress, getContractAddress({ from: FROM, nonce: 1n }).toLowerCase())
  // A block with full transactions: viem's block formatter marks the deposits.
  const block = chainConfig.formatters.block.format({
    transactions: txs.map((tx, i) => formatTransaction(tx, placementOf(receipts[i]!, BLOCK_HASH))),
  } as never) as unknown as { transactions: Array<Record<string, unknown>> }
  assert.deepEqual(
    block.transactions.map((t) => [t.type, t.sourceHash, t.mint]),
    txs.map((tx) => ['deposit', tx.fields.sourceHash, tx.fields.mint]),
  )
})

test('deposit bodies decode to DepositTx, ordinary ones to ethereumjs transactions, on both decoders', async () => {
  const { txs } = await executed()
  const txOptions = fastTxOptions(common)
  for (const tx of txs) {
    for (const decoded of [decodeL2Transaction(tx.serialize(), txOptions), decodeValidatedL2Tx(tx.serialize(), txOptions)]) {
      assert.ok(isDepositTx(decoded))
      assert.deepEqual(decoded.fields, tx.fields)
      assert.equal(bytesToHex(decoded.hash()), tx.hashHex())
    }
  }
})

test("a deposit receipt's consensus encoding is 0x7E ‖ rlp([status, cumulativeGasUsed, bloom, logs, depositNonce, 1]); storage round-trips", async () => {
  const { receipts } = await executed()
  for (const r of receipts) {
    const expected = Uint8Array.of(
      DEPOSIT_TX_TYPE,
      ...RLP.encode([
        bigIntToUnpaddedBytes(BigInt(r.status)),
        bigIntToUnpaddedBytes(r.cumulativeGasUsed),
        r.logsBloom,
        r.logs.map((l) => [hexToBytes(l.address), l.topics.map((t) => hexToBytes(t)), hexToBytes(l.data)]),
        bigIntToUnpaddedBytes(r.depositNonce!),
        Uint8Array.of(1),
      ]),
    )
    assert.equal(bytesToHex(encodeConsensusReceipt(r)), bytesToHex(expected))
    const stored = encodeRlp(encodeReceipt(r))
    assert.deepEqual(decodeReceipt(decodeRlp(stored, 'receipt')), r)
  }
  // Without the deposit fields it is an ordinary receipt's encoding (what a bug dropping them would give).
  const plain = { ...receipts[0]!, depositNonce: undefined, depositReceiptVersion: undefined }
  assert.notEqual(bytesToHex(encodeConsensusReceipt(plain)), bytesToHex(encodeConsensusReceipt(receipts[0]!)))
})

test('eth_sendRawTransaction of a 0x7E payload is refused: deposits come from L1 only', async () => {
  const { txs } = await executed()
  assert.throws(
    () => decodeRawTransaction(txs[0]!.serialize(), common, { blockGasLimit: 30_000_000n }),
    (e: unknown) => {
      assert.ok(isTxRejectedError(e))
      assert.deepEqual(txRejectionToJsonRpc(e), { code: -32000, message: 'deposit transactions come from L1 only' })
      return true
    },
  )
})

test("eth_feeHistory counts a deposit's tip as 0 (op-geth), not as minus the base fee", async () => {
  const { receipts } = await executed()
  const baseFee = ENV.baseFeePerGas
  const ordinary: TxReceipt = { ...receipts[0]!, type: 2, effectiveGasPrice: baseFee + 5n, gasUsed: 21_000n }
  delete ordinary.depositNonce
  delete ordinary.depositReceiptVersion
  const all = [...receipts, ordinary]
  const block = {
    header: { baseFeePerGas: baseFee, gasUsed: all.reduce((sum, r) => sum + r.gasUsed, 0n) },
    receipts: all,
  } as unknown as SealedBlock
  assert.deepEqual(rewardPercentiles(block, [0, 100]), ['0x0', '0x5'])
})
