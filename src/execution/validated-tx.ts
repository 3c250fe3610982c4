/**
 * Decoding of transactions already validated once (by the ingest path, or a stored block body):
 * execution workers and the sequencer's pool rebuild ethereumjs objects from bytes that passed
 * ethereumjs' full constructor before, so they can skip the validation. For a plain
 * EIP-1559 transaction (the common case) the object is built the way `FeeMarket1559Tx`'s constructor
 * builds it — same properties, same order, same values — without its generic field conversions and
 * checks (~7 µs of a ~40 µs transfer). Anything else goes through `createTxFromRLP`.
 * `test/unit/parallel-executor.test.ts` pins the result to ethereumjs' own, property by property.
 */
import type { Common } from '@ethereumjs/common'
import { FeeMarket1559Tx, createTxFromRLP, paramsTx, type TxOptions, type TypedTransaction } from '@ethereumjs/tx'
import { Address, bytesToBigInt, toBytes } from '@ethereumjs/util'
import { DEPOSIT_TX_TYPE } from '../chain/deposit-tx.ts'
import { DepositTx, type L2Transaction } from '../chain/l2-transaction.ts'
import { rlpListItems, rlpStringPayload } from '../primitives/rlp-fields.ts'

type Mutable = Record<string, unknown>

/** RLP of an empty list: an EIP-1559 transaction without an access list has it in field 8. */
const EMPTY_LIST = 0xc0

/**
 * Tx options for decoding many transactions: every ethereumjs tx constructor copies its Common and
 * rebuilds the params cache (`updateParams`), ~15 µs per transaction — half of a transfer's
 * execution. These share one Common with the tx params merged in once: its `copy` returns itself
 * and `updateParams` is a no-op. (Transactions only read their Common; this one is private to the
 * decoder.)
 */
export function fastTxOptions(common: Common): TxOptions {
  const shared = common.copy()
  shared.updateParams(paramsTx)
  Object.defineProperty(shared, 'copy', { value: () => shared })
  Object.defineProperty(shared, 'updateParams', { value: () => shared })
  return { common: shared, params: {}, freeze: true }
}

export function decodeValidatedTx(raw: Uint8Array, opts: TxOptions): TypedTransaction {
  if (raw[0] === 2) {
    // Fields as views into `raw` (which the caller keeps anyway): RLP.decode copies every one.
    const items = rlpListItems(raw.subarray(1), 'transaction')
    if (items.length === 12 && items[8]!.length === 1 && items[8]![0] === EMPTY_LIST) {
      return feeMarketTxFromValues(
        items.map((item, i) => (i === 8 ? [] : rlpStringPayload(item, 'transaction field'))),
        opts,
      )
    }
  }
  return createTxFromRLP(raw, opts)
}

function feeMarketTxFromValues(values: ReadonlyArray<Uint8Array | Uint8Array[]>, opts: TxOptions): TypedTransaction {
  const [, nonce, maxPriorityFeePerGas, maxFeePerGas, gasLimit, to, value, data, accessList, v, r, s] = values as [
    Uint8Array,
    Uint8Array,
    Uint8Array,
    Uint8Array,
    Uint8Array,
    Uint8Array,
    Uint8Array,
    Uint8Array,
    Uint8Array[],
    Uint8Array,
    Uint8Array,
    Uint8Array,
  ]
  const common = opts.common!.copy()
  const tx = Object.create(FeeMarket1559Tx.prototype) as Mutable
  tx.type = 2
  tx.cache = {}
  tx.activeCapabilities = []
  tx.common = common
  tx.txOptions = opts
  const toAddress = to.length > 0 ? new Address(to) : undefined
  tx.to = toAddress
  tx.nonce = bytesToBigInt(nonce)
  tx.gasLimit = bytesToBigInt(gasLimit)
  tx.to = toAddress
  tx.value = bytesToBigInt(value)
  tx.data = data
  const vB = toBytes(bytesToBigInt(v))
  tx.v = vB.length > 0 ? bytesToBigInt(vB) : undefined
  tx.r = r.length > 0 ? bytesToBigInt(r) : undefined
  tx.s = s.length > 0 ? bytesToBigInt(s) : undefined
  tx.chainId = common.chainId()
  tx.activeCapabilities = [1559, 2718, 2930]
  tx.accessList = accessList
  tx.maxFeePerGas = bytesToBigInt(maxFeePerGas)
  tx.maxPriorityFeePerGas = bytesToBigInt(maxPriorityFeePerGas)
  if (opts.freeze ?? true) Object.freeze(tx)
  return tx as unknown as TypedTransaction
}

/**
 * `decodeValidatedTx` for any stored L2 transaction, OP deposits (type 0x7E) included: what the RPC
 * and block readers of a role decode block bodies with. Execution paths keep `decodeValidatedTx`:
 * deposits never reach them (they run through `applyDeposits`).
 */
export function decodeValidatedL2Tx(raw: Uint8Array, opts: TxOptions): L2Transaction {
  return raw[0] === DEPOSIT_TX_TYPE ? DepositTx.fromRaw(raw) : decodeValidatedTx(raw, opts)
}
