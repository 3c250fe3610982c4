import { createBlockHeaderFromRLP, type BlockHeader } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import type { TxOptions, TypedTransaction } from '@ethereumjs/tx'
import { bytesToHex, equalsBytes } from '@ethereumjs/util'
import { checkHeaderSequence, orBlooms } from '../chain/header.ts'
import { orderedTrieRoot } from '../trie/ordered-trie.ts'
import { encodeConsensusReceipt, type TxReceipt } from '../chain/receipt.ts'
import { decodeL2Transaction, isDepositTx, type L2Transaction } from '../chain/l2-transaction.ts'
import type { Hex, StateDiff } from '../primitives/state-diff.ts'
import { InvalidBlockTransactionError, blockEnvFromHeader, executeBlockBody } from '../execution/block-execution.ts'
import { keccak256 } from '../crypto/native.ts'
import { SequentialExecutor, type Withdrawal } from '../execution/executor.ts'
import { StateTrie } from '../trie/index.ts'
import { SequentialMiniBlockExecutor } from '../execution/parallel/index.ts'
import { fastTxOptions } from '../execution/validated-tx.ts'
import { BlockVerificationError, witnessReadError } from './errors.ts'
import type { ExecutionWitness } from './witness.ts'
import { WitnessNodes } from './witness-nodes.ts'
import { WitnessState } from './witness-state.ts'

export interface BlockToVerify {
  header: BlockHeader
  /** Canonical transaction encodings, in block order. */
  transactions: readonly Uint8Array[]
  withdrawals?: readonly Withdrawal[]
}

export interface VerifyOptions {
  common: Common
  /** Header rules of the chain beyond Ethereum's checks done here, e.g. the L2's EIP-1559 parameters; returns a reason to reject. */
  checkHeader?: (header: BlockHeader, parent: BlockHeader) => string | undefined
  /** Transaction rules of the chain beyond what its Common decodes, e.g. no blob transactions on the L2; returns a reason to reject. */
  checkTransaction?: (tx: TypedTransaction) => string | undefined
}

export interface VerifiedBlock {
  number: bigint
  hash: Hex
  stateRoot: Hex
  receipts: TxReceipt[]
  /** What the block changed, as executed from the witness. */
  diff: StateDiff
}

/**
 * Verifies one block with nothing but its witness: the parent header (the last of the witness's
 * headers) gives the pre-state root; the witness's nodes form a partial trie under it (nodes are
 * found by hash, and every one must hash into the tree); the block is executed on it by the
 * sequencer's own execution code; and the results must reproduce the header's state root, receipts
 * root, logs bloom and gas used. Throws
 * `BlockVerificationError` with the first discrepancy; any other exception is a bug.
 */
export async function verifyBlock(
  block: BlockToVerify,
  witness: ExecutionWitness,
  options: VerifyOptions,
): Promise<VerifiedBlock> {
  const { header } = block
  const { common } = options
  const ancestors = decodeAncestors(witness.headers, common)
  const parent = ancestors[ancestors.length - 1]
  if (parent === undefined) throw new BlockVerificationError('WITNESS_MISSING_HEADER', 'witness holds no parent header')
  checkHeaderAgainstParent(header, parent, options)
  const transactionsRoot = orderedTrieRoot(block.transactions)
  if (!equalsBytes(transactionsRoot, header.transactionsTrie)) {
    throw new BlockVerificationError(
      'TRANSACTIONS_ROOT_MISMATCH',
      `block ${header.number}: transactions root ${bytesToHex(transactionsRoot)}, header says ${bytesToHex(header.transactionsTrie)}`,
    )
  }
  // One prepared Common for every transaction: ethereumjs' constructors otherwise copy it per transaction.
  const txOptions = fastTxOptions(common)
  const transactions = block.transactions.map((raw, i) => decodeTransaction(raw, i, txOptions, options))

  const nodes = new WitnessNodes(witness.state)
  const trie = new StateTrie({ open: { root: parent.stateRoot, source: nodes } })
  const codes = new Map<Hex, Uint8Array>(witness.codes.map((code) => [bytesToHex(keccak256(code)) as Hex, code]))
  const state = new WitnessState(trie, codes)
  const hashes = new Map<bigint, Uint8Array>(ancestors.map((h) => [h.number, h.hash()]))
  const blockHash = async (number: bigint): Promise<Uint8Array | undefined> => {
    const hash = hashes.get(number)
    if (hash === undefined)
      throw new BlockVerificationError(
        'WITNESS_MISSING_HEADER',
        `witness lacks the header of block ${number}, which BLOCKHASH reads`,
      )
    return hash
  }

  const executor = new SequentialMiniBlockExecutor(await SequentialExecutor.create(common, state, blockHash))
  let executed
  try {
    executed = await executeBlockBody(executor, blockEnvFromHeader(header), transactions, {
      withdrawals: block.withdrawals ?? [],
    })
  } catch (error) {
    // A witness failure can surface as a failed transaction or an exception: it is the cause either way.
    if (state.failure !== undefined) throw state.failure
    if (error instanceof InvalidBlockTransactionError)
      throw new BlockVerificationError('INVALID_TRANSACTION', `block ${header.number}: ${error.message}`)
    throw error
  } finally {
    await executor.close()
  }
  if (state.failure !== undefined) throw state.failure

  let stateRoot: Uint8Array
  try {
    stateRoot = trie.applyDiff(executed.diff)
  } catch (error) {
    throw witnessReadError(error, `compute block ${header.number}'s state root`)
  }
  compareResults(header, stateRoot, executed.receipts, executed.gasUsed)
  // Last: a node the block needed but the witness lacks is the more useful report, and a node that
  // hashes into nothing was never read by execution anyway.
  nodes.assertAllReachable(parent.stateRoot)
  return {
    number: header.number,
    hash: bytesToHex(header.hash()) as Hex,
    stateRoot: bytesToHex(stateRoot) as Hex,
    receipts: executed.receipts,
    diff: executed.diff,
  }
}

