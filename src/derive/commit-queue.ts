/**
 * Derived blocks written behind the building of their successors. A consumer that builds every derived
 * block (a `--sync=l1` replica) otherwise waits, per block, for LevelDB to write the block, its state,
 * artifacts and reverse diff before it executes the next one; with this queue that write runs (in
 * LevelDB's thread) while the next block executes and merkleizes.
 *
 * What stays strictly ordered, and why:
 * - Writes are serial, one atomic batch per block, in block order: a crash leaves the datadir at some
 *   block's head with its reverse diff, never between two blocks (`chain-rewind.ts` finds every one).
 * - A block's ops are built only after the previous block's write finished (`settled`): building them
 *   reads the stored flat state (a cleared account's slots, a reverse diff past the in-memory history),
 *   which must be the parent's.
 * - The chain view learns a block (`addSealedBlock`: head, RPC, subscriptions) only once it is written,
 *   so a block the RPC shows has its transactions and receipts indexed. Until then the builder builds
 *   on it from here (`head`, `blockHash`); the in-memory flat state already holds its state, as it
 *   holds a sequencer's newest mini-block's.
 */
import type { SealedBlock } from '../chain/block.ts'
import type { ChainView } from '../storage/chain-view.ts'
import { criticalError } from './errors.ts'

export class DerivedCommitQueue {
  private writing: Promise<void> = Promise.resolve()
  private failure: Error | undefined
  /** Built and queued, not in the chain view yet, oldest first. */
  private readonly unwritten: SealedBlock[] = []

  constructor(private readonly chain: ChainView) {}

  /** The block the next one builds on: the newest queued, or the chain's head. */
  get head(): SealedBlock {
    return this.unwritten.at(-1) ?? this.chain.head
  }

  /** A queued block (the chain view does not have it yet). */
  queued(number: bigint): SealedBlock | undefined {
    for (const block of this.unwritten) if (block.header.number === number) return block
    return undefined
  }

  /** Resolves when every queued write is done. @throws the first write's failure, for good */
  async settled(): Promise<void> {
    await this.writing
    if (this.failure !== undefined) throw this.failure
  }

  /**
   * Queues `block`'s write (`write`: its one atomic batch); the chain view gets the block when it is
   * done. Call after `settled()`: the ops were built on the parent's stored state.
   */
  enqueue(block: SealedBlock, write: () => Promise<void>): void {
    if (this.failure !== undefined) throw this.failure
    this.unwritten.push(block)
    this.writing = this.writing.then(async () => {
      if (this.failure !== undefined) return
      try {
        await write()
        this.unwritten.shift()
        this.chain.addSealedBlock(block)
      } catch (error) {
        // Its state is already in the in-memory flat state: nothing can build on it, a restart
        // reopens the datadir at the last written block and derives from there.
        this.failure = criticalError(
          'DERIVE_COMMIT_FAILED',
          `writing derived block ${block.header.number} failed: ${error instanceof Error ? error.message : String(error)}`,
          error,
        )
      }
    })
  }
}
