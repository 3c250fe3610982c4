import { bytesToHex } from '@ethereumjs/util'
import { keccak256 } from '../crypto/native.ts'
import type { Hex } from '../primitives/state-diff.ts'
import { asBytes, asList, bytesToBigInt, CodecError, encodeRlp, type RlpInput, type RlpValue } from '../primitives/rlp-fields.ts'

export interface Log {
  address: Hex
  topics: Hex[]
  data: Hex
}

/** A receipt with everything JSON-RPC returns about it, placed in its EVM block and mini-block. */
export interface TxReceipt {
  transactionHash: Hex
  type: number
  status: 0 | 1
  /** Cumulative within the EVM block, as the receipts root commits to it. */
  cumulativeGasUsed: bigint
  gasUsed: bigint
  effectiveGasPrice: bigint
  logsBloom: Uint8Array
  logs: Log[]
  from: Hex
  to: Hex | null
  contractAddress: Hex | null
  blockNumber: bigint
  /** Position in the EVM block. */
  transactionIndex: number
  /** Block-wide index of this receipt's first log. */
  logIndexStart: number
  miniBlockNumber: bigint
  /**
   * Deposit (type 0x7E) receipts only: the sender's nonce before the deposit incremented it (OP's
   * Regolith rule; a creation deposit's contract address derives from it).
   */
  depositNonce?: bigint
  /** Deposit receipts only: 1 since Canyon, which commits `depositNonce` and this into the consensus encoding. */
  depositReceiptVersion?: 1
}

/** OP's deposit transaction type: receipts of this type carry `depositNonce` (see deposit-tx.ts). */
const DEPOSIT_RECEIPT_TYPE = 0x7e

/** The consensus encoding (EIP-2718 typed) that the receipts root commits to. */
export function encodeConsensusReceipt(receipt: TxReceipt): Uint8Array {
  const fields: RlpInput[] = [receipt.status, receipt.cumulativeGasUsed, receipt.logsBloom, encodeLogs(receipt.logs)]
  // Canyon's deposit receipt: the deposit nonce and receipt version follow the usual four fields.
  if (receipt.depositNonce !== undefined) fields.push(receipt.depositNonce, receipt.depositReceiptVersion ?? 1)
  return typedEnvelope(receipt.type, encodeRlp(fields))
}

/**
 * Field positions of the storage encoding (`encodeReceipt`) whose items are, byte for byte, the
 * consensus encoding's [status, cumulativeGasUsed, logsBloom, logs] — and for a deposit receipt,
 * which has `depositCount` stored fields, [..., depositNonce, depositReceiptVersion] too.
 */
export const STORED_RECEIPT_FIELDS = {
  transactionHash: 0,
  type: 1,
  consensus: [2, 3, 6, 7],
  logsBloom: 6,
  count: 15,
  depositConsensus: [2, 3, 6, 7, 15, 16],
  depositCount: 17,
} as const

/** `payload` behind its EIP-2718 type byte (legacy, type 0: as is). */
export function typedEnvelope(type: number, payload: Uint8Array): Uint8Array {
  if (type === 0) return payload
  const typed = new Uint8Array(payload.length + 1)
  typed[0] = type
  typed.set(payload, 1)
  return typed
}

const EMPTY = new Uint8Array(0)

/** Storage/wire encoding: every field, RLP (fields as `encodeRlp` shorthands: no array per field). */
export function encodeReceipt(r: TxReceipt): RlpInput[] {
  return [
    r.transactionHash,
    r.type,
    r.status,
    r.cumulativeGasUsed,
    r.gasUsed,
    r.effectiveGasPrice,
    r.logsBloom,
    encodeLogs(r.logs),
    r.from,
    r.to ?? EMPTY,
    r.contractAddress ?? EMPTY,
    r.blockNumber,
    r.transactionIndex,
    r.logIndexStart,
    r.miniBlockNumber,
    ...(r.depositNonce === undefined ? [] : [r.depositNonce, r.depositReceiptVersion ?? 1]),
  ]
}

export function decodeReceipt(value: RlpValue): TxReceipt {
  const f = asList(value, undefined, 'receipt')
  if (f.length !== STORED_RECEIPT_FIELDS.count && f.length !== STORED_RECEIPT_FIELDS.depositCount)
    throw new CodecError(
      `receipt: expected ${STORED_RECEIPT_FIELDS.count} or ${STORED_RECEIPT_FIELDS.depositCount} fields, got ${f.length}`,
    )
  const n = (i: number, what: string): bigint => bytesToBigInt(asBytes(f[i], what))
  const optionalAddress = (i: number, what: string): Hex | null => {
    const bytes = asBytes(f[i], what)
    if (bytes.length === 0) return null
    if (bytes.length !== 20) throw new CodecError(`${what}: expected 20 bytes`)
    return bytesToHex(bytes) as Hex
  }
  const receipt: TxReceipt = {
    transactionHash: bytesToHex(asBytes(f[0], 'tx hash', 32)) as Hex,
    type: Number(n(1, 'type')),
    status: n(2, 'status') === 1n ? 1 : 0,
    cumulativeGasUsed: n(3, 'cumulative gas'),
    gasUsed: n(4, 'gas used'),
    effectiveGasPrice: n(5, 'gas price'),
    logsBloom: asBytes(f[6], 'bloom', 256),
    logs: asList(f[7], undefined, 'logs').map(decodeLog),
    from: bytesToHex(asBytes(f[8], 'from', 20)) as Hex,
    to: optionalAddress(9, 'to'),
    contractAddress: optionalAddress(10, 'contract address'),
    blockNumber: n(11, 'block number'),
    transactionIndex: Number(n(12, 'tx index')),
    logIndexStart: Number(n(13, 'log index')),
    miniBlockNumber: n(14, 'mini-block number'),
  }
  if (f.length === STORED_RECEIPT_FIELDS.depositCount) {
    if (receipt.type !== DEPOSIT_RECEIPT_TYPE) throw new CodecError(`receipt: deposit fields on a type ${receipt.type} receipt`)
    if (n(16, 'deposit receipt version') !== 1n) throw new CodecError('receipt: unsupported deposit receipt version')
    receipt.depositNonce = n(15, 'deposit nonce')
    receipt.depositReceiptVersion = 1
  }
  return receipt
}

function encodeLogs(logs: readonly Log[]): RlpInput[] {
  return logs.map((log) => [log.address, log.topics, log.data])
}

function decodeLog(value: RlpValue): Log {
  const [address, topics, data] = asList(value, 3, 'log')
  return {
    address: bytesToHex(asBytes(address, 'log address', 20)) as Hex,
    topics: asList(topics, undefined, 'log topics').map((t) => bytesToHex(asBytes(t, 'log topic', 32)) as Hex),
    data: bytesToHex(asBytes(data, 'log data')) as Hex,
  }
}

/**
 * A digest of every field of `receipts` that execution determines (all but the mini-block number,
 * which is the sequencer's packing): what a verifier that re-executed a block compares with the
 * receipts a replica serves.
 */
export function executionReceiptsDigest(receipts: readonly TxReceipt[]): Uint8Array {
  return keccak256(encodeRlp(receipts.map((r) => encodeReceipt({ ...r, miniBlockNumber: 0n }))))
}
