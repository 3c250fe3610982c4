/**
 * In-memory trie nodes and their RLP encoding (yellow paper, appendix D).
 *
 * A clean node caches what its parent needs to reference it: its hash when its encoding is 32
 * bytes or more, else the encoding itself (embedded verbatim in the parent). A node with neither
 * is dirty. The trie keeps the invariant that a dirty node's ancestors are dirty too, so hashing
 * only descends into dirty subtrees.
 *
 * Leaf and extension encodings are not kept: they are hashed straight out of a scratch buffer and
 * re-encoded on the rare occasions they are needed again (proofs, commits, witness reports).
 * Branches do keep theirs (`BranchNode.rlp`), because in a large trie re-encoding a branch from
 * scratch means visiting sixteen children scattered across the heap, and those cache misses cost
 * more than the hashing; with the old encoding at hand only the changed references are rewritten.
 * Encoding is hand-written: building 17-element arrays for `RLP.encode` costs more than the
 * encoding itself.
 */
import { RLP } from '@ethereumjs/rlp'
import { encodeRlp } from '../primitives/rlp-fields.ts'
import type { NestedUint8Array } from '@ethereumjs/rlp'
import { InvalidTrieNodeError } from './errors.ts'
import { decodeHexPrefix, hexPrefixLength, writeHexPrefix } from './nibbles.ts'

export const BRANCH = 0
export const EXTENSION = 1
export const LEAF = 2
/** A node known only by hash, loaded from the trie's source when first touched. */
export const HASH_REF = 3

abstract class CachedNode {
  /** The encoding, kept only when shorter than 32 bytes (the parent embeds it). */
  enc: Uint8Array | null = null
  /** keccak256 of the encoding when it is 32 bytes or more, or when the node was hashed as the root. */
  hash: Uint8Array | null = null
  /** Already persisted (read from a source, or returned by `commit()`); cleared on mutation. */
  stored = false
}

export class LeafNode extends CachedNode {
  readonly kind: typeof LEAF = LEAF
  constructor(
    public path: Uint8Array,
    public value: Uint8Array,
  ) {
    super()
  }
}

export class ExtensionNode extends CachedNode {
  readonly kind: typeof EXTENSION = EXTENSION
  constructor(
    /** Never empty. */
    public path: Uint8Array,
    /** Always a branch (or a reference to one) in a well-formed trie. */
    public child: TrieNode,
  ) {
    super()
  }
}

/** Bit of `BranchNode.changed` for the value slot; bits 0-15 are the children. */
export const VALUE_SLOT = 16

export class BranchNode extends CachedNode {
  readonly kind: typeof BRANCH = BRANCH
  readonly children: Array<TrieNode | null> = emptyChildren()
  /** Only tries with keys of differing lengths store values in branches; secure tries never do. */
  value: Uint8Array | null = null
  /** The last complete encoding (null until first encoded); re-encoding patches it. */
  rlp: Uint8Array | null = null
  /** Slots (bit i: child i, bit VALUE_SLOT: value) changed since `rlp` was made. */
  changed = 0
  /** `rlp` was handed out (proof, commit, witness, or it came from a source), so it must not be patched in place. */
  rlpShared = false
}

/** Records that child `index` (or, with VALUE_SLOT, the value) changed, dirtying the branch. */
export function markChanged(branch: BranchNode, slot: number): void {
  branch.changed |= 1 << slot
  invalidate(branch)
}

export class HashRefNode {
  readonly kind: typeof HASH_REF = HASH_REF
  constructor(readonly hash: Uint8Array) {}
}

export type ResolvedNode = LeafNode | ExtensionNode | BranchNode
export type TrieNode = ResolvedNode | HashRefNode

export function isDirty(node: ResolvedNode): boolean {
  return node.hash === null && node.enc === null
}

/** Forgets the cached reference after `node` (or something below it) changed. */
export function invalidate(node: ResolvedNode): void {
  node.enc = null
  node.hash = null
  node.stored = false
}

function emptyChildren(): Array<TrieNode | null> {
  // A literal keeps the array in V8's packed-elements mode.
  return [null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null]
}

// ---------------------------------------------------------------------------------------------
// Encoding

function byteLength(n: number): number {
  let len = 0
  while (n > 0) {
    len++
    n = Math.floor(n / 256)
  }
  return len
}

function writeLength(n: number, len: number, out: Uint8Array, pos: number): number {
  for (let i = len - 1; i >= 0; i--) {
    out[pos + i] = n & 0xff
    n = Math.floor(n / 256)
  }
  return pos + len
}

function rlpStringLength(b: Uint8Array): number {
  const n = b.length
  if (n === 1 && b[0] < 0x80) return 1
  if (n < 56) return n + 1
  return n + 1 + byteLength(n)
}

function writeRlpString(b: Uint8Array, out: Uint8Array, pos: number): number {
  const n = b.length
  if (n === 1 && b[0] < 0x80) {
    out[pos] = b[0]
    return pos + 1
  }
  if (n < 56) {
    out[pos++] = 0x80 + n
  } else {
    const len = byteLength(n)
    out[pos++] = 0xb7 + len
    pos = writeLength(n, len, out, pos)
  }
  out.set(b, pos)
  return pos + n
}

