import { decodeMiniBlock, encodeMiniBlock, type MiniBlock } from '../chain/mini-block.ts'
import { readU64, u64 } from '../primitives/u64.ts'
import type { BatchOp, NodeDb } from './db.ts'
import { CodecError } from '../primitives/rlp-fields.ts'

/**
 * The mini-block write-ahead log. A mini-block is appended (fsynced) before any client sees its
 * receipts; sealing its EVM block removes it in the same batch that writes the block.
 */
export class MiniBlockWal {
  constructor(private readonly db: NodeDb) {}

  async append(block: MiniBlock): Promise<void> {
    // Failpoint `wal.fsync`: the mini-block's fsync fails (disk-fault campaign, test/resilience/disk.test.ts).
    await this.db.write([this.db.put('wal', u64(block.number), encodeMiniBlock(block))], true, 'wal.fsync')
  }

  truncateOps(first: bigint, count: number): BatchOp[] {
    const ops: BatchOp[] = []
    for (let i = 0n; i < BigInt(count); i++) ops.push(this.db.del('wal', u64(first + i)))
    return ops
  }

  /** Deletes every logged mini-block numbered `from` or later (a rewind drops what was built on the dropped blocks). */
  async truncateFromOps(from: bigint): Promise<BatchOp[]> {
    const ops: BatchOp[] = []
    for await (const [key] of this.db.range('wal', u64(from), u64(0xffffffffffffffffn)))
      ops.push(this.db.del('wal', Uint8Array.from(key)))
    return ops
  }

  /** Every logged mini-block in order; a corrupt entry stops recovery loudly rather than skipping data. */
  async readAll(): Promise<MiniBlock[]> {
    const blocks: MiniBlock[] = []
    for await (const [key, value] of this.db.range('wal', u64(0n), u64(0xffffffffffffffffn))) {
      try {
        blocks.push(decodeMiniBlock(value))
      } catch (error) {
        throw new CodecError(`WAL entry ${readU64(key)} is corrupt: ${error instanceof Error ? error.message : String(error)}`, {
          cause: error,
        })
      }
    }
    return blocks
  }
}
