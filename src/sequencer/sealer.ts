import type { Common } from '@ethereumjs/common'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import type { Logger } from 'pino'
import type { SealedBlock } from '../chain/block.ts'
import type { ChainConfig } from '../chain/config.ts'
import { buildHeader } from '../chain/header.ts'
import { encodeMiniBlock, type MiniBlock } from '../chain/mini-block.ts'
import { emptyStateDiff, mergeStateDiff, type Hex, type StateDiff } from '../primitives/state-diff.ts'
import type { ThreadedMerkleizer } from '../execution/merkleizer/merkleizer.ts'
import type { EncodedStateWitness } from '../execution/merkleizer/thread.ts'
import type { BlockAccess } from '../primitives/block-access.ts'
import { encodeBlockWitness } from '../stateless/block-witness.ts'
import { reverseDiffOps } from '../storage/chain-rewind.ts'
import type { ChainWriter } from '../storage/chain-stores.ts'
import type { SequencerMetrics } from './metrics.ts'
import { failpoint } from '../util/failpoints.ts'

/** An EVM block whose mini-blocks are all produced: everything but its roots and hash. */
export interface ClosedBlock {
  number: bigint
  timestamp: bigint
  baseFeePerGas: bigint
  prevRandao: Uint8Array
  /** Number of its first mini-block (the next one, for a block that has none). */
  firstMiniBlock: bigint
  miniBlocks: MiniBlock[]
  /** Resolves when its mini-blocks are in the WAL: the seal batch truncates them. */
  durable: Promise<void>
  /** What executing the block read: its state witness is recorded from these keys and the diff. */
  access: BlockAccess
}

/** What sealing works with: the stores one seal commits to, the state trie it advances, and the chain's rules. */
export interface SealerModules {
  opened: ChainWriter
  merkleizer: ThreadedMerkleizer
  config: ChainConfig
  common: Common
  logger: Logger
  metrics: SequencerMetrics | undefined
}

/**
 * Turns closed EVM blocks into sealed ones, strictly in order: merkleize the block's merged diff,
 * compute the transactions and receipts roots, build the Ethereum header, and commit block, indexes,
 * flat state and WAL truncation in one fsynced batch. Runs behind the mini-block loop, so the 10 ms
 * cadence does not wait for the root of the previous second.
 */
export class Sealer {
  private queue: Promise<void> = Promise.resolve()
  private failure: Error | undefined

  private readonly opened: ChainWriter
  private readonly merkleizer: ThreadedMerkleizer
  private readonly config: ChainConfig
  private readonly common: Common
  private readonly logger: Logger
  private readonly metrics: SequencerMetrics | undefined

  constructor(modules: SealerModules) {
    const { opened } = modules
    this.opened = opened
    this.merkleizer = modules.merkleizer
    this.config = modules.config
    this.common = modules.common
    this.logger = modules.logger
    this.metrics = modules.metrics
  }

  /** Queues `block`; resolves with it sealed. A failed seal halts production (see `failed`). */
  seal(block: ClosedBlock): Promise<SealedBlock> {
    const sealed = this.queue.then(() => this.sealNow(block))
    this.queue = sealed.then(
      () => undefined,
      (error: unknown) => {
        this.failure = error instanceof Error ? error : new Error(String(error))
        this.logger.fatal(
          { err: this.failure, block: block.number.toString(), alarm: true },
          'sealing failed; block production halts (restart the node once the disk is healthy)',
        )
      },
    )
    return sealed
  }

  /** The error that stopped sealing, if one did: the producer must not build on an unsealable chain. */
  get failed(): Error | undefined {
    return this.failure
  }

  /** Resolves when every queued block is sealed. */
  async drain(): Promise<void> {
    await this.queue
  }

