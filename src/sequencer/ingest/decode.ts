/**
 * Raw transaction bytes → a validated, sender-recovered `DecodedTx`.
 *
 * Everything here is stateless (no nonce/balance reads), so it can run in worker threads; the
 * stateful checks live in the tx pool. Checks follow geth's `ValidateTransaction` order and
 * messages (see errors.ts).
 *
 * Two ethereumjs behaviours shape this file:
 *  - ethereumjs' constructors throw generic errors for several conditions clients need typed
 *    answers for (chain id mismatch, high s, tip > fee cap, init code size), so those fields are
 *    checked on the decoded RLP list before the tx object is built.
 *  - Sender recovery does not go through `tx.getSenderPublicKey()`: the recovery id is already
 *    known from the chain-id check and the signing hash is re-encoded from the decoded list
 *    (cheaper than ethereumjs' field-by-field re-serialization). We recover with the native addon
 *    directly and seed `tx.cache.senderPubKey` and `tx.cache.hash` — the caches ethereumjs consults
 *    before recovering/hashing — so later `getSenderAddress()`/`hash()` calls are free.
 */
import { RLP, type NestedUint8Array } from '@ethereumjs/rlp'
import {
  create1559FeeMarketTxFromBytesArray,
  createAccessList2930TxFromBytesArray,
  createEOACode7702TxFromBytesArray,
  createLegacyTxFromBytesArray,
  type TxOptions,
  type TypedTransaction,
} from '@ethereumjs/tx'
import { Address, MAX_UINT64, SECP256K1_ORDER, SECP256K1_ORDER_DIV_2, bytesToBigInt } from '@ethereumjs/util'
import type { Common } from '@ethereumjs/common'
import { DEPOSIT_TX_TYPE } from '../../chain/deposit-tx.ts'
import { encodeRlp, unpaddedBytes } from '../../primitives/rlp-fields.ts'
import type { Hex } from '../../primitives/state-diff.ts'
import { ecdsaRecoverPublicKey, keccak256, publicKeyToAddress } from '../../crypto/native.ts'
import { hasPlainTransferShape, supportsNativeTransfers, type PlainTransfer } from '../../execution/native-transfer.ts'
import { seedSenderAddress } from '../../execution/tx-sender-cache.ts'
import type { TxHeader } from '../../execution/executor.ts'
import { TX_GAS_LIMIT_CAP, calldataFloorGas } from '../../execution/tx-rules.ts'
import { decodeValidatedTx, fastTxOptions } from '../../execution/validated-tx.ts'
import { isTxRejectedError, rejectTx } from './errors.ts'

/** geth's txMaxSize: 4 slots of 32 KiB. Bounds the memory a pool full of max-size txs can pin. */
export const DEFAULT_MAX_TX_BYTES = 128 * 1024

export interface DecodeLimits {
  /** Largest tx gas limit accepted. Pass the mini-block gas limit if a tx must fit in one mini-block. */
  blockGasLimit: bigint
  /** Largest encoded tx accepted, in bytes. Default `DEFAULT_MAX_TX_BYTES`. */
  maxTxBytes?: number
  /** Accept pre-EIP-155 (unprotected) legacy txs, like geth's `--rpc.allow-unprotected-txs`. Default false. */
  allowUnprotectedTxs?: boolean
}

/** A validated transaction. Hashes and addresses are lowercase 0x hex. */
export interface DecodedTx {
  readonly hash: Hex
  /** The exact bytes received (canonical: ethereumjs' RLP decoder rejects non-canonical input). */
  readonly raw: Uint8Array
  readonly sender: Hex
  readonly nonce: bigint
  readonly gasLimit: bigint
  /** For legacy and EIP-2930 txs both fee fields are the gas price. */
  readonly maxFeePerGas: bigint
  readonly maxPriorityFeePerGas: bigint
  readonly value: bigint
  /** Encoded size in bytes. */
  readonly size: number
  readonly type: number
  /**
   * The ethereumjs tx, with sender public key and hash pre-cached (see file comment); built on first
   * access unless verification built it.
   */
  readonly tx: TypedTransaction
  /** Set when the tx has a plain transfer's shape: the executor can apply it without `tx`. */
  readonly transfer: PlainTransfer | undefined
  /** What committing it reads: the parallel executor commits a worker's result for it without `tx`. */
  readonly header: TxHeader
}

