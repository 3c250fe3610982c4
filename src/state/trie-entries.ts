import { hexToBytes } from '@ethereumjs/util'
import type { AccountState, Hex } from '../primitives/state-diff.ts'
import type { StateTrieAccount } from '../trie/index.ts'
import type { FlatState } from './flat-state.ts'

/** A flat state in the shape `StateTrie.fromAccounts` builds a trie from. */
export function* trieEntries(state: FlatState): IterableIterator<StateTrieAccount> {
  for (const entry of state.entries()) yield trieEntry(entry)
}

/** One account with its slots (hex keys, as the flat state holds them) in the trie's shape. */
export function trieEntry({
  address,
  account,
  storage,
}: {
  address: Hex
  account: AccountState
  storage: ReadonlyMap<Hex, Uint8Array>
}): StateTrieAccount {
  return {
    address: hexToBytes(address),
    account,
    storage: [...storage].map(([slot, value]): [Uint8Array, Uint8Array] => [hexToBytes(slot), value]),
  }
}