  private async sealNow(block: ClosedBlock): Promise<SealedBlock> {
    await block.durable
    const started = performance.now()
    const diff: StateDiff = emptyStateDiff()
    for (const mb of block.miniBlocks) mergeStateDiff(diff, mb.stateDiff)
    // Roots, bloom and stored encodings come from the merkleizer thread too: computed here, they
    // stalled the event loop (RPC, ingest, the mini-block cadence) for ~100 ms per busy block.
    const [recorded, contents] = await Promise.all([
      this.merkleizer.applyDiffWithWitness(diff, block.access),
      this.merkleizer.blockContents(block.miniBlocks.map(encodeMiniBlock)),
    ])
    const stateRoot = recorded.root
    const merkleized = performance.now()

    const transactions = block.miniBlocks.flatMap((mb) => mb.transactions)
    const receipts = block.miniBlocks.flatMap((mb) => mb.receipts)
    const gasUsed = receipts.length === 0 ? 0n : receipts[receipts.length - 1]!.cumulativeGasUsed
    const header = buildHeader(
      {
        // Seals run one at a time and each ends by making its block the head: the head is the parent.
        parentHash: hexToBytes(this.opened.chain.head.hash),
        number: block.number,
        timestamp: block.timestamp,
        gasLimit: this.config.blockGasLimit,
        gasUsed,
        baseFeePerGas: block.baseFeePerGas,
        stateRoot,
        transactionsRoot: contents.transactionsRoot,
        receiptsRoot: contents.receiptsRoot,
        logsBloom: contents.logsBloom,
        coinbase: this.config.feeRecipient,
        prevRandao: block.prevRandao,
        extraData: new Uint8Array(0),
      },
      this.common,
    )
    const first = block.firstMiniBlock
    // A block closed without mini-blocks (production failed for its whole second) ends where its
    // parent, the chain's head until this seal, ended.
    const last = block.miniBlocks.at(-1)
    const lastHash = last === undefined ? this.opened.chain.head.miniBlocks.lastHash : (bytesToHex(last.hash) as Hex)
    const sealed: SealedBlock = {
      header,
      hash: bytesToHex(header.hash()) as Hex,
      transactions,
      receipts,
      miniBlocks: { first, count: block.miniBlocks.length, lastHash },
    }
    const { db, blocks, stateStore, wal, chain, artifacts } = this.opened
    const witness = await this.witness(block, recorded)
    const ops = [
      ...blocks.sealOps(sealed, contents),
      ...(await stateStore.diffOps(diff)),
      ...wal.truncateOps(first, block.miniBlocks.length),
      ...artifacts.sealOps(block.number, { witness, encodedDiff: recorded.encodedDiff }),
      ...(await reverseDiffOps(this.opened, block.number, diff)),
    ]
    // Failpoints: `sequencer.seal.before-write` / `sequencer.seal.after-write` around the one batch that commits the
    // block and truncates its mini-blocks from the WAL (the crash campaign kills at both; after the write the head in
    // memory is not yet updated); `seal.fsync` fails the batch's fsync (the disk-fault campaign). Memory follows disk:
    // the chain's head moves only after the batch is durable.
    failpoint('sequencer.seal.before-write')
    await db.write(ops, true, 'seal.fsync')
    failpoint('sequencer.seal.after-write')
    chain.addSealedBlock(sealed)
    this.metrics?.observeSeal(
      (merkleized - started) / 1000,
      (performance.now() - started) / 1000,
      diff.accounts.size,
      witness.length,
    )
    this.logger.debug(
      {
        number: block.number.toString(),
        txs: transactions.length,
        miniBlocks: block.miniBlocks.length,
        ms: Math.round(performance.now() - started),
      },
      'sealed block',
    )
    return sealed
  }

  /** The block's encoded witness: the merkleizer's trie nodes and keys, plus bytecode and ancestor headers from the chain. */
  private witness(block: ClosedBlock, recorded: EncodedStateWitness): Promise<Uint8Array> {
    const { chain } = this.opened
    const state = chain.latestState()
    return encodeBlockWitness(block.number, recorded, block.access.blockHashes, {
      code: (hash) => state.getCode(hash),
      header: async (number) => (await chain.blockByNumber(number))?.header.serialize(),
    })
  }
}
