import type { BlockHeader } from '@ethereumjs/block'
import type { TxReceipt } from './receipt.ts'
import type { Hex } from './state-diff.ts'

/** An EVM block (the 1 s tier): a standard Ethereum header and body, hashed by Ethereum rules. */
export interface SealedBlock {
  header: BlockHeader
  hash: Hex
  /** Canonical transaction encodings, in block order. */
  transactions: Uint8Array[]
  receipts: TxReceipt[]
  /** The mini-blocks this EVM block is made of: numbers `first … first + count − 1`. */
  miniBlocks: { first: bigint; count: number }
}