/** Encoded length of the hex-prefix path as an RLP string: a single flag byte is always < 0x80. */
function pathItemLength(path: Uint8Array): number {
  const hp = hexPrefixLength(path)
  return hp === 1 ? 1 : hp + 1
}

function writePathItem(path: Uint8Array, leaf: boolean, out: Uint8Array, pos: number): number {
  const hp = hexPrefixLength(path)
  if (hp > 1) out[pos++] = 0x80 + hp
  return writeHexPrefix(path, leaf, out, pos)
}

/** Bytes the reference to `child` takes inside its parent's encoding. */
function refLength(child: TrieNode | null): number {
  if (child === null) return 1
  if (child.kind !== HASH_REF && child.enc !== null) return child.enc.length
  return 33
}

function writeRef(child: TrieNode | null, out: Uint8Array, pos: number): number {
  if (child === null) {
    out[pos] = 0x80
    return pos + 1
  }
  if (child.kind !== HASH_REF && child.enc !== null) {
    out.set(child.enc, pos)
    return pos + child.enc.length
  }
  const hash = child.hash
  if (hash === null) throw new Error('trie invariant: a child is encoded after its parent')
  out[pos] = 0xa0
  out.set(hash, pos + 1)
  return pos + 33
}

function payloadLength(node: ResolvedNode): number {
  switch (node.kind) {
    case LEAF:
      return pathItemLength(node.path) + rlpStringLength(node.value)
    case EXTENSION:
      return pathItemLength(node.path) + refLength(node.child)
    case BRANCH: {
      const children = node.children
      let payload = node.value === null ? 1 : rlpStringLength(node.value)
      for (let i = 0; i < 16; i++) payload += refLength(children[i])
      return payload
    }
  }
}

function listLength(payload: number): number {
  return payload < 56 ? payload + 1 : payload + 1 + byteLength(payload)
}

/** Writes a list header at `out[0..]` and returns where the payload starts. */
function writeListHeader(payload: number, out: Uint8Array): number {
  if (payload < 56) {
    out[0] = 0xc0 + payload
    return 1
  }
  const len = byteLength(payload)
  out[0] = 0xf7 + len
  return writeLength(payload, len, out, 1)
}

/** Writes the node's encoding at `out[0..]`; `payload` is `payloadLength(node)`. */
function writeNode(node: ResolvedNode, payload: number, out: Uint8Array): void {
  let pos = writeListHeader(payload, out)
  switch (node.kind) {
    case LEAF:
      writeRlpString(node.value, out, writePathItem(node.path, true, out, pos))
      return
    case EXTENSION:
      writeRef(node.child, out, writePathItem(node.path, false, out, pos))
      return
    case BRANCH: {
      const children = node.children
      for (let i = 0; i < 16; i++) pos = writeRef(children[i], out, pos)
      if (node.value === null) out[pos] = 0x80
      else writeRlpString(node.value, out, pos)
    }
  }
}

/** RLP of a clean node, or of a dirty one whose children are all clean. */
export function encodeNode(node: ResolvedNode): Uint8Array {
  const payload = payloadLength(node)
  const out = new Uint8Array(listLength(payload))
  writeNode(node, payload, out)
  return out
}

/**
 * Brings `branch.rlp` up to date (its changed children must be clean) and returns it. Unchanged
 * references are copied from the previous encoding; when no reference changed size and nobody
 * else holds the old encoding, it is patched in place.
 */
export function encodeBranch(branch: BranchNode): Uint8Array {
  const old = branch.rlp
  const rlp = old === null ? encodeNode(branch) : patchBranch(branch, old)
  branch.rlp = rlp
  branch.changed = 0
  return rlp
}

/** Offsets of the 17 items of the encoding being patched (and the end of the last one). */
const itemStarts = new Int32Array(18)

function patchBranch(branch: BranchNode, old: Uint8Array): Uint8Array {
  let pos = old[0] < 0xf8 ? 1 : 1 + (old[0] - 0xf7)
  for (let i = 0; i < 17; i++) {
    itemStarts[i] = pos
    pos += itemLength(old, pos)
  }
  itemStarts[17] = pos
  const changed = branch.changed
  let payload = pos - itemStarts[0]
  let resized = false
  for (let i = 0; i < 17; i++) {
    if ((changed & (1 << i)) === 0) continue
    const delta = slotLength(branch, i) - (itemStarts[i + 1] - itemStarts[i])
    payload += delta
    if (delta !== 0) resized = true
  }
  if (!resized && !branch.rlpShared) {
    for (let i = 0; i < 17; i++) if ((changed & (1 << i)) !== 0) writeSlot(branch, i, old, itemStarts[i])
    return old
  }
  const out = new Uint8Array(listLength(payload))
  pos = writeListHeader(payload, out)
  // Copy runs of unchanged slots in one go; rewrite the changed ones.
  let runStart = itemStarts[0]
  for (let i = 0; i < 17; i++) {
    if ((changed & (1 << i)) === 0) continue
    out.set(old.subarray(runStart, itemStarts[i]), pos)
    pos += itemStarts[i] - runStart
    pos = writeSlot(branch, i, out, pos)
    runStart = itemStarts[i + 1]
  }
  out.set(old.subarray(runStart, itemStarts[17]), pos)
  branch.rlpShared = false
  return out
}

