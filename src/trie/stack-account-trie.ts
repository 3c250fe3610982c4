/**
 * A state root built by streaming: the account trie and every storage trie as `StackTrie`s, with
 * leaves encoded exactly as `StateTrie` encodes them, so the root is `StateTrie.fromAccounts`'s
 * without holding the state in memory. Accounts must arrive in ascending keccak256(address)
 * order (the caller sorts, e.g. externally for a large genesis); one account's storage is held
 * and sorted here, since a genesis lists it by slot, not by hashed slot.
 */
import { keccak256 } from '../crypto/native.ts'
import { StackTrie, type StackTrieNodeSink } from './stack-trie.ts'
import { encodeAccount, storageLeafValue, storageTrieKey, type StateTrieAccount } from './state-trie.ts'

export interface StackTrieAccount extends StateTrieAccount {
  /** keccak256(address), when the caller already computed it to sort by. */
  addressHash?: Uint8Array
}

export class StackAccountTrie {
  private readonly accounts: StackTrie

  /** `onNode` receives the storage tries' nodes and the account trie's, each before any node referencing it. */
  constructor(private readonly onNode?: StackTrieNodeSink) {
    this.accounts = new StackTrie(onNode)
  }

  /** Adds the next account: its keccak256(address) must be greater than the previous account's. */
  add({ address, addressHash, account, storage }: StackTrieAccount): void {
    const key = addressHash ?? keccak256(address).slice()
    const leaf = encodeAccount(account, this.storageRoot(storage))
    try {
      this.accounts.update(key, leaf)
    } catch (error) {
      throw new Error('StackAccountTrie.add: accounts must be added once each, in ascending keccak256(address) order', {
        cause: error,
      })
    }
  }

  /** Finalizes the account trie and returns the state root. */
  root(): Uint8Array {
    return this.accounts.root()
  }

  private storageRoot(storage: Iterable<[slot: Uint8Array, value: Uint8Array]>): Uint8Array {
    // Later writes of a slot win and zero values delete, as with `StateTrie`: the stable sort keeps
    // a slot's writes in order, and only the last of each run of equal keys counts.
    const entries: Array<[key: Uint8Array, leaf: Uint8Array | undefined]> = []
    for (const [slot, value] of storage) entries.push([storageTrieKey(slot).slice(), storageLeafValue(value)])
    entries.sort((a, b) => Buffer.compare(a[0], b[0]))
    const trie = new StackTrie(this.onNode)
    for (let i = 0; i < entries.length; i++) {
      const [key, leaf] = entries[i]!
      if (leaf === undefined) continue
      if (i + 1 < entries.length && Buffer.compare(key, entries[i + 1]![0]) === 0) continue
      trie.update(key, leaf)
    }
    return trie.root()
  }
}

/** The state root of `accounts` (ascending by keccak256(address)), reporting its nodes to `onNode`. */
export function stackStateRoot(accounts: Iterable<StackTrieAccount>, onNode?: StackTrieNodeSink): Uint8Array {
  const trie = new StackAccountTrie(onNode)
  for (const account of accounts) trie.add(account)
  return trie.root()
}
