/**
 * Streaming Merkle-Patricia trie builder (geth's StackTrie): keys arrive in strictly ascending
 * order, so once a key is inserted every subtree to the left of its path is final. Those subtrees
 * are encoded and hashed at once and replaced by their reference (a 32-byte hash, or the node
 * itself when its encoding is shorter than 32 bytes and its parent embeds it), so only the
 * rightmost path is held open: memory O(depth), not O(keys). Built to hash a genesis alloc of
 * millions of accounts that `MerkleTrie` would have to hold whole.
 *
 * Keys must all have the same length (as hashed keys do): then no key is a prefix of another and
 * branches never hold values. Nodes are the in-memory nodes of `node.ts` and are encoded by it, so
 * the roots and node encodings are the ones `MerkleTrie` computes.
 */
import { KECCAK256_RLP, bytesToHex } from '@ethereumjs/util'
import { keccak256 } from '../crypto/native.ts'
import { bytesToNibbles, matchingLength } from './nibbles.ts'
import {
  BRANCH,
  BranchNode,
  EXTENSION,
  ExtensionNode,
  HASH_REF,
  HashRefNode,
  LEAF,
  LeafNode,
  encodeNodeTransient,
} from './node.ts'
import type { ResolvedNode, TrieNode } from './node.ts'

/**
 * Receives a node its parent references by hash (encoding of 32 bytes or more), or the root node
 * whatever its size: exactly what a store keyed by keccak256(rlp) needs to open the root later
 * (the set `MerkleTrie.commit()` returns). Children are reported before their parents, the root
 * last. Both arrays are the callee's to keep (not to modify: the hash is also the parent's reference).
 */
export type StackTrieNodeSink = (hash: Uint8Array, rlp: Uint8Array) => void

export class StackTrie {
  /** The open rightmost path; null before the first key. */
  private top: ResolvedNode | null = null
  /** The previous key, to enforce ascending order (and equal lengths). */
  private last: Uint8Array | null = null
  private finalRoot: Uint8Array | null = null

  constructor(private readonly onNode?: StackTrieNodeSink) {}

  /**
   * Adds `key` → `value`. `key` must be greater than every key added before and of the same length;
   * `value` must not be empty (a trie has no empty values) and is kept by reference until the next
   * key is added, so the caller must not reuse its buffer before then.
   */
  update(key: Uint8Array, value: Uint8Array): void {
    if (this.finalRoot !== null) throw new Error('StackTrie.update after root(): the trie is finalized')
    if (value.length === 0) throw new Error('StackTrie.update: empty value (a trie holds no empty values)')
    if (key.length === 0) throw new Error('StackTrie.update: empty key')
    const last = this.last
    if (last !== null) {
      if (key.length !== last.length) {
        throw new Error(
          `StackTrie.update: key of ${key.length} bytes after keys of ${last.length} bytes (keys must be equal length)`,
        )
      }
      if (Buffer.compare(key, last) <= 0) {
        throw new Error(`StackTrie.update: key ${bytesToHex(key)} is not greater than the previous key ${bytesToHex(last)}`)
      }
    }
    this.last = key.slice()
    this.top = this.insert(this.top, bytesToNibbles(key), 0, value)
  }

  /**
   * Finalizes the trie and returns its root hash (KECCAK256_RLP for an empty trie), reporting the
   * remaining nodes and the root to `onNode`. Later calls return the same root; `update` throws.
   */
  root(): Uint8Array {
    if (this.finalRoot !== null) return this.finalRoot.slice()
    const top = this.top
    let root: Uint8Array
    if (top === null) {
      root = KECCAK256_RLP.slice()
    } else {
      const ref = this.seal(top)
      if (ref.kind === HASH_REF) {
        root = ref.hash
      } else {
        // A root shorter than 32 bytes is embedded nowhere, yet a store must find it by hash.
        const enc = ref.enc!
        root = keccak256(enc).slice()
        this.onNode?.(root, enc.slice())
      }
    }
    this.top = null
    this.finalRoot = root
    return root.slice()
  }

  /**
   * Inserts into the open subtrie `node` whose path starts at `key[off]`; returns its replacement.
   * Whatever the new key leaves to its left is sealed on the way.
   */
  private insert(node: ResolvedNode | null, key: Uint8Array, off: number, value: Uint8Array): ResolvedNode {
    if (node === null) return new LeafNode(key.slice(off), value)
    switch (node.kind) {
      case LEAF: {
        // Equal-length ascending keys diverge before the leaf's path ends.
        const path = node.path
        const m = matchingLength(path, key, off)
        // The leaf moves below the new branch (paths are never mutated, so views are safe).
        node.path = path.subarray(m + 1)
        return this.fork(path, m, this.seal(node), key, off, value)
      }
      case EXTENSION: {
        const path = node.path
        const m = matchingLength(path, key, off)
        if (m === path.length) {
          node.child = this.insert(open(node.child), key, off + m, value)
          return node
        }
        // The key leaves the extension's path: what the extension led to is complete.
        if (m + 1 === path.length) return this.fork(path, m, this.seal(node.child), key, off, value)
        node.path = path.subarray(m + 1)
        return this.fork(path, m, this.seal(node), key, off, value)
      }
      case BRANCH: {
        const index = key[off]
        const children = node.children
        // Ascending keys: the open child, if any, is the last one; a child left of `index` is complete.
        for (let i = 15; i >= 0; i--) {
          const child = children[i]
          if (child === null) continue
          if (i < index) children[i] = this.seal(child)
          break
        }
        children[index] = this.insert(open(children[index]), key, off + 1, value)
        return node
      }
    }
  }

  /**
   * A branch where `path` (an open node's path, diverging from the new key after `m` nibbles) and the
   * key part: `sealedLeft` (what was under `path[m]`) on the left, a new leaf for the key on the right,
   * behind an extension of the `m` shared nibbles if there are any.
   */
  private fork(path: Uint8Array, m: number, sealedLeft: TrieNode, key: Uint8Array, off: number, value: Uint8Array): ResolvedNode {
    const branch = new BranchNode()
    branch.children[path[m]] = sealedLeft
    branch.children[key[off + m]] = new LeafNode(key.slice(off + m + 1), value)
    return m === 0 ? branch : new ExtensionNode(path.subarray(0, m), branch)
  }

  /**
   * Encodes a complete subtree bottom-up and returns what its parent references: a `HashRefNode`
   * (the node was reported to `onNode` and is dropped) or the node itself with its short encoding
   * in `enc`, for the parent to embed.
   */
  private seal(node: TrieNode): TrieNode {
    if (node.kind === HASH_REF || node.enc !== null) return node
    if (node.kind === EXTENSION) {
      node.child = this.seal(node.child)
    } else if (node.kind === BRANCH) {
      const children = node.children
      for (let i = 0; i < 16; i++) {
        const child = children[i]
        if (child !== null) children[i] = this.seal(child)
      }
    }
    const enc = encodeNodeTransient(node)
    if (enc.length < 32) {
      node.enc = enc.slice()
      return node
    }
    const hash = keccak256(enc).slice()
    this.onNode?.(hash, enc.slice())
    return new HashRefNode(hash)
  }
}

/** The open node on the rightmost path (sealed nodes sit only to its left). */
function open(node: TrieNode | null): ResolvedNode | null {
  if (node !== null && (node.kind === HASH_REF || node.enc !== null))
    throw new Error('StackTrie invariant: insertion into a sealed subtree')
  return node
}
