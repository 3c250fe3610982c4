import { RLP } from '@ethereumjs/rlp'
import { CodecError, decodeRlp, encodeRlp } from '../primitives/rlp-fields.ts'
import type { RlpValue } from '../primitives/rlp-fields.ts'
import { decodeStateDiff, encodeStateDiff } from '../primitives/state-diff-codec.ts'
import type { StateDiff } from '../primitives/state-diff.ts'
import { readU64, u64 } from '../primitives/u64.ts'
import type { BatchOp, NodeDb } from './db.ts'

const VERIFIED_KEY = new TextEncoder().encode('verified')

/**
 * Blocks a rewind can undo by default (`--state.rewind-depth`): ~3 h of 1 s blocks, the artifacts' window; the dev
 * chain's sequencing window is 40 L1 blocks of 2 s (80 L2 blocks). OP's mainnet window (3,600 L1 blocks, 12 h) needs 43,200.
 */
export const DEFAULT_REWIND_DEPTH = 10_000n

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
    /** How many recent blocks keep their reverse diff (how deep `rewindChain` can go); 0: none kept (a chain without L1). */
    readonly rewindDepth: bigint = DEFAULT_REWIND_DEPTH,
    /**
     * How many recent blocks' state stays readable (`--state.history`): their reverse diffs are kept too, so a
     * restart refills `StateHistory` from them (`recentReverseDiffs`), even on a chain that never rewinds.
     */
    historyBlocks = 0n,
  ) {
    this.undoBlocks = rewindDepth > historyBlocks ? rewindDepth : historyBlocks
  }

  /** How many recent blocks keep their reverse diff: the larger of the rewind depth and the state history. */
  readonly undoBlocks: bigint

  /**
   * Stores block `number`'s reverse diff (the prior value of everything it changed; see
   * `state/reverse-diff.ts`) in the block's own seal batch, and drops the one that left the window.
   */
  reverseDiffOps(number: bigint, reverse: StateDiff): BatchOp[] {
    return this.encodedReverseDiffOps(number, encodeRlp(encodeStateDiff(reverse)))
  }

  /** `reverseDiffOps` with the reverse diff already RLP-encoded (as `encodeStateDiff` lays it out). */
  encodedReverseDiffOps(number: bigint, encoded: Uint8Array): BatchOp[] {
    const ops = [this.db.put('undo', u64(number), encoded)]
    const expired = number - this.undoBlocks
    if (expired >= 0n) ops.push(this.db.del('undo', u64(expired)))
    return ops
  }

  /** Block `number`'s reverse diff, if it is still kept; a malformed record is a `CodecError`. */
  async reverseDiff(number: bigint): Promise<StateDiff | undefined> {
    const bytes = await this.db.get('undo', u64(number))
    return bytes === undefined ? undefined : decodeReverseDiff(number, bytes)
  }

  /**
   * The reverse diffs of up to `count` blocks from `head` down, newest first, stopping at the first block
   * without one (older than the window, sealed before they were kept, or a snapshot sync's pivot): the
   * records a restart gives back to `StateHistory`. One range read; a malformed record is a `CodecError`.
   */
  async recentReverseDiffs(head: bigint, count: number): Promise<StateDiff[]> {
    const from = head - BigInt(count) + 1n
    const stored = new Map<bigint, Uint8Array>()
    for await (const [key, value] of this.db.range('undo', u64(from < 0n ? 0n : from), u64(head + 1n)))
      stored.set(readU64(key), value)
    const newestFirst: StateDiff[] = []
    for (let number = head; number >= from; number--) {
      const bytes = stored.get(number)
      if (bytes === undefined) break
      newestFirst.push(decodeReverseDiff(number, bytes))
    }
    return newestFirst
  }

  /** Everything kept for block `number`, removed (a rewind dropped the block); the verified mark moves back to `newHead`. */
  async dropOps(number: bigint, newHead: bigint): Promise<BatchOp[]> {
    const key = u64(number)
    const ops = [this.db.del('witnesses', key), this.db.del('diffs', key), this.db.del('undo', key)]
    const verified = await this.verifiedHead()
    if (verified !== undefined && verified > newHead) ops.push(this.db.put('meta', VERIFIED_KEY, u64(newHead)))
    return ops
  }

  /** Stores block `number`'s witness and (RLP-encoded) state diff and drops those that left the window. */
  sealOps(number: bigint, artifacts: { witness: Uint8Array; encodedDiff: Uint8Array }): BatchOp[] {
    return [this.db.put('witnesses', u64(number), artifacts.witness), ...this.encodedDiffOps(number, artifacts.encodedDiff)]
  }

  /** Stores block `number`'s state diff alone (a replica has no witness to keep) and prunes the window. */
  diffOps(number: bigint, diff: StateDiff): BatchOp[] {
    return this.encodedDiffOps(number, encodeRlp(encodeStateDiff(diff)))
  }

  private encodedDiffOps(number: bigint, encodedDiff: Uint8Array): BatchOp[] {
    const ops = [this.db.put('diffs', u64(number), encodedDiff)]
    const expired = number - this.retainBlocks
    if (expired >= 0n) ops.push(this.db.del('witnesses', u64(expired)), this.db.del('diffs', u64(expired)))
    return ops
  }

  /**
   * A replica verified block `number` with `witness`: keep the witness to serve, and remember how far
   * verification got so a restart re-verifies only what it had not.
   */
  async markVerified(number: bigint, witness: Uint8Array): Promise<void> {
    await this.db.write([this.db.put('witnesses', u64(number), witness), this.db.put('meta', VERIFIED_KEY, u64(number))], false)
  }

  /** The verified mark set to block `number`: a snapshot-synced replica's pivot, whose state its root vouched for. */
  verifiedOps(number: bigint): BatchOp[] {
    return [this.db.put('meta', VERIFIED_KEY, u64(number))]
  }

  /** The oldest block whose state diff is still kept: where a replica can catch up from (undefined: none kept). */
  async oldestDiff(): Promise<bigint | undefined> {
    const [first] = await this.db.entriesAfter('diffs', undefined, 1)
    return first === undefined ? undefined : readU64(first[0])
  }

  /** The newest block this replica verified, if it verified any. */
  async verifiedHead(): Promise<bigint | undefined> {
    const value = await this.db.get('meta', VERIFIED_KEY)
    return value === undefined ? undefined : readU64(value)
  }

  witness(number: bigint): Promise<Uint8Array | undefined> {
    return this.db.get('witnesses', u64(number))
  }

  async diff(number: bigint): Promise<StateDiff | undefined> {
    const bytes = await this.db.get('diffs', u64(number))
    return bytes === undefined ? undefined : decodeStateDiff(RLP.decode(bytes) as RlpValue)
  }
}

/** A stored reverse diff, decoded and checked field by field (`decodeStateDiff`); reverse diffs carry no code. */
function decodeReverseDiff(number: bigint, bytes: Uint8Array): StateDiff {
  const diff = decodeStateDiff(decodeRlp(bytes, `block ${number}'s reverse diff`))
  if (diff.codes.size !== 0) throw new CodecError(`block ${number}'s reverse diff: holds code`)
  return diff
}
