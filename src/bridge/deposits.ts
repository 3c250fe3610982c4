/**
 * The portal's deposits among L1 logs. Decoding (op-node's acceptance rules) and the L2 deposit transaction live in
 * `chain/deposit-log.ts`, which derivation uses too; this module picks the portal's `TransactionDeposited` logs out of
 * a receipt or a block, in log order, and keeps where each was logged.
 */
import { getAddress, isAddressEqual, type Address, type Hex } from 'viem'
import { depositFromLog, TRANSACTION_DEPOSITED_TOPIC } from '../chain/deposit-log.ts'
import { DepositTxError } from '../chain/deposit-tx.ts'

export { TRANSACTION_DEPOSITED_TOPIC }

/** One user deposit, with where it was logged on L1 (which fixes its L2 `sourceHash`). */
export interface Deposit {
  /** L1 sender, already aliased by the portal when it was a contract. */
  from: Address
  /** L2 recipient; null for a contract creation. */
  to: Address | null
  /** Wei minted to `from` on L2 (the ETH sent to the portal). */
  mint: bigint
  /** Wei the L2 call carries. */
  value: bigint
  gasLimit: bigint
  isCreation: boolean
  data: Hex
  /** The L2 deposit transaction's `sourceHash` (domain 0 over the L1 block hash and log index). */
  sourceHash: Hex
  l1BlockHash: Hex
  logIndex: number
}

/** The log fields a deposit is decoded from (a viem `Log` or an RPC log has them). */
export interface DepositLog {
  address: Address
  topics: readonly Hex[]
  data: Hex
  blockHash: Hex | null
  logIndex: number | null
}

/**
 * The deposits among `logs`: those emitted by `portal` with the `TransactionDeposited` topic, decoded in log order.
 * Other logs are skipped; a portal deposit log that does not decode throws `DepositTxError` (the portal cannot emit
 * one, so it means the wrong contract or a broken RPC).
 */
export function readDepositEvents(logs: readonly DepositLog[], portal: Address): Deposit[] {
  return logs
    .filter((log) => isAddressEqual(log.address, portal) && log.topics[0]?.toLowerCase() === TRANSACTION_DEPOSITED_TOPIC)
    .map(decodeDepositLog)
}

/** Decodes one `TransactionDeposited` log of a mined block; throws `DepositTxError` saying what is wrong. */
export function decodeDepositLog(log: DepositLog): Deposit {
  const { blockHash, logIndex } = log
  if (blockHash === null || logIndex === null)
    throw new DepositTxError('bad-log', 'deposit log has no block hash or index (pending)')
  const tx = depositFromLog({ topics: log.topics, data: log.data, blockHash, logIndex })
  return {
    from: getAddress(tx.from),
    to: tx.to === null ? null : getAddress(tx.to),
    mint: tx.mint,
    value: tx.value,
    gasLimit: tx.gas,
    isCreation: tx.to === null,
    data: tx.data,
    sourceHash: tx.sourceHash,
    l1BlockHash: blockHash,
    logIndex,
  }
}
