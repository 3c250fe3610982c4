/**
 * OP's batch validity rules (OP specs `derivation.md` "Batch Queue", `holocene/derivation.md` "Span
 * Batches" and "Batch Queue"; op-node `batches.go`) as pure functions of the safe head, the L1 blocks
 * from its origin up to the current one (`l1Blocks`, first = the safe head's epoch) and the L1 block
 * that completed the batch (`inclusion`). Holocene outcomes: `accept`; `past` (already derived, dropped
 * silently); `drop` (invalid: the caller drops the rest of the span batch and of the channel);
 * `undecided` (cannot be decided with the L1 blocks at hand: the batch is skipped, as op-node's batch
 * stage has already consumed it).
 */
import type { L1BlockRef } from '../chain/l1-origin.ts'
import type { RollupConfig } from '../chain/rollup-config.ts'
import { DEPOSIT_TX_TYPE } from '../chain/deposit-tx.ts'
import type { SingularBatch } from '../da/batch.ts'
import type { SpanBatch } from '../da/span-batch.ts'
import type { SafeBlockRef } from './safe-chain.ts'

export type BatchValidity =
  | { readonly kind: 'accept' }
  | { readonly kind: 'past' }
  | { readonly kind: 'drop'; readonly reason: string }
  | { readonly kind: 'undecided'; readonly reason: string }

type Rules = Pick<RollupConfig, 'blockTime' | 'seqWindowSize' | 'maxSequencerDrift'>

const ACCEPT: BatchValidity = { kind: 'accept' }
const PAST: BatchValidity = { kind: 'past' }
const drop = (reason: string): BatchValidity => ({ kind: 'drop', reason })
const undecided = (reason: string): BatchValidity => ({ kind: 'undecided', reason })

/** One L2 block's batch on top of `parent` (op-node `checkSingularBatch`, Holocene and Fjord rules). */
export function checkSingularBatch(
  rules: Rules,
  l1Blocks: readonly L1BlockRef[],
  parent: SafeBlockRef,
  batch: SingularBatch,
  inclusion: L1BlockRef,
): BatchValidity {
  const epoch = l1Blocks[0]
  if (epoch === undefined) return undecided('no L1 origin known')
  const nextTimestamp = parent.timestamp + rules.blockTime
  // Holocene: no gaps are waited out, a batch ahead of the next block is invalid.
  if (batch.timestamp > nextTimestamp) return drop(`future batch: timestamp ${batch.timestamp} > ${nextTimestamp}`)
  if (batch.timestamp < nextTimestamp) return PAST
  if (batch.parentHash !== parent.hash) return drop(`parent hash ${batch.parentHash} is not the safe head's ${parent.hash}`)
  if (batch.epochNumber + rules.seqWindowSize < inclusion.number)
    return drop(`included in L1 block ${inclusion.number}, past epoch ${batch.epochNumber}'s sequencing window`)
  let batchOrigin = epoch
  if (batch.epochNumber < epoch.number) return drop(`epoch ${batch.epochNumber} is older than the safe head's ${epoch.number}`)
  if (batch.epochNumber === epoch.number + 1n) {
    const next = l1Blocks[1]
    if (next === undefined) return undecided('the next epoch is not known yet')
    batchOrigin = next
  } else if (batch.epochNumber !== epoch.number) return drop(`epoch ${batch.epochNumber} skips past ${epoch.number + 1n}`)
  if (batch.epochHash !== batchOrigin.hash)
    return drop(`epoch ${batch.epochNumber} hash ${batch.epochHash} is not L1's ${batchOrigin.hash}`)
  if (batch.timestamp < batchOrigin.timestamp)
    return drop(`timestamp ${batch.timestamp} before its L1 origin's ${batchOrigin.timestamp}`)
  if (batch.timestamp > batchOrigin.timestamp + rules.maxSequencerDrift) {
    if (batch.transactions.length > 0) return drop(`transactions beyond the sequencer drift at ${batch.timestamp}`)
    // An empty batch may stay on its origin past the drift only if the next origin was not adoptable yet.
    if (epoch.number === batchOrigin.number) {
      const next = l1Blocks[1]
      if (next === undefined) return undecided('the next epoch is not known yet (drift check)')
      if (batch.timestamp >= next.timestamp)
        return drop(`beyond the sequencer drift while the next origin (${next.number}) could have been adopted`)
    }
  }
  for (const [i, tx] of batch.transactions.entries()) {
    if (tx.length === 0) return drop(`transaction ${i} is empty`)
    if (tx[0] === DEPOSIT_TX_TYPE) return drop(`transaction ${i} is a deposit`)
  }
  return ACCEPT
}

