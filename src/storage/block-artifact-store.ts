import { u64, type BatchOp, type NodeDb } from './db.ts'

/**
 * Per-block artifacts a sequencer keeps for others over a recent window: the block's state witness
 * (replicas verify with it; `debug_executionWitness` serves it) and its merged state diff (replicas
 * catching up apply it instead of replaying mini-blocks). Both are large next to a block, so they are
 * pruned to the newest `retainBlocks` blocks, in the same batch that adds a block.
 */
export class BlockArtifactStore {
  constructor(
    private readonly db: NodeDb,
    private readonly retainBlocks: bigint,
  ) {}

  /** Stores block `number`'s artifacts (already encoded) and drops those that left the window. */
  sealOps(number: bigint, artifacts: { witness: Uint8Array; diff: Uint8Array }): BatchOp[] {
    const key = u64(number)
    const ops = [this.db.put('witnesses', key, artifacts.witness), this.db.put('diffs', key, artifacts.diff)]
    const expired = number - this.retainBlocks
    if (expired >= 0n) ops.push(this.db.del('witnesses', u64(expired)), this.db.del('diffs', u64(expired)))
    return ops
  }

  witness(number: bigint): Promise<Uint8Array | undefined> {
    return this.db.get('witnesses', u64(number))
  }

  diff(number: bigint): Promise<Uint8Array | undefined> {
    return this.db.get('diffs', u64(number))
  }
}
