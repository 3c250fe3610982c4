import type { Hex } from './state-diff.ts'

/** What an EVM block's execution read, in the shape that crosses to the merkleizer thread. */
export interface BlockAccess {
  /** Accounts read (lowercase 0x addresses). */
  accounts: Hex[]
  /** Storage slots read, per account. */
  slots: Array<[address: Hex, slots: Hex[]]>
  /** Block numbers BLOCKHASH (and the EIP-2935 system call) asked for. */
  blockHashes: bigint[]
  /**
   * Code hashes whose bytecode was loaded from the pre-state. The witness builder adds the code of
   * every read account as the block leaves it; from Prague an account's code can change within the
   * block (an EIP-7702 re-delegation or clearing), so the code that was actually run must be recorded.
   */
  codeHashes: Hex[]
}
