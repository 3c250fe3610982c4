import type { Common } from '@ethereumjs/common'
import { hexToBytes } from '@ethereumjs/util'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import type { ChainConfig } from '../chain/config.ts'
import type { TxReceipt } from '../chain/receipt.ts'
import type { Hex } from '../primitives/state-diff.ts'
import { SequentialExecutor } from '../execution/executor.ts'
import { decodeValidatedL2Tx } from '../execution/validated-tx.ts'
import type { L2Transaction } from '../chain/l2-transaction.ts'
import { BlockAccessRecorder, recordingReader } from '../state/access-set.ts'
import type { ThreadedMerkleizer } from '../execution/merkleizer/merkleizer.ts'
import type { MiniBlock } from '../chain/mini-block.ts'
import type { ChainWriter } from '../storage/chain-stores.ts'
import type { PoolJournal } from '../storage/pool-journal.ts'
import { BlockProducer } from './block-producer.ts'
import { SequencerHaltedError } from './errors.ts'
import type { L1Anchoring } from './epoch.ts'
import { getTxCodec, IngestPool, isTxRejectedError, type DecodedTx } from './ingest/index.ts'
import { createSequencerMetrics, type SequencerMetrics } from './metrics.ts'
import { createMiniBlockExecutor } from './parallel-executor.ts'
import type { MiniBlockExecutor } from '../execution/parallel/index.ts'
import type { SequencerOptions } from './options.ts'
import { ReceiptWaiters } from '../storage/receipt-waiters.ts'
import { Sealer } from './sealer.ts'
import { TxPool, type AddResult } from './txpool/index.ts'

/** The chain as the sequencer writes it: the stores, the state trie at the sealed head, the pool journal and the mini-blocks logged after the head. */
export interface SequencerChain extends ChainWriter {
  readonly merkleizer: ThreadedMerkleizer
  readonly poolJournal: PoolJournal
  readonly unsealed: readonly MiniBlock[]
}

export interface SequencerParams {
  opened: SequencerChain
  config: ChainConfig
  common: Common
  sequencerKey: Uint8Array
  options: SequencerOptions
  logger: Logger
  metrics?: Registry
  /** The rollup's L1 side; absent for the pure-L2 chain. */
  l1?: L1Anchoring
  /** Runs after WAL recovery, before the first mini-block (with L1: adopting blocks L1 forced meanwhile). */
  beforeProduction?: () => Promise<void>
}

export type SubmitResult = AddResult & { tx: DecodedTx }

/** How often the pool journal is rewritten with the pool's contents (older entries hold only included or dropped transactions). */
const POOL_JOURNAL_ROTATE_MS = 5_000

/**
 * The sequencer role's write side, composed: ingest workers → tx pool → mini-block producer →
 * sealer, plus the waiters that turn inclusion into synchronous receipts.
 */
export class Sequencer {
  readonly pool: TxPool
  private readonly ingest: IngestPool
  private readonly waiters = new ReceiptWaiters()
  private readonly decodeStored: (raw: Uint8Array) => L2Transaction
  private pruneTimer: NodeJS.Timeout | undefined
  private journalTimer: NodeJS.Timeout | undefined

  private constructor(
    private readonly params: SequencerParams,
    private readonly producer: BlockProducer,
    private readonly sealer: Sealer,
    pool: TxPool,
    ingest: IngestPool,
    private readonly executor: MiniBlockExecutor,
    private readonly metrics: SequencerMetrics | undefined,
  ) {
    this.pool = pool
    this.ingest = ingest
    const codec = getTxCodec(params.common)
    this.decodeStored = (raw) => decodeValidatedL2Tx(raw, codec.txOptions)
    params.opened.chain.events.on('miniBlock', (block) => this.waiters.onMiniBlock(block))
  }

