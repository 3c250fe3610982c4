/**
 * The rules that tie an L2 block to L1, shared by the sequencer (which builds blocks) and derivation
 * (which rebuilds them from L1): the deposits a block starts with, the L1 origin it may take, and the
 * inputs a block is built from. One implementation for both is what makes "hash for hash" hold.
 */
import { hexToBytes } from '@ethereumjs/util'
import { decodeDepositTx, DEPOSIT_TX_TYPE, encodeDepositTx, type DepositTransaction } from './deposit-tx.ts'
import { decodeL1Info, encodeL1InfoIsthmus, l1InfoDepositTx, type L1BlockInfo } from './l1-info.ts'
import type { L1BlockRef, L1Origin } from './l1-origin.ts'
import type { RollupConfig } from './rollup-config.ts'

/** What an L2 block is built from: everything but the parent state (op-node's payload attributes). */
export interface L2BlockAttributes {
  readonly timestamp: bigint
  /** PREVRANDAO: the L1 origin's mixHash. */
  readonly prevRandao: Uint8Array
  readonly origin: L1BlockRef
  /** The block's position in its epoch (0: the first block with this origin, which carries its deposits). */
  readonly sequenceNumber: bigint
  /** The deposits (L1-attributes first), in order; they open the block. */
  readonly deposits: readonly DepositTransaction[]
  /** Then the sequenced transactions, canonical encodings (what a batch carries). */
  readonly transactions: readonly Uint8Array[]
}

/**
 * The L1-attributes deposit (Isthmus calldata: every OP fork is active from genesis) and, in the first
 * block of an epoch, the origin's user deposits after it.
 */
export function blockDeposits(origin: L1Origin, sequenceNumber: bigint): DepositTransaction[] {
  const sc = origin.systemConfig
  const info = {
    number: origin.number,
    timestamp: origin.timestamp,
    baseFee: origin.baseFeePerGas,
    blobBaseFee: origin.blobBaseFee,
    hash: origin.hash,
    sequenceNumber,
    batcherHash: sc.batcherHash,
    baseFeeScalar: sc.baseFeeScalar,
    blobBaseFeeScalar: sc.blobBaseFeeScalar,
    operatorFeeScalar: sc.operatorFeeScalar,
    operatorFeeConstant: sc.operatorFeeConstant,
  }
  const l1Info = l1InfoDepositTx(info, encodeL1InfoIsthmus(info))
  return sequenceNumber === 0n ? [l1Info, ...origin.deposits] : [l1Info]
}

/** `blockDeposits` and the rest of the attributes of the block at `timestamp` with `origin`. */
export function blockAttributes(
  origin: L1Origin,
  sequenceNumber: bigint,
  timestamp: bigint,
  transactions: readonly Uint8Array[],
): L2BlockAttributes {
  return {
    timestamp,
    prevRandao: hexToBytes(origin.mixHash),
    origin: { number: origin.number, hash: origin.hash, parentHash: origin.parentHash, timestamp: origin.timestamp },
    sequenceNumber,
    deposits: blockDeposits(origin, sequenceNumber),
    transactions,
  }
}

/** The block's encoded transactions as they appear in its body: deposits first. */
export function attributesTransactions(attributes: L2BlockAttributes): Uint8Array[] {
  return [...attributes.deposits.map(encodeDepositTx), ...attributes.transactions]
}

/**
 * The L1-attributes of an L1-anchored block, read from its first transaction; undefined for a block
 * without one (genesis, or a chain running without L1).
 */
export function blockL1Info(transactions: readonly Uint8Array[]): L1BlockInfo | undefined {
  const first = transactions[0]
  if (first === undefined || first[0] !== DEPOSIT_TX_TYPE) return undefined
  return decodeL1Info(hexToBytes(decodeDepositTx(first).data))
}

/** How many leading transactions of a block body are deposits. */
export function depositCount(transactions: readonly Uint8Array[]): number {
  let n = 0
  while (n < transactions.length && transactions[n]![0] === DEPOSIT_TX_TYPE) n++
  return n
}

/**
 * op-node's origin rule for the next L2 block at `timestamp`, given its parent's origin and the L1
 * block after it (`next`, when known): move on as soon as `next` is not newer than the L2 block
 * (an origin is never newer than its L2 block), else stay. A block that stays more than
 * `maxSequencerDrift` seconds ahead of its origin may carry no sequenced transactions, only its
 * deposits (Fjord's rule): derivation drops a batch that breaks it.
 */
export function nextOriginChoice(
  config: Pick<RollupConfig, 'maxSequencerDrift'>,
  current: L1BlockRef,
  next: L1BlockRef | undefined,
  timestamp: bigint,
): { advance: boolean; transactionsAllowed: boolean } {
  if (next !== undefined && next.timestamp <= timestamp) return { advance: true, transactionsAllowed: true }
  return { advance: false, transactionsAllowed: timestamp <= current.timestamp + config.maxSequencerDrift }
}
