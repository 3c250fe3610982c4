/**
 * Rewinds the node's chain to an older block: the blocks after it leave every store (headers, bodies,
 * receipts, transaction and log indexes, witnesses, diffs, reverse diffs, the mini-block WAL), the flat
 * state and the state trie go back to its state root, and the head moves to it. What L1 overrules is
 * undone this way: a sequencer's unbatched blocks that the sequencing window replaced, a `--sync=l1`
 * replica's blocks whose batch an L1 reorg removed.
 *
 * Crash safety: every store change is one LevelDB batch, so a `kill -9` leaves the old chain or the new
 * one. The trie and the in-memory state move before and after it; a crash loses neither (both are
 * rebuilt from the flat state at start-up, and checked against the head's state root).
 */
import { setImmediate as nextTurn } from 'node:timers/promises'
import { bytesToHex } from '@ethereumjs/util'
import type { SealedBlock } from '../chain/block.ts'
import { DEPOSIT_TX_TYPE } from '../chain/deposit-tx.ts'
import { NodeError } from '../primitives/errors.ts'
import { concatRlpList, encodeRlp, type RlpInput } from '../primitives/rlp-fields.ts'
import { encodeStateDiff } from '../primitives/state-diff-codec.ts'
import { emptyStateDiff, type Hex, type StateDiff } from '../primitives/state-diff.ts'
import { foldReverseDiffs } from '../state/reverse-diff.ts'
import { StateUnavailableError } from '../state/state-history.ts'
import type { ChainWriter } from './chain-stores.ts'
import type { BatchOp } from './db.ts'
import type { PoolJournal } from './pool-journal.ts'

export type RewindErrorCode =
  /** A dropped block's reverse diff is not kept (older than `--state.rewind-depth`, or imported without one). */
  | 'REWIND_UNAVAILABLE'
  /** The state after undoing does not hash to the target's state root: the reverse diffs are wrong. */
  | 'REWIND_ROOT_MISMATCH'
  /** The target is not a sealed block of this chain. */
  | 'REWIND_BAD_TARGET'

/** A rewind that cannot be done; always critical (the node cannot follow L1 without an operator). */
export class RewindError extends NodeError<RewindErrorCode, undefined> {
  override readonly name = 'RewindError'
  constructor(code: RewindErrorCode, message: string, hint: string) {
    super(code, message, { severity: 'critical', hint })
  }
}

/** The stores and the state trie a rewind changes; `poolJournal` where dropped transactions are re-queued. */
export interface RewindableChain extends ChainWriter {
  /** The state trie: advanced by a diff, it answers the new root (the merkleizer thread). */
  readonly merkleizer: { applyDiff(diff: StateDiff): Promise<Uint8Array> }
  readonly poolJournal?: PoolJournal
}

export interface DroppedBlock {
  number: bigint
  hash: Hex
  /** Its transactions, deposits included. */
  transactions: number
}

export interface RewindResult {
  /** The new head. */
  head: SealedBlock
  /** The blocks that left the chain, oldest first. */
  dropped: DroppedBlock[]
  /** The dropped blocks' user transactions (not deposits: L1 re-derives those), in chain order. */
  userTransactions: Uint8Array[]
}

export interface RewindOptions {
  /** Journal the dropped user transactions for the pool (in the same batch), as a sequencer does. */
  requeue?: boolean
}

/** Accounts reversed and encoded per event-loop turn at seal time: a few ms, so the 10 ms mini-block loop keeps its cadence. */
const REVERSE_ACCOUNTS_PER_TURN = 512

/**
 * The seal-batch ops that keep block `number`'s reverse diff (`diff` is the block's merged diff): read
 * from the in-memory state history (the state before the block is there for recent blocks), else from
 * the stored flat state, which a seal finds at the block's parent. A busy block's diff (tens of thousands
 * of accounts) is reversed and RLP-encoded in slices, yielding between them, like the seal's other work
 * on the main thread. None when neither rewinds nor the state history keep any (`BlockArtifactStore.undoBlocks`).
 *
 * The same record serves both: `rewindChain` folds it, and a restart gives it back to `StateHistory` (the
 * in-memory undo layers die with the process). Its cost is one map lookup per account and slot the block
 * wrote (the parent's values sit in the block's own undo layer) and one RLP encoding, ~90 bytes per
 * account and ~70 per slot; see docs/DESIGN.md "State history on disk" for measured figures.
 */
