import type { Block, BlockHeader } from '@ethereumjs/block'
import type { TypedTransaction } from '@ethereumjs/tx'
import type { DepositTransaction } from '../chain/deposit-tx.ts'
import { isDepositTx, type L2Transaction } from '../chain/l2-transaction.ts'
import type { TxReceipt } from '../chain/receipt.ts'
import type { Hex, StateDiff } from '../primitives/state-diff.ts'
import type { BlockEnv } from './block-env.ts'
import type { BlockCursor, Withdrawal } from './executor.ts'
import { NodeError } from '../primitives/errors.ts'
import type { BatchTx, MiniBlockExecutor } from './parallel/index.ts'

/** A transaction of a block that cannot be included: the block is invalid. */
export class InvalidBlockTransactionError extends NodeError<'BLOCK_TX_INVALID', { index: number }> {
  override readonly name = 'InvalidBlockTransactionError'

  constructor(index: number, reason: string, options?: { cause?: unknown }) {
    super('BLOCK_TX_INVALID', `tx ${index} invalid: ${reason}`, { data: { index }, cause: options?.cause, severity: 'critical' })
  }
}

export interface ExecutedBlock {
  receipts: TxReceipt[]
  diff: StateDiff
  gasUsed: bigint
}

/** The execution context a header defines. */
export function blockEnvFromHeader(header: BlockHeader): BlockEnv {
  return {
    number: header.number,
    timestamp: header.timestamp,
    coinbase: header.coinbase.toString() as Hex,
    baseFeePerGas: header.baseFeePerGas ?? 0n,
    gasLimit: header.gasLimit,
    prevRandao: header.mixHash,
    excessBlobGas: header.excessBlobGas ?? 0n,
    parentBeaconBlockRoot: header.parentBeaconBlockRoot ?? new Uint8Array(32),
  }
}

/**
 * A body transaction: decoded here (`L2Transaction`), or already prepared as a batch item (a sequenced
 * transaction decoded and sender-recovered elsewhere, e.g. by decode workers ahead of execution).
 */
export type BodyTransaction = L2Transaction | BatchTx

function isPrepared(item: BodyTransaction): item is BatchTx {
  // Neither an ethereumjs transaction nor a `DepositTx` has a `sender` property; a `BatchTx` always has.
  return typeof (item as Partial<BatchTx>).sender === 'string'
}

/**
 * Executes a whole block's body as the sequencer executes its mini-blocks: the start-of-block system calls,
 * the OP deposits the body opens with (always included), every other transaction in order (each must
 * be includable), then withdrawals. Shared by the block-test runner and the stateless verifier so both
 * check exactly the code that produces blocks. A deposit after a non-deposit makes the block invalid.
 */
export async function executeBlockBody(
  executor: MiniBlockExecutor,
  env: BlockEnv,
  transactions: readonly BodyTransaction[],
  options: { block?: Block; withdrawals?: readonly Withdrawal[] } = {},
): Promise<ExecutedBlock> {
  const cursor: BlockCursor = { gasUsed: 0n, txIndex: 0, logIndex: 0, miniBlockNumber: 0n }
  executor.setBlockEnv(env, options.block)
  await executor.applySystemCalls(env)
  const deposits: DepositTransaction[] = []
  const sequenced: Array<TypedTransaction | BatchTx> = []
  for (const [i, tx] of transactions.entries()) {
    if (isPrepared(tx) || !isDepositTx(tx)) sequenced.push(tx)
    else if (sequenced.length > 0) throw new InvalidBlockTransactionError(i, 'deposit after a non-deposit transaction')
    else deposits.push(tx.fields)
  }
  const receipts: TxReceipt[] = deposits.length === 0 ? [] : await executor.applyDeposits(deposits, cursor)
  const batch: BatchTx[] = sequenced.map((tx, i) => (isPrepared(tx) ? tx : { tx, sender: senderOf(tx, deposits.length + i) }))
  const outcomes = await executor.executeBatch(batch, cursor)
  for (let i = 0; i < batch.length; i++) {
    const outcome = outcomes[i]
    const index = deposits.length + i
    if (outcome === undefined)
      throw new InvalidBlockTransactionError(index, 'not executed (an earlier transaction of its sender failed)')
    if (!outcome.ok) throw new InvalidBlockTransactionError(index, outcome.error.message, { cause: outcome.error })
    receipts.push(outcome.receipt)
  }
  await executor.applyWithdrawals(options.withdrawals ?? [])
  return { receipts, diff: executor.takeDiff(), gasUsed: cursor.gasUsed }
}

/** The sender for same-sender skipping; a transaction whose signature does not recover fails when executed. */
function senderOf(tx: TypedTransaction, index: number): string {
  try {
    return tx.getSenderAddress().toString()
  } catch {
    return `unrecoverable-sender-${index}`
  }
}
