/**
 * One transaction's split form inside a span batch (OP specs `delta/span-batches.md`, "txs";
 * `isthmus/derivation.md` adds type 4; op-node `rollup/derive/span_batch_tx.go`, `span_batch_txs.go`).
 *
 * A signed transaction is cut into the fields the span batch stores column by column — contract
 * creation bit, y parity, r, s, `to`, nonce, gas, the legacy "protected" (EIP-155) bit — and its
 * `tx_data`: what is left, re-encoded without chain id, nonce, gas, `to` and signature:
 *
 *   legacy: rlp([value, gasPrice, data])
 *   1:      0x01 ‖ rlp([value, gasPrice, data, accessList])
 *   2:      0x02 ‖ rlp([value, maxPriorityFeePerGas, maxFeePerGas, data, accessList])
 *   4:      0x04 ‖ rlp([value, maxPriorityFeePerGas, maxFeePerGas, data, accessList, authorizationList])
 *
 * The remaining fields are copied as their RLP bytes, so a canonical transaction comes back byte for
 * byte. Both directions check the shapes go-ethereum's decoder checks (field counts, canonical
 * integers, 20-byte addresses, 32-byte storage keys), so we never write what op-node would refuse.
 */
import { RLP } from '@ethereumjs/rlp'
import { bytesToBigInt, concatRlpList, encodeRlp, rlpListItems, type RlpValue, unpaddedBytes } from '../primitives/rlp-fields.ts'
import { DaCodecError } from './errors.ts'
import { rlpBytes, rlpList, rlpUint } from './rlp-items.ts'

export type SpanTxType = 0 | 1 | 2 | 4

/** A transaction split into span-batch columns. */
export interface SpanTx {
  readonly type: SpanTxType
  /** The `to` address (20 bytes), or undefined for a contract creation. */
  readonly to: Uint8Array | undefined
  readonly yParity: 0 | 1
  /** 32 bytes each, big-endian. */
  readonly r: Uint8Array
  readonly s: Uint8Array
  readonly nonce: bigint
  readonly gas: bigint
  /** Legacy transactions only: signed with EIP-155 replay protection. */
  readonly isProtected: boolean
  /** The `tx_data` entry (type byte for typed transactions, then the RLP list). */
  readonly data: Uint8Array
}

/** Field layout per type: how many fields, and where nonce, gas, to, and the signature sit. */
const LAYOUT = {
  0: { fields: 9, nonce: 0, gas: 2, to: 3, sig: 6, kept: [4, 1, 5] },
  1: { fields: 11, nonce: 1, gas: 3, to: 4, sig: 8, kept: [5, 2, 6, 7] },
  2: { fields: 12, nonce: 1, gas: 4, to: 5, sig: 9, kept: [6, 2, 3, 7, 8] },
  4: { fields: 13, nonce: 1, gas: 4, to: 5, sig: 10, kept: [6, 2, 3, 7, 8, 9] },
} as const

/** Splits a signed EIP-2718 transaction of `chainId`. @throws DaCodecError ('bad-input') */
export function toSpanTx(raw: Uint8Array, chainId: bigint): SpanTx {
  const first = raw[0]
  if (first === undefined) throw badInput('empty transaction')
  const type = (first >= 0xc0 ? 0 : first) as SpanTxType
  if (!(type in LAYOUT)) throw badInput(`transaction type ${first} cannot go in a span batch`)
  const layout = LAYOUT[type]
  let items: Uint8Array[]
  let values: RlpValue[]
  try {
    const body = type === 0 ? raw : raw.subarray(1)
    items = rlpListItems(body, 'transaction')
    values = RLP.decode(body) as RlpValue[]
  } catch (error) {
    throw badInput(`malformed transaction: ${(error as Error).message}`)
  }
  if (items.length !== layout.fields)
    throw badInput(`type-${type} transaction with ${items.length} fields, expected ${layout.fields}`)
  const field = <T>(read: () => T): T => {
    try {
      return read()
    } catch (error) {
      if (error instanceof DaCodecError) throw badInput(error.message)
      throw error
    }
  }
  const to = field(() => rlpBytes(values[layout.to], 'to'))
  if (to.length !== 0 && to.length !== 20) throw badInput(`to of ${to.length} bytes`)
  if (to.length === 0 && type === 4) throw badInput('a type-4 transaction cannot create a contract')
  const sig = layout.sig
  let yParity: 0 | 1
  let isProtected = false
  if (type === 0) {
    const v = field(() => rlpUint(values[sig], 32, 'v'))
    if (v === 27n || v === 28n) yParity = Number(v - 27n) as 0 | 1
    else {
      const parity = v - 35n - 2n * chainId
      if (parity !== 0n && parity !== 1n) throw badInput(`legacy v ${v} is not EIP-155 for chain ${chainId}`)
      yParity = Number(parity) as 0 | 1
      isProtected = true
    }
  } else {
    const txChainId = field(() => rlpUint(values[0], 32, 'chainId'))
    if (txChainId !== chainId) throw badInput(`transaction for chain ${txChainId}, expected ${chainId}`)
    const parity = field(() => rlpUint(values[sig], 1, 'yParity'))
    if (parity > 1n) throw badInput(`yParity ${parity}`)
    yParity = Number(parity) as 0 | 1
  }
  const kept = layout.kept.map((i) => items[i]!)
  field(() =>
    checkKeptFields(
      type,
      kept.map((_, k) => values[layout.kept[k]!]!),
    ),
  )
  const listBytes = concatRlpList(kept)
  return {
    type,
    to: to.length === 0 ? undefined : to,
    yParity,
    r: field(() => word(rlpUint(values[sig + 1], 32, 'r'))),
    s: field(() => word(rlpUint(values[sig + 2], 32, 's'))),
    nonce: field(() => rlpUint(values[layout.nonce], 8, 'nonce')),
    gas: field(() => rlpUint(values[layout.gas], 8, 'gas')),
    isProtected,
    data: type === 0 ? listBytes : prefixed(type, listBytes),
  }
}

