import { MerkleTrie } from './index.ts'
import { encodeRlp, unpaddedBytes } from '../primitives/rlp-fields.ts'

/** Root of the trie `rlp(index) → item` that transactions, receipts and withdrawals roots use. */
export function orderedTrieRoot(items: readonly Uint8Array[]): Uint8Array {
  const trie = new MerkleTrie()
  for (let i = 0; i < items.length; i++) trie.put(encodeRlp(unpaddedBytes(BigInt(i))), items[i]!)
  return trie.root()
}
