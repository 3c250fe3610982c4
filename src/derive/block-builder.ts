/**
 * Turns derived `L2BlockAttributes` into the chain's next sealed block: execute the deposits and the
 * batch's transactions on the head state, merkleize, build the header by the same rules the sequencer
 * seals with, and commit block, flat state and diff in one fsynced batch. A `--sync=l1` replica (and
 * the prover) rebuild the chain this way, from L1 alone.
 */
import type { Common } from '@ethereumjs/common'
import type { L2Transaction } from '../chain/l2-transaction.ts'
import { bytesToHex } from '@ethereumjs/util'
import type { SealedBlock } from '../chain/block.ts'
import type { ChainConfig } from '../chain/config.ts'
import { buildHeader, nextBaseFee, orBlooms } from '../chain/header.ts'
import { attributesTransactions, type L2BlockAttributes } from '../chain/l2-block-attributes.ts'
import { encodeConsensusReceipt } from '../chain/receipt.ts'
import type { BlockEnv } from '../execution/block-env.ts'
import {
  type BodyTransaction,
  executeBlockBody,
  InvalidBlockTransactionError,
  type ExecutedBlock,
} from '../execution/block-execution.ts'
import type { ThreadedMerkleizer } from '../execution/merkleizer/merkleizer.ts'
import type { BatchTx, MiniBlockExecutor } from '../execution/parallel/index.ts'
import type { Hex } from '../primitives/state-diff.ts'
import { orderedTrieRoot } from '../trie/ordered-trie.ts'
import { storedContents } from '../storage/block-store.ts'
import { reverseDiffOps } from '../storage/chain-rewind.ts'
import type { ChainWriter } from '../storage/chain-stores.ts'
import type { BlockAccessRecorder } from '../state/access-set.ts'
import { encodeBlockWitness } from '../stateless/block-witness.ts'
import type { BatchOp } from '../storage/db.ts'
import type { DerivedCommitQueue } from './commit-queue.ts'
import type { DerivationStage } from './metrics.ts'

/** The stores a derived block commits to and the state trie it advances. */
export interface DerivedChain extends ChainWriter {
  readonly merkleizer: ThreadedMerkleizer
}

export interface BlockBuilderModules {
  opened: DerivedChain
  /** Executes on the chain's live state (the head's). */
  executor: MiniBlockExecutor
  config: ChainConfig
  common: Common
  /** Decodes a block body's transactions, deposits included. */
  decode: (raw: Uint8Array) => L2Transaction
  /**
   * The sequenced transactions decoded and sender-recovered elsewhere (`TxPrefetcher.take`), one entry
   * per raw; `undefined` entries (and all of them without this) are decoded with `decode`.
   */
  prepared?: (raws: readonly Uint8Array[]) => Promise<ReadonlyArray<BatchTx | undefined>>
  /**
   * Whether this block's commit is fsynced (default: every one). Each block is one atomic batch either
   * way; see `fsyncAtMostEvery`.
   */
  fsync?: () => boolean
  /**
   * Write each block behind the building of the next (`DerivedCommitQueue`); without it a build
   * resolves once its block is written and in the chain view.
   */
  commits?: DerivedCommitQueue
  /** Told how long each stage of a build took (`DerivationMetrics.observeStage`). */
  observeStage?: (stage: DerivationStage, seconds: number) => void
  /**
   * Keep each block's witness in the artifacts' window (a prover re-executes a disputed block from it):
   * `access` must be the recorder the executor's state reads report to; `alsoRead`: accounts whose paths the
   * witness carries even when the block did not read them (the message passer: an execution trace's seal proves
   * its storage root under the block's state root).
   */
  witnesses?: { access: BlockAccessRecorder; alsoRead: readonly Hex[] }
}

/**
 * An fsync policy for a consumer that builds every derived block: the first commit after `ms` have
 * passed since the last fsync is fsynced, the others are not. A derived block is re-derivable from L1,
 * so its durability needs are weaker than a preconfirmation's: a power loss (not a process crash: the
 * OS still holds the writes) can take the blocks of the last `ms`, and since every block commits in one
 * atomic batch, the datadir reopens at an earlier, consistent head, from which the replica derives them
 * again, identical. One fsync per block cost more than executing a block of transfers under disk
 * contention. Unsynced LevelDB writes reach the disk with the next synced one, or with the OS's
 * writeback.
 */
export function fsyncAtMostEvery(ms: number, now: () => number = () => performance.now()): () => boolean {
  let last = Number.NEGATIVE_INFINITY
  return () => {
    const t = now()
    if (t - last < ms) return false
    last = t
    return true
  }
}

export interface BuiltBlock {
  block: SealedBlock
  /**
   * The batch's transactions could not all be included, so the block holds its deposits only
   * (Holocene's rule: an invalid payload is replaced by its deposit-only twin, never skipped).
   */
  depositsOnly: boolean
}

