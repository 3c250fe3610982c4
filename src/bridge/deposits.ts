/**
 * Deposits as the portal logs them: `TransactionDeposited(from, to, version, opaqueData)` decoded with op-node's rules
 * (`UnmarshalDepositLogEvent`): four topics, version 0, `opaqueData` ABI-encoded at offset 32 with at most 31 bytes of
 * zero padding, then `mint (32) ‖ value (32) ‖ gasLimit (8) ‖ isCreation (1) ‖ data`.
 */
import { concat, getAddress, hexToBigInt, isAddressEqual, keccak256, pad, size, slice, toEventSelector, toHex, type Address, type Hex } from 'viem'
import { optimismPortal2Abi } from './generated/OptimismPortal2.ts'

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

/** topic0 of `TransactionDeposited(address,address,uint256,bytes)`. */
export const TRANSACTION_DEPOSITED_TOPIC: Hex = toEventSelector(
  optimismPortal2Abi.find((item) => item.type === 'event' && item.name === 'TransactionDeposited')!,
)

/** The only `TransactionDeposited` layout there is. */
export const DEPOSIT_EVENT_VERSION = 0n

/** mint + value + gasLimit + isCreation. */
const OPAQUE_HEADER_BYTES = 32 + 32 + 8 + 1

/** A `TransactionDeposited` log that does not decode. */
export class DepositLogError extends Error {
  override name = 'DepositLogError'
}

/**
 * The deposits among `logs`: those emitted by `portal` with the `TransactionDeposited` topic, decoded in log order.
 * Other logs are skipped; a portal deposit log that does not decode throws `DepositLogError` (the portal cannot emit
 * one, so it means the wrong contract or a broken RPC).
 */
export function readDepositEvents(logs: readonly DepositLog[], portal: Address): Deposit[] {
  return logs
    .filter((log) => isAddressEqual(log.address, portal) && log.topics[0] === TRANSACTION_DEPOSITED_TOPIC)
    .map(decodeDepositLog)
}

/** Decodes one `TransactionDeposited` log; throws `DepositLogError` saying what is wrong. */
export function decodeDepositLog(log: DepositLog): Deposit {
  const where = `deposit log ${log.blockHash ?? '(pending)'}#${log.logIndex ?? '?'}`
  if (log.blockHash === null || log.logIndex === null) throw new DepositLogError(`${where}: log has no block hash or index (pending)`)
  if (log.topics.length !== 4) throw new DepositLogError(`${where}: ${log.topics.length} topics, expected 4`)
  if (log.topics[0] !== TRANSACTION_DEPOSITED_TOPIC) throw new DepositLogError(`${where}: topic0 ${log.topics[0]} is not TransactionDeposited`)
  const version = hexToBigInt(log.topics[3]!)
  if (version !== DEPOSIT_EVENT_VERSION) throw new DepositLogError(`${where}: unknown deposit version ${version}`)
  const opaque = opaqueData(log.data, where)
  if (size(opaque) < OPAQUE_HEADER_BYTES) throw new DepositLogError(`${where}: opaqueData is ${size(opaque)} bytes, at least ${OPAQUE_HEADER_BYTES} needed`)
  const isCreation = slice(opaque, 72, 73) !== '0x00'
  return {
    from: topicAddress(log.topics[1]!),
    to: isCreation ? null : topicAddress(log.topics[2]!),
    mint: hexToBigInt(slice(opaque, 0, 32)),
    value: hexToBigInt(slice(opaque, 32, 64)),
    gasLimit: hexToBigInt(slice(opaque, 64, 72)),
    isCreation,
    data: size(opaque) === OPAQUE_HEADER_BYTES ? '0x' : slice(opaque, OPAQUE_HEADER_BYTES),
    l1BlockHash: log.blockHash,
    logIndex: log.logIndex,
  }
}

/**
 * The L2 `sourceHash` of a user deposit: `keccak256(bytes32(0) ‖ keccak256(l1BlockHash ‖ bytes32(logIndex)))`
 * (domain 0; L1-attributes deposits use domain 1).
 */
export function userDepositSourceHash(deposit: Pick<Deposit, 'l1BlockHash' | 'logIndex'>): Hex {
  const depositId = keccak256(concat([deposit.l1BlockHash, toHex(deposit.logIndex, { size: 32 })]))
  return keccak256(concat([pad('0x00', { size: 32 }), depositId]))
}

/** The `bytes opaqueData` of the event data: offset 32, a length, the bytes, then less than a word of padding. */
function opaqueData(data: Hex, where: string): Hex {
  const dataSize = size(data)
  if (dataSize < 64 || dataSize % 32 !== 0) throw new DepositLogError(`${where}: event data is ${dataSize} bytes, not ABI-encoded bytes`)
  const offset = hexToBigInt(slice(data, 0, 32))
  if (offset !== 32n) throw new DepositLogError(`${where}: opaqueData offset ${offset}, expected 32`)
  const length = hexToBigInt(slice(data, 32, 64))
  const available = BigInt(dataSize - 64)
  if (length > available) throw new DepositLogError(`${where}: opaqueData length ${length} exceeds the ${available} bytes logged`)
  if (available - length >= 32n) throw new DepositLogError(`${where}: ${available - length} bytes after opaqueData, at most 31 of padding allowed`)
  return length === 0n ? '0x' : slice(data, 64, 64 + Number(length))
}

/** The address in the low 20 bytes of an indexed address topic. */
function topicAddress(topic: Hex): Address {
  return getAddress(slice(topic, 12, 32))
}