export async function reverseDiffOps(chain: ChainWriter, number: bigint, diff: StateDiff): Promise<BatchOp[]> {
  if (chain.artifacts.undoBlocks === 0n) return []
  const entries: Uint8Array[] = []
  let slice = emptyStateDiff()
  const flush = async (): Promise<void> => {
    const [accounts] = encodeStateDiff(await reverseOf(chain, number, slice)) as [RlpInput[], RlpInput]
    for (const entry of accounts) entries.push(encodeRlp(entry))
    slice = emptyStateDiff()
  }
  for (const [address, change] of diff.accounts) {
    slice.accounts.set(address, change)
    if (slice.accounts.size === REVERSE_ACCOUNTS_PER_TURN) {
      await flush()
      await nextTurn()
    }
  }
  await flush()
  return chain.artifacts.encodedReverseDiffOps(number, concatRlpList([concatRlpList(entries), concatRlpList([])]))
}

async function reverseOf(chain: ChainWriter, number: bigint, diff: StateDiff): Promise<StateDiff> {
  try {
    return chain.chain.state.reverseDiff(number, diff)
  } catch (error) {
    if (!(error instanceof StateUnavailableError)) throw error
    return chain.stateStore.reverseDiff(diff)
  }
}

/** Rewinds `chain` to sealed block `to` (a no-op at or above the head); see the file comment. */
export async function rewindChain(chain: RewindableChain, to: bigint, options: RewindOptions = {}): Promise<RewindResult> {
  const view = chain.chain
  const head = view.head
  const target = await view.blockByNumber(to)
  if (target === undefined || to < 0n)
    throw new RewindError(
      'REWIND_BAD_TARGET',
      `cannot rewind to block ${to}: not in the chain (head ${head.header.number})`,
      'a bug: report it',
    )
  if (to >= head.header.number) return { head, dropped: [], userTransactions: [] }

  // Everything is read before anything changes: a missing piece leaves the node exactly as it was.
  const droppedBlocks: SealedBlock[] = []
  const reverses: StateDiff[] = []
  for (let number = head.header.number; number > to; number--) {
    const block = await view.blockByNumber(number)
    const reverse = await chain.artifacts.reverseDiff(number)
    if (block === undefined || reverse === undefined)
      throw new RewindError(
        'REWIND_UNAVAILABLE',
        `cannot rewind from block ${head.header.number} to ${to}: block ${number}'s reverse diff is not kept (the last ${chain.artifacts.rewindDepth} blocks are)`,
        'L1 overruled blocks older than --state.rewind-depth: resync this node from L1 (--sync=l1 on a fresh datadir) or raise the depth',
      )
    droppedBlocks.push(block)
    reverses.push(reverse)
  }
  droppedBlocks.reverse()
  const reverse = foldReverseDiffs(reverses)

  const root = await chain.merkleizer.applyDiff(reverse)
  if (bytesToHex(root) !== bytesToHex(target.header.stateRoot))
    throw new RewindError(
      'REWIND_ROOT_MISMATCH',
      `rewinding to block ${to}: the undone state has root ${bytesToHex(root)}, block ${to} says ${bytesToHex(target.header.stateRoot)}`,
      'nothing was written; restart the node (its state trie is rebuilt from the datadir) and report this',
    )

  const userTransactions = droppedBlocks.flatMap((block) => block.transactions.filter((raw) => raw[0] !== DEPOSIT_TX_TYPE))
  const ops: BatchOp[] = []
  for (const block of droppedBlocks) {
    ops.push(...chain.blocks.dropOps(block), ...(await chain.artifacts.dropOps(block.header.number, to)))
  }
  ops.push(...(await chain.stateStore.diffOps(reverse)))
  ops.push(...(await chain.wal.truncateFromOps(target.miniBlocks.first + BigInt(target.miniBlocks.count))))
  if (options.requeue === true && chain.poolJournal !== undefined)
    ops.push(...(await chain.poolJournal.appendOps(userTransactions)))
  ops.push(...chain.blocks.headOps(to, target.hash))
  // The live state is rewound before the store (`LiveState.apply`): pinned readers copy what they saw from it, and a
  // disk-backed state would read the rewound values from the store once written. A failed write halts the node.
  view.state.rewind(to, reverse)
  await chain.db.write(ops, true)
  view.rewindTo(target)
  return {
    head: target,
    dropped: droppedBlocks.map((block) => ({
      number: block.header.number,
      hash: block.hash,
      transactions: block.transactions.length,
    })),
    userTransactions,
  }
}
