/**
 * Derivation for a role, composed: the pipeline over the node's L1 (blobs from `--l1.beacon`, or from
 * the dev anvil, which serves them), the node's chain as the safe chain, a driver feeding the role's
 * consumer, and the block builder the consumers build with. The `safe`/`finalized` tags and
 * `optimism_syncStatus` follow the driver.
 *
 * A consumer that builds every block (`prepareTxs`: a `--sync=l1` replica) decodes and recovers the
 * senders of each batch's transactions in the sequencer's ingest workers as soon as the pipeline reads
 * the batch, ahead of execution, and executes plain transfers natively from what the workers decoded.
 */
import type { Common } from '@ethereumjs/common'
import type { SealedBlock } from '../chain/block.ts'
import { DerivedCommitQueue } from '../derive/commit-queue.ts'
import { hexToBytes } from '@ethereumjs/util'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import type { ChainConfig } from '../chain/config.ts'
import type { L2BlockAttributes } from '../chain/l2-block-attributes.ts'
import { decodeL2Transaction } from '../chain/l2-transaction.ts'
import { fastTxOptions } from '../execution/validated-tx.ts'
import type { BatchTx } from '../execution/parallel/index.ts'
import { TxPrefetcher } from '../derive/tx-prefetch.ts'
import { IngestPool } from '../sequencer/ingest/index.ts'
import type { Service } from './services.ts'
import { SequentialExecutor } from '../execution/executor.ts'
import type { Hex } from '../primitives/state-diff.ts'
import { L2_TO_L1_MESSAGE_PASSER_ADDRESS } from '../bridge/predeploys.ts'
import { BlockAccessRecorder, recordingReader } from '../state/access-set.ts'
import { SequentialMiniBlockExecutor } from '../execution/parallel/index.ts'
import { buildDerivedBlock, type BuiltBlock, type DerivedChain, fsyncAtMostEvery } from '../derive/block-builder.ts'
import { ChainSafeChain } from '../derive/chain-safe-chain.ts'
import { derivationStart, L1HeadsRecorder } from '../derive/l1-heads.ts'
import { L1HeadsStore } from '../storage/l1-heads-store.ts'
import { DerivationDriver, type DerivedBlockConsumer } from '../derive/driver.ts'
import { anvilBlobSource, beaconBlobSource, createDerivationMetrics, DerivationPipeline, ViemL1Reader } from '../derive/index.ts'
import type { L1Services } from './l1-services.ts'

/**
 * A consumer that builds every derived block fsyncs at most this often (`fsyncAtMostEvery`): a power
 * loss costs at most this much re-derivation, never consistency.
 */
const DERIVED_FSYNC_MS = 1000

/** Polling when L1 has nothing new, and the longest backoff while it fails. */
const DRIVER_OPTIONS = { pollMs: 500, maxBackoffMs: 10_000 }

export interface DerivationParams {
  l1: L1Services
  opened: DerivedChain
  config: ChainConfig
  common: Common
  logger: Logger
  metrics: Registry
  /**
   * Where derivation resumes: `'head'` for a role whose every block is derived (a `--sync=l1` replica, a
   * prover: its head is its safe head), `'recorded'` for the sequencer, whose chain runs ahead of what L1
   * holds: the safe head it recorded (checked against its chain), or genesis.
   */
  start: 'head' | 'recorded'
  /**
   * Check each blob against its versioned hash (a KZG commitment, ~2.4 s per blob in pure JS, on this
   * thread). A `--sync=l1` replica must; the sequencer reads back blobs it posted itself, and a 2 s stall
   * of its mini-block loop per blob is worse than trusting its own L1 node for its safe head.
   */
  verifyBlobs: boolean
  /**
   * Decode and recover senders in worker threads, ahead of execution (a consumer that builds every
   * derived block). Off for the sequencer, which builds only the rare blocks L1 forced.
   */
  prepareTxs?: boolean
  /**
   * Keep each derived block's execution witness (bounded by the artifacts' window, as a sequencer's): a prover
   * re-executes a disputed block from it to build its execution trace.
   */
  recordWitnesses?: boolean
  consumer: (parts: {
    safeChain: ChainSafeChain
    build: (attributes: L2BlockAttributes) => Promise<BuiltBlock>
    /** The block the next build extends: the newest built (its write may still be queued), or the chain's head. */
    builtHead: () => SealedBlock
    /** Resolves when every built block is written and in the chain view. @throws a failed write (critical) */
    settled: () => Promise<void>
  }) => DerivedBlockConsumer
}

export interface Derivation {
  driver: DerivationDriver
  safeChain: ChainSafeChain
  /** Starts the decode workers (if any), then the driver; stops them the other way round. */
  service: Service
}

/**
 * Transactions a block may hold that a transaction pool refuses: the decode workers apply no pool
 * policy of their own beyond these (anything they still refuse is decoded in place, with the block
 * rules' verdict). No size limit but the channel's, unprotected legacy transactions allowed.
 */
function blockLimits(config: ChainConfig): { blockGasLimit: bigint; maxTxBytes: number; allowUnprotectedTxs: boolean } {
  return { blockGasLimit: config.blockGasLimit, maxTxBytes: Number.MAX_SAFE_INTEGER, allowUnprotectedTxs: true }
}

