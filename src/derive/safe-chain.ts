/**
 * The L2 side derivation builds on: the safe chain (blocks derived from L1), owned by the consumer —
 * a `--sync=l1` replica executes each derived block, a sequencer's node compares it with its own block
 * — and handed back to the pipeline with `advanceSafeHead`. The pipeline only needs parent-hash links,
 * timestamps and L1 origins.
 */
import type { BlockId, L1BlockRef, SystemConfigValues } from '../chain/l1-origin.ts'
import type { L2BlockAttributes } from '../chain/l2-block-attributes.ts'
import type { Hex } from '../primitives/state-diff.ts'

/** An L2 block as derivation sees it (op-node's `L2BlockRef`, without the parent hash). */
export interface SafeBlockRef {
  readonly number: bigint
  readonly hash: Hex
  readonly timestamp: bigint
  readonly l1Origin: BlockId
  readonly sequenceNumber: bigint
}

export interface SafeChain {
  /** Where derivation resumes when the pipeline starts or is `reset()` without a target. */
  safeHead(): Promise<SafeBlockRef>
  /** The safe chain's block at `number` (resets walk back through it), undefined if unknown. */
  blockRef(number: bigint): Promise<SafeBlockRef | undefined>
  /**
   * The system config in effect for block `number` (the values its L1-attributes deposit carries, and the
   * gas limit): op-node's `SystemConfigByL2Hash`. Read when a reset restarts L1 traversal at that block's origin.
   */
  systemConfig(number: bigint): Promise<SystemConfigValues>
  /** Optional: the L1 block each safe block was derived from, if the consumer persisted `DerivedBlock.derivedFrom`. */
  derivedFrom?(number: bigint): Promise<BlockId | undefined>
}

/** What `step()` hands out: the next safe block's attributes, for the consumer to execute or compare. */
export interface DerivedBlock {
  /** The block's number: the safe head's + 1. */
  readonly number: bigint
  readonly parentHash: Hex
  readonly attributes: L2BlockAttributes
  /** The L1 block whose data completed this block's batch (or that expired its sequencing window). */
  readonly derivedFrom: L1BlockRef
  /** The system config as of the block's L1 origin (what `SafeChain.systemConfig` answers for it later). */
  readonly systemConfig: SystemConfigValues
  /** `batch`: from the batcher's data; `sequencing-window`: forced, deposits only, the window expired. */
  readonly source: 'batch' | 'sequencing-window'
}
