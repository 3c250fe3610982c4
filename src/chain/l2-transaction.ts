/**
 * The transactions an L2 block body holds: Ethereum's typed transactions (ethereumjs objects) and OP
 * deposits (type 0x7E), which ethereumjs does not know. `DepositTx` gives a deposit the few members
 * the RPC and replica code read of a transaction (hash, serialize, type), plus its own fields;
 * `decodeL2Transaction` is the one decoder of raw L2 transactions for every reader of blocks.
 */
import { createTxFromRLP, type TxOptions, type TypedTransaction } from '@ethereumjs/tx'
import { bytesToHex } from '@ethereumjs/util'
import { keccak256 } from '../crypto/native.ts'
import type { Hex } from '../primitives/state-diff.ts'
import { DEPOSIT_TX_TYPE, decodeDepositTx, encodeDepositTx, type DepositTransaction } from './deposit-tx.ts'

/** A decoded deposit with its canonical encoding and (memoized) hash. */
export class DepositTx {
  readonly type = DEPOSIT_TX_TYPE
  private cachedHash: Uint8Array | undefined

  private constructor(
    readonly fields: DepositTransaction,
    private readonly raw: Uint8Array,
  ) {}

  /** @throws DepositTxError when `raw` is not a valid deposit */
  static fromRaw(raw: Uint8Array): DepositTx {
    return new DepositTx(decodeDepositTx(raw), raw)
  }

  static fromFields(fields: DepositTransaction): DepositTx {
    return new DepositTx(fields, encodeDepositTx(fields))
  }

  /** keccak256 of the typed encoding (`depositTxHash`). */
  hash(): Uint8Array {
    this.cachedHash ??= keccak256(this.raw)
    return this.cachedHash
  }

  hashHex(): Hex {
    return bytesToHex(this.hash()) as Hex
  }

  /** The canonical encoding, `0x7E ‖ rlp(fields)`. */
  serialize(): Uint8Array {
    return this.raw
  }
}

/** A transaction of an L2 block body. */
export type L2Transaction = TypedTransaction | DepositTx

export function isDepositTx(tx: L2Transaction): tx is DepositTx {
  return tx instanceof DepositTx
}

/** Decodes one raw L2 transaction: a deposit by its type byte, anything else as ethereumjs does. */
export function decodeL2Transaction(raw: Uint8Array, txOptions: TxOptions): L2Transaction {
  return raw[0] === DEPOSIT_TX_TYPE ? DepositTx.fromRaw(raw) : createTxFromRLP(raw, txOptions)
}
