/**
 * L1 blocks read ahead of the pipeline: while it decodes and builds the blocks of one L1 block, the
 * next ones (ref, origin with deposits and config updates, batcher data, blobs) are already being
 * read, up to `depth` blocks. Reading one L1 block takes several round trips (four or five RPC calls,
 * a beacon request per blob block); done one after the other with the work in between, they set the
 * pace of a replica that is behind.
 *
 * Nothing about what the pipeline sees changes: blocks are handed over in order, each read as a child
 * of the exact origin object the pipeline holds (so with the system config carried through it), and
 * the parent-hash check runs in the read itself, so a reorg under a block read ahead surfaces when the
 * pipeline reaches it, as it would have one read later. A read ahead that failed or found nothing
 * (past the head) is never trusted: the pipeline reads again, now. `clear()` (the pipeline resets)
 * drops everything read ahead.
 */
import type { L1Origin } from '../chain/l1-origin.ts'

/** One L1 block as the pipeline consumes it: the block as an origin, and its batcher data in order. */
export interface L1BlockData {
  readonly origin: L1Origin
  readonly data: Uint8Array[]
}

/** Reads the L1 block after `parent` (undefined: not there, or not confirmed yet). @throws DerivationError */
export type ReadL1Child = (parent: L1Origin) => Promise<L1BlockData | undefined>

export class L1ReadAhead {
  /** Reads under way or done, keyed by the origin they are the child of. */
  private ahead = new Map<L1Origin, Promise<L1BlockData | undefined>>()
  /** The newest block read whose child is not being read yet (the read-ahead was full). */
  private frontier: L1Origin | undefined
  /** Bumped by `clear()`: reads from before it do not extend the chain. */
  private generation = 0

  constructor(
    private readonly read: ReadL1Child,
    private readonly depth: number,
  ) {}

  /** The L1 block after `parent`, then keeps reading ahead from it. @throws DerivationError (from a read now) */
  async next(parent: L1Origin): Promise<L1BlockData | undefined> {
    const early = this.ahead.get(parent)
    this.ahead.delete(parent)
    let block = early === undefined ? undefined : await early.catch(() => undefined)
    // Not read ahead, or read too early (past the head then) or unsuccessfully: read it now.
    if (block === undefined) {
      this.clear()
      block = await this.read(parent)
      if (block === undefined) return undefined
    }
    if (this.ahead.size === 0 && this.frontier === undefined) this.extend(block.origin)
    else if (this.frontier !== undefined && this.ahead.size < this.depth) {
      const from = this.frontier
      this.frontier = undefined
      this.extend(from)
    }
    return block
  }

  /** Drops every read ahead (after a reset: the pipeline goes on from another block). */
  clear(): void {
    this.generation++
    this.ahead = new Map()
    this.frontier = undefined
  }

  /** Reads the child of `parent`, and on from it while fewer than `depth` reads are held. */
  private extend(parent: L1Origin): void {
    if (this.depth <= 0 || this.ahead.has(parent)) return
    const generation = this.generation
    const read = this.read(parent)
    this.ahead.set(parent, read)
    read.then(
      (block) => {
        if (block === undefined || generation !== this.generation) return
        if (this.ahead.size < this.depth) this.extend(block.origin)
        else this.frontier = block.origin
      },
      // Surfaces (as a read now) when the pipeline reaches this block.
      () => undefined,
    )
  }
}
