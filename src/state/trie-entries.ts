import { hexToBytes } from '@ethereumjs/util'
import type { StateTrieAccount } from '../trie/index.ts'
import type { FlatState } from './flat-state.ts'

/** A flat state in the shape `StateTrie.fromAccounts` builds a trie from. */
export function* trieEntries(state: FlatState): IterableIterator<StateTrieAccount> {
  for (const { address, account, storage } of state.entries()) {
    yield {
      address: hexToBytes(address),
      account,
      storage: [...storage].map(([slot, value]): [Uint8Array, Uint8Array] => [hexToBytes(slot), value]),
    }
  }
}
