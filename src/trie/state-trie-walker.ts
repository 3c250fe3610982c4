/**
 * Every stored node of the state at a root: the account trie's hash-referenced nodes and, for each
 * account with storage, its storage trie's, read from a `TrieNodeSource` (the persisted node store).
 * "Stored" means what a node store keys by hash: the root and every node referenced by hash; a node
 * shorter than 32 bytes sits inside its parent's encoding and comes with it.
 *
 * What `prune-state` marks before it sweeps, and what it walks again afterwards to prove nothing
 * reachable was deleted: a node the source does not hold ends the walk with `MissingTrieNodeError`.
 * A generator, so the caller paces a walk of millions of nodes (progress, yielding to the event loop).
 */
import { KECCAK256_RLP, bytesToHex, equalsBytes } from '@ethereumjs/util'
import { MissingTrieNodeError } from './errors.ts'
import { BRANCH, EXTENSION, HASH_REF, LEAF, decodeNode, type ResolvedNode, type TrieNode } from './node.ts'
import { decodeAccount } from './state-trie.ts'
import type { TrieNodeSource } from './trie.ts'

export interface StoredTrieNode {
  hash: Uint8Array
  rlp: Uint8Array
  /** Whether it belongs to the account trie or to a storage trie. */
  trie: 'account' | 'storage'
}

/**
 * The stored nodes under state root `root`, depth first, each node before its children. A storage
 * trie shared by several accounts (same storage root: clones of one contract) is walked once.
 */
export function* storedStateTrieNodes(root: Uint8Array, source: TrieNodeSource): Generator<StoredTrieNode, void> {
  if (isEmptyTrie(root)) return
  const walkedStorage = new Set<string>()
  const leaves: Uint8Array[] = []
  for (const node of storedTrieNodes(root, source, 'account', leaves)) {
    yield node
    for (const leaf of leaves) {
      const { storageRoot } = decodeAccount(leaf)
      if (isEmptyTrie(storageRoot)) continue
      const key = bytesToHex(storageRoot)
      if (walkedStorage.has(key)) continue
      walkedStorage.add(key)
      yield* storedTrieNodes(storageRoot, source, 'storage', [])
    }
    leaves.length = 0
  }
}

/**
 * The stored nodes of one trie. After each node is yielded, `leaves` holds the leaf values found in
 * it (its own value, or its inline children's); the caller empties it.
 */
function* storedTrieNodes(
  root: Uint8Array,
  source: TrieNodeSource,
  trie: StoredTrieNode['trie'],
  leaves: Uint8Array[],
): Generator<StoredTrieNode, void> {
  const pending: Uint8Array[] = [root]
  for (let hash = pending.pop(); hash !== undefined; hash = pending.pop()) {
    const rlp = source.get(hash)
    if (rlp === undefined) throw new MissingTrieNodeError(hash)
    collect(decodeNode(rlp), pending, leaves)
    yield { hash, rlp, trie }
  }
}

/** The hash references below `node` go to `refs`, its leaf values to `leaves`; inline children are opened. */
function collect(node: ResolvedNode, refs: Uint8Array[], leaves: Uint8Array[]): void {
  switch (node.kind) {
    case LEAF:
      leaves.push(node.value)
      return
    case EXTENSION:
      collectChild(node.child, refs, leaves)
      return
    case BRANCH:
      // A branch's own value slot is unused in the state's tries (their keys are all 32 bytes).
      for (const child of node.children) if (child !== null) collectChild(child, refs, leaves)
      return
  }
}

function collectChild(child: TrieNode, refs: Uint8Array[], leaves: Uint8Array[]): void {
  if (child.kind === HASH_REF) refs.push(child.hash)
  else collect(child, refs, leaves)
}

function isEmptyTrie(root: Uint8Array): boolean {
  return equalsBytes(root, KECCAK256_RLP)
}