/**
 * The plain-data form of a `DecodedTx` that crosses the worker boundary (structured clone), minus
 * `raw` (the caller still has it) and `tx` (rebuilt on the receiving side).
 */
export interface WireDecodedTx {
  hash: Hex
  sender: Hex
  /** 64-byte uncompressed public key without the 0x04 prefix. */
  senderPubKey: Uint8Array
  nonce: bigint
  gasLimit: bigint
  maxFeePerGas: bigint
  maxPriorityFeePerGas: bigint
  value: bigint
  size: number
  type: number
  /** The recipient, lowercase; null for a contract creation. */
  to: Hex | null
  /** `hasPlainTransferShape`: the main thread builds the `PlainTransfer` from these fields. */
  plainTransferShape: boolean
}

/**
 * What decoding needs from a Common, prepared once per Common.
 *
 * Every ethereumjs tx constructor copies its Common and merges the tx params into it
 * (`updateParams(paramsTx)`, twice for legacy txs): ~16 µs of JSON cloning per tx, half the cost
 * of decoding. The codec's transactions share one prepared Common instead (`fastTxOptions`).
 */
export interface TxCodec {
  readonly common: Common
  readonly chainId: bigint
  readonly maxInitCodeSize: bigint
  readonly txOptions: TxOptions
  /** Gas prices `plainCallScalars` charges; undefined outside London–Osaka (it is not used there). */
  readonly plainCallGas: { base: bigint; zeroByte: bigint; nonZeroByte: bigint } | undefined
  /** EIP-7702 (Prague): set-code (type 4) transactions decode. */
  readonly setCodeTxs: boolean
  /** EIP-7623 (Prague): the gas limit must also cover the calldata floor. */
  readonly calldataFloor: boolean
  /** EIP-7825 (Osaka): the per-transaction gas cap, if the fork has one. */
  readonly txGasLimitCap: bigint | undefined
}

const codecs = new WeakMap<Common, TxCodec>()

export function getTxCodec(common: Common): TxCodec {
  let codec = codecs.get(common)
  if (codec === undefined) {
    const txOptions = fastTxOptions(common)
    const prepared = txOptions.common!
    codec = {
      common: prepared,
      chainId: prepared.chainId(),
      maxInitCodeSize: prepared.isActivatedEIP(3860) ? prepared.param('maxInitCodeSize') : 0n,
      txOptions,
      plainCallGas: supportsNativeTransfers(prepared)
        ? {
            base: prepared.param('txGas'),
            zeroByte: prepared.param('txDataZeroGas'),
            nonZeroByte: prepared.param('txDataNonZeroGas'),
          }
        : undefined,
      setCodeTxs: prepared.isActivatedEIP(7702),
      calldataFloor: prepared.isActivatedEIP(7623),
      txGasLimitCap: prepared.isActivatedEIP(7825) ? TX_GAS_LIMIT_CAP : undefined,
    }
    codecs.set(common, codec)
  }
  return codec
}

/** Positions of the fields we pre-check in each signed envelope's RLP list. */
interface Layout {
  length: number
  chainId: number
  nonce: number
  priorityFee: number
  maxFee: number
  gasLimit: number
  to: number
  data: number
  v: number
  r: number
  s: number
}

/** Signed envelopes this node decodes: legacy, EIP-2930, EIP-1559 and (from Prague) EIP-7702 set-code. */
type DecodedType = 0 | 1 | 2 | 4

