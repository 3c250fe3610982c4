/**
 * A block header's fields by position, read from its RLP the way the step verifier reads them (no
 * ethereumjs validation: a claimant's header is judged, not trusted to decode). Positions are
 * Ethereum's (Cancun and later: 20 fields, 21 from Prague with `requestsHash`).
 */
import { RLP } from '@ethereumjs/rlp'
import { bytesToBigInt } from '@ethereumjs/util'

export interface HeaderFields {
  parentHash: Uint8Array
  coinbase: Uint8Array
  stateRoot: Uint8Array
  transactionsRoot: Uint8Array
  receiptsRoot: Uint8Array
  logsBloom: Uint8Array
  number: bigint
  gasLimit: bigint
  gasUsed: bigint
  timestamp: bigint
  mixHash: Uint8Array
  baseFeePerGas: bigint
  excessBlobGas: bigint
  parentBeaconBlockRoot: Uint8Array
}

/** Positions of the fields the trace reads. */
export const HEADER_FIELD = {
  parentHash: 0,
  coinbase: 2,
  stateRoot: 3,
  transactionsRoot: 4,
  receiptsRoot: 5,
  logsBloom: 6,
  number: 8,
  gasLimit: 9,
  gasUsed: 10,
  timestamp: 11,
  mixHash: 13,
  baseFeePerGas: 15,
  excessBlobGas: 18,
  parentBeaconBlockRoot: 19,
} as const

/** The fields of `rlp`, or undefined when it is not a header the verifier accepts (the output is then invalid). */
export function readHeaderFields(rlp: Uint8Array): HeaderFields | undefined {
  let decoded: unknown
  try {
    decoded = RLP.decode(rlp)
  } catch {
    return undefined
  }
  if (!Array.isArray(decoded) || decoded.length < 20) return undefined
  const items = decoded as unknown[]
  const bytes = (i: number, size?: number): Uint8Array | undefined => {
    const item = items[i]
    if (!(item instanceof Uint8Array) || (size !== undefined && item.length !== size)) return undefined
    return item
  }
  const uint = (i: number): bigint | undefined => {
    const item = bytes(i)
    // Canonical: no leading zero byte, at most 32 bytes.
    if (item === undefined || item.length > 32 || (item.length > 0 && item[0] === 0)) return undefined
    return bytesToBigInt(item)
  }
  const parentHash = bytes(HEADER_FIELD.parentHash, 32)
  const coinbase = bytes(HEADER_FIELD.coinbase, 20)
  const stateRoot = bytes(HEADER_FIELD.stateRoot, 32)
  const transactionsRoot = bytes(HEADER_FIELD.transactionsRoot, 32)
  const receiptsRoot = bytes(HEADER_FIELD.receiptsRoot, 32)
  const logsBloom = bytes(HEADER_FIELD.logsBloom, 256)
  const number = uint(HEADER_FIELD.number)
  const gasLimit = uint(HEADER_FIELD.gasLimit)
  const gasUsed = uint(HEADER_FIELD.gasUsed)
  const timestamp = uint(HEADER_FIELD.timestamp)
  const mixHash = bytes(HEADER_FIELD.mixHash, 32)
  const baseFeePerGas = uint(HEADER_FIELD.baseFeePerGas)
  const excessBlobGas = uint(HEADER_FIELD.excessBlobGas)
  const parentBeaconBlockRoot = bytes(HEADER_FIELD.parentBeaconBlockRoot, 32)
  if (
    parentHash === undefined ||
    coinbase === undefined ||
    stateRoot === undefined ||
    transactionsRoot === undefined ||
    receiptsRoot === undefined ||
    logsBloom === undefined ||
    number === undefined ||
    gasLimit === undefined ||
    gasUsed === undefined ||
    timestamp === undefined ||
    mixHash === undefined ||
    baseFeePerGas === undefined ||
    excessBlobGas === undefined ||
    parentBeaconBlockRoot === undefined
  )
    return undefined
  return {
    parentHash,
    coinbase,
    stateRoot,
    transactionsRoot,
    receiptsRoot,
    logsBloom,
    number,
    gasLimit,
    gasUsed,
    timestamp,
    mixHash,
    baseFeePerGas,
    excessBlobGas,
    parentBeaconBlockRoot,
  }
}
