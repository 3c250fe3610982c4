/**
 * The batcher's errors. `severity` drives the loop: `temporary` (an L1 RPC failed, a tx was refused
 * for now) pauses and retries; `reset` (an L1 reorg dropped posted data, a nonce was taken) rebuilds
 * the channels from the safe head; `critical` (a block the batcher cannot express) stops posting.
 */
import { NodeError, type Severity } from '../../primitives/errors.ts'

export type BatcherErrorCode =
  /** An L2 block without an L1-attributes deposit: a chain without a rollup config, or genesis. */
  | 'BATCHER_BLOCK_NOT_ANCHORED'
  /** Blocks fed out of order: not the next number, or not the child of the previous block. */
  | 'BATCHER_BLOCK_GAP'
  /** The block source lacks a block it reported as sealed. */
  | 'BATCHER_BLOCK_MISSING'
  /** The wallet cannot sign locally (the batcher key must be a local viem account). */
  | 'BATCHER_WALLET'
  /** The L1 node refused a batcher transaction for good (not a fee or nonce race). */
  | 'BATCHER_TX_REFUSED'
  /** The batcher's nonce was used by another transaction of the same key. */
  | 'BATCHER_NONCE_TAKEN'
  /** A bump would exceed the fee limit (`feeLimitMultiplier` × the current estimate). */
  | 'BATCHER_FEE_LIMIT'
  /** The manager or batcher was stopped while a transaction was in flight. */
  | 'BATCHER_STOPPED'

export class BatcherError extends NodeError<BatcherErrorCode, { block?: bigint; nonce?: number } | undefined> {
  override name = 'BatcherError'
  constructor(
    code: BatcherErrorCode,
    message: string,
    options: { severity?: Severity; cause?: unknown; block?: bigint; nonce?: number; hint?: string } = {},
  ) {
    const { block, nonce, ...rest } = options
    super(code, message, { ...rest, data: block === undefined && nonce === undefined ? undefined : { block, nonce } })
  }
}