const LAYOUTS: Record<DecodedType, Layout> = {
  // [nonce, gasPrice, gasLimit, to, value, data, v, r, s]
  0: { length: 9, chainId: -1, nonce: 0, priorityFee: 1, maxFee: 1, gasLimit: 2, to: 3, data: 5, v: 6, r: 7, s: 8 },
  // [chainId, nonce, gasPrice, gasLimit, to, value, data, accessList, yParity, r, s]
  1: { length: 11, chainId: 0, nonce: 1, priorityFee: 2, maxFee: 2, gasLimit: 3, to: 4, data: 6, v: 8, r: 9, s: 10 },
  // [chainId, nonce, maxPriorityFeePerGas, maxFeePerGas, gasLimit, to, value, data, accessList, yParity, r, s]
  2: { length: 12, chainId: 0, nonce: 1, priorityFee: 2, maxFee: 3, gasLimit: 4, to: 5, data: 7, v: 9, r: 10, s: 11 },
  // [chainId, nonce, maxPriorityFeePerGas, maxFeePerGas, gasLimit, to, value, data, accessList, authorizationList, yParity, r, s]
  4: { length: 13, chainId: 0, nonce: 1, priorityFee: 2, maxFee: 3, gasLimit: 4, to: 5, data: 7, v: 10, r: 11, s: 12 },
}

/** Position of the authorization list in a set-code transaction's RLP list. */
const AUTHORIZATION_LIST_FIELD = 9

/** tx list → access list → entry → storage keys: no valid tx nests lists deeper (authorization tuples are shallower). */
const MAX_RLP_DEPTH = 4
/** The longest signed envelope (EIP-7702) has 13 fields. */
const MAX_TX_FIELDS = 13

/**
 * Rejects shapes no valid tx has, reading RLP headers only (O(n), no recursion, no allocation),
 * before ethereumjs' decoder sees them. That decoder recurses per nesting level and allocates per
 * item: 120 KB of nested empty lists takes it ~2.4 s to end in a stack overflow, and 120 KB of
 * one-byte fields ~200 ms, cheap ways to stall a decode worker. Malformed lengths are left for the
 * real decoder to report.
 * @returns what is wrong, or undefined
 */
function checkRlpShape(data: Uint8Array): string | undefined {
  const ends: number[] = []
  let fields = 0
  let pos = 0
  while (pos < data.length) {
    while (ends.length > 0 && pos >= ends[ends.length - 1]!) ends.pop()
    if (ends.length === 1 && ++fields > MAX_TX_FIELDS) return `more than ${MAX_TX_FIELDS} fields`
    const prefix = data[pos]!
    if (prefix < 0xc0) {
      // A string: skip its header and payload.
      if (prefix < 0x80) pos += 1
      else if (prefix < 0xb8) pos += 1 + prefix - 0x80
      else pos += 1 + (prefix - 0xb7) + readLength(data, pos + 1, prefix - 0xb7)
      continue
    }
    const lengthOfLength = prefix < 0xf8 ? 0 : prefix - 0xf7
    const length = prefix < 0xf8 ? prefix - 0xc0 : readLength(data, pos + 1, lengthOfLength)
    const contentStart = pos + 1 + lengthOfLength
    ends.push(contentStart + length)
    if (ends.length > MAX_RLP_DEPTH) return `lists nested deeper than ${MAX_RLP_DEPTH}`
    pos = contentStart
  }
  return undefined
}

/** Big-endian length field; anything that cannot fit the input saturates (the decoder rejects it). */
function readLength(data: Uint8Array, offset: number, size: number): number {
  if (size > 4) return Number.MAX_SAFE_INTEGER
  let length = 0
  for (let i = 0; i < size; i++) length = length * 256 + (data[offset + i] ?? 0)
  return length
}

/** What the pool and the executor read from a tx, taken from it once at verification. */
interface TxScalars {
  nonce: bigint
  gasLimit: bigint
  maxFeePerGas: bigint
  maxPriorityFeePerGas: bigint
  value: bigint
  type: number
  to: Hex | null
  plainTransferShape: boolean
}