  static async create(params: SequencerParams): Promise<Sequencer> {
    const { opened, config, common, options, logger } = params
    const metrics = params.metrics === undefined ? undefined : createSequencerMetrics(params.metrics)
    const live = opened.chain.state.live
    const pool = new TxPool({
      state: {
        getNonce: (sender) => live.getAccount(sender)?.nonce ?? 0n,
        getBalance: (sender) => live.getAccount(sender)?.balance ?? 0n,
      },
      baseFee: opened.chain.head.header.baseFeePerGas ?? config.minBaseFee,
      options: options.txpool,
      onListenerError: (err) => logger.error({ err }, 'txpool listener failed'),
    })
    pool.onDroppedTx((dropped) => {
      metrics?.observeRejected(`pool_${dropped.reason}`)
      logger.debug(
        {
          hash: dropped.hash,
          sender: dropped.sender,
          nonce: dropped.nonce.toString(),
          reason: dropped.reason,
          detail: dropped.detail,
        },
        'transaction left the pool',
      )
    })
    const ingest = new IngestPool({
      chain: config,
      limits: {
        blockGasLimit: config.miniBlockGasLimit,
        ...(options.txpool.maxTxBytes === undefined ? {} : { maxTxBytes: options.txpool.maxTxBytes }),
      },
      workers: options.ingestWorkers,
    })
    const sealer = new Sealer({
      opened,
      merkleizer: opened.merkleizer,
      config,
      common,
      logger: logger.child({ module: 'sealer' }),
      metrics,
    })
    const access = new BlockAccessRecorder()
    const blockHash = async (number: bigint): Promise<Uint8Array | undefined> => {
      access.onBlockHashRead(number)
      let block = await opened.chain.blockByNumber(number)
      if (block === undefined && number > opened.chain.head.header.number) {
        // A block closed but still being merkleized (or queued behind one): wait for its seal rather
        // than answer wrong. A block closes before the next one's first mini-block lands, so the
        // chain view's pending number may not have moved past it yet.
        await sealer.drain()
        block = await opened.chain.blockByNumber(number)
      }
      return block === undefined ? undefined : hexToBytes(block.hash)
    }
    const sequential = await SequentialExecutor.create(common, recordingReader(live, access), blockHash)
    metrics?.trackNativeTransfers(() => sequential.nativeTransferCount)
    const executor = await createMiniBlockExecutor({
      mode: options.executor,
      workers: options.execWorkers,
      sequential,
      base: live,
      config,
      ...(params.metrics === undefined ? {} : { registry: params.metrics }),
      logger: logger.child({ module: 'executor' }),
    })
    const producer = new BlockProducer(options, {
      opened,
      executor,
      access,
      pool,
      sealer,
      config,
      sequencerKey: params.sequencerKey,
      logger: logger.child({ module: 'producer' }),
      metrics,
      l1: params.l1,
    })
    const sequencer = new Sequencer(params, producer, sealer, pool, ingest, executor, metrics)
    // The same test as `failure`, which reads the database too: a failed journal write halts sends before the next
    // WAL write notices.
    metrics?.trackHalted(() => sequencer.failure !== undefined)
    return sequencer
  }

  async start(): Promise<void> {
    await this.ingest.start()
    await this.producer.start(this.decodeStored, this.params.beforeProduction)
    await this.restorePool()
    // After WAL recovery: the parallel executor's workers load the state now, not on the first busy tick.
    await this.executor.prepare()
    this.pruneTimer = setInterval(() => this.pool.prune(), 60_000)
    this.pruneTimer.unref()
    this.journalTimer = setInterval(() => {
      this.rotatePoolJournal().catch((err: unknown) => this.params.logger.error({ err }, 'rotating the pool journal failed'))
    }, POOL_JOURNAL_ROTATE_MS)
    this.journalTimer.unref()
  }

  async stop(): Promise<void> {
    clearInterval(this.pruneTimer)
    clearInterval(this.journalTimer)
    await this.ingest.stop()
    await this.producer.stop()
    await this.executor.close()
  }

  /**
   * Stops producing (admin_stopSequencer) while everything else keeps running: the mini-block in
   * progress is finished and the open EVM block closed and sealed. Transactions keep being accepted
   * into the pool (and its journal) and are included once `resume` is called. Resolves to the hash
   * of the sealed head, the one `resume`'s caller names.
   */
  async pause(): Promise<Hex> {
    await this.producer.stop()
    return this.params.opened.chain.head.hash
  }

  /** Resumes production after `pause`, on the sealed head. */
  resume(): void {
    this.producer.resume()
  }

  /** Whether mini-blocks are being produced (not paused, not halted by a failure). */
  get producing(): boolean {
    return this.producer.active
  }