/**
 * Holocene's checks of a span batch before its blocks are taken one by one (op-node
 * `checkSpanBatchPrefix`). `overlapParent` is the safe block the span batch builds on when it starts
 * before the next block (it may overlap the safe chain).
 */
export function checkSpanBatchPrefix(
  rules: Rules,
  l1Blocks: readonly L1BlockRef[],
  parent: SafeBlockRef,
  batch: SpanBatch,
  inclusion: L1BlockRef,
  overlapParent: SafeBlockRef | undefined,
): BatchValidity {
  const epoch = l1Blocks[0]
  if (epoch === undefined) return undecided('no L1 origin known')
  const first = batch.blocks[0]!
  const last = batch.blocks[batch.blocks.length - 1]!
  if (first.epochNumber === epoch.number + 1n && l1Blocks[1] === undefined) return undecided('the next epoch is not known yet')
  const nextTimestamp = parent.timestamp + rules.blockTime
  if (first.timestamp > nextTimestamp) return drop(`future span batch: starts at ${first.timestamp} > ${nextTimestamp}`)
  if (last.timestamp < nextTimestamp) return PAST
  let parentBlock = parent
  if (first.timestamp < nextTimestamp) {
    if (first.timestamp > parent.timestamp) return drop('span batch timestamp misaligned with the safe chain')
    if ((parent.timestamp - first.timestamp) % rules.blockTime !== 0n)
      return drop('span batch does not overlap the safe chain exactly')
    if (overlapParent === undefined) return undecided('the safe block before the span batch is unknown')
    parentBlock = overlapParent
  }
  if (!parentBlock.hash.startsWith(batch.parentCheck))
    return drop(`parent check ${batch.parentCheck} fails against ${parentBlock.hash}`)
  if (first.epochNumber + rules.seqWindowSize < inclusion.number)
    return drop(`included in L1 block ${inclusion.number}, past epoch ${first.epochNumber}'s sequencing window`)
  if (first.epochNumber > parentBlock.l1Origin.number + 1n)
    return drop(`span batch starts at epoch ${first.epochNumber}, too far ahead`)
  const end = l1Blocks.find((b) => b.number === last.epochNumber)
  if (end === undefined) return undecided(`L1 origin ${last.epochNumber} of the span batch's last block is not known`)
  if (!end.hash.startsWith(batch.l1OriginCheck)) return drop(`L1 origin check ${batch.l1OriginCheck} fails against ${end.hash}`)
  if (first.epochNumber < parentBlock.l1Origin.number) return drop(`span batch epoch ${first.epochNumber} is too old`)
  return ACCEPT
}

/**
 * The span batch's blocks after `parent`, as singular batches: epoch hashes from `l1Blocks`, the first
 * one's parent hash left for the caller to set when it is taken. Undefined if an epoch is not among
 * `l1Blocks` (Holocene treats that batch as invalid, not as a derivation failure).
 */
export function spanBatchBlocks(
  batch: SpanBatch,
  l1Blocks: readonly L1BlockRef[],
  parent: SafeBlockRef,
): SingularBatch[] | undefined {
  const out: SingularBatch[] = []
  for (const block of batch.blocks) {
    if (block.timestamp <= parent.timestamp) continue
    const origin = l1Blocks.find((b) => b.number === block.epochNumber)
    if (origin === undefined) return undefined
    out.push({
      parentHash: parent.hash,
      epochNumber: block.epochNumber,
      epochHash: origin.hash,
      timestamp: block.timestamp,
      transactions: block.transactions,
    })
  }
  return out
}

/**
 * The batch derivation makes itself once the sequencing window of the safe head's epoch has expired
 * (op-node `deriveNextEmptyBatch`): deposits only, next timestamp, the same epoch until the next L1
 * block is not newer than the L2 block (`nextOriginChoice`'s rule), but always at least one block per
 * epoch. `'advance-epoch'`: the epoch is exhausted, move `l1Blocks` on and ask again.
 */
export function emptyBatch(
  rules: Rules,
  l1Blocks: readonly L1BlockRef[],
  parent: SafeBlockRef,
  current: L1BlockRef,
  outOfData: boolean,
): SingularBatch | 'wait' | 'advance-epoch' {
  const epoch = l1Blocks[0]
  if (epoch === undefined) return 'wait'
  const expiry = epoch.number + rules.seqWindowSize
  const force = (expiry === current.number && outOfData) || expiry < current.number
  if (!force) return 'wait'
  const next = l1Blocks[1]
  if (next === undefined) return 'wait'
  const timestamp = parent.timestamp + rules.blockTime
  const firstOfEpoch = epoch.number === parent.l1Origin.number + 1n
  if (timestamp < next.timestamp || firstOfEpoch)
    return { parentHash: parent.hash, epochNumber: epoch.number, epochHash: epoch.hash, timestamp, transactions: [] }
  return 'advance-epoch'
}
