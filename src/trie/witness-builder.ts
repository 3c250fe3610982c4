import { KECCAK256_NULL, bytesToHex, equalsBytes, hexToBytes } from '@ethereumjs/util'
import type { BlockAccess } from '../primitives/block-access.ts'
import type { Hex, StateDiff } from '../primitives/state-diff.ts'
import type { StateTrie } from './index.ts'

const EMPTY_CODE_HASH = bytesToHex(KECCAK256_NULL) as Hex

/**
 * Collects the pre-existing trie nodes a `StateTrie` reads while recording. Wire `onNodeRead` into
 * the trie's options; outside `begin()`…`end()` reads cost one call and are dropped.
 */
export class TrieNodeCollector {
  private nodes: Map<object, Uint8Array> | undefined

  readonly onNodeRead = (rlp: Uint8Array, identity: object): void => {
    const nodes = this.nodes
    if (nodes !== undefined && !nodes.has(identity)) nodes.set(identity, rlp)
  }

  begin(): void {
    this.nodes = new Map()
  }

  /** The distinct nodes read since `begin()`, in first-read order. */
  end(): Uint8Array[] {
    const nodes = [...(this.nodes?.values() ?? [])]
    this.nodes = undefined
    return nodes
  }
}

/** The state part of a block's witness, as the merkleizer produces it. */
export interface StateWitness {
  /** The state root after the block. */
  root: Uint8Array
  /** Every pre-existing trie node read: by the block's reads, and by the root update (deletion siblings included). */
  nodes: Uint8Array[]
  /** Code hashes of the accounts the block read that have code (their bytecode goes into the witness). */
  codeHashes: Hex[]
  /** Preimages of every key read or written. */
  keys: Uint8Array[]
}

/**
 * Advances `trie` by one block's `diff` while recording its witness: first the reads the block's
 * execution made (so read-only accounts and slots are provable), then the root update, which walks
 * every written path and the siblings that deletions fold into their parents. `collector` must be
 * the one wired into `trie`.
 */
export function applyDiffRecordingWitness(
  trie: StateTrie,
  collector: TrieNodeCollector,
  diff: StateDiff,
  access: BlockAccess,
): StateWitness {
  const keys = new Map<Hex, Uint8Array>()
  const codeHashes = new Set<Hex>()
  collector.begin()
  let root: Uint8Array
  try {
    // A key the diff writes is walked by the root update itself: reading it first would walk the
    // same path twice. Its post-state code hash is the one read unless the code changed within the
    // block (an EIP-7702 delegation; Cancun's SELFDESTRUCT only removes code created in the same
    // transaction): code loaded from the pre-state is recorded apart (`access.codeHashes`).
    const readAccount = (address: Hex): Uint8Array => {
      let bytes = keys.get(address)
      if (bytes !== undefined) return bytes
      bytes = hexToBytes(address)
      keys.set(address, bytes)
      const written = diff.accounts.get(address)?.account
      const codeHash = written != null ? written.codeHash : trie.account(bytes)?.account.codeHash
      if (codeHash !== undefined && !equalsBytes(codeHash, KECCAK256_NULL)) codeHashes.add(bytesToHex(codeHash) as Hex)
      return bytes
    }
    for (const address of access.accounts) readAccount(address)
    for (const codeHash of access.codeHashes) if (codeHash !== EMPTY_CODE_HASH) codeHashes.add(codeHash)
    for (const [address, slots] of access.slots) {
      const addressBytes = readAccount(address)
      const change = diff.accounts.get(address)
      // Wiped storage is rebuilt from empty, so its old slots are walked only by reading them.
      const rewritten = change === undefined || change.account === null || change.storageCleared ? undefined : change.storage
      for (const slot of slots) {
        const slotBytes = hexToBytes(slot)
        if (!keys.has(slot)) keys.set(slot, slotBytes)
        if (rewritten?.has(slot) !== true) trie.storageValue(addressBytes, slotBytes)
      }
    }
    root = trie.applyDiff(diff)
  } catch (error) {
    collector.end()
    throw error
  }
  const nodes = collector.end()
  for (const [address, change] of diff.accounts) {
    if (!keys.has(address)) keys.set(address, hexToBytes(address))
    for (const slot of change.storage.keys()) if (!keys.has(slot)) keys.set(slot, hexToBytes(slot))
  }
  return { root, nodes, codeHashes: [...codeHashes], keys: [...keys.values()] }
}