/** The witness's headers, checked to form a hash chain (oldest first). */
function decodeAncestors(encoded: readonly Uint8Array[], common: Common): BlockHeader[] {
  const headers = encoded.map((rlp, i) => {
    try {
      return createBlockHeaderFromRLP(rlp, { common, skipConsensusFormatValidation: true, setHardfork: true })
    } catch (error) {
      throw new BlockVerificationError(
        'WITNESS_MALFORMED',
        `witness header ${i} does not decode: ${error instanceof Error ? error.message : String(error)}`,
      )
    }
  })
  for (let i = 1; i < headers.length; i++) {
    if (!equalsBytes(headers[i]!.parentHash, headers[i - 1]!.hash())) {
      throw new BlockVerificationError(
        'WITNESS_MALFORMED',
        `witness header of block ${headers[i]!.number} does not follow the one before it`,
      )
    }
  }
  return headers
}

function checkHeaderAgainstParent(header: BlockHeader, parent: BlockHeader, options: VerifyOptions): void {
  if (!equalsBytes(header.parentHash, parent.hash())) {
    throw new BlockVerificationError(
      'BAD_PARENT',
      `block ${header.number}'s parent is ${bytesToHex(header.parentHash)}, the witness ends at ${bytesToHex(parent.hash())}`,
    )
  }
  const bad = (reason: string): never => {
    throw new BlockVerificationError('BAD_HEADER', `block ${header.number}: ${reason}`)
  }
  const reason = checkHeaderSequence(header, parent) ?? options.checkHeader?.(header, parent)
  if (reason !== undefined) bad(reason)
}

/** One transaction of the body: an OP deposit (0x7E) or a typed transaction the chain's rules accept. */
function decodeTransaction(raw: Uint8Array, index: number, txOptions: TxOptions, options: VerifyOptions): L2Transaction {
  let tx: L2Transaction
  try {
    tx = decodeL2Transaction(raw, txOptions)
  } catch (error) {
    throw new BlockVerificationError(
      'INVALID_TRANSACTION',
      `tx ${index} does not decode: ${error instanceof Error ? error.message : String(error)}`,
    )
  }
  if (isDepositTx(tx)) return tx
  const reason = options.checkTransaction?.(tx)
  if (reason !== undefined) throw new BlockVerificationError('INVALID_TRANSACTION', `tx ${index}: ${reason}`)
  return tx
}

function compareResults(header: BlockHeader, stateRoot: Uint8Array, receipts: TxReceipt[], gasUsed: bigint): void {
  const mismatch = executionMismatch(header, stateRoot, receipts, gasUsed)
  if (mismatch !== undefined) throw mismatch
}

/** The first way an execution's results (state root, receipts root, logs bloom, gas used) differ from `header`'s, or undefined. */
export function executionMismatch(
  header: BlockHeader,
  stateRoot: Uint8Array,
  receipts: readonly TxReceipt[],
  gasUsed: bigint,
): BlockVerificationError | undefined {
  const n = header.number
  if (!equalsBytes(stateRoot, header.stateRoot)) {
    return new BlockVerificationError(
      'STATE_ROOT_MISMATCH',
      `block ${n}: execution gives state root ${bytesToHex(stateRoot)}, header says ${bytesToHex(header.stateRoot)}`,
    )
  }
  const receiptsRoot = orderedTrieRoot(receipts.map(encodeConsensusReceipt))
  if (!equalsBytes(receiptsRoot, header.receiptTrie)) {
    return new BlockVerificationError(
      'RECEIPTS_ROOT_MISMATCH',
      `block ${n}: execution gives receipts root ${bytesToHex(receiptsRoot)}, header says ${bytesToHex(header.receiptTrie)}`,
    )
  }
  const bloom = orBlooms(receipts.map((r) => r.logsBloom))
  if (!equalsBytes(bloom, header.logsBloom))
    return new BlockVerificationError('LOGS_BLOOM_MISMATCH', `block ${n}: execution's logs bloom differs from the header's`)
  if (gasUsed !== header.gasUsed)
    return new BlockVerificationError(
      'GAS_USED_MISMATCH',
      `block ${n}: execution uses ${gasUsed} gas, header says ${header.gasUsed}`,
    )
  return undefined
}
