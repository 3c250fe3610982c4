/**
 * Synchronous, in-memory hexary Merkle-Patricia trie (yellow paper, appendix D) over raw keys.
 * Secure tries hash their keys before calling in (see `StateTrie`).
 *
 * Updates mutate nodes in place and only mark the touched path dirty; `root()` then encodes and
 * hashes each dirty node once. Nodes of a trie opened from a root hash stay `HashRefNode`
 * placeholders until an operation walks through them, at which point they are read from `source`.
 *
 * Values are kept by reference: callers must not mutate a value array after handing it to `put`.
 */
import { KECCAK256_RLP, bytesToHex } from '@ethereumjs/util'
import { keccak256 } from '../crypto/native.ts'
import { InvalidTrieNodeError, MissingTrieNodeError } from './errors.ts'
import {
  EMPTY_NIBBLES,
  bytesToNibbles,
  concatNibbles,
  matchesRest,
  matchingLength,
  prependNibble,
  startsWith,
} from './nibbles.ts'
import {
  BRANCH,
  BranchNode,
  EXTENSION,
  ExtensionNode,
  HASH_REF,
  HashRefNode,
  LEAF,
  LeafNode,
  VALUE_SLOT,
  decodeNode,
  encodeBranch,
  encodeNode,
  encodeNodeTransient,
  invalidate,
  isDirty,
  markChanged,
} from './node.ts'
import type { ResolvedNode, TrieNode } from './node.ts'

/** Synchronous lookup of an RLP-encoded node by its keccak256 hash. */
export interface TrieNodeSource {
  get(hash: Uint8Array): Uint8Array | undefined
}

export interface MerkleTrieOptions {
  /** Root of an existing trie whose nodes `source` holds; the empty-trie root (or none) starts empty. */
  root?: Uint8Array
  source?: TrieNodeSource
  /**
   * Receives the RLP of every pre-existing node (one already hashed by `root()`/`commit()`, or
   * loaded from `source`) that `get`, `put` or `del` reads: the root and every hash-referenced node
   * on the key's path, plus the sibling a deletion folds into its parent. Nodes embedded in their
   * parent (< 32 bytes) are covered by the parent's RLP and not reported separately. Nodes are
   * reported again each time they are read; `identity` is the same object for every report of the
   * same stored node, so a witness collector can dedupe without hashing. `hash` is the node's
   * keccak256 (already known: no hashing is done to report it).
   */
  onNodeRead?: (rlp: Uint8Array, identity: object, hash: Uint8Array) => void
}

type Visitor = (node: ResolvedNode, isRoot: boolean) => void

export class MerkleTrie {
  private rootNode: TrieNode | null
  private readonly source: TrieNodeSource | undefined
  private readonly reporter: Visitor | undefined
  /** Nodes loaded from `source` since the trie was opened or last `unload`ed. */
  private loadedCount = 0

  constructor(opts: MerkleTrieOptions = {}) {
    this.source = opts.source
    const root = opts.root
    this.rootNode = root === undefined || sameBytes(root, KECCAK256_RLP) ? null : new HashRefNode(root.slice())
    const onNodeRead = opts.onNodeRead
    this.reporter =
      onNodeRead === undefined
        ? undefined
        : (node, isRoot) => {
            // Dirty nodes were created by this batch, so a stateless replay recreates them itself.
            const rlp = referencedEncoding(node, isRoot)
            // Hashed nodes and the root (hashed by `sealRoot`) carry their hash; hashing is a fallback only.
            if (rlp !== undefined) onNodeRead(rlp, node, node.hash ?? keccak256(rlp))
          }
  }

  get(key: Uint8Array): Uint8Array | undefined {
    return this.lookup(bytesToNibbles(key), this.reporter)
  }

  /** Stores `value` under `key`; an empty value deletes the key. */
  put(key: Uint8Array, value: Uint8Array): void {
    if (value.length === 0) {
      this.del(key)
      return
    }
    this.rootNode = this.insert(this.rootNode, bytesToNibbles(key), 0, value)
  }

