import type { BlockHeader } from '@ethereumjs/block'
import { bytesToHex, equalsBytes } from '@ethereumjs/util'
import type { SealedBlock } from '../chain/block.ts'
import { orBlooms } from '../chain/header.ts'
import { orderedTrieRoot } from '../trie/ordered-trie.ts'
import { encodeConsensusReceipt, type TxReceipt } from '../chain/receipt.ts'
import type { Hex, StateDiff } from '../primitives/state-diff.ts'
import type { BlockAnnouncement } from '../p2p/index.ts'
import type { ThreadedMerkleizer } from '../execution/merkleizer/merkleizer.ts'
import type { ChainWriter } from '../storage/chain-stores.ts'
import { failpoint } from '../util/failpoints.ts'
import { storedContents } from '../storage/block-store.ts'
import { reverseDiffOps } from '../storage/chain-rewind.ts'
import { ReplicaFailure } from './errors.ts'

/** Verifies a block statelessly right away: its failure, or undefined when the header is right. */
export type Diagnose = (header: BlockHeader, transactions: Uint8Array[]) => Promise<ReplicaFailure | undefined>

/** What importing a block takes: the stores it commits to and the state trie it advances. */
export interface ReplicaChain extends ChainWriter {
  readonly merkleizer: ThreadedMerkleizer
}

export interface ImportableBlock {
  announcement: BlockAnnouncement
  transactions: Uint8Array[]
  receipts: TxReceipt[]
  diff: StateDiff
  /** The block's mini-blocks were already applied to the live state as they arrived. */
  appliedLive: boolean
}

/** The sealed block an announcement signs, with the body and receipts that came with it. */
export function announcedBlock(announcement: BlockAnnouncement, transactions: Uint8Array[], receipts: TxReceipt[]): SealedBlock {
  const { header, miniBlocks } = announcement
  return { header, hash: bytesToHex(header.hash()) as Hex, transactions, receipts, miniBlocks }
}

/**
 * Throws a `ReplicaFailure` unless the body and receipts match the signed header: transactions
 * root, receipts root, logs bloom and gas used.
 */
export function checkBlockBody(header: BlockHeader, transactions: Uint8Array[], receipts: TxReceipt[]): void {
  const number = header.number
  const fail = (code: ConstructorParameters<typeof ReplicaFailure>[0], message: string): never => {
    throw new ReplicaFailure(code, number, `block ${number}: ${message}`)
  }
  if (!equalsBytes(orderedTrieRoot(transactions), header.transactionsTrie))
    fail('TRANSACTIONS_ROOT_MISMATCH', `its mini-blocks' transactions do not match the header's transactions root`)
  if (!equalsBytes(orderedTrieRoot(receipts.map(encodeConsensusReceipt)), header.receiptTrie))
    fail('RECEIPTS_ROOT_MISMATCH', `its mini-blocks' receipts do not match the header's receipts root`)
  if (!equalsBytes(orBlooms(receipts.map((r) => r.logsBloom)), header.logsBloom))
    fail('LOGS_BLOOM_MISMATCH', `its receipts' blooms do not match the header's logs bloom`)
  const gasUsed = receipts.at(-1)?.cumulativeGasUsed ?? 0n
  if (gasUsed !== header.gasUsed) fail('GAS_USED_MISMATCH', `its receipts use ${gasUsed} gas, the header says ${header.gasUsed}`)
}

/**
 * Makes a block announced by the sequencer part of the replica's chain, after checking that what the
 * replica serves matches the signed header: the body against the transactions root, the receipts
 * (from mini-blocks or a sync bundle) against the receipts root, bloom and gas used, and the state
 * diffs against the state root (merkleized here). Whether the header itself is right is the stateless
 * verifier's question. The commit is one atomic batch, as on the sequencer.
 */
export async function importBlock(opened: ReplicaChain, block: ImportableBlock, diagnose: Diagnose): Promise<SealedBlock> {
  const { header } = block.announcement
  const { chain, merkleizer, blocks, stateStore, artifacts, db } = opened
  const head = chain.head
  const number = header.number
  const fail = (code: ConstructorParameters<typeof ReplicaFailure>[0], message: string): never => {
    throw new ReplicaFailure(code, number, `block ${number}: ${message}`)
  }
  if (number !== head.header.number + 1n || bytesToHex(header.parentHash) !== head.hash) {
    fail('PARENT_MISMATCH', `does not extend the replica's head ${head.header.number} (${head.hash})`)
  }
  checkBlockBody(header, block.transactions, block.receipts)

  const root = await merkleizer.applyDiff(block.diff)
  if (!equalsBytes(root, header.stateRoot)) {
    // Either the header's root or the diffs are wrong: executing the block from its witness tells which.
    const failure = await diagnose(header, block.transactions)
    throw (
      failure ??
      new ReplicaFailure(
        'STATE_DIFF_MISMATCH',
        number,
        `block ${number}: its state diffs give state root ${bytesToHex(root)}, but executing it gives the header's ${bytesToHex(header.stateRoot)}`,
      )
    )
  }
  const sealed = announcedBlock(block.announcement, block.transactions, block.receipts)
  const ops = [
    ...blocks.sealOps(sealed, storedContents(sealed)),
    // Kept with the block, in its batch: what this replica serves the block with to others (`storedAnnouncement`).
    ...blocks.signatureOps(number, block.announcement.signature),
    ...(await stateStore.diffOps(block.diff)),
    ...artifacts.diffOps(number, block.diff),
    // Read before the block is applied below (or from its undo layer when its mini-blocks already were):
    // what a restart gives back to the state history, and what an L1 reorg's rewind folds.
    ...(await reverseDiffOps(opened, number, block.diff)),
  ]
  // The live state learns the block before the store does (`LiveState.apply`): a disk-backed state reads
  // what it has not been told from the store, and an undo record must not read the block's own values there.
  if (!block.appliedLive) chain.state.apply(number, block.diff)
  await db.write(ops, true)
  // Failpoint `replica.import.after-write`: the block is on disk, the chain view not yet updated.
  failpoint('replica.import.after-write')
  chain.addSealedBlock(sealed)
  return sealed
}
