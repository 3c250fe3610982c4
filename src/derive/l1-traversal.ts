/**
 * Stage 1, L1 traversal (op-node `l1_traversal.go`): walks L1 one block at a time from a reset point,
 * never past `head - confirmations`, carrying the system config forward through each block's
 * `ConfigUpdate` logs. A next block whose parent hash is not the current block's hash is a reorg: a
 * `reset` error the pipeline answers by rewinding. The traversed blocks are remembered (the last
 * `keep` of them) to find where a reorg forked off and to restart from a remembered block.
 */
import type { L1Origin } from '../chain/l1-origin.ts'
import { errorMessage } from '../primitives/errors.ts'
import { DerivationError, reorgError, temporaryError } from './errors.ts'
import type { L1Reader } from './l1-reader.ts'

export class L1Traversal {
  /** Traversed blocks, contiguous and ascending; the last one is the current block. */
  private blocks: L1Origin[] = []
  /** The newest L1 head number seen (L1 heads only grow; a shorter fork shows as a missing or relinked block). */
  private knownHead = -1n

  constructor(
    private readonly l1: L1Reader,
    private readonly confirmations: bigint,
    private readonly keep: number,
  ) {}

  get current(): L1Origin {
    const current = this.blocks[this.blocks.length - 1]
    if (current === undefined) throw new Error('L1Traversal used before reset')
    return current
  }

  reset(base: L1Origin): void {
    this.blocks = [base]
    this.knownHead = -1n
  }

  /**
   * The block after the current one as an origin, without moving to it; undefined while it is not
   * `confirmations` deep yet. @throws DerivationError (`reset` on a reorg, `temporary` on a failed read)
   */
  fetchNext(): Promise<L1Origin | undefined> {
    return this.fetchAfter(this.current)
  }

  /**
   * The block after `current` (the current block, or one read ahead of it) as an origin, its parent
   * hash checked against `current`'s. @throws DerivationError (`reset` on a reorg, `temporary` on a failed read)
   */
  async fetchAfter(current: L1Origin): Promise<L1Origin | undefined> {
    const number = current.number + 1n
    return readL1(`L1 block ${number}`, async () => {
      // The head is asked only when the block may be past the last head seen: behind, one call fewer
      // per block. A chain that got shorter or forked makes it ask again.
      if (number + this.confirmations > this.knownHead) this.knownHead = await this.l1.headNumber()
      if (number + this.confirmations > this.knownHead) return undefined
      const ref = await this.l1.blockRef(number)
      if (ref === undefined) {
        this.knownHead = -1n
        return undefined
      }
      if (ref.parentHash !== current.hash) {
        this.knownHead = -1n
        throw reorgError(`L1 block ${number} (${ref.hash}) builds on ${ref.parentHash}, not on the traversed ${current.hash}`)
      }
      return this.l1.origin(ref, current.systemConfig)
    })
  }

  /** Moves to `next` (from `fetchNext`). */
  advance(next: L1Origin): void {
    this.blocks.push(next)
    if (this.blocks.length > this.keep) this.blocks.splice(0, this.blocks.length - this.keep)
  }

  /** The remembered block at `number`, if any. */
  at(number: bigint): L1Origin | undefined {
    const first = this.blocks[0]
    if (first === undefined || number < first.number) return undefined
    return this.blocks[Number(number - first.number)]
  }

  /** The newest remembered block L1 still has (where a reorg forked off), or undefined if it is deeper. */
  async commonAncestor(): Promise<L1Origin | undefined> {
    for (let i = this.blocks.length - 1; i >= 0; i--) {
      const block = this.blocks[i]!
      const canonical = await readL1(`L1 block ${block.number}`, () => this.l1.blockRef(block.number))
      if (canonical?.hash === block.hash) return block
    }
    return undefined
  }
}

/** Runs an L1 read; any failure that is not already a derivation error becomes a temporary one. */
export async function readL1<T>(what: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read()
  } catch (error) {
    if (error instanceof DerivationError) throw error
    throw temporaryError(`reading ${what} failed: ${errorMessage(error)}`, error)
  }
}