  del(key: Uint8Array): void {
    if (this.rootNode === null) return
    this.rootNode = this.remove(this.rootNode, bytesToNibbles(key), 0)
  }

  isEmpty(): boolean {
    return this.rootNode === null
  }

  /** Nodes loaded from the source since the trie was opened or last `unload`ed (a memory gauge). */
  get loaded(): number {
    return this.loadedCount
  }

  /**
   * Forgets the resolved nodes more than `levels` nodes below the root that the source holds
   * (persisted: loaded from it or returned by `commit()`), leaving hash references that a later walk
   * loads again: bounds the memory of a trie opened over a store while its upper levels, which every
   * walk crosses, stay decoded. Dirty nodes and nodes embedded in their parent stay. A no-op without a
   * source.
   */
  unload(levels: number): void {
    this.loadedCount = 0
    const root = this.rootNode
    if (this.source === undefined || root === null || root.kind === HASH_REF) return
    unloadBelow(root, levels)
  }

  /** The root hash; encodes and hashes the dirty nodes, reuses the cached hashes of the rest. */
  root(): Uint8Array {
    const node = this.rootNode
    if (node === null) return KECCAK256_RLP.slice()
    if (node.kind === HASH_REF) return node.hash.slice()
    return sealRoot(node).slice()
  }

  /**
   * The nodes on `key`'s path, root first, as EIP-1186 / geth `eth_getProof` return them: nodes
   * embedded in their parent are not listed separately. For an absent key the path stops at the
   * node that proves the absence. Reads done here are not reported to `onNodeRead`.
   */
  proof(key: Uint8Array): Uint8Array[] {
    return this.prove(key).proof
  }

  /** `proof(key)` together with the value it proves (undefined when absent), from a single walk. */
  prove(key: Uint8Array): { value: Uint8Array | undefined; proof: Uint8Array[] } {
    const node = this.rootNode
    if (node !== null && node.kind !== HASH_REF) sealRoot(node)
    const proof: Uint8Array[] = []
    const value = this.lookup(bytesToNibbles(key), (visited, isRoot) => {
      const rlp = referencedEncoding(visited, isRoot)
      if (rlp !== undefined) proof.push(rlp)
    })
    return { value, proof }
  }

  /**
   * The stored encoding of the node that starts `depth` nibbles down the path of `nibbles` (a key's
   * nibbles), if this trie has one there whose hash is `hash`; undefined otherwise. A historical
   * proof uses it to take the nodes an old root shares with this trie from where they still sit,
   * without an index by hash. The trie must be hashed (`root()`) since its last change; the hash
   * compared is the node's cached one, so the answer is the node `hash` names or nothing.
   */
  encodedNodeAt(nibbles: Uint8Array, depth: number, hash: Uint8Array): Uint8Array | undefined {
    let node: TrieNode | null = this.rootNode
    let off = 0
    while (node !== null && off < depth) {
      if (node.kind === HASH_REF) node = this.source === undefined ? null : this.resolve(node)
      if (node === null) return undefined
      switch (node.kind) {
        case LEAF:
          return undefined
        case EXTENSION:
          if (off + node.path.length > depth || !startsWith(nibbles, off, node.path)) return undefined
          off += node.path.length
          node = node.child
          break
        case BRANCH:
          node = node.children[nibbles[off++]]
          break
      }
    }
    if (node === null || off !== depth) return undefined
    if (node.kind === HASH_REF) {
      if (this.source === undefined || !sameBytes(node.hash, hash)) return undefined
      node = this.resolve(node)
    }
    if (node.hash === null || !sameBytes(node.hash, hash)) return undefined
    return referencedEncoding(node, depth === 0)
  }

