/**
 * What a state trie's recent blocks displaced, kept so that proofs can still be made against the
 * roots it had before them (`StateTrie.getProofAt`).
 *
 * Every node a block's root update replaces lies on the path of a key the block writes (or is the
 * sibling a deletion folds into its parent), and the trie already reports exactly those nodes, with
 * their stored encoding and hash, as it walks them (`onNodeRead`, which feeds the witness). So a
 * block's record is the reported nodes by hash, plus the storage tries it dropped whole (a deleted
 * account or wiped storage is never walked). A node of an old root is then either still in the live
 * trie at the same place, or in the record of the block that replaced it.
 */
import { bytesToHex, equalsBytes } from '@ethereumjs/util'
import type { Hex } from '../primitives/state-diff.ts'
import type { MerkleTrie } from './trie.ts'

interface BlockRecord {
  /** The state root before the block was applied. */
  rootBefore: Uint8Array
  /** Encodings of the nodes the update walked (all those it replaced among them), by hex hash. */
  nodes: Map<string, Uint8Array>
  /** Storage tries the block dropped whole, as they were before it, by lowercase address. */
  droppedStorage: Map<Hex, MerkleTrie>
  /** Bytes of encodings held (the keys and map overhead come on top). */
  bytes: number
}

/** The records of the blocks applied after some root, oldest first: where that root's nodes went. */
export class HistoricalNodes {
  constructor(private readonly records: readonly BlockRecord[]) {}

  /** The encoding of node `hash` if one of these blocks displaced it. */
  node(hash: Uint8Array): Uint8Array | undefined {
    const key = bytesToHex(hash)
    for (const record of this.records) {
      const rlp = record.nodes.get(key)
      if (rlp !== undefined) return rlp
    }
    return undefined
  }

  /** Storage tries of `address` these blocks dropped whole, oldest first. */
  droppedStorage(address: Hex): MerkleTrie[] {
    const tries: MerkleTrie[] = []
    for (const record of this.records) {
      const trie = record.droppedStorage.get(address)
      if (trie !== undefined) tries.push(trie)
    }
    return tries
  }
}

export interface TrieHistoryStats {
  /** Blocks recorded (each lets proofs be made at the root before it). */
  blocks: number
  nodes: number
  /** Bytes of node encodings held. */
  bytes: number
  /** Storage tries kept alive because a recorded block dropped them. */
  droppedStorageTries: number
}

export class TrieHistory {
  private records: BlockRecord[] = []
  private current: BlockRecord | undefined

  /** `retain`: how many of the newest blocks to keep records of. */
  constructor(readonly retain: number) {
    if (!Number.isInteger(retain) || retain < 0) throw new RangeError(`trie history retention must be a count, got ${retain}`)
  }

  /** Wire into the trie's `onNodeRead`; records only between `begin` and `end`. */
  readonly onNodeRead = (rlp: Uint8Array, _identity: object, hash: Uint8Array): void => {
    const record = this.current
    if (record === undefined) return
    const key = bytesToHex(hash)
    if (record.nodes.has(key)) return
    record.nodes.set(key, rlp)
    record.bytes += rlp.length
  }

  /** A block is about to be applied to the trie whose root is `rootBefore`. */
  begin(rootBefore: Uint8Array): void {
    this.current = { rootBefore, nodes: new Map(), droppedStorage: new Map(), bytes: 0 }
  }

  /** The block's storage trie of `address` is being dropped whole (not walked). */
  storageDropped(address: Hex, trie: MerkleTrie): void {
    this.current?.droppedStorage.set(address, trie)
  }

  /** The block is applied: keep its record, forget the oldest beyond the retention. */
  end(): void {
    const record = this.current
    this.current = undefined
    if (record === undefined || this.retain === 0) return
    this.records.push(record)
    if (this.records.length > this.retain) this.records.splice(0, this.records.length - this.retain)
  }

  /** Forgets everything: the trie was rebuilt, or an update failed half-way and its records cannot be trusted. */
  clear(): void {
    this.records = []
    this.current = undefined
  }

  /** Where the nodes of `root` went, if it is the root before one of the recorded blocks. */
  since(root: Uint8Array): HistoricalNodes | undefined {
    // Newest first: a root that recurs (blocks that changed nothing) needs the fewest records.
    for (let i = this.records.length - 1; i >= 0; i--) {
      if (equalsBytes(this.records[i]!.rootBefore, root)) return new HistoricalNodes(this.records.slice(i))
    }
    return undefined
  }

  /** The oldest root proofs can still be made at (undefined when nothing is recorded). */
  oldestRoot(): Uint8Array | undefined {
    return this.records[0]?.rootBefore
  }

  stats(): TrieHistoryStats {
    let nodes = 0
    let bytes = 0
    let droppedStorageTries = 0
    for (const record of this.records) {
      nodes += record.nodes.size
      bytes += record.bytes
      droppedStorageTries += record.droppedStorage.size
    }
    return { blocks: this.records.length, nodes, bytes, droppedStorageTries }
  }
}