/** Builds, commits and returns the block `attributes` describe, on top of the chain's head. */
export async function buildDerivedBlock(modules: BlockBuilderModules, attributes: L2BlockAttributes): Promise<BuiltBlock> {
  const { opened, executor, config, commits } = modules
  const parent = commits?.head ?? opened.chain.head
  const env: BlockEnv = {
    number: parent.header.number + 1n,
    timestamp: attributes.timestamp,
    coinbase: config.feeRecipient,
    baseFeePerGas: nextBaseFee(
      {
        gasUsed: parent.header.gasUsed,
        gasLimit: parent.header.gasLimit,
        baseFeePerGas: parent.header.baseFeePerGas ?? config.minBaseFee,
      },
      config.elasticityMultiplier,
      config.baseFeeMaxChangeDenominator,
      config.minBaseFee,
    ),
    gasLimit: config.blockGasLimit,
    prevRandao: attributes.prevRandao,
    excessBlobGas: 0n,
    parentBeaconBlockRoot: new Uint8Array(32),
  }
  const lap = stageClock(modules.observeStage)
  let raws = attributesTransactions(attributes)
  const depositCount = attributes.deposits.length
  const prepared = modules.prepared === undefined ? [] : await modules.prepared(attributes.transactions)
  lap('prefetch_wait')
  // In body order, as before: a transaction that does not decode throws here just as it did without
  // the prepared ones (the fast decoder accepts nothing ethereumjs' constructor refuses).
  const body: BodyTransaction[] = raws.map(
    (raw, i) => (i >= depositCount ? prepared[i - depositCount] : undefined) ?? modules.decode(raw),
  )
  let depositsOnly = false
  let executed: ExecutedBlock
  // Reads made before this block (none expected) belong to no block's witness.
  modules.witnesses?.access.take()
  try {
    executed = await executeBlockBody(executor, env, body)
  } catch (error) {
    if (!(error instanceof InvalidBlockTransactionError)) throw error
    // Nothing of the failed attempt reaches the state: its writes are taken and dropped.
    executor.takeDiff()
    modules.witnesses?.access.take()
    depositsOnly = true
    raws = raws.slice(0, depositCount)
    executed = await executeBlockBody(executor, env, raws.map(modules.decode))
  }
  lap('execute')
  // The trie thread computes the state root while this thread computes the header's other roots and
  // the commit's state ops.
  if (modules.witnesses !== undefined)
    for (const address of modules.witnesses.alsoRead) modules.witnesses.access.onAccountRead(address)
  const access = modules.witnesses?.access.take()
  // The block's trie nodes are as durable as its commit (`fsync`): a restart after a power loss finds
  // either both or a head whose root it rebuilds from the flat state.
  const sync = modules.fsync?.() ?? true
  const durability = { durable: sync }
  const recording = access === undefined ? undefined : opened.merkleizer.applyDiffWithWitness(executed.diff, access, durability)
  const merkleized =
    recording === undefined ? opened.merkleizer.applyDiff(executed.diff, durability) : recording.then((r) => r.root)
  // The transactions root needs only the bytes (the ones included: a deposit-only replacement has its
  // deposits only); computed here, it costs the time the trie thread takes anyway.
  const transactionsRoot = orderedTrieRoot(raws)
  const receiptsRoot = orderedTrieRoot(executed.receipts.map(encodeConsensusReceipt))
  const logsBloom = orBlooms(executed.receipts.map((r) => r.logsBloom))
  lap('roots')
  const { db, blocks, stateStore, artifacts, chain } = opened
  // The state's ops and its reverse diff read the stored flat state as the parent left it: the parent's
  // write must be done. They need the diff only, not the root: this thread builds them while the trie
  // thread is still computing the state root.
  await commits?.settled()
  lap('commit_wait')
  const stateOps = await stateStore.diffOps(executed.diff)
  const reverseOps = await reverseDiffOps(opened, env.number, executed.diff)
  lap('commit')
  const stateRoot = await merkleized
  lap('merkleize')
  const header = buildHeader(
    {
      parentHash: parent.header.hash(),
      number: env.number,
      timestamp: env.timestamp,
      gasLimit: env.gasLimit,
      gasUsed: executed.gasUsed,
      baseFeePerGas: env.baseFeePerGas,
      stateRoot,
      transactionsRoot,
      receiptsRoot,
      logsBloom,
      coinbase: config.feeRecipient,
      prevRandao: env.prevRandao,
      extraData: new Uint8Array(0),
    },
    modules.common,
  )
  const block: SealedBlock = {
    header,
    hash: bytesToHex(header.hash()) as Hex,
    transactions: raws,
    receipts: executed.receipts,
    // No mini-blocks: L1 carries EVM blocks only. The range stays where the parent's ended.
    miniBlocks: {
      first: parent.miniBlocks.first + BigInt(parent.miniBlocks.count),
      count: 0,
      ...(parent.miniBlocks.lastHash === undefined ? {} : { lastHash: parent.miniBlocks.lastHash }),
    },
  }
  let artifactOps: BatchOp[]
  if (recording === undefined || access === undefined) artifactOps = artifacts.diffOps(env.number, executed.diff)
  else {
    const recorded = await recording
    const live = opened.chain.state.live
    const witness = await encodeBlockWitness(env.number, recorded, access.blockHashes, {
      // Code this block deployed is in its diff; the rest was in the state it started from.
      code: (hash) => executed.diff.codes.get(hash) ?? live.getCode(hash),
      header: async (n) => (commits?.queued(n) ?? (await opened.chain.blockByNumber(n)))?.header.serialize(),
    })
    artifactOps = artifacts.sealOps(env.number, { witness, encodedDiff: recorded.encodedDiff })
  }
  const ops = [...blocks.sealOps(block, storedContents(block)), ...stateOps, ...artifactOps, ...reverseOps]
  lap('commit')
  if (commits !== undefined) {
    chain.state.apply(env.number, executed.diff)
    commits.enqueue(block, () => db.write(ops, sync))
    return { block, depositsOnly }
  }
  // The live state first, then the store (`LiveState.apply`), as on the queued path.
  chain.state.apply(env.number, executed.diff)
  await db.write(ops, sync)
  chain.addSealedBlock(block)
  lap('commit_write')
  return { block, depositsOnly }
}

/** A lap timer: each call reports the time since the previous one (or since it was made) as `stage`. */
function stageClock(observe: BlockBuilderModules['observeStage']): (stage: DerivationStage) => void {
  let last = performance.now()
  return (stage) => {
    const now = performance.now()
    observe?.(stage, (now - last) / 1000)
    last = now
  }
}
