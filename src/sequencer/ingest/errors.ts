/**
 * Why a transaction was refused, with the exact messages geth returns.
 *
 * Wallets and libraries (viem, ethers, web3.py) classify send errors by matching these strings
 * (e.g. viem's `NonceTooLowError` matches /nonce too low/), and geth answers every one of them with
 * JSON-RPC code -32000. So the wording is part of our API: build messages only through `rejectTx`,
 * never as ad-hoc strings at call sites.
 */
import { NodeError, isNodeError } from '../../primitives/errors.ts'

/** geth's generic server-error code; used for every tx rejection. */
export const TX_REJECTED_RPC_CODE = -32000

const REJECT_MESSAGES = {
  /** Bytes that are not a well-formed transaction (bad RLP, wrong field count, leading zeros, unsigned...). */
  malformed: (p: { detail: string }) => `rlp: ${p.detail}`,
  oversized: (p: { size: number; limit: number }) => `oversized data: transaction size ${p.size}, limit ${p.limit}`,
  /** Blob (type 3) txs, set-code (type 4) txs before Prague, and unknown types. Blobs need a DA path this L2 does not have. */
  'type-not-supported': () => 'transaction type not supported',
  /** OP deposits (type 0x7E) are derived from L1 deposit events: nobody may submit one (RPC or p2p). */
  'deposit-tx': () => 'deposit transactions come from L1 only',
  'invalid-chain-id': (p: { have: bigint; want: bigint }) => `invalid chain id: have ${p.have}, want ${p.want}`,
  /** Pre-EIP-155 legacy tx (v = 27/28): replayable on any chain, so refused over RPC like geth's default. */
  unprotected: () => 'only replay-protected (EIP-155) transactions allowed over RPC',
  /** r/s out of range, high s (EIP-2), or a bad v / yParity: what geth reports as ErrInvalidSig wrapped in ErrInvalidSender. */
  'invalid-signature': () => 'invalid sender: invalid transaction v, r, s values',
  /** The signature values are in range but no public key recovers from them. */
  'invalid-sender': () => 'invalid sender',
  'intrinsic-gas': (p: { gas: bigint; minimum: bigint }) => `intrinsic gas too low: gas ${p.gas}, minimum needed ${p.minimum}`,
  'gas-limit': () => 'gas limit exceeds block gas limit',
  /** EIP-7825 (Osaka): geth's ErrGasLimitTooHigh. */
  'gas-limit-too-high': (p: { cap: bigint; gas: bigint }) => `transaction gas limit too high (cap: ${p.cap}, tx: ${p.gas})`,
  /** EIP-7623 (Prague): geth's ErrFloorDataGas. */
  'floor-data-gas': (p: { gas: bigint; minimum: bigint }) =>
    `insufficient gas for floor data gas cost: gas ${p.gas}, minimum needed ${p.minimum}`,
  /** EIP-7702: geth's ErrEmptyAuthList and ErrSetCodeTxCreate. */
  'empty-auth-list': () => 'EIP-7702 transaction with empty auth list',
  'set-code-create': () => 'EIP-7702 transaction cannot be used to create contract',
  'tip-above-fee-cap': () => 'max priority fee per gas higher than max fee per gas',
  /** EIP-3860: creation txs carry at most 49,152 bytes of init code. */
  'initcode-too-large': (p: { size: number; limit: bigint }) =>
    `max initcode size exceeded: code size ${p.size}, limit ${p.limit}`,
  'nonce-too-low': (p: { next: bigint; nonce: bigint }) => `nonce too low: next nonce ${p.next}, tx nonce ${p.nonce}`,
  /** Further ahead of the sender's pending nonce than the pool's max gap. */
  'nonce-too-high': () => 'nonce too high',
  'insufficient-funds': (p: { balance: bigint; cost: bigint }) =>
    `insufficient funds for gas * price + value: balance ${p.balance}, tx cost ${p.cost}`,
  'fee-cap-below-base-fee': (p: { address: string; maxFeePerGas: bigint; baseFee: bigint }) =>
    `max fee per gas less than block base fee: address ${p.address}, maxFeePerGas: ${p.maxFeePerGas}, baseFee: ${p.baseFee}`,
  'already-known': () => 'already known',
  'replacement-underpriced': () => 'replacement transaction underpriced',
  'pool-full': () => 'txpool is full',
  /** The sender already has `maxPerSender` txs in the pool. */
  'account-limit': () => 'account limit exceeded',
} as const satisfies Record<string, (p: never) => string>

export type TxRejectReason = keyof typeof REJECT_MESSAGES

/** The parameters each reason's message needs (none for the fixed strings). */
export type TxRejectParams<R extends TxRejectReason> = Parameters<(typeof REJECT_MESSAGES)[R]>

/** A transaction rejection, whether built here or rebuilt by `fromPlainError` after crossing from an ingest worker. */
export type TxRejection = NodeError<TxRejectReason, undefined>

/** A refused transaction: `code` is the reason, `message` geth's text for it. Answered with `TX_REJECTED_RPC_CODE`. */
export class TxRejectedError<R extends TxRejectReason = TxRejectReason> extends NodeError<R, undefined> {
  override readonly name = 'TxRejectedError'
}

/** Builds the rejection for `reason`, e.g. `rejectTx('nonce-too-low', { next: 5n, nonce: 3n })`. */
export function rejectTx<R extends TxRejectReason>(reason: R, ...params: TxRejectParams<R>): TxRejectedError<R> {
  const build = REJECT_MESSAGES[reason] as (...p: TxRejectParams<R>) => string
  return new TxRejectedError(reason, build(...params))
}

/**
 * Whether `err` is a transaction rejection, by its code: true as well for one rebuilt by
 * `fromPlainError` after crossing from an ingest worker.
 */
export function isTxRejectedError(err: unknown): err is TxRejection {
  return isNodeError(err) && typeof err.code === 'string' && Object.hasOwn(REJECT_MESSAGES, err.code)
}

/** The JSON-RPC error object a rejection is answered with. */
export function txRejectionToJsonRpc(err: TxRejection): { code: number; message: string } {
  return { code: TX_REJECTED_RPC_CODE, message: err.message }
}
