import { StateRootBuilder } from '../trie/state-root-builder.ts'
import type { StateTrieAccount } from '../trie/index.ts'
import { TrieNodeStore } from '../storage/trie-node-store.ts'

/**
 * Builds the state trie of `accounts` (any order, each once) without holding it: `StateRootBuilder`
 * reports the nodes children first and they go to the node store at `trieDir` as they come, fsynced at
 * the end, so a root found there has its whole subtree. Returns the root. For a datadir's first state
 * (a genesis, a snapshot), written before the trie thread opens `trieDir`.
 */
export async function writeStateTrie(accounts: AsyncIterable<StateTrieAccount>, trieDir: string): Promise<Uint8Array> {
  const nodes = await TrieNodeStore.open(trieDir)
  try {
    let pending: Array<[Uint8Array, Uint8Array]> = []
    const builder = new StateRootBuilder((hash, rlp) => pending.push([hash, rlp]))
    for await (const account of accounts) builder.add(account)
    const steps = builder.finish()
    for (let step = steps.next(); ; step = steps.next()) {
      await nodes.putNodes(pending, step.done === true)
      pending = []
      if (step.done === true) return step.value
    }
  } finally {
    await nodes.close()
  }
}