/** A tx that passed every stateless check, with its recovered sender. */
export interface VerifiedTx {
  hash: Uint8Array
  senderPubKey: Uint8Array
  sender: Hex
  scalars: TxScalars
  /** The ethereumjs object, when verification had to build one (see `plainCallScalars`). */
  tx: TypedTransaction | undefined
}

/**
 * Runs every stateless check on `raw` and recovers the sender.
 * @throws TxRejectedError
 */
export function verifyRawTransaction(raw: Uint8Array, codec: TxCodec, limits: DecodeLimits): VerifiedTx {
  const maxTxBytes = limits.maxTxBytes ?? DEFAULT_MAX_TX_BYTES
  if (raw.length > maxTxBytes) throw rejectTx('oversized', { size: raw.length, limit: maxTxBytes })
  if (raw.length === 0) throw rejectTx('malformed', { detail: 'empty transaction' })

  const first = raw[0]!
  let type: DecodedType
  if (first >= 0xc0) type = 0
  else if (first === 1 || first === 2) type = first
  else if (first === 4 && codec.setCodeTxs) type = 4
  else if (first === DEPOSIT_TX_TYPE) throw rejectTx('deposit-tx')
  // 3 = blob txs (no blob DA on this L2), 4 before Prague, others unknown.
  else if (first <= 0x7f) throw rejectTx('type-not-supported')
  else throw rejectTx('malformed', { detail: 'expected input list for legacy transaction' })

  const payload = type === 0 ? raw : raw.subarray(1)
  const shapeError = checkRlpShape(payload)
  if (shapeError !== undefined) throw rejectTx('malformed', { detail: shapeError })
  let values: Uint8Array | NestedUint8Array
  try {
    values = RLP.decode(payload)
  } catch (err) {
    throw rejectTx('malformed', { detail: describe(err) })
  }
  const layout = LAYOUTS[type]
  if (!Array.isArray(values) || values.length !== layout.length) {
    const got = Array.isArray(values) ? `${values.length} fields` : 'a string'
    throw rejectTx('malformed', { detail: `signed type ${type} transaction must have ${layout.length} fields, got ${got}` })
  }

  // Chain id and recovery id. Legacy: v = 27/28 (unprotected) or chainId * 2 + 35/36 (EIP-155).
  const v = integer(values, layout.v)
  let recoveryId: number
  if (type === 0) {
    if (v === 27n || v === 28n) {
      if (limits.allowUnprotectedTxs !== true) throw rejectTx('unprotected')
      recoveryId = Number(v - 27n)
    } else if (v >= 35n) {
      const have = (v - 35n) / 2n
      if (have !== codec.chainId) throw rejectTx('invalid-chain-id', { have, want: codec.chainId })
      recoveryId = Number((v - 35n) % 2n)
    } else {
      throw rejectTx('invalid-signature')
    }
  } else {
    const have = integer(values, layout.chainId)
    if (have !== codec.chainId) throw rejectTx('invalid-chain-id', { have, want: codec.chainId })
    if (v > 1n) throw rejectTx('invalid-signature')
    recoveryId = Number(v)
  }

  const gasLimit = integer(values, layout.gasLimit)
  // geth checks the fork's cap (EIP-7825) before the block's limit.
  if (codec.txGasLimitCap !== undefined && gasLimit > codec.txGasLimitCap)
    throw rejectTx('gas-limit-too-high', { cap: codec.txGasLimitCap, gas: gasLimit })
  if (gasLimit > limits.blockGasLimit) throw rejectTx('gas-limit')
  if (integer(values, layout.priorityFee) > integer(values, layout.maxFee)) throw rejectTx('tip-above-fee-cap')
  const data = bytes(values, layout.data)
  if (type === 4) {
    // geth's messages (ErrSetCodeTxCreate, ErrEmptyAuthList); ethereumjs' constructor would refuse both generically.
    if (bytes(values, layout.to).length === 0) throw rejectTx('set-code-create')
    const authorizations = values[AUTHORIZATION_LIST_FIELD]
    if (Array.isArray(authorizations) && authorizations.length === 0) throw rejectTx('empty-auth-list')
  }
  if (bytes(values, layout.to).length === 0 && codec.maxInitCodeSize > 0n && BigInt(data.length) > codec.maxInitCodeSize) {
    throw rejectTx('initcode-too-large', { size: data.length, limit: codec.maxInitCodeSize })
  }
  const rBytes = bytes(values, layout.r)
  const sBytes = bytes(values, layout.s)
  const r = bytesToBigInt(rBytes)
  const s = bytesToBigInt(sBytes)
  // EIP-2: s in the lower half of the curve order, otherwise (r, n - s) is a second valid signature.
  if (r === 0n || r >= SECP256K1_ORDER || s === 0n || s > SECP256K1_ORDER_DIV_2) throw rejectTx('invalid-signature')

  // The remaining structural checks (leading zeros, 2^64 bounds, access list shape, address
  // lengths) are ethereumjs' own, except for the common case `plainCallScalars` covers.
  let scalars = type === 2 ? plainCallScalars(values, codec) : undefined
  let tx: TypedTransaction | undefined
  if (scalars === undefined) {
    try {
      tx = construct(type, values, codec.txOptions)
    } catch (err) {
      throw rejectTx('malformed', { detail: describe(err) })
    }
    const intrinsic = tx.getIntrinsicGas()
    if (tx.gasLimit < intrinsic) throw rejectTx('intrinsic-gas', { gas: tx.gasLimit, minimum: intrinsic })
    scalars = scalarsOf(tx)
  }
  if (codec.calldataFloor) {
    const floor = calldataFloorGas(data)
    if (scalars.gasLimit < floor) throw rejectTx('floor-data-gas', { gas: scalars.gasLimit, minimum: floor })
  }

  const signature = new Uint8Array(64)
  signature.set(rBytes, 32 - rBytes.length)
  signature.set(sBytes, 64 - sBytes.length)
  let senderPubKey: Uint8Array
  try {
    senderPubKey = ecdsaRecoverPublicKey(signature, recoveryId, signingHash(type, values, v, codec.chainId))
  } catch {
    throw rejectTx('invalid-sender')
  }
  const hash = keccak256(raw)
  if (tx !== undefined) {
    tx.cache.senderPubKey = senderPubKey
    tx.cache.hash = hash
  }
  return { hash, senderPubKey, sender: toHex(publicKeyToAddress(senderPubKey)), scalars, tx }
}

