import type { AccountState, Hex } from '../primitives/state-diff.ts'

/**
 * Synchronous read access to a world state. Every executor reads through this: the sequencer's live
 * flat state, a historical view, or a stateless verifier's partial trie.
 */
export interface StateReader {
  getAccount(address: Hex): AccountState | undefined
  /** Minimal big-endian bytes; empty for zero. */
  getStorage(address: Hex, slot: Hex): Uint8Array
  /** Whether the account has any non-zero storage slot (the EVM's CREATE collision rule needs it). */
  hasStorage(address: Hex): boolean
  getCode(codeHash: Hex): Uint8Array | undefined
}
