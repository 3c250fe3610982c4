/**
 * The witness of `contracts/libraries/PartialTrie.sol`: the deduplicated set of trie nodes that lets the L1 library
 * replay a list of reads, writes and deletions on one trie and compute its new root.
 *
 * The operations are replayed on a `MerkleTrie` opened over the original nodes, which reports every pre-existing
 * node it reads (`onNodeRead`): the root, every hash-referenced node on each key's path (absent keys included: the
 * nodes that prove the absence), and the sibling a deletion folds into its parent. That is exactly what PartialTrie
 * walks, because it applies the same algorithm: operations in order, branches collapsed eagerly at each deletion.
 * Nodes created by earlier operations are not reported (the replay recreates them), nor are nodes embedded in their
 * parent (under 32 bytes: the parent carries them), except the root, which is referenced by hash whatever its size.
 *
 * The witness is for the operations in the order given: deleting two keys under one branch in one order or the
 * other can need a different sibling, so the L1 side must apply them in the same order.
 */
import { bytesToHex } from '@ethereumjs/util'
import { keccak256 } from '../crypto/native.ts'
import { MissingTrieNodeError } from './errors.ts'
import { MerkleTrie, type TrieNodeSource } from './trie.ts'

/** One operation on the trie: a read, a write (of a non-empty value) or a deletion. Keys are raw (a secure trie's caller hashes them). */
export type PartialTrieOp =
  | { kind: 'get'; key: Uint8Array }
  | { kind: 'put'; key: Uint8Array; value: Uint8Array }
  | { kind: 'del'; key: Uint8Array }

export interface PartialTrieWitness {
  /** The distinct pre-existing nodes the operations read, each once, in first-read order. */
  nodes: Uint8Array[]
  /** The root after the operations. */
  root: Uint8Array
  /** What each operation read: the value for a `get` of a present key, undefined otherwise. */
  values: Array<Uint8Array | undefined>
}

/** Asynchronous lookup of a node by hash: an @ethereumjs/mpt trie's `database()` fits, as does any key-value store. */
export interface AsyncTrieNodeSource {
  get(hash: Uint8Array): Promise<Uint8Array | undefined>
}

/**
 * The witness of `ops` on the trie with root `root`, whose nodes `source` holds. Throws `MissingTrieNodeError` when
 * the source lacks a node the operations need.
 */
export function buildPartialTrieWitness(
  root: Uint8Array,
  source: TrieNodeSource,
  ops: readonly PartialTrieOp[],
): PartialTrieWitness {
  const nodes = new Map<string, Uint8Array>()
  const trie = new MerkleTrie({
    root,
    source,
    onNodeRead: (rlp, _identity, hash) => {
      const id = bytesToHex(hash)
      if (!nodes.has(id)) nodes.set(id, rlp)
    },
  })
  const values: Array<Uint8Array | undefined> = []
  for (const op of ops) {
    switch (op.kind) {
      case 'get':
        values.push(trie.get(op.key))
        break
      case 'put':
        // PartialTrie refuses empty values (an empty value is an absence): a deletion must say so.
        if (op.value.length === 0) throw new RangeError(`put of an empty value at ${bytesToHex(op.key)}: use del`)
        trie.put(op.key, op.value)
        values.push(undefined)
        break
      case 'del':
        trie.del(op.key)
        values.push(undefined)
        break
    }
  }
  return { nodes: [...nodes.values()], root: trie.root(), values }
}

/**
 * `buildPartialTrieWitness` over an asynchronous store: nodes are fetched as the replay finds it needs them (the
 * replay restarts after each fetch, from a cache, so a store is read once per node). Prefetching the keys' proofs
 * into `prefetched` first leaves only deletion siblings to fetch this way.
 */
export async function buildPartialTrieWitnessAsync(
  root: Uint8Array,
  store: AsyncTrieNodeSource,
  ops: readonly PartialTrieOp[],
  prefetched: Iterable<Uint8Array> = [],
): Promise<PartialTrieWitness> {
  const cache = new Map<string, Uint8Array>()
  for (const node of prefetched) cache.set(bytesToHex(keccak256(node)), node)
  const source: TrieNodeSource = { get: (hash) => cache.get(bytesToHex(hash)) }
  while (true) {
    try {
      return buildPartialTrieWitness(root, source, ops)
    } catch (error) {
      if (!(error instanceof MissingTrieNodeError)) throw error
      const hash = error.data.hash
      const node = await store.get(hash)
      if (node === undefined) throw error
      cache.set(bytesToHex(hash), node)
    }
  }
}

/** The operations of a step: every read first (the values before any write), then the writes in the order given (undefined: a deletion). */
export function readsThenWrites(
  reads: Iterable<Uint8Array>,
  writes: Iterable<readonly [key: Uint8Array, value: Uint8Array | undefined]>,
): PartialTrieOp[] {
  const ops: PartialTrieOp[] = []
  for (const key of reads) ops.push({ kind: 'get', key })
  for (const [key, value] of writes) {
    ops.push(value === undefined || value.length === 0 ? { kind: 'del', key } : { kind: 'put', key, value })
  }
  return ops
}