/** ethereumjs' constructors bound fee × gas by 2^256 − 1, and nonces and gas limits by 2^64 − 1 (8 bytes). */
const MAX_UINT256 = (1n << 256n) - 1n
const MAX_UINT64_BYTES = 8

/**
 * The scalars of an EIP-1559 call with no access list (what wallets send), checked the way
 * `FeeMarket1559Tx`'s constructor and `getIntrinsicGas` check them (with the checks
 * `verifyRawTransaction` made before), without building the object: ~12 µs of a ~70 µs decode.
 *
 * Undefined for any other shape and for anything unusual (leading zeros, out-of-range fields, gas
 * below intrinsic): the constructor then runs and rejects the tx with its own message.
 * `test/unit/ingest.test.ts` holds this to the constructor's verdicts on valid and mutated txs.
 */
function plainCallScalars(values: NestedUint8Array, codec: TxCodec): TxScalars | undefined {
  const gas = codec.plainCallGas
  if (gas === undefined) return undefined
  const [, nonce, priorityFee, maxFee, gasLimit, to, value, data, accessList, v, r, s] = values
  if (!Array.isArray(accessList) || accessList.length !== 0) return undefined
  if (!(to instanceof Uint8Array) || to.length !== 20 || !(data instanceof Uint8Array)) return undefined
  for (const field of [nonce, priorityFee, maxFee, gasLimit, value, v, r, s]) {
    if (!(field instanceof Uint8Array) || field.length > 32 || (field.length > 0 && field[0] === 0)) return undefined
  }
  // EIP-2681: a nonce below 2^64 − 1; geth's gas limit bound: at most 2^64 − 1.
  if ((nonce as Uint8Array).length > MAX_UINT64_BYTES || (gasLimit as Uint8Array).length > MAX_UINT64_BYTES) return undefined
  const scalars: TxScalars = {
    nonce: bytesToBigInt(nonce as Uint8Array),
    gasLimit: bytesToBigInt(gasLimit as Uint8Array),
    maxFeePerGas: bytesToBigInt(maxFee as Uint8Array),
    maxPriorityFeePerGas: bytesToBigInt(priorityFee as Uint8Array),
    value: bytesToBigInt(value as Uint8Array),
    type: 2,
    to: toHex(to),
    plainTransferShape: data.length === 0,
  }
  if (scalars.nonce === MAX_UINT64 || scalars.gasLimit * scalars.maxFeePerGas > MAX_UINT256) return undefined
  let intrinsic = gas.base
  for (let i = 0; i < data.length; i++) intrinsic += data[i] === 0 ? gas.zeroByte : gas.nonZeroByte
  if (scalars.gasLimit < intrinsic) return undefined
  return scalars
}