/** Rebuilds the signed EIP-2718 transaction of `chainId` from its span-batch columns. @throws DaCodecError */
export function fromSpanTx(tx: SpanTx, chainId: bigint): Uint8Array {
  const layout = LAYOUT[tx.type]
  const body = tx.type === 0 ? tx.data : tx.data.subarray(1)
  let kept: Uint8Array[]
  try {
    kept = rlpListItems(body, 'span tx data')
  } catch (error) {
    throw new DaCodecError('span-batch-bad-tx', (error as Error).message)
  }
  if (kept.length !== layout.kept.length)
    throw new DaCodecError('span-batch-bad-tx', `type-${tx.type} tx data with ${kept.length} fields`)
  if (tx.type === 4 && tx.to === undefined)
    throw new DaCodecError('span-batch-bad-tx', 'a type-4 transaction cannot create a contract')
  const items: Uint8Array[] = new Array(layout.fields)
  layout.kept.forEach((at, k) => {
    items[at] = kept[k]!
  })
  items[layout.nonce] = encodeRlp(tx.nonce)
  items[layout.gas] = encodeRlp(tx.gas)
  items[layout.to] = encodeRlp(tx.to ?? new Uint8Array(0))
  const v =
    tx.type !== 0 ? BigInt(tx.yParity) : tx.isProtected ? chainId * 2n + 35n + BigInt(tx.yParity) : 27n + BigInt(tx.yParity)
  items[layout.sig] = encodeRlp(v)
  items[layout.sig + 1] = encodeRlp(bytesToBigInt(tx.r))
  items[layout.sig + 2] = encodeRlp(bytesToBigInt(tx.s))
  if (tx.type !== 0) items[0] = encodeRlp(chainId)
  const list = concatRlpList(items)
  return tx.type === 0 ? list : prefixed(tx.type, list)
}

/**
 * Validates a `tx_data` entry (type byte included for typed transactions) as op-node decodes it.
 * @throws DaCodecError ('span-batch-bad-tx')
 */
export function checkSpanTxData(type: SpanTxType, listBytes: Uint8Array): void {
  let values: RlpValue
  try {
    values = RLP.decode(listBytes) as RlpValue
  } catch (error) {
    throw new DaCodecError('span-batch-bad-tx', `span tx data: invalid RLP (${(error as Error).message})`)
  }
  try {
    checkKeptFields(type, rlpList(values, LAYOUT[type].kept.length, `type-${type} span tx data`))
  } catch (error) {
    if (error instanceof DaCodecError) throw new DaCodecError('span-batch-bad-tx', error.message)
    throw error
  }
}

/** value, fees: uint256; data: bytes; access list: [[address, [key…]]…]; authorizations: [[chainId, address, nonce, yParity, r, s]…]. */
function checkKeptFields(type: SpanTxType, values: RlpValue[]): void {
  rlpUint(values[0], 32, 'value')
  const feeFields = type === 2 || type === 4 ? 2 : 1
  for (let i = 1; i <= feeFields; i++) rlpUint(values[i], 32, 'fee')
  rlpBytes(values[feeFields + 1], 'data')
  if (type === 0) return
  for (const entry of rlpList(values[feeFields + 2], undefined, 'access list')) {
    const [address, keys] = rlpList(entry, 2, 'access list entry')
    rlpBytes(address, 'access list address', 20)
    for (const key of rlpList(keys, undefined, 'storage keys')) rlpBytes(key, 'storage key', 32)
  }
  if (type !== 4) return
  for (const auth of rlpList(values[feeFields + 3], undefined, 'authorization list')) {
    const [authChainId, address, nonce, parity, r, s] = rlpList(auth, 6, 'authorization')
    rlpUint(authChainId, 32, 'authorization chainId')
    rlpBytes(address, 'authorization address', 20)
    rlpUint(nonce, 8, 'authorization nonce')
    rlpUint(parity, 1, 'authorization yParity')
    rlpUint(r, 32, 'authorization r')
    rlpUint(s, 32, 'authorization s')
  }
}

function word(value: bigint): Uint8Array {
  const out = new Uint8Array(32)
  const bytes = unpaddedBytes(value)
  out.set(bytes, 32 - bytes.length)
  return out
}

function prefixed(type: number, list: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + list.length)
  out[0] = type
  out.set(list, 1)
  return out
}

function badInput(message: string): DaCodecError {
  return new DaCodecError('bad-input', message)
}