  /**
   * Hashes the trie and returns the nodes created since the last commit (or since the trie was
   * opened), keyed by hash: every new node of 32 bytes or more, plus the root node whatever its
   * size, since a trie reopened from the root hash needs to find it.
   */
  commit(): Array<[hash: Uint8Array, rlp: Uint8Array]> {
    const out: Array<[Uint8Array, Uint8Array]> = []
    const node = this.rootNode
    if (node === null || node.kind === HASH_REF) return out
    sealRoot(node)
    collectUnstored(node, true, out)
    return out
  }

  // -------------------------------------------------------------------------------------------

  /** Follows `key` from the root, calling `visit` on every node on its path; returns the value. */
  private lookup(key: Uint8Array, visit: Visitor | undefined): Uint8Array | undefined {
    let node = this.resolvedRoot()
    let off = 0
    while (node !== null) {
      if (visit !== undefined) visit(node, off === 0)
      switch (node.kind) {
        case LEAF:
          return matchesRest(node.path, key, off) ? node.value : undefined
        case EXTENSION:
          if (!startsWith(key, off, node.path)) return undefined
          off += node.path.length
          node = this.extensionChild(node)
          break
        case BRANCH:
          if (off === key.length) return node.value ?? undefined
          node = this.branchChild(node, key[off++])
          break
      }
    }
    return undefined
  }

  private resolvedRoot(): ResolvedNode | null {
    const node = this.rootNode
    if (node === null || node.kind !== HASH_REF) return node
    return (this.rootNode = this.resolve(node))
  }

  private branchChild(branch: BranchNode, index: number): ResolvedNode | null {
    const child = branch.children[index]
    if (child === null || child.kind !== HASH_REF) return child
    return (branch.children[index] = this.resolve(child))
  }

  private extensionChild(ext: ExtensionNode): ResolvedNode {
    const child = ext.child
    if (child.kind !== HASH_REF) return child
    return (ext.child = this.resolve(child))
  }

  private resolve(ref: HashRefNode): ResolvedNode {
    const rlp = this.source?.get(ref.hash)
    if (rlp === undefined) throw new MissingTrieNodeError(ref.hash)
    // Sources may be untrusted (a stateless witness), and a wrong node would silently corrupt roots.
    if (!sameBytes(keccak256(rlp), ref.hash)) throw new InvalidTrieNodeError(`content does not hash to ${bytesToHex(ref.hash)}`)
    const node = decodeNode(rlp)
    node.hash = ref.hash
    this.loadedCount++
    return node
  }

  /** Resolves a node the current operation walks through and reports it as read. */
  private load(node: TrieNode, isRoot: boolean): ResolvedNode {
    const resolved = node.kind === HASH_REF ? this.resolve(node) : node
    if (this.reporter !== undefined) this.reporter(resolved, isRoot)
    return resolved
  }

  /**
   * Inserts into the subtrie `node` whose path starts at `key[off]`; returns the node that replaces
   * it. A subtree that did not change comes back clean, which is how parents know to stay clean
   * (writing a value that is already there must not dirty the path).
   */
  private insert(node: TrieNode | null, key: Uint8Array, off: number, value: Uint8Array): ResolvedNode {
    if (node === null) return new LeafNode(key.slice(off), value)
    const n = this.load(node, off === 0)
    switch (n.kind) {
      case LEAF:
        return insertAtLeaf(n, key, off, value)
      case EXTENSION: {
        const m = matchingLength(n.path, key, off)
        if (m < n.path.length) return splitExtension(n, m, key, off, value)
        const child = this.insert(n.child, key, off + m, value)
        n.child = child
        if (isDirty(child)) invalidate(n)
        return n
      }
      case BRANCH: {
        if (off === key.length) {
          if (n.value !== null && sameBytes(n.value, value)) return n
          n.value = value
          markChanged(n, VALUE_SLOT)
          return n
        }
        const index = key[off]
        const child = this.insert(n.children[index], key, off + 1, value)
        n.children[index] = child
        if (isDirty(child)) markChanged(n, index)
        return n
      }
    }
  }