/** Length of the RLP item starting at `buf[pos]`. */
function itemLength(buf: Uint8Array, pos: number): number {
  const b = buf[pos]
  if (b < 0x80) return 1
  if (b < 0xb8) return 1 + b - 0x80
  if (b < 0xc0) return 1 + (b - 0xb7) + readLength(buf, pos + 1, b - 0xb7)
  if (b < 0xf8) return 1 + b - 0xc0
  return 1 + (b - 0xf7) + readLength(buf, pos + 1, b - 0xf7)
}

function readLength(buf: Uint8Array, pos: number, len: number): number {
  let n = 0
  for (let i = 0; i < len; i++) n = n * 256 + buf[pos + i]
  return n
}

function slotLength(branch: BranchNode, slot: number): number {
  if (slot < 16) return refLength(branch.children[slot])
  return branch.value === null ? 1 : rlpStringLength(branch.value)
}

function writeSlot(branch: BranchNode, slot: number, out: Uint8Array, pos: number): number {
  if (slot < 16) return writeRef(branch.children[slot], out, pos)
  if (branch.value !== null) return writeRlpString(branch.value, out, pos)
  out[pos] = 0x80
  return pos + 1
}

let scratch = new Uint8Array(1024)

/**
 * `encodeNode` into a shared buffer, for leaf and extension encodings that are only hashed: the
 * returned view is overwritten by the next call.
 */
export function encodeNodeTransient(node: ResolvedNode): Uint8Array {
  const payload = payloadLength(node)
  const length = listLength(payload)
  if (length > scratch.length) scratch = new Uint8Array(length * 2)
  writeNode(node, payload, scratch)
  return scratch.subarray(0, length)
}

// ---------------------------------------------------------------------------------------------
// Decoding (cold path: only nodes loaded from a source)

/** Decodes a node read from a source by hash (the caller sets `hash`); it counts as already persisted. */
export function decodeNode(rlp: Uint8Array): ResolvedNode {
  let decoded: Uint8Array | NestedUint8Array
  try {
    decoded = RLP.decode(rlp)
  } catch (err) {
    throw new InvalidTrieNodeError(err instanceof Error ? err.message : String(err))
  }
  if (decoded instanceof Uint8Array) throw new InvalidTrieNodeError('not an RLP list')
  const node = nodeFromItems(decoded)
  // Only a root can be stored by hash while shorter than 32 bytes; like any short node it keeps its encoding.
  if (rlp.length < 32) node.enc = rlp
  if (node.kind === BRANCH) keepRlp(node, rlp)
  node.stored = true
  return node
}

function nodeFromItems(items: NestedUint8Array): ResolvedNode {
  if (items.length === 17) return branchFromItems(items)
  if (items.length !== 2) throw new InvalidTrieNodeError(`list of ${items.length} items`)
  const pathItem = items[0]
  if (!(pathItem instanceof Uint8Array)) throw new InvalidTrieNodeError('path is a list')
  const hp = decodeHexPrefix(pathItem)
  if (hp === undefined) throw new InvalidTrieNodeError('bad hex-prefix path')
  if (hp.leaf) {
    const value = items[1]
    if (!(value instanceof Uint8Array)) throw new InvalidTrieNodeError('leaf value is a list')
    return new LeafNode(hp.path, value)
  }
  if (hp.path.length === 0) throw new InvalidTrieNodeError('extension with an empty path')
  const child = childFromItem(items[1])
  if (child === null) throw new InvalidTrieNodeError('extension without a child')
  return new ExtensionNode(hp.path, child)
}

function branchFromItems(items: NestedUint8Array): BranchNode {
  const node = new BranchNode()
  for (let i = 0; i < 16; i++) node.children[i] = childFromItem(items[i])
  const value = items[16]
  if (!(value instanceof Uint8Array)) throw new InvalidTrieNodeError('branch value is a list')
  node.value = value.length === 0 ? null : value
  return node
}

function childFromItem(item: Uint8Array | NestedUint8Array): TrieNode | null {
  if (item instanceof Uint8Array) {
    if (item.length === 0) return null
    if (item.length === 32) return new HashRefNode(item)
    throw new InvalidTrieNodeError(`child reference of ${item.length} bytes`)
  }
  // An inline child: its encoding sits verbatim in the parent's.
  const node = nodeFromItems(item)
  const enc = encodeRlp(item)
  if (enc.length >= 32) throw new InvalidTrieNodeError('inline child of 32 bytes or more')
  node.enc = enc
  if (node.kind === BRANCH) keepRlp(node, enc)
  node.stored = true
  return node
}

function keepRlp(branch: BranchNode, rlp: Uint8Array): void {
  branch.rlp = rlp
  branch.rlpShared = true
}