function scalarsOf(tx: TypedTransaction): TxScalars {
  const fees = feeFields(tx)
  return {
    nonce: tx.nonce,
    gasLimit: tx.gasLimit,
    maxFeePerGas: fees.maxFeePerGas,
    maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
    value: tx.value,
    type: tx.type,
    to: tx.to === undefined ? null : (tx.to.toString() as Hex),
    plainTransferShape: hasPlainTransferShape(tx),
  }
}

/**
 * Decodes and validates a raw transaction in the calling thread.
 * @throws TxRejectedError
 */
export function decodeRawTransaction(raw: Uint8Array, common: Common, limits: DecodeLimits): DecodedTx {
  const codec = getTxCodec(common)
  return toDecodedTx(raw, verifyRawTransaction(raw, codec, limits), codec)
}

export function toDecodedTx(raw: Uint8Array, verified: VerifiedTx, codec: TxCodec): DecodedTx {
  return fromWireDecodedTx(raw, toWireDecodedTx(raw, verified), codec, verified.tx)
}

export function toWireDecodedTx(raw: Uint8Array, verified: VerifiedTx): WireDecodedTx {
  return {
    hash: toHex(verified.hash),
    sender: verified.sender,
    senderPubKey: verified.senderPubKey,
    size: raw.length,
    ...verified.scalars,
  }
}

/**
 * Rebuilds a `DecodedTx` from what a worker verified, without re-verifying anything.
 *
 * The ethereumjs object (unless verification left one, `built`) is built lazily, on first `.tx`
 * access, without re-validating the bytes (`decodeValidatedTx`): the pool only needs the scalar
 * fields, so txs that are rejected by the pool, replaced or expired never pay for it, and the cost
 * moves off the RPC ingest path to the executor that actually needs it.
 */
export function fromWireDecodedTx(raw: Uint8Array, wire: WireDecodedTx, codec: TxCodec, built?: TypedTransaction): DecodedTx {
  let tx = built
  if (tx !== undefined) seedSenderAddress(tx, new Address(hexToBytes(wire.sender)))
  const transfer: PlainTransfer | undefined =
    wire.plainTransferShape && wire.to !== null
      ? {
          hash: wire.hash,
          type: wire.type as 0 | 1 | 2,
          sender: wire.sender,
          to: wire.to,
          nonce: wire.nonce,
          value: wire.value,
          gasLimit: wire.gasLimit,
          maxFeePerGas: wire.maxFeePerGas,
          maxPriorityFeePerGas: wire.maxPriorityFeePerGas,
        }
      : undefined
  const header: TxHeader = {
    hash: wire.hash,
    type: wire.type,
    sender: wire.sender,
    to: wire.to,
    gasLimit: wire.gasLimit,
    maxFeePerGas: wire.maxFeePerGas,
    maxPriorityFeePerGas: wire.maxPriorityFeePerGas,
    senderPubKey: wire.senderPubKey,
  }
  return {
    transfer,
    header,
    hash: wire.hash,
    raw,
    sender: wire.sender,
    nonce: wire.nonce,
    gasLimit: wire.gasLimit,
    maxFeePerGas: wire.maxFeePerGas,
    maxPriorityFeePerGas: wire.maxPriorityFeePerGas,
    value: wire.value,
    size: wire.size,
    type: wire.type,
    get tx(): TypedTransaction {
      if (tx === undefined) {
        // Same bytes, same Common as the worker used: cannot throw unless the worker was lied to.
        const decoded = decodeValidatedTx(raw, codec.txOptions)
        decoded.cache.senderPubKey = wire.senderPubKey
        decoded.cache.hash = hexToBytes(wire.hash)
        seedSenderAddress(decoded, new Address(hexToBytes(wire.sender)))
        tx = decoded
      }
      return tx
    },
  }
}

