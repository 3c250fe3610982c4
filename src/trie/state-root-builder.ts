/**
 * A whole state's root built without holding its trie: what a genesis of millions of accounts needs
 * (`StateTrie.fromAccounts` holds every node, ~4.7 GB at 1M accounts). Accounts come in any order
 * (a genesis file's); each one's storage trie is built at once with a `StackTrie` (a genesis lists an
 * account's slots together), its leaf goes into packed `SortedLeaves`, and `finish` streams the leaves in
 * keccak256(address) order into the account `StackTrie`. Leaves are encoded as `StateTrie` encodes
 * them, so the root and the nodes reported are the ones `StateTrie.fromAccounts(...).commit()` gives.
 */
import { KECCAK256_RLP } from '@ethereumjs/util'
import { keccak256 } from '../crypto/native.ts'
import { SortedLeaves } from './sorted-leaves.ts'
import { StackTrie, type StackTrieNodeSink } from './stack-trie.ts'
import { encodeAccount, storageLeafValue, storageTrieKey, withStorageRoot, type StateTrieAccount } from './state-trie.ts'

/** Leaves streamed into the account trie between two yields of `finish` (a caller writes nodes meanwhile). */
const LEAVES_PER_YIELD = 16_384

export class StateRootBuilder {
  private readonly leaves = new SortedLeaves()
  /** Storage roots of accounts whose slots came after the account (`addStorage`), by hashed address. */
  private readonly laterStorageRoots: Array<[key: Uint8Array, root: Uint8Array]> = []

  /**
   * `onNode` receives every node to persist, each before any node referencing it, the state root's node last.
   * `finish` yields every `leavesPerYield` accounts.
   */
  constructor(
    private readonly onNode?: StackTrieNodeSink,
    private readonly leavesPerYield = LEAVES_PER_YIELD,
  ) {}

  get accounts(): number {
    return this.leaves.size
  }

  /** Adds an account (any order; each address once). Its storage trie's nodes are reported now. */
  add({ address, account, storage }: StateTrieAccount): void {
    this.leaves.add(keccak256(address).slice(), encodeAccount(account, this.storageRoot(storage)))
  }

  /**
   * The slots of an account added with none (`add` with empty storage), for a source that lists
   * slots apart from their accounts (a flat state's store, keyed account entries first): the storage
   * trie's nodes are reported now, and the account's leaf takes its root in `finish`.
   */
  addStorage(address: Uint8Array, storage: Iterable<[slot: Uint8Array, value: Uint8Array]>): void {
    this.laterStorageRoots.push([keccak256(address).slice(), this.storageRoot(storage)])
  }

  /**
   * Streams the accounts into the account trie, yielding every `leavesPerYield` accounts so that an
   * asynchronous caller can write the nodes reported so far; returns the state root.
   * @throws RangeError when an address was added twice, or storage was added for an account that was not
   */
  *finish(): Generator<void, Uint8Array> {
    const trie = new StackTrie(this.onNode)
    // Both in hashed-address order: the storage roots are merged into the leaves as they stream.
    const later = this.laterStorageRoots.sort((a, b) => Buffer.compare(a[0], b[0]))
    let nextLater = 0
    let streamed = 0
    for (const [key, leaf] of this.leaves.sorted()) {
      const storage = later[nextLater]
      if (storage !== undefined && Buffer.compare(storage[0], key) === 0) {
        trie.update(key, withStorageRoot(leaf, storage[1]))
        nextLater++
      } else {
        trie.update(key, leaf)
      }
      if (++streamed % this.leavesPerYield === 0) yield
    }
    if (nextLater < later.length)
      throw new RangeError(
        `storage was added for ${later.length - nextLater} accounts that were not (the first with hashed address ${Buffer.from(later[nextLater]![0]).toString('hex')})`,
      )
    return trie.root()
  }

  /** `finish` run to the end, for a caller with nothing to do in between. */
  root(): Uint8Array {
    const steps = this.finish()
    for (;;) {
      const step = steps.next()
      if (step.done === true) return step.value
    }
  }

  private storageRoot(storage: Iterable<[slot: Uint8Array, value: Uint8Array]>): Uint8Array {
    // A later write of a slot wins and a zero value deletes, as with `StateTrie`: the stable sort keeps
    // a slot's writes in order, and only the last of each run of equal keys counts.
    const entries: Array<[key: Uint8Array, leaf: Uint8Array | undefined]> = []
    for (const [slot, value] of storage) entries.push([storageTrieKey(slot).slice(), storageLeafValue(value)])
    // Most accounts have none (every account of a snapshot is added so): no trie to build.
    if (entries.length === 0) return KECCAK256_RLP
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