  /** Deletes from the subtrie `node`; returns its replacement (null when it became empty). */
  private remove(node: TrieNode, key: Uint8Array, off: number): ResolvedNode | null {
    const n = this.load(node, off === 0)
    switch (n.kind) {
      case LEAF:
        return matchesRest(n.path, key, off) ? null : n
      case EXTENSION: {
        if (!startsWith(key, off, n.path)) return n
        const child = this.remove(n.child, key, off + n.path.length)
        if (child === null) return null
        n.child = child
        if (!isDirty(child)) return n
        if (child.kind === BRANCH) {
          invalidate(n)
          return n
        }
        // The branch below collapsed into a leaf or extension: absorb our path into it.
        child.path = concatNibbles(n.path, child.path)
        return child
      }
      case BRANCH: {
        if (off === key.length) {
          if (n.value === null) return n
          n.value = null
          markChanged(n, VALUE_SLOT)
        } else {
          const index = key[off]
          const child = n.children[index]
          if (child === null) return n
          const next = this.remove(child, key, off + 1)
          n.children[index] = next
          if (next !== null && !isDirty(next)) return n
          markChanged(n, index)
        }
        return this.collapse(n)
      }
    }
  }

  /** A branch left with a single entry is replaced by a leaf or extension (or merged into its only child). */
  private collapse(branch: BranchNode): ResolvedNode | null {
    let only = -1
    let sibling: TrieNode | null = null
    const children = branch.children
    for (let i = 0; i < 16; i++) {
      const child = children[i]
      if (child === null) continue
      if (sibling !== null) return branch
      sibling = child
      only = i
    }
    if (sibling === null) return branch.value === null ? null : new LeafNode(EMPTY_NIBBLES, branch.value)
    if (branch.value !== null) return branch
    // The surviving sibling has to be read to know whether it can absorb the branch's nibble, so a
    // stateless replay of this deletion needs it: `load` reports it.
    const child = this.load(sibling, false)
    if (child.kind === BRANCH) return new ExtensionNode(Uint8Array.of(only), child)
    child.path = prependNibble(only, child.path)
    invalidate(child)
    return child
  }
}

function insertAtLeaf(leaf: LeafNode, key: Uint8Array, off: number, value: Uint8Array): ResolvedNode {
  const rest = key.length - off
  const m = matchingLength(leaf.path, key, off)
  if (m === leaf.path.length && m === rest) {
    if (sameBytes(leaf.value, value)) return leaf
    leaf.value = value
    invalidate(leaf)
    return leaf
  }
  const branch = new BranchNode()
  if (m === leaf.path.length) {
    branch.value = leaf.value
  } else {
    const index = leaf.path[m]
    leaf.path = leaf.path.subarray(m + 1)
    invalidate(leaf)
    branch.children[index] = leaf
  }
  return attachNewKey(branch, m, key, off, value)
}

/** The key diverges from the extension's path after `m` nibbles (m < path length). */
function splitExtension(ext: ExtensionNode, m: number, key: Uint8Array, off: number, value: Uint8Array): ResolvedNode {
  const branch = new BranchNode()
  const index = ext.path[m]
  if (m + 1 === ext.path.length) {
    branch.children[index] = ext.child
  } else {
    ext.path = ext.path.subarray(m + 1)
    invalidate(ext)
    branch.children[index] = ext
  }
  return attachNewKey(branch, m, key, off, value)
}

/** Puts the new key's remainder under a fresh branch sitting `m` nibbles below `off`, behind an extension if m > 0. */
function attachNewKey(branch: BranchNode, m: number, key: Uint8Array, off: number, value: Uint8Array): ResolvedNode {
  const at = off + m
  if (at === key.length) branch.value = value
  // A copy rather than a view: a view costs a second object and pins the whole key's nibbles.
  else branch.children[key[at]] = new LeafNode(key.slice(at + 1), value)
  return m === 0 ? branch : new ExtensionNode(key.subarray(off, at), branch)
}