export async function createDerivation(params: DerivationParams): Promise<Derivation> {
  const { l1, opened, config, common, logger } = params
  const blobSource =
    l1.beacon !== undefined
      ? beaconBlobSource({ url: l1.beacon, verify: params.verifyBlobs })
      : l1.devL1 !== undefined
        ? anvilBlobSource(l1.devL1.rpcUrl, params.verifyBlobs)
        : undefined
  const reader = new ViemL1Reader(l1.client, l1.rollup, blobSource === undefined ? {} : { blobSource })
  // A consumer that builds every block (`prepareTxs`) writes each behind the next one's execution;
  // the sequencer, which builds only the rare blocks L1 forced, writes each before it goes on.
  const commits = params.prepareTxs === true ? new DerivedCommitQueue(opened.chain) : undefined
  const safeChain = new ChainSafeChain(opened.chain, l1.rollup, commits === undefined ? undefined : (n) => commits.queued(n))
  const headsStore = new L1HeadsStore(opened.db)
  const start = await derivationStart(params.start, opened.chain, await headsStore.load())
  if (start.safe > 0n) {
    const head = await opened.chain.blockByNumber(start.safe)
    // The pipeline checks this origin against L1 and walks back from a block L1 no longer backs.
    if (head !== undefined) safeChain.markSafe(start.safe, safeChain.refOf(head).l1Origin)
  }
  if (params.start === 'recorded' && start.safe > 0n)
    logger.info(
      { safe: start.safe.toString(), finalized: start.finalized.toString() },
      'derivation resumes from the recorded safe head',
    )
  const headsRecorder = new L1HeadsRecorder(headsStore, (n) => safeChain.blockRef(n), logger)
  // The consumer waits on these workers for every block it builds, and has no 10 ms loop to protect:
  // they run at the main thread's priority.
  const ingest =
    params.prepareTxs === true ? new IngestPool({ chain: config, limits: blockLimits(config), background: false }) : undefined
  const prefetcher =
    ingest === undefined
      ? undefined
      : new TxPrefetcher(async (raws) =>
          (await ingest.decode(raws)).map((outcome): BatchTx | undefined => (outcome.ok ? outcome.tx : undefined)),
        )
  const metrics = createDerivationMetrics(params.metrics)
  const pipeline = new DerivationPipeline(
    { confirmations: BigInt(l1.confirmations) },
    {
      rollup: l1.rollup,
      l1: reader,
      safe: safeChain,
      logger: logger.child({ module: 'derivation' }),
      metrics,
      ...(prefetcher === undefined ? {} : { onBatchRead: (raws: readonly Uint8Array[]) => prefetcher.prefetch(raws) }),
    },
  )
  // Derived blocks execute on the head state; the sequencer builds them only before it produces.
  // A prover records what each block reads (under the executor's overlay, as the sequencer does) for its witness.
  const access = params.recordWitnesses === true ? new BlockAccessRecorder() : undefined
  const blockHash = async (number: bigint): Promise<Uint8Array | undefined> => {
    access?.onBlockHashRead(number)
    const block = commits?.queued(number) ?? (await opened.chain.blockByNumber(number))
    return block === undefined ? undefined : hexToBytes(block.hash)
  }
  const state = access === undefined ? opened.chain.state.live : recordingReader(opened.chain.state.live, access)
  const executor = new SequentialMiniBlockExecutor(await SequentialExecutor.create(common, state, blockHash))
  // One prepared Common for every transaction (the stateless verifier's choice too): ethereumjs'
  // constructors otherwise copy the Common and rebuild its params per transaction. Validation is unchanged.
  const txOptions = fastTxOptions(common)
  const modules = {
    opened,
    executor,
    config,
    common,
    decode: (raw: Uint8Array) => decodeL2Transaction(raw, txOptions),
    observeStage: metrics.observeStage,
    ...(prefetcher === undefined
      ? {}
      : { prepared: (raws: readonly Uint8Array[]) => prefetcher.take(raws), fsync: fsyncAtMostEvery(DERIVED_FSYNC_MS) }),
    ...(commits === undefined ? {} : { commits }),
    ...(access === undefined ? {} : { witnesses: { access, alsoRead: [L2_TO_L1_MESSAGE_PASSER_ADDRESS.toLowerCase() as Hex] } }),
  }
  const build = (attributes: L2BlockAttributes): Promise<BuiltBlock> => buildDerivedBlock(modules, attributes)
  const driver = new DerivationDriver(
    DRIVER_OPTIONS,
    {
      pipeline,
      consumer: params.consumer({
        safeChain,
        build,
        builtHead: () => commits?.head ?? opened.chain.head,
        settled: async () => commits?.settled(),
      }),
      finalizedL1: () => l1.watcher.finalized,
      onHeads: (heads) => {
        opened.chain.setL1Heads(heads)
        headsRecorder.record(heads)
      },
      observeIdle: (seconds) => metrics.observeStage('idle', seconds),
      logger: logger.child({ module: 'derivation' }),
    },
    start,
  )
  const service: Service = {
    start: async () => {
      await ingest?.start()
      driver.start()
    },
    stop: async () => {
      await driver.stop()
      // The last built blocks' writes, before the datadir closes (a failed one is the driver's alarm already).
      await commits?.settled().catch(() => undefined)
      await headsRecorder.flushed()
      await ingest?.stop()
    },
  }
  return { driver, safeChain, service }
}