function construct(type: DecodedType, values: NestedUint8Array, opts: TxOptions): TypedTransaction {
  switch (type) {
    case 0:
      return createLegacyTxFromBytesArray(values as Parameters<typeof createLegacyTxFromBytesArray>[0], opts)
    case 1:
      return createAccessList2930TxFromBytesArray(values as Parameters<typeof createAccessList2930TxFromBytesArray>[0], opts)
    case 2:
      return create1559FeeMarketTxFromBytesArray(values as Parameters<typeof create1559FeeMarketTxFromBytesArray>[0], opts)
    case 4:
      return createEOACode7702TxFromBytesArray(values as Parameters<typeof createEOACode7702TxFromBytesArray>[0], opts)
  }
}

/**
 * The hash the sender signed, re-encoded from the already-decoded fields: the same bytes as
 * `tx.getHashedMessageToSign()` (the decoded list is canonical, checked by the constructor), minus
 * ethereumjs' bigint → bytes round trip of every field, which costs ~7 µs per tx.
 */
function signingHash(type: DecodedType, values: NestedUint8Array, v: bigint, chainId: bigint): Uint8Array {
  const unsigned = values.slice(0, values.length - 3)
  if (type !== 0) {
    const body = encodeRlp(unsigned)
    const message = new Uint8Array(body.length + 1)
    message[0] = type
    message.set(body, 1)
    return keccak256(message)
  }
  // EIP-155 appends [chainId, 0, 0]; unprotected legacy txs sign the six fields alone.
  if (v >= 35n) unsigned.push(unpaddedBytes(chainId), new Uint8Array(0), new Uint8Array(0))
  return keccak256(encodeRlp(unsigned))
}

function feeFields(tx: TypedTransaction): { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint } {
  if ('maxFeePerGas' in tx) return { maxFeePerGas: tx.maxFeePerGas, maxPriorityFeePerGas: tx.maxPriorityFeePerGas }
  return { maxFeePerGas: tx.gasPrice, maxPriorityFeePerGas: tx.gasPrice }
}

function bytes(values: NestedUint8Array, index: number): Uint8Array {
  const value = values[index]
  if (!(value instanceof Uint8Array)) throw rejectTx('malformed', { detail: `field ${index} must be a byte string, not a list` })
  return value
}

function integer(values: NestedUint8Array, index: number): bigint {
  return bytesToBigInt(bytes(values, index))
}

/** ethereumjs errors end in a long " (tx type=... hash=...)" context postfix; clients need the first part. */
function describe(err: unknown): string {
  if (isTxRejectedError(err)) return err.message
  const message = err instanceof Error ? err.message : String(err)
  const postfix = message.indexOf(' (tx type=')
  return postfix === -1 ? message : message.slice(0, postfix)
}

export function toHex(data: Uint8Array): Hex {
  return `0x${Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('hex')}`
}

function hexToBytes(hex: Hex): Uint8Array {
  // Copy out of Buffer's shared 8 KiB allocation pool: the result lives as long as the tx.
  return new Uint8Array(Buffer.from(hex.slice(2), 'hex'))
}
