import type { Hex } from './state-diff.ts'

/** What an EVM block's execution read, in the shape that crosses to the merkleizer thread. */
export interface BlockAccess {
  /** Accounts read (lowercase 0x addresses). */
  accounts: Hex[]
  /** Storage slots read, per account. */
  slots: Array<[address: Hex, slots: Hex[]]>
  /** Block numbers BLOCKHASH asked for. */
  blockHashes: bigint[]
}
