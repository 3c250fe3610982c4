/**
 * Which L1 block (epoch) the sequencer's next EVM block is anchored to. op-node's sequencer does the
 * same: stay on the parent's origin until the next L1 block is not newer than the L2 block, then move
 * on with sequence number 0 (the block that carries that L1 block's deposits). Derivation applies the
 * same rule (`nextOriginChoice`), so a block built here is a block derivation accepts.
 */
import type { L1Origin } from '../chain/l1-origin.ts'
import { nextOriginChoice } from '../chain/l2-block-attributes.ts'
import type { RollupConfig } from '../chain/rollup-config.ts'
import type { Hex } from '../primitives/state-diff.ts'

/** Where the producer reads L1 origins from (the L1 watcher): synchronously, from what is already fetched. */
export interface OriginSource {
  /** The canonical, confirmed L1 block `number` with its deposits and system config, if fetched. */
  origin(number: bigint): L1Origin | undefined
  /** An origin by hash, fetched if need be (crash recovery reads the PREVRANDAO of an unsealed block). */
  originByHash(hash: Hex): Promise<L1Origin>
}

/** The sequencer's L1 side: the rollup's rules and where origins come from. */
export interface L1Anchoring {
  rollup: RollupConfig
  origins: OriginSource
}

/** An EVM block's place in L1 time: its origin and its position among the blocks of that origin. */
export interface BlockEpoch {
  origin: L1Origin
  sequenceNumber: bigint
  /** False past the sequencer drift: the block carries its deposits only. */
  transactionsAllowed: boolean
}

/** The parent's epoch, as far as the next block's choice needs it. */
export interface ParentEpoch {
  number: bigint
  hash: Hex
  sequenceNumber: bigint
}

export type EpochChoice =
  | { ok: true; epoch: BlockEpoch }
  /** The parent's origin is not fetched yet, or L1 no longer has it (a reorg deeper than the confirmation depth). */
  | { ok: false; reason: string }

export function selectEpoch(anchoring: L1Anchoring, parent: ParentEpoch, timestamp: bigint): EpochChoice {
  const current = anchoring.origins.origin(parent.number)
  if (current === undefined) return { ok: false, reason: `L1 origin ${parent.number} is not fetched yet` }
  if (current.hash !== parent.hash)
    return {
      ok: false,
      reason: `L1 block ${parent.number} is now ${current.hash}, not the parent's origin ${parent.hash}: L1 reorganized below the confirmation depth`,
    }
  const next = anchoring.origins.origin(parent.number + 1n)
  const choice = nextOriginChoice(anchoring.rollup, current, next, timestamp)
  if (choice.advance && next !== undefined)
    return { ok: true, epoch: { origin: next, sequenceNumber: 0n, transactionsAllowed: true } }
  return {
    ok: true,
    epoch: { origin: current, sequenceNumber: parent.sequenceNumber + 1n, transactionsAllowed: choice.transactionsAllowed },
  }
}

/** The epoch a block's parent leaves: from its L1-attributes, or the rollup's genesis L1 block for the L2 genesis. */
export function parentEpochOf(
  rollup: RollupConfig,
  info: { number: bigint; hash: Hex; sequenceNumber: bigint } | undefined,
): ParentEpoch {
  return info ?? { number: rollup.genesis.l1.number, hash: rollup.genesis.l1.hash, sequenceNumber: 0n }
}
