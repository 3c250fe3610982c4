/**
 * User deposits from the portal's `TransactionDeposited(address indexed from, address indexed to,
 * uint256 indexed version, bytes opaqueData)` logs, with op-node's checks (`rollup/derive/deposit_log.go`):
 * four topics, the event's selector, an ABI `bytes` whose offset is 32 and whose length fits the data
 * with at most 31 bytes of padding, version 0 only, and an opaqueData of at least 73 bytes:
 * `abi.encodePacked(uint256 mint, uint256 value, uint64 gasLimit, bool isCreation, bytes data)`.
 * `from` is taken as emitted: L1 already aliased a contract sender.
 */
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { keccak256 } from '../crypto/native.ts'
import { bytesToBigInt } from '../primitives/rlp-fields.ts'
import type { Hex } from '../primitives/state-diff.ts'
import { type DepositTransaction, DepositTxError, fixedBytes, uint256Word, userDepositSourceHash } from './deposit-tx.ts'

/** topic0 of `TransactionDeposited(address,address,uint256,bytes)`. */
export const TRANSACTION_DEPOSITED_TOPIC: Hex = bytesToHex(
  keccak256(new TextEncoder().encode('TransactionDeposited(address,address,uint256,bytes)')),
)

/** What the deposit derivation needs of an L1 log (the shape of viem's `Log`, undecoded). */
export interface DepositLog {
  readonly topics: readonly Hex[]
  readonly data: Hex
  readonly blockHash: Hex
  /** The log's index among all logs of its L1 block. */
  readonly logIndex: number
}

/** The decoded opaqueData of a version-0 deposit. */
export interface DepositOpaqueData {
  readonly mint: bigint
  readonly value: bigint
  readonly gas: bigint
  readonly isCreation: boolean
  readonly data: Hex
}

/** 32 (mint) + 32 (value) + 8 (gasLimit) + 1 (isCreation). */
const OPAQUE_HEADER_LENGTH = 73

/** The L2 deposit transaction a `TransactionDeposited` log stands for. @throws DepositTxError */
export function depositFromLog(log: DepositLog): DepositTransaction {
  if (log.topics.length !== 4) throw new DepositTxError('bad-log', `expected 4 topics, got ${log.topics.length}`)
  const [selector, fromTopic, toTopic, versionTopic] = log.topics as [Hex, Hex, Hex, Hex]
  if (selector.toLowerCase() !== TRANSACTION_DEPOSITED_TOPIC)
    throw new DepositTxError('bad-log', `not a TransactionDeposited log: ${selector}`)
  const data = logBytes(log.data, 'log data')
  if (data.length < 64) throw new DepositTxError('bad-log', `opaqueData header incomplete (${data.length} bytes)`)
  if (data.length % 32 !== 0) throw new DepositTxError('bad-log', `log data is not a multiple of 32 bytes (${data.length})`)
  if (bytesToBigInt(data.subarray(0, 32)) !== 32n) throw new DepositTxError('bad-log', 'opaqueData offset is not 32')
  const length = bytesToBigInt(data.subarray(32, 64))
  const room = BigInt(data.length - 64)
  // The length must fit, and the padding after it must be shorter than a word (op-node's rule).
  if (length > room || length + 32n <= room)
    throw new DepositTxError('bad-log', `opaqueData length ${length} does not match ${room} bytes of data`)
  const version = bytesToBigInt(fixedBytes(versionTopic, 32, 'version topic'))
  if (version !== 0n) throw new DepositTxError('unsupported-version', `deposit version ${version}`)
  const opaque = decodeOpaqueData(data.subarray(64, 64 + Number(length)))
  return {
    sourceHash: userDepositSourceHash(log.blockHash, log.logIndex),
    from: topicAddress(fromTopic),
    to: opaque.isCreation ? null : topicAddress(toTopic),
    mint: opaque.mint,
    value: opaque.value,
    gas: opaque.gas,
    isSystemTx: false,
    data: opaque.data,
  }
}

/**
 * Version-0 opaqueData. Any non-zero isCreation byte means creation, as op-node reads it (the portal
 * only ever writes 0 or 1). @throws DepositTxError
 */
export function decodeOpaqueData(opaque: Uint8Array): DepositOpaqueData {
  if (opaque.length < OPAQUE_HEADER_LENGTH)
    throw new DepositTxError('bad-opaque-data', `opaqueData of ${opaque.length} bytes, need ≥ ${OPAQUE_HEADER_LENGTH}`)
  return {
    mint: bytesToBigInt(opaque.subarray(0, 32)),
    value: bytesToBigInt(opaque.subarray(32, 64)),
    gas: bytesToBigInt(opaque.subarray(64, 72)),
    isCreation: opaque[72] !== 0,
    data: bytesToHex(opaque.subarray(OPAQUE_HEADER_LENGTH)),
  }
}

/** `abi.encodePacked(mint, value, gasLimit, isCreation, data)`, what the portal emits. @throws DepositTxError */
export function encodeOpaqueData(deposit: DepositOpaqueData): Uint8Array {
  if (deposit.gas < 0n || deposit.gas >= 2n ** 64n) throw new DepositTxError('bad-field', `gas ${deposit.gas} is not a uint64`)
  const data = logBytes(deposit.data, 'data')
  const out = new Uint8Array(OPAQUE_HEADER_LENGTH + data.length)
  out.set(uint256Word(deposit.mint, 'mint'), 0)
  out.set(uint256Word(deposit.value, 'value'), 32)
  out.set(uint256Word(deposit.gas, 'gas').subarray(24), 64)
  out[72] = deposit.isCreation ? 1 : 0
  out.set(data, OPAQUE_HEADER_LENGTH)
  return out
}

function topicAddress(topic: Hex): Hex {
  return bytesToHex(fixedBytes(topic, 32, 'address topic').subarray(12))
}

function logBytes(hex: Hex, what: string): Uint8Array {
  try {
    return hexToBytes(hex)
  } catch {
    throw new DepositTxError('bad-log', `${what}: not a 0x hex string`)
  }
}
