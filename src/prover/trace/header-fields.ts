/**
 * A block header's fields by position, read from its RLP the way the step verifier reads them (no
 * ethereumjs validation: a claimant's header is judged, not trusted to decode). Positions are
 * Ethereum's (Cancun and later: 20 fields, 21 from Prague with `requestsHash`).
 */
import { RLP } from '@ethereumjs/rlp'
import { KECCAK256_RLP, KECCAK256_RLP_ARRAY, SHA256_NULL, bytesToBigInt, equalsBytes } from '@ethereumjs/util'

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

const EMPTY = new Uint8Array(0)

/**
 * The header fields no step otherwise ties down, by position, and the value every builder here writes
 * (src/chain/header.ts's `buildHeader`; the dev chain runs Osaka from genesis, so 21 fields). A header
 * differing only there has another hash, hence another output root, with the same execution: the
 * opening must refuse it, as TxStepVerifier's `_canonical` does.
 */
const CANONICAL_FIELDS: ReadonlyArray<readonly [position: number, name: string, value: Uint8Array]> = [
  [1, 'ommersHash', KECCAK256_RLP_ARRAY],
  [7, 'difficulty', EMPTY],
  [12, 'extraData', EMPTY],
  [14, 'nonce', new Uint8Array(8)],
  [16, 'withdrawalsRoot', KECCAK256_RLP],
  [17, 'blobGasUsed', EMPTY],
  [18, 'excessBlobGas', EMPTY],
  [19, 'parentBeaconBlockRoot', new Uint8Array(32)],
  [20, 'requestsHash', SHA256_NULL],
]

/** Which canonical-shape field `rlp` breaks (or its field count, or a mixHash not of 32 bytes), or undefined. */
export function headerShapeViolation(rlp: Uint8Array): string | undefined {
  let decoded: unknown
  try {
    decoded = RLP.decode(rlp)
  } catch {
    return 'the header is not RLP'
  }
  if (!Array.isArray(decoded) || decoded.length !== 21) return 'the header does not have 21 fields'
  const items = decoded as unknown[]
  const mixHash = items[HEADER_FIELD.mixHash]
  if (!(mixHash instanceof Uint8Array) || mixHash.length !== 32) return 'mixHash is not 32 bytes'
  for (const [position, name, value] of CANONICAL_FIELDS) {
    const item = items[position]
    if (!(item instanceof Uint8Array) || !equalsBytes(item, value)) return `${name} is not the canonical value`
  }
  return undefined
}

/**
 * The state root an output root commits to, as OutputRootRegistry reads it: field 3 of any RLP list of at least
 * four items, if it is a 32-byte string (undefined otherwise: the registry refuses to publish such a header). Looser
 * than `readHeaderFields` on purpose: a header the opening finds INVALID still has the output root it was published
 * under.
 */
export function outputStateRoot(rlp: Uint8Array): Uint8Array | undefined {
  let decoded: unknown
  try {
    decoded = RLP.decode(rlp)
  } catch {
    return undefined
  }
  if (!Array.isArray(decoded) || decoded.length < 4) return undefined
  const stateRoot: unknown = decoded[HEADER_FIELD.stateRoot]
  return stateRoot instanceof Uint8Array && stateRoot.length === 32 ? stateRoot : undefined
}
