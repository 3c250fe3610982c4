/**
 * EIP-1186 proofs walked over stored node encodings rather than a live trie: for a root the live
 * trie has moved on from, each node on the key's path is fetched by its hash (and where it sits)
 * from whatever still holds it (see `TrieHistory`).
 */
import { KECCAK256_RLP } from '@ethereumjs/util'
import { MissingTrieNodeError } from './errors.ts'
import { bytesToNibbles, matchesRest, startsWith } from './nibbles.ts'
import { BRANCH, EXTENSION, HASH_REF, LEAF, decodeNode } from './node.ts'
import type { ResolvedNode, TrieNode } from './node.ts'

/**
 * The encoding of the node `hash` names, which starts `depth` nibbles down the path of `nibbles`;
 * undefined when no longer held. Implementations must only return the node `hash` names (a lookup
 * keyed by hash, or a position compared against a trusted cached hash): the walk does not re-hash.
 */
export type EncodedNodeLookup = (hash: Uint8Array, nibbles: Uint8Array, depth: number) => Uint8Array | undefined

/**
 * The proof of `key` (the trie key: already hashed in a secure trie) under `root` and the value it
 * proves (undefined when absent), byte for byte what `MerkleTrie.prove` returns on the trie of that
 * root: the hash-referenced nodes on the path, root first; nodes embedded in their parent are not
 * listed. Throws `MissingTrieNodeError` when `lookup` lacks a node on the path.
 */
export function proveEncoded(
  root: Uint8Array,
  key: Uint8Array,
  lookup: EncodedNodeLookup,
): { value: Uint8Array | undefined; proof: Uint8Array[] } {
  const proof: Uint8Array[] = []
  if (sameBytes(root, KECCAK256_RLP)) return { value: undefined, proof }
  const nibbles = bytesToNibbles(key)
  let node = fetch(root, nibbles, 0, lookup, proof)
  let off = 0
  for (;;) {
    let child: TrieNode | null
    switch (node.kind) {
      case LEAF:
        return { value: matchesRest(node.path, nibbles, off) ? node.value : undefined, proof }
      case EXTENSION:
        if (!startsWith(nibbles, off, node.path)) return { value: undefined, proof }
        off += node.path.length
        child = node.child
        break
      case BRANCH:
        if (off === nibbles.length) return { value: node.value ?? undefined, proof }
        child = node.children[nibbles[off++]]
        if (child === null) return { value: undefined, proof }
        break
    }
    // An embedded child is part of its parent's encoding, already in the proof.
    node = child.kind === HASH_REF ? fetch(child.hash, nibbles, off, lookup, proof) : child
  }
}

function fetch(
  hash: Uint8Array,
  nibbles: Uint8Array,
  depth: number,
  lookup: EncodedNodeLookup,
  proof: Uint8Array[],
): ResolvedNode {
  const rlp = lookup(hash, nibbles, depth)
  if (rlp === undefined) throw new MissingTrieNodeError(hash)
  proof.push(rlp)
  return decodeNode(rlp)
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
