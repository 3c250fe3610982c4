import type { BlockHeader } from '@ethereumjs/block'
import { RLP } from '@ethereumjs/rlp'
import { encodeRlp } from '../primitives/rlp-fields.ts'
import type { TxReceipt } from './receipt.ts'
import type { Hex } from '../primitives/state-diff.ts'

/** An EVM block (the 1 s tier): a standard Ethereum header and body, hashed by Ethereum rules. */
export interface SealedBlock {
  header: BlockHeader
  hash: Hex
  /** Canonical transaction encodings, in block order. */
  transactions: Uint8Array[]
  receipts: TxReceipt[]
  /** The mini-blocks this EVM block is made of: numbers `first … first + count − 1`. */
  miniBlocks: MiniBlockRange
}

export interface MiniBlockRange {
  first: bigint
  count: number
  /**
   * Hash of the block's last mini-block (genesis: the genesis hash), which the next mini-block's
   * parent hash extends, across restarts too; signed in the block announcement. Absent only for a
   * block stored before blocks kept it.
   */
  lastHash?: Hex
}

/** The block as Ethereum encodes it (`debug_getRawBlock`): RLP([header, transactions, uncles, withdrawals]). */
export function encodeBlock(block: SealedBlock): Uint8Array {
  // Typed transactions are embedded as byte strings, legacy ones as the list they encode.
  const txs = block.transactions.map((raw) => (raw[0]! >= 0xc0 ? RLP.decode(raw) : raw))
  return encodeRlp([block.header.raw(), txs, [], []])
}