  /**
   * Decodes (in a worker) and pools a raw transaction, journaled before it is acknowledged; throws
   * `TxRejectedError` with the standard message.
   */
  async submit(raw: Uint8Array): Promise<SubmitResult> {
    this.assertProducing()
    const tx = await this.ingest.decodeOne(raw)
    const result = this.pool.add(tx)
    await this.journal(raw, tx.hash)
    return { ...result, tx }
  }

  /**
   * Refuses sends once production halted on a failure: nothing could include them, and their journal
   * write would fail on the poisoned database anyway. The error says so instead of a generic one.
   */
  private assertProducing(): void {
    const failure = this.failure
    if (failure !== undefined) throw new SequencerHaltedError(failure)
  }

  /**
   * Journals a pooled transaction before it is acknowledged. If the write fails the transaction
   * leaves the pool again: the client gets an error, so nothing may include it or show it pending.
   */
  private async journal(raw: Uint8Array, hash: Hex): Promise<void> {
    try {
      await this.params.opened.poolJournal.add(raw)
    } catch (error) {
      this.pool.markFailed(hash, 'pool journal write failed')
      throw new SequencerHaltedError(error)
    }
  }

  /**
   * Puts the transactions journaled before a crash or shutdown back into the pool. Those a recovered
   * mini-block already holds, or that became invalid, are rejected and leave the journal.
   */
  private async restorePool(): Promise<void> {
    const { poolJournal } = this.params.opened
    const journaled = await poolJournal.load()
    let restored = 0
    for (const raw of journaled) {
      try {
        this.pool.add(await this.ingest.decodeOne(raw))
        restored++
      } catch (error) {
        // Included before the crash (stale nonce), already known, or invalid now: nothing to restore.
        if (!isTxRejectedError(error)) throw error
      }
    }
    if (journaled.length > 0)
      this.params.logger.info({ journaled: journaled.length, restored }, 'restored the transaction pool from its journal')
    await this.rotatePoolJournal()
  }

  /** Rewrites the journal with what the pool holds now, dropping everything included or gone since. */
  private async rotatePoolJournal(): Promise<void> {
    await this.params.opened.poolJournal.rotate(() => {
      const { pending, queued } = this.pool.content()
      return [...pending.values(), ...queued.values()].flatMap((txs) => txs.map((tx) => tx.raw))
    })
  }

  /**
   * Submits and waits until the transaction is in a durable mini-block. `undefined` after
   * `timeoutMs`; `notReady` when the pool holds it behind a nonce gap.
   */
  async submitAndWait(
    raw: Uint8Array,
    timeoutMs: number,
  ): Promise<{ hash: Hex; receipt: TxReceipt | undefined; notReady?: string }> {
    this.assertProducing()
    const started = performance.now()
    const decoding = this.ingest.decodeUrgent(raw)
    const tx = await decoding.tx
    const waiter = this.waiters.wait(tx.hash, timeoutMs)
    let result: AddResult
    try {
      result = this.pool.add(tx)
      await this.journal(raw, tx.hash)
    } catch (error) {
      waiter.cancel()
      // EIP-7966: a transaction that cannot execute yet is "not ready" (code 5), not a rejection.
      if (isTxRejectedError(error) && error.code === 'insufficient-funds')
        return { hash: tx.hash, receipt: undefined, notReady: error.message }
      throw error
    }
    if (result.status === 'queued') {
      waiter.cancel()
      return {
        hash: tx.hash,
        receipt: undefined,
        notReady: `nonce gap: next nonce is ${this.pool.pendingNonce(tx.sender)}, transaction nonce is ${tx.nonce}`,
      }
    }
    const receipt = await waiter.promise
    if (receipt !== undefined) this.metrics?.observeSyncSend((performance.now() - started) / 1000, decoding.inline)
    return { hash: tx.hash, receipt }
  }

  /** Decodes a stored (already validated) transaction for RPC. */
  decode(raw: Uint8Array): L2Transaction {
    return this.decodeStored(raw)
  }

  /** Why block production stopped, if it did: a failed seal, WAL write or (any) database write. */
  get failure(): Error | undefined {
    return this.sealer.failed ?? this.producer.failure ?? this.params.opened.db.failure
  }

  get baseFee(): bigint {
    return this.producer.currentBaseFee
  }

  get config(): ChainConfig {
    return this.params.config
  }
}
