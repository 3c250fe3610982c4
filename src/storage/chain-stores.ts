import type { BlockArtifactStore } from './block-artifact-store.ts'
import type { BlockStore } from './block-store.ts'
import type { ChainView } from './chain-view.ts'
import type { NodeDb } from './db.ts'
import type { StateStore } from './state-store.ts'
import type { MiniBlockWal } from './wal.ts'

/**
 * What reading the chain takes: blocks, receipts, logs and state by number or hash (`chain`), and the
 * recent blocks' witnesses and state diffs (`artifacts`). RPC, p2p serving, and a DA batcher or
 * prover take this and nothing more.
 */
export interface BlockReader {
  readonly chain: ChainView
  readonly artifacts: BlockArtifactStore
}

/** What committing a sealed (or imported) block takes: the stores its one atomic batch writes. */
export interface ChainWriter extends BlockReader {
  readonly db: NodeDb
  readonly blocks: BlockStore
  readonly stateStore: StateStore
  readonly wal: MiniBlockWal
}
