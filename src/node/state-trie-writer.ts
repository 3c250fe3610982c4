import { StateRootBuilder } from '../trie/state-root-builder.ts'
import type { StateTrieAccount } from '../trie/index.ts'
import { TrieNodeStore } from '../storage/trie-node-store.ts'

/** LevelDB's memtable while a whole trie is written (see `TrieNodeStoreOptions.writeBufferBytes`). */
const WRITE_BUFFER_BYTES = 64 * 1024 * 1024

/**
 * The nodes of a state trie being built for a datadir's first state (a genesis, a snapshot), on their
 * way to the node store at `trieDir`, written before the trie thread opens it. `StateRootBuilder`
 * reports them children first into `sink`; `flush` writes what came so far, and the last flush fsyncs,
 * so a root found there has its whole subtree.
 */
export class StateTrieWriter {
  private pending: Array<[Uint8Array, Uint8Array]> = []

  private constructor(private readonly nodes: TrieNodeStore) {}

  static async open(trieDir: string): Promise<StateTrieWriter> {
    return new StateTrieWriter(await TrieNodeStore.open(trieDir, { cacheBytes: 0, writeBufferBytes: WRITE_BUFFER_BYTES }))
  }

  /** Where the builder reports nodes. */
  readonly sink = (hash: Uint8Array, rlp: Uint8Array): void => {
    this.pending.push([hash, rlp])
  }

  /** Writes the nodes reported since the last flush. */
  async flush(sync = false): Promise<void> {
    const nodes = this.pending
    this.pending = []
    await this.nodes.putNodes(nodes, sync)
  }

  /**
   * Runs `builder.finish()`, its nodes written while its next step hashes (one write in flight, so
   * they still reach the store in the order reported) and the last fsynced; returns the root.
   */
  async finish(builder: StateRootBuilder): Promise<Uint8Array> {
    const steps = builder.finish()
    let writing = Promise.resolve()
    try {
      for (let step = steps.next(); ; step = steps.next()) {
        await writing
        writing = this.flush(step.done === true)
        if (step.done === true) {
          await writing
          return step.value
        }
      }
    } catch (error) {
      // A step that throws (a key added twice) leaves the write before it to finish, not to go unhandled.
      await writing.catch(() => undefined)
      throw error
    }
  }

  close(): Promise<void> {
    return this.nodes.close()
  }
}

/**
 * Builds the state trie of `accounts` (any order, each once) into `trieDir` without holding it.
 * Returns the root.
 */
export async function writeStateTrie(accounts: AsyncIterable<StateTrieAccount>, trieDir: string): Promise<Uint8Array> {
  const writer = await StateTrieWriter.open(trieDir)
  try {
    const builder = new StateRootBuilder(writer.sink)
    for await (const account of accounts) builder.add(account)
    return await writer.finish(builder)
  } finally {
    await writer.close()
  }
}
