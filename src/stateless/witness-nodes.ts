import { RLP } from '@ethereumjs/rlp'
import { KECCAK256_RLP, bytesToHex, equalsBytes } from '@ethereumjs/util'
import type { RlpValue } from '../primitives/rlp-fields.ts'
import type { Hex } from '../primitives/state-diff.ts'
import { keccak256 } from '../crypto/native.ts'
import type { TrieNodeSource } from '../trie/index.ts'
import { BlockVerificationError } from './errors.ts'

/** A witness's trie nodes by hash: the source a partial trie loads nodes from. */
export class WitnessNodes implements TrieNodeSource {
  private readonly byHash = new Map<Hex, Uint8Array>()
  /** Nodes the trie has loaded: it follows references from the root, so these are reachable. */
  private readonly loaded = new Set<Hex>()

  constructor(nodes: readonly Uint8Array[]) {
    for (const rlp of nodes) this.byHash.set(bytesToHex(keccak256(rlp)) as Hex, rlp)
  }

  get(hash: Uint8Array): Uint8Array | undefined {
    const key = bytesToHex(hash) as Hex
    const rlp = this.byHash.get(key)
    if (rlp !== undefined) this.loaded.add(key)
    return rlp
  }

  /**
   * Checks that the nodes form one partial trie under `stateRoot`: every node must be reachable from
   * the root through account- and storage-trie references. A node that hashes into nothing cannot
   * influence execution (nodes are only ever found by hash), but a witness carrying one is not the
   * honest witness of this block.
   */
  assertAllReachable(stateRoot: Uint8Array): void {
    // The usual case: verification loaded every node, so every node is reachable; the walk (which
    // decodes every node again) is for witnesses holding nodes this execution did not need.
    if (this.loaded.size === this.byHash.size) return
    assertAllReachable(this.byHash, stateRoot)
  }
}

function assertAllReachable(byHash: ReadonlyMap<Hex, Uint8Array>, stateRoot: Uint8Array): void {
  const reached = new Set<Hex>()

  const walk = (hash: Uint8Array, isAccountTrie: boolean): void => {
    const key = bytesToHex(hash) as Hex
    if (reached.has(key)) return
    const rlp = byHash.get(key)
    // Absent nodes are fine here: a partial trie stops where the block's reads stop.
    if (rlp === undefined) return
    reached.add(key)
    let decoded: RlpValue
    try {
      decoded = RLP.decode(rlp) as RlpValue
    } catch {
      throw new BlockVerificationError('WITNESS_INVALID_NODE', `witness node ${key} is not valid RLP`)
    }
    visitNode(decoded, isAccountTrie, key)
  }

  const visitReference = (ref: RlpValue, isAccountTrie: boolean, owner: Hex): void => {
    if (ref instanceof Uint8Array) {
      if (ref.length === 32) walk(ref, isAccountTrie)
      else if (ref.length !== 0)
        throw new BlockVerificationError(
          'WITNESS_INVALID_NODE',
          `witness node ${owner} holds a ${ref.length}-byte child reference`,
        )
      return
    }
    visitNode(ref, isAccountTrie, owner)
  }

  const visitNode = (node: RlpValue, isAccountTrie: boolean, owner: Hex): void => {
    if (!Array.isArray(node)) throw new BlockVerificationError('WITNESS_INVALID_NODE', `witness node ${owner} is not a list`)
    if (node.length === 17) {
      for (let i = 0; i < 16; i++) visitReference(node[i]!, isAccountTrie, owner)
      return
    }
    const [path, child] = node
    if (node.length !== 2 || !(path instanceof Uint8Array) || path.length === 0 || child === undefined) {
      throw new BlockVerificationError(
        'WITNESS_INVALID_NODE',
        `witness node ${owner} is neither a branch, an extension nor a leaf`,
      )
    }
    const isLeaf = path[0]! >> 4 >= 2
    if (!isLeaf) {
      visitReference(child, isAccountTrie, owner)
      return
    }
    if (isAccountTrie && child instanceof Uint8Array) {
      const storageRoot = accountStorageRoot(child)
      if (storageRoot !== undefined && !equalsBytes(storageRoot, KECCAK256_RLP)) walk(storageRoot, false)
    }
  }

  walk(stateRoot, true)
  for (const key of byHash.keys()) {
    if (!reached.has(key)) {
      throw new BlockVerificationError(
        'WITNESS_BOGUS_NODE',
        `witness node ${key} does not hash into the state under parent root ${bytesToHex(stateRoot)}`,
      )
    }
  }
}

/** The storage root field of an account leaf's value; undefined when the value is not an account. */
function accountStorageRoot(value: Uint8Array): Uint8Array | undefined {
  try {
    const fields = RLP.decode(value)
    const root = Array.isArray(fields) && fields.length === 4 ? fields[2] : undefined
    return root instanceof Uint8Array && root.length === 32 ? root : undefined
  } catch {
    return undefined
  }
}