/** Encodes (and hashes, when referenced by hash) every dirty node under and including `node`. */
function seal(node: ResolvedNode): void {
  if (!isDirty(node)) return
  if (node.kind === BRANCH) {
    sealBranch(node)
    return
  }
  if (node.kind === EXTENSION && node.child.kind !== HASH_REF) seal(node.child)
  const enc = encodeNodeTransient(node)
  // Copies: the scratch view is reused, and the digest's external buffer costs the GC more than 32 bytes on the heap.
  if (enc.length < 32) node.enc = enc.slice()
  else node.hash = keccak256(enc).slice()
}

function sealBranch(branch: BranchNode): void {
  const children = branch.children
  // A branch encoded before only needs its changed children visited; a new one needs all of them.
  let pending = branch.rlp === null ? 0xffff : branch.changed & 0xffff
  while (pending !== 0) {
    const i = 31 - Math.clz32(pending & -pending)
    pending &= pending - 1
    const child = children[i]
    if (child !== null && child.kind !== HASH_REF) seal(child)
  }
  const rlp = encodeBranch(branch)
  if (rlp.length < 32) {
    branch.enc = rlp
    branch.rlpShared = true
  } else {
    branch.hash = keccak256(rlp).slice()
  }
}

/** The root is hashed whatever its size (a short root is not embedded anywhere). */
function sealRoot(node: ResolvedNode): Uint8Array {
  seal(node)
  if (node.hash !== null) return node.hash
  const enc = node.enc
  if (enc === null) throw new Error('trie invariant: sealed node without an encoding')
  return (node.hash = keccak256(enc).slice())
}

/**
 * The RLP under which a clean node is stored and proven: hashed nodes and the root. Undefined for
 * dirty nodes and for nodes embedded in their parent.
 */
function referencedEncoding(node: ResolvedNode, isRoot: boolean): Uint8Array | undefined {
  if (node.enc !== null) return isRoot ? node.enc : undefined
  if (node.hash === null) return undefined
  if (node.kind !== BRANCH || node.rlp === null) return encodeNode(node)
  node.rlpShared = true
  return node.rlp
}

/** `MerkleTrie.unload`: replaces persisted hash-referenced nodes `levels` below `node` by references. */
function unloadBelow(node: ResolvedNode, levels: number): void {
  if (node.kind === BRANCH) {
    const children = node.children
    for (let i = 0; i < 16; i++) {
      const child = children[i]
      if (child === null || child.kind === HASH_REF) continue
      if (levels > 1) unloadBelow(child, levels - 1)
      else if (isPersistedRef(child)) children[i] = new HashRefNode(child.hash)
    }
  } else if (node.kind === EXTENSION) {
    const child = node.child
    if (child.kind === HASH_REF) return
    if (levels > 1) unloadBelow(child, levels - 1)
    else if (isPersistedRef(child)) node.child = new HashRefNode(child.hash)
  }
}

/** A clean node referenced by hash whose encoding the source holds: safe to forget and load again. */
function isPersistedRef(node: ResolvedNode): node is ResolvedNode & { hash: Uint8Array } {
  return node.stored && node.enc === null && node.hash !== null
}

function collectUnstored(node: TrieNode, isRoot: boolean, out: Array<[Uint8Array, Uint8Array]>): void {
  if (node.kind === HASH_REF || node.stored) return
  const hash = node.hash
  const rlp = referencedEncoding(node, isRoot)
  // Embedded nodes (and, necessarily, everything below them) live inside their parent's RLP.
  if (hash === null || rlp === undefined) return
  node.stored = true
  out.push([hash, rlp])
  if (node.kind === BRANCH) {
    for (const child of node.children) if (child !== null) collectUnstored(child, false, out)
  } else if (node.kind === EXTENSION) {
    collectUnstored(node.child, false, out)
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
