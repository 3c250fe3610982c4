import type { Block } from '@ethereumjs/block'
import type { TypedTransaction } from '@ethereumjs/tx'
import type { DepositTransaction } from '../../chain/deposit-tx.ts'
import type { TxReceipt } from '../../chain/receipt.ts'
import type { StateDiff } from '../../primitives/state-diff.ts'
import type { BlockEnv } from '../block-env.ts'
import type { BlockCursor, SequentialExecutor, TxHeader, TxOutcome, Withdrawal } from '../executor.ts'
import type { PlainTransfer } from '../native-transfer.ts'

/** One transaction of a batch, in preset order. */
export interface BatchTx {
  tx: TypedTransaction
  /** Lowercase 0x sender: after one of its transactions fails, its later ones in the batch are skipped. */
  sender: string
  /** The tx's encoding if the caller has it (saves re-serializing it for a worker). */
  raw?: Uint8Array
  /** Its plain-transfer form when the caller decoded one: run natively without building `tx`. */
  transfer?: PlainTransfer
  /** Its header when the caller decoded one: a worker's result for it then commits without building `tx`. */
  header?: TxHeader
}

export interface BatchOptions {
  /**
   * `performance.now()` after which no further transaction is started, once at least one was
   * included (the mini-block time budget). Transactions not reached stay with the caller.
   */
  deadline?: number
}

/**
 * Per transaction reached, in order: its outcome, or `undefined` when it was skipped because an
 * earlier transaction of the same sender failed in this batch. Shorter than the batch when the
 * deadline stopped it.
 */
export type BatchOutcomes = Array<TxOutcome | undefined>

/**
 * Executes a mini-block's ordered transactions with results identical to running them one after
 * another: the block producer's and the block-test runner's view of an executor.
 */
export interface MiniBlockExecutor {
  readonly mode: 'sequential' | 'parallel'
  setBlockEnv(env: BlockEnv, block?: Block): void
  /** The start-of-block system calls (EIP-4788, EIP-2935): once per EVM block, before its first transaction. */
  applySystemCalls(env: BlockEnv): Promise<void>
  /**
   * The block's OP deposits (type 0x7E), in order: after the system calls, before any other
   * transaction of the block. Each is always included (see deposit.ts); one receipt per deposit.
   */
  applyDeposits(deposits: readonly DepositTransaction[], cursor: BlockCursor): Promise<TxReceipt[]>
  executeBatch(txs: readonly BatchTx[], cursor: BlockCursor, options?: BatchOptions): Promise<BatchOutcomes>
  applyWithdrawals(withdrawals: readonly Withdrawal[]): Promise<void>
  takeDiff(): StateDiff
  /** Gets ready to execute (the parallel executor loads its workers' replicas); optional to call. */
  prepare(): Promise<void>
  close(): Promise<void>
}

/** Bookkeeping shared by the sequential loop and the parallel commit loop. */
export interface BatchProgress {
  outcomes: BatchOutcomes
  failedSenders: Set<string>
  included: number
  deadline: number
}

export function newBatchProgress(options: BatchOptions | undefined): BatchProgress {
  return { outcomes: [], failedSenders: new Set(), included: 0, deadline: options?.deadline ?? Number.POSITIVE_INFINITY }
}

/** The time budget is spent (checked before each transaction, as the sequential loop always did). */
export function pastDeadline(progress: BatchProgress): boolean {
  return progress.included > 0 && progress.deadline !== Number.POSITIVE_INFINITY && performance.now() > progress.deadline
}

export function recordOutcome(progress: BatchProgress, item: BatchTx, outcome: TxOutcome): void {
  progress.outcomes.push(outcome)
  if (outcome.ok) progress.included++
  else progress.failedSenders.add(item.sender)
}

/**
 * Runs `txs[from, to)` one after another on `executor` (the exact reference path). Returns the
 * index it stopped at (`to` unless the deadline stopped it).
 */
export async function runSequentialRange(
  executor: SequentialExecutor,
  txs: readonly BatchTx[],
  from: number,
  to: number,
  cursor: BlockCursor,
  progress: BatchProgress,
): Promise<number> {
  for (let i = from; i < to; i++) {
    if (pastDeadline(progress)) return i
    const item = txs[i]!
    if (progress.failedSenders.has(item.sender)) {
      progress.outcomes.push(undefined)
      continue
    }
    recordOutcome(progress, item, await executor.applyBatchTx(item, cursor))
  }
  return to
}

/** Runs `deposits` one after another on `executor`: the only path deposits take, sequential or parallel. */
export async function applyDepositsOn(
  executor: SequentialExecutor,
  deposits: readonly DepositTransaction[],
  cursor: BlockCursor,
): Promise<TxReceipt[]> {
  const receipts: TxReceipt[] = []
  for (const deposit of deposits) receipts.push(await executor.applyDeposit(deposit, cursor))
  return receipts
}

/** The reference executor: every transaction on the calling thread, in order. */
export class SequentialMiniBlockExecutor implements MiniBlockExecutor {
  readonly mode = 'sequential' as const

  constructor(readonly executor: SequentialExecutor) {}

  setBlockEnv(env: BlockEnv, block?: Block): void {
    this.executor.setBlockEnv(env, block)
  }

  applySystemCalls(env: BlockEnv): Promise<void> {
    return this.executor.applySystemCalls(env)
  }

  applyDeposits(deposits: readonly DepositTransaction[], cursor: BlockCursor): Promise<TxReceipt[]> {
    return applyDepositsOn(this.executor, deposits, cursor)
  }

  async executeBatch(txs: readonly BatchTx[], cursor: BlockCursor, options?: BatchOptions): Promise<BatchOutcomes> {
    const progress = newBatchProgress(options)
    await runSequentialRange(this.executor, txs, 0, txs.length, cursor, progress)
    return progress.outcomes
  }

  applyWithdrawals(withdrawals: readonly Withdrawal[]): Promise<void> {
    return this.executor.applyWithdrawals(withdrawals)
  }

  takeDiff(): StateDiff {
    return this.executor.takeDiff()
  }

  async prepare(): Promise<void> {}

  async close(): Promise<void> {}
}
