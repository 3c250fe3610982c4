import { equalsBytes, hexToBytes } from '@ethereumjs/util'
import type { Logger } from 'pino'
import type { ChainConfig } from '../chain/config.ts'
import { forkActiveAt } from '../chain/forks.ts'
import { encodeDepositTx } from '../chain/deposit-tx.ts'
import type { L2Transaction } from '../chain/l2-transaction.ts'
import { nextBaseFee } from '../chain/header.ts'
import { blockDeposits, blockL1Info } from '../chain/l2-block-attributes.ts'
import { sealMiniBlock, type MiniBlock } from '../chain/mini-block.ts'
import type { TxReceipt } from '../chain/receipt.ts'
import type { BlockEnv } from '../execution/block-env.ts'
import { keccak256 } from '../crypto/native.ts'
import { executeBlockBody } from '../execution/block-execution.ts'
import type { BlockCursor, TxExecutionErrorCode } from '../execution/executor.ts'
import type { MiniBlockExecutor } from '../execution/parallel/index.ts'
import type { BlockAccess } from '../primitives/block-access.ts'
import { type BlockAccessRecorder, restoreAccess } from '../state/access-set.ts'
import { emptyStateDiff, mergeStateDiff, type StateDiff } from '../primitives/state-diff.ts'
import type { SequencerChain } from './sequencer.ts'
import { lazyTxSource, type TxSource } from '../storage/chain-view.ts'
import type { DecodedTx } from './ingest/index.ts'
import type { SequencerMetrics } from './metrics.ts'
import type { ProducerOptions } from './options.ts'
import { parentEpochOf, selectEpoch, type BlockEpoch, type L1Anchoring, type ParentEpoch } from './epoch.ts'
import type { ClosedBlock, Sealer } from './sealer.ts'
import type { TxPool } from './txpool/index.ts'
import { failpoint } from '../util/failpoints.ts'
import { SequencerRecoveryError } from './errors.ts'
import { isNodeError } from '../primitives/errors.ts'
import type { L1Origin } from '../chain/l1-origin.ts'
import type { Hex } from '../primitives/state-diff.ts'

/** Share of the mini-block interval spent executing; the rest covers signing, the WAL fsync and RPC. */
const EXECUTION_BUDGET_SHARE = 0.7
/** How long crash recovery waits for the L1 watcher to have the origin a recovered block needs. */
const RECOVERY_ORIGIN_WAIT_MS = 60_000

interface OpenBlock {
  env: BlockEnv
  cursor: BlockCursor
  firstMiniBlock: bigint
  miniBlocks: MiniBlock[]
  /** performance.now() at which the block closes. */
  closesAt: number
  /** The start-of-block system calls ran (their writes ride in the mini-block that first carries transactions). */
  systemCallsApplied: boolean
  /** With L1: the block's origin and sequence number (its deposits open it). */
  epoch: BlockEpoch | undefined
  /** Deposits executed with the system calls, waiting to open the mini-block being produced. */
  deposits: { raws: Uint8Array[]; receipts: TxReceipt[] } | undefined
}

/** What the parent of the next EVM block looked like, for its base fee and timestamp. */
interface ParentSummary {
  number: bigint
  timestamp: bigint
  gasUsed: bigint
  gasLimit: bigint
  baseFeePerGas: bigint
  /** With L1: the parent's origin and sequence number. */
  epoch: ParentEpoch | undefined
}

/** What the mini-block loop works with (its options apart: `ProducerOptions`). */
export interface BlockProducerModules {
  opened: Pick<SequencerChain, 'chain' | 'wal' | 'unsealed'>
  executor: MiniBlockExecutor
  /** Fed by the executor's state reads; taken at each block boundary for the block's witness. */
  access: BlockAccessRecorder
  pool: TxPool
  sealer: Sealer
  config: ChainConfig
  sequencerKey: Uint8Array
  logger: Logger
  metrics: SequencerMetrics | undefined
  /**
   * With L1 (a rollup config): every EVM block is anchored to an L1 origin, opens with its deposits and
   * takes timestamps exactly `blockTime` apart (see `openBlock`). Without: the pure-L2 chain.
   */
  l1: L1Anchoring | undefined
}

/**
 * The mini-block loop. Every `miniBlockMs` at the latest (sooner when a transaction arrives: eager
 * mini-blocks, `eagerMiniBlockMs` after the previous start) it takes executable transactions from
 * the pool, runs them, logs the mini-block to the WAL (fsync), and only then publishes receipts;
 * every `blockMs` it closes the EVM block and hands it to the sealer, which merkleizes behind the loop.
 */
export class BlockProducer {
  private open: OpenBlock | undefined
  private parent: ParentSummary
  private lastMiniBlock: { number: bigint; hash: Uint8Array }
  private timer: NodeJS.Timeout | undefined
  private running = false
  private tickInFlight: Promise<void> | undefined
  private lastProducedAt: number | undefined
  /** performance.now() at which the last tick started: eager mini-blocks are spaced from it. */
  private lastTickAt = Number.NEGATIVE_INFINITY
  /** When the scheduled tick fires (performance.now()); undefined while a tick runs and once stopped. */
  private timerDueAt: number | undefined
  /** A transaction became pending while a tick ran: the next mini-block starts eagerly. */
  private workArrived = false
  /**
   * The last mini-block was cut short by the execution time budget: the pool holds more than a
   * mini-block can execute. Eager starts pause then, and the tick paces production as before a
   * flood: the 30 % of each interval left to RPC, ingest and GC stays theirs, and a backlog gains
   * nothing from starting earlier, since every mini-block is full anyway.
   */
  private cutShort = false
  /**
   * Whether the open block takes transactions now. False while its system calls wait for the parent's
   * seal (from Prague), while no block can open (waiting for L1) and while L1 forbids transactions:
   * an eager mini-block would then be an empty one, so arrivals wait for the tick (or the seal).
   */
  private acceptingTxs = true
  private unsubscribePending: (() => void) | undefined
  /** Resolves once every mini-block produced so far is durable and published, in order. */
  private published: Promise<void> = Promise.resolve()
  private writesInFlight = 0
  /**
   * How many transactions the next mini-block takes from the pool. Under a backlog of expensive
   * transactions the executor stops at the time budget after a handful, and picking the full
   * `maxTxsPerMiniBlock` every 10 ms (heap work over every sender, then putting them all back) cost
   * the main thread ~10 % on ERC-20 transfers. The limit follows what was executed: it shrinks to
   * 1.5× that when the budget cut a mini-block short, and doubles (up to the maximum) when not.
   */
  private pickLimit: number
  private walFailure: Error | undefined
  /** The highest block number whose seal (and so whose hash) is known: the EIP-2935 system call needs the parent's. */
  private sealedNumber: bigint

  private readonly opened: BlockProducerModules['opened']
  private readonly executor: MiniBlockExecutor
  private readonly access: BlockAccessRecorder
  private readonly pool: TxPool
  private readonly sealer: Sealer
  private readonly config: ChainConfig
  private readonly sequencerKey: Uint8Array
  private readonly logger: Logger
  private readonly metrics: SequencerMetrics | undefined
  private readonly l1: L1Anchoring | undefined
  /** Decodes stored transactions (deposits included) for the chain view; set by `start`. */
  private decode: ((raw: Uint8Array) => L2Transaction) | undefined
  /** Why the last block could not open (logged once per reason). */
  private blockedReason: string | undefined

  constructor(
    private readonly options: ProducerOptions,
    modules: BlockProducerModules,
  ) {
    const { opened, config, metrics } = modules
    this.opened = opened
    this.executor = modules.executor
    this.access = modules.access
    this.pool = modules.pool
    this.sealer = modules.sealer
    this.config = config
    this.sequencerKey = modules.sequencerKey
    this.logger = modules.logger
    this.metrics = metrics
    this.l1 = modules.l1
    this.pickLimit = options.maxTxsPerMiniBlock
    metrics?.setPickLimit(this.pickLimit)
    const { sealedNumber, parent, lastMiniBlock } = this.positionAtHead()
    this.sealedNumber = sealedNumber
    this.parent = parent
    this.lastMiniBlock = lastMiniBlock
  }

  /** Where production continues from: the chain's sealed head. */
  private positionAtHead(): { sealedNumber: bigint; parent: ParentSummary; lastMiniBlock: { number: bigint; hash: Uint8Array } } {
    const head = this.opened.chain.head
    const nextMiniBlock = head.miniBlocks.first + BigInt(head.miniBlocks.count)
    return {
      sealedNumber: head.header.number,
      parent: {
        number: head.header.number,
        timestamp: head.header.timestamp,
        gasUsed: head.header.gasUsed,
        gasLimit: head.header.gasLimit,
        baseFeePerGas: head.header.baseFeePerGas ?? this.config.minBaseFee,
        epoch: this.epochOf(head.transactions),
      },
      // Datadirs from before the last mini-block's hash was stored resume the chain at the block hash.
      lastMiniBlock: { number: nextMiniBlock - 1n, hash: hexToBytes(head.miniBlocks.lastHash ?? head.hash) },
    }
  }

  /**
   * Receipts leave only after their mini-block is fsynced (a returned receipt survives kill -9), and
   * mini-blocks are published strictly in order; the loop meanwhile executes the next one.
   */
  private publishWhenDurable(mini: MiniBlock, txs: readonly TxSource[], durable: Promise<void>): void {
    this.writesInFlight++
    this.published = Promise.all([this.published, durable]).then(
      () => {
        // Failpoint `sequencer.miniblock.durable`: the mini-block is in the WAL (fsynced) and its
        // receipts not yet released (the crash campaign kills here).
        failpoint('sequencer.miniblock.durable')
        this.writesInFlight--
        // A later mini-block whose write succeeded after an earlier one failed stays unpublished:
        // its receipts would stand on a parent that is not on disk.
        if (this.walFailure !== undefined) return
        this.opened.chain.addMiniBlock(mini, txs)
      },
      (error: unknown) => {
        this.writesInFlight--
        // Without a durable WAL no receipt may be released: halt production loudly.
        if (this.walFailure !== undefined) return
        this.walFailure = error instanceof Error ? error : new Error(String(error))
        this.running = false
        this.logger.fatal(
          { err: this.walFailure, miniBlock: mini.number.toString(), alarm: true },
          'WAL write failed; block production halts (restart the node once the disk is healthy)',
        )
      },
    )
  }

  /** Why production stopped on its own (a failed WAL write), if it did. */
  get failure(): Error | undefined {
    return this.walFailure
  }

  /** Base fee of the block mini-blocks currently go into (what the pool prices against). */
  get currentBaseFee(): bigint {
    return this.open?.env.baseFeePerGas ?? this.nextBlockBaseFee()
  }

  /**
   * Replays WAL mini-blocks left by a crash and seals them, runs `beforeLoop` (with L1: blocks L1
   * forced while the sequencer was away are adopted there, extending the chain), then starts the
   * loop on the chain's head.
   */
  async start(decode: (raw: Uint8Array) => L2Transaction, beforeLoop?: () => Promise<void>): Promise<void> {
    this.decode = decode
    await this.recover(decode)
    if (beforeLoop !== undefined) {
      await beforeLoop()
      const { sealedNumber, parent, lastMiniBlock } = this.positionAtHead()
      this.sealedNumber = sealedNumber
      this.parent = parent
      this.lastMiniBlock = lastMiniBlock
    }
    this.running = true
    this.listenForArrivals()
    this.schedule(0)
  }

  /** Stops after the mini-block in progress, closes the open EVM block and waits for it to seal. */
  async stop(): Promise<void> {
    this.running = false
    this.unsubscribePending?.()
    this.unsubscribePending = undefined
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timerDueAt = undefined
    await this.tickInFlight
    await this.published
    if (this.open !== undefined) await this.closeBlock()
    await this.sealer.drain()
  }

  /**
   * Starts the loop again after `stop` (admin_startSequencer): production continues on the sealed
   * head, and transactions pooled meanwhile go into the next mini-block. A halted loop (failed WAL
   * write or seal) does not restart.
   */
  resume(): void {
    if (this.running || this.walFailure !== undefined || this.sealer.failed !== undefined) return
    this.running = true
    this.listenForArrivals()
    this.schedule(0)
  }

  /** Eager mini-blocks are on: arrivals may start a mini-block before the tick. */
  private get eager(): boolean {
    return this.options.eagerMiniBlockMs < this.options.miniBlockMs
  }

  private listenForArrivals(): void {
    if (!this.eager || this.unsubscribePending !== undefined) return
    this.unsubscribePending = this.pool.onPendingTx(() => this.onTxPending())
  }

  /**
   * A transaction became pending (added, promoted or replaced). A mini-block in progress has picked
   * already or will: the next one then starts eagerly (`tick`). Otherwise the waiting tick is pulled
   * in to `eagerMiniBlockMs` after the last one started. Called per transaction, so it returns at
   * once when the timer is already due that early.
   */
  private onTxPending(): void {
    if (!this.running) return
    if (this.tickInFlight !== undefined) {
      this.workArrived = true
      return
    }
    if (this.acceptingTxs && !this.cutShort) this.startEarly()
  }

  /** Moves the waiting tick to `eagerMiniBlockMs` after the last tick's start, if it is due later. */
  private startEarly(): void {
    const due = this.lastTickAt + this.options.eagerMiniBlockMs
    if (!this.running || this.timerDueAt === undefined || this.timerDueAt <= due) return
    clearTimeout(this.timer)
    this.schedule(Math.max(0, due - performance.now()))
  }

  /** Whether the loop is producing (false before `start`, after `stop`, and once it halted). */
  get active(): boolean {
    return this.running
  }

  private async recover(decode: (raw: Uint8Array) => L2Transaction): Promise<void> {
    const { unsealed, chain } = this.opened
    if (unsealed.length === 0) return
    this.logger.info({ miniBlocks: unsealed.length }, 'recovering unsealed mini-blocks from the WAL')
    const byBlock = new Map<bigint, MiniBlock[]>()
    for (const mb of unsealed) byBlock.set(mb.blockNumber, [...(byBlock.get(mb.blockNumber) ?? []), mb])
    for (const miniBlocks of byBlock.values()) {
      const first = miniBlocks[0]!
      const epoch = this.epochOf(miniBlocks.flatMap((mb) => mb.transactions))
      const prevRandao =
        this.l1 === undefined || epoch === undefined
          ? prevRandaoAfter(first.parentHash)
          : hexToBytes((await this.recoveredOrigin(epoch.hash)).mixHash)
      const env = this.recoveredEnv(first, prevRandao)
      const systemCalls = await this.systemCallWrites(env)
      const walDiff = emptyStateDiff()
      for (const mb of miniBlocks) mergeStateDiff(walDiff, mb.stateDiff)
      const access = await this.reexecuteForAccess(
        env,
        miniBlocks.flatMap((mb) => mb.transactions.map(decode)),
      )
      for (const mb of miniBlocks) {
        chain.state.apply(mb.blockNumber, mb.stateDiff)
        chain.addMiniBlock(
          mb,
          mb.transactions.map((raw) => lazyTxSource(raw, decode)),
        )
        this.lastMiniBlock = { number: mb.number, hash: mb.hash }
      }
      if (!diffCarries(walDiff, systemCalls)) {
        // With L1 the block's origin died with the process, but nothing committed to it yet: the
        // origin's deposits ride with the system calls, so these mini-blocks are empty. Recovery
        // chooses it as `openBlock` would, and the closing mini-block carries its deposits.
        const epoch = this.l1 === undefined ? undefined : await this.recoveredEpoch(first.blockTimestamp)
        const closingEnv = epoch === undefined ? env : { ...env, prevRandao: hexToBytes(epoch.origin.mixHash) }
        this.logger.info(
          { block: first.blockNumber.toString(), l1Origin: epoch?.origin.number.toString() },
          'recovered block lacks its system calls: closing it with them, as the loop would',
        )
        await this.closeRecovered(closingEnv, miniBlocks, access, epoch)
        continue
      }
      const block: ClosedBlock = {
        number: first.blockNumber,
        timestamp: first.blockTimestamp,
        baseFeePerGas: first.baseFeePerGas,
        prevRandao,
        firstMiniBlock: first.number,
        miniBlocks,
        durable: Promise.resolve(),
        access,
      }
      const sealed = await this.sealer.seal(block)
      this.sealedNumber = sealed.header.number
      this.parent = { ...summarize(sealed.header), epoch }
    }
  }

  /**
   * The L1 origin of a recovered block whose mini-blocks carry none (see `recover`), chosen by the rule
   * `openBlock` applies on the block's parent epoch.
   */
  private recoveredEpoch(timestamp: bigint): Promise<BlockEpoch> {
    const l1 = this.l1!
    return this.waitForL1(`cannot finish the recovered block at timestamp ${timestamp}`, async () => {
      const choice = selectEpoch(l1, parentEpochOf(l1.rollup, this.parent.epoch), timestamp)
      return choice.ok ? { ok: true, value: choice.epoch } : choice
    })
  }

  /** The origin a recovered block's L1-attributes deposit names (its PREVRANDAO is the origin's). */
  private recoveredOrigin(hash: Hex): Promise<L1Origin> {
    const l1 = this.l1!
    return this.waitForL1(`cannot read the L1 origin ${hash} of a recovered block`, async () => {
      try {
        return { ok: true, value: await l1.origins.originByHash(hash) }
      } catch (error) {
        // The watcher has not followed L1 to its head yet, or L1 does not answer: both pass.
        if (isNodeError(error) && error.severity === 'temporary') return { ok: false, reason: error.message }
        throw error
      }
    })
  }

  /**
   * Recovery runs as the node starts, when the L1 watcher (started with it) may not have followed L1 to
   * its head yet: like the loop, it waits for L1 while `attempt` says why not; an L1 that stays away
   * fails the start with a critical error that says so.
   */
  private async waitForL1<T>(
    what: string,
    attempt: () => Promise<{ ok: true; value: T } | { ok: false; reason: string }>,
  ): Promise<T> {
    const deadline = performance.now() + RECOVERY_ORIGIN_WAIT_MS
    for (;;) {
      const outcome = await attempt()
      if (outcome.ok) return outcome.value
      if (performance.now() > deadline)
        throw new SequencerRecoveryError(`${what}: ${outcome.reason} (waited ${RECOVERY_ORIGIN_WAIT_MS / 1000} s)`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }

  /** The environment a recovered block executed in (as `openBlock` set it, from what its mini-blocks carry). */
  private recoveredEnv(first: MiniBlock, prevRandao: Uint8Array): BlockEnv {
    return {
      number: first.blockNumber,
      timestamp: first.blockTimestamp,
      coinbase: this.config.feeRecipient,
      baseFeePerGas: first.baseFeePerGas,
      gasLimit: this.config.blockGasLimit,
      prevRandao,
      excessBlobGas: 0n,
      parentBeaconBlockRoot: new Uint8Array(32),
    }
  }

  /** What the block's start-of-block system calls write on its pre-state (nothing is kept). */
  private async systemCallWrites(env: BlockEnv): Promise<StateDiff> {
    this.executor.setBlockEnv(env)
    await this.executor.applySystemCalls(env)
    return this.executor.takeDiff()
  }

  /**
   * Finishes a recovered block whose mini-blocks never carried its system calls: from Prague they
   * wait for the parent's seal, so a block's first mini-blocks are empty, and a crash before the
   * mini-block that carries them left a block whose state lacks them (its state root then disagreed
   * with every re-execution, and its witness lacked the nodes those writes walk: replicas stopped on
   * WITNESS_MISSING_NODE). Production closes such a block with one more mini-block that runs them
   * (`closeBlock`); recovery does the same, so the block is exactly one the loop could have made.
   */
  private async closeRecovered(
    env: BlockEnv,
    miniBlocks: MiniBlock[],
    access: BlockAccess,
    epoch: BlockEpoch | undefined,
  ): Promise<void> {
    const receipts = miniBlocks.flatMap((mb) => mb.receipts)
    // The closing mini-block's reads add to the re-execution's.
    restoreAccess(this.access, access)
    this.executor.setBlockEnv(env)
    this.pool.setBaseFee(env.baseFeePerGas)
    this.open = {
      env,
      cursor: {
        gasUsed: receipts.at(-1)?.cumulativeGasUsed ?? 0n,
        txIndex: receipts.length,
        logIndex: receipts.reduce((n, r) => n + r.logs.length, 0),
        miniBlockNumber: this.lastMiniBlock.number + 1n,
      },
      firstMiniBlock: miniBlocks[0]!.number,
      miniBlocks: [...miniBlocks],
      closesAt: performance.now(),
      systemCallsApplied: false,
      epoch,
      deposits: undefined,
    }
    await this.closeBlock()
    await this.sealer.drain()
    if (this.sealer.failed !== undefined) throw this.sealer.failed
    if (this.walFailure !== undefined) throw this.walFailure
    this.sealedNumber = this.opened.chain.head.header.number
  }

  /**
   * The witness of a block needs the keys its execution read, which died with the crashed process:
   * execute the recovered block's transactions once more on its pre-state to record them. The WAL's
   * diffs stay authoritative; this run's writes are discarded.
   */
  private async reexecuteForAccess(env: BlockEnv, txs: L2Transaction[]): Promise<BlockAccess> {
    this.access.take()
    try {
      await executeBlockBody(this.executor, env, txs)
    } catch (error) {
      // The recorded reads still cover every transaction up to the failure; report, do not block recovery.
      this.logger.error(
        { err: error, block: env.number.toString() },
        'recovered block did not re-execute cleanly; its witness may be incomplete',
      )
      this.executor.takeDiff()
    }
    return this.access.take()
  }

  private schedule(delayMs: number): void {
    if (!this.running) return
    this.timerDueAt = performance.now() + delayMs
    this.timer = setTimeout(() => {
      this.timerDueAt = undefined
      this.tickInFlight = this.tick().finally(() => {
        this.tickInFlight = undefined
      })
    }, delayMs)
  }

  private async tick(): Promise<void> {
    const started = performance.now()
    this.lastTickAt = started
    this.workArrived = false
    try {
      if (this.sealer.failed !== undefined || this.walFailure !== undefined) {
        this.running = false
        return
      }
      if (this.open !== undefined && started >= this.open.closesAt) await this.closeBlock()
      const block = this.open ?? this.openBlock(started)
      if (block === undefined) this.acceptingTxs = false
      else await this.produceMiniBlock(block, started)
    } catch (error) {
      this.logger.error({ err: error }, 'mini-block production failed')
    }
    const elapsed = performance.now() - started
    // Eager: transactions that arrived after this mini-block picked start the next one
    // `eagerMiniBlockMs` after this one started; the tick stays the upper bound.
    const waiting = this.eager && this.acceptingTxs && !this.cutShort && this.workArrived
    const interval = waiting ? this.options.eagerMiniBlockMs : this.options.miniBlockMs
    this.schedule(Math.max(0, interval - elapsed))
  }

  private nextBlockBaseFee(): bigint {
    return nextBaseFee(
      this.parent,
      this.config.elasticityMultiplier,
      this.config.baseFeeMaxChangeDenominator,
      this.config.minBaseFee,
    )
  }

  /**
   * Opens the next EVM block. Without L1, its timestamp is the wall clock's second (at least the
   * parent's + 1) and it closes `blockMs` later. With L1 it is exactly the parent's + `blockTime` —
   * span batches and derivation assume no gaps — and it closes when the wall clock reaches the end of
   * its second: a sequencer that was down catches up with blocks that close after one mini-block.
   * Undefined when the block's L1 origin is not available yet (no block opens; see `blockedReason`).
   */
  private openBlock(now: number): OpenBlock | undefined {
    let timestamp: bigint
    let closesAt: number
    let epoch: BlockEpoch | undefined
    if (this.l1 === undefined) {
      const wallSeconds = BigInt(Math.floor(Date.now() / 1000))
      timestamp = wallSeconds > this.parent.timestamp ? wallSeconds : this.parent.timestamp + 1n
      closesAt = now + this.options.blockMs
    } else {
      const { blockTime } = this.l1.rollup
      timestamp = this.parent.timestamp + blockTime
      const choice = selectEpoch(this.l1, parentEpochOf(this.l1.rollup, this.parent.epoch), timestamp)
      if (!choice.ok) {
        if (this.blockedReason !== choice.reason)
          this.logger.warn({ reason: choice.reason }, 'waiting for L1 before the next block')
        this.blockedReason = choice.reason
        return undefined
      }
      this.blockedReason = undefined
      epoch = choice.epoch
      closesAt = now + Math.max(0, Number(timestamp + blockTime) * 1000 - Date.now())
    }
    const env: BlockEnv = {
      number: this.parent.number + 1n,
      timestamp,
      coinbase: this.config.feeRecipient,
      baseFeePerGas: this.nextBlockBaseFee(),
      gasLimit: this.config.blockGasLimit,
      prevRandao: epoch === undefined ? prevRandaoAfter(this.lastMiniBlock.hash) : hexToBytes(epoch.origin.mixHash),
      excessBlobGas: 0n,
      parentBeaconBlockRoot: new Uint8Array(32),
    }
    this.executor.setBlockEnv(env)
    this.pool.setBaseFee(env.baseFeePerGas)
    this.open = {
      env,
      cursor: { gasUsed: 0n, txIndex: 0, logIndex: 0, miniBlockNumber: this.lastMiniBlock.number + 1n },
      firstMiniBlock: this.lastMiniBlock.number + 1n,
      miniBlocks: [],
      closesAt,
      systemCallsApplied: false,
      epoch,
      deposits: undefined,
    }
    return this.open
  }

  private async closeBlock(): Promise<void> {
    const block = this.open
    if (block === undefined) return
    if (!block.systemCallsApplied) await this.produceMiniBlock(block, performance.now(), true)
    this.open = undefined
    this.parent = {
      number: block.env.number,
      timestamp: block.env.timestamp,
      gasUsed: block.cursor.gasUsed,
      gasLimit: block.env.gasLimit,
      baseFeePerGas: block.env.baseFeePerGas,
      epoch:
        block.epoch === undefined
          ? undefined
          : { number: block.epoch.origin.number, hash: block.epoch.origin.hash, sequenceNumber: block.epoch.sequenceNumber },
    }
    const closed: ClosedBlock = {
      number: block.env.number,
      timestamp: block.env.timestamp,
      baseFeePerGas: block.env.baseFeePerGas,
      prevRandao: block.env.prevRandao,
      firstMiniBlock: block.firstMiniBlock,
      miniBlocks: block.miniBlocks,
      // Rejects when a mini-block of the block never reached the WAL: a seal must not make it durable behind the halt.
      durable: this.published.then(() => {
        if (this.walFailure !== undefined) throw this.walFailure
      }),
      access: this.access.take(),
    }
    // Not awaited: sealing runs behind the loop. Failures are recorded by the sealer and stop the loop.
    this.sealer.seal(closed).then(
      (sealed) => {
        this.sealedNumber = sealed.header.number
        // Transactions that arrived while the next block waited for this seal need not wait for the tick.
        if (this.eager && !this.acceptingTxs && this.tickInFlight === undefined && this.pool.size().pending > 0) {
          this.acceptingTxs = true
          this.startEarly()
        }
      },
      () => undefined,
    )
  }

  /**
   * Whether this mini-block may carry transactions: the block's system calls come first, and from
   * Prague they write the parent block's hash, known only once the sealer (which runs behind the loop)
   * has merkleized the parent. Until then the block's first mini-blocks stay empty rather than stall
   * the 10 ms cadence; a block closing without them gets one more mini-block that waits for the seal
   * (`closing`), so every block has its system calls. See docs/DESIGN.md.
   */
  private async readyForTransactions(block: OpenBlock, closing: boolean): Promise<boolean> {
    if (block.systemCallsApplied) return true
    const parentUnsealed = this.sealedNumber < block.env.number - 1n
    if (parentUnsealed && !closing && forkActiveAt(this.config.forks, 'prague', block.env.timestamp)) return false
    await this.executor.applySystemCalls(block.env)
    if (block.epoch !== undefined) {
      // OP's order: the L1-attributes deposit, the origin's user deposits, then sequenced transactions.
      const deposits = blockDeposits(block.epoch.origin, block.epoch.sequenceNumber)
      const receipts = await this.executor.applyDeposits(deposits, block.cursor)
      block.deposits = { raws: deposits.map(encodeDepositTx), receipts }
    }
    block.systemCallsApplied = true
    return true
  }

  private async produceMiniBlock(block: OpenBlock, started: number, closing = false): Promise<void> {
    const miniBlockNumber = this.lastMiniBlock.number + 1n
    block.cursor.miniBlockNumber = miniBlockNumber
    const ready = await this.readyForTransactions(block, closing)
    const deposits = block.deposits
    block.deposits = undefined
    const remainingGas = this.config.blockGasLimit - block.cursor.gasUsed
    this.acceptingTxs = ready && block.epoch?.transactionsAllowed !== false
    const maxCount = this.pickLimit
    const picked = !this.acceptingTxs
      ? []
      : this.pool.pick({
          maxCount,
          maxGas: remainingGas < this.config.miniBlockGasLimit ? remainingGas : this.config.miniBlockGasLimit,
          baseFee: block.env.baseFeePerGas,
        })
    const included: DecodedTx[] = []
    const receipts: TxReceipt[] = []
    const miniStartGas = block.cursor.gasUsed
    // A failed transaction sends its sender's later ones back to the queue (they would fail on
    // nonce now): the executor skips them for this mini-block instead of failing them too.
    // Under a backlog, stop executing at the time budget so the mini-block still lands on cadence;
    // what is left stays in the pool for the next tick (same throughput, bounded latency).
    const deadline = started + this.options.miniBlockMs * EXECUTION_BUDGET_SHARE
    // `picked` items are BatchTx-shaped; their `tx` getter builds the ethereumjs object only when used.
    const outcomes = await this.executor.executeBatch(picked, block.cursor, { deadline })
    this.adaptPickLimit(picked.length, outcomes.length)
    this.cutShort = outcomes.length < picked.length
    for (let i = 0; i < outcomes.length; i++) {
      const outcome = outcomes[i]
      if (outcome === undefined) continue
      const tx = picked[i]!
      if (outcome.ok) {
        included.push(tx)
        receipts.push(outcome.receipt)
      } else {
        this.pool.markFailed(tx.hash, outcome.error.message)
        this.metrics?.observeRejected(REJECTED_LABELS[outcome.error.code])
      }
    }
    // Empty mini-blocks are produced too: realtime consumers get a steady 10 ms heartbeat (MegaETH's
    // mini-block numbers advance while idle), and one costs a signature and a ~0.5 ms fsync.
    const stateDiff = this.executor.takeDiff()

    const mini = sealMiniBlock(
      {
        number: miniBlockNumber,
        blockNumber: block.env.number,
        index: block.miniBlocks.length,
        timestampUs: BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)),
        blockTimestamp: block.env.timestamp,
        baseFeePerGas: block.env.baseFeePerGas,
        parentHash: this.lastMiniBlock.hash,
        transactions: deposits === undefined ? included.map((tx) => tx.raw) : [...deposits.raws, ...included.map((tx) => tx.raw)],
        receipts: deposits === undefined ? receipts : [...deposits.receipts, ...receipts],
        gasUsed: block.cursor.gasUsed - miniStartGas,
        stateDiff,
      },
      this.config.chainId,
      this.sequencerKey,
    )
    // Failpoint `sequencer.miniblock.executed`: executed and signed, not yet in the WAL nor published.
    failpoint('sequencer.miniblock.executed')
    const { chain, wal } = this.opened
    chain.state.apply(block.env.number, stateDiff)
    block.miniBlocks.push(mini)
    this.lastMiniBlock = { number: mini.number, hash: mini.hash }
    this.pool.markIncluded(included)
    this.publishWhenDurable(
      mini,
      deposits === undefined ? included : [...this.depositSources(deposits.raws), ...included],
      wal.append(mini),
    )
    if (this.writesInFlight > MAX_WAL_WRITES_IN_FLIGHT) await this.published
    const now = performance.now()
    this.metrics?.observeMiniBlock(
      this.lastProducedAt === undefined ? undefined : (now - this.lastProducedAt) / 1000,
      (now - started) / 1000,
      included.length,
      mini.gasUsed,
    )
    this.lastProducedAt = now
    const size = this.pool.size()
    this.metrics?.setPool(size.pending, size.queued)
  }

  /** The deposits of a mini-block as the chain view's transaction sources (decoded on first RPC use). */
  private depositSources(raws: readonly Uint8Array[]): TxSource[] {
    const decode = this.decode
    if (decode === undefined) throw new Error('BlockProducer: deposits produced before start')
    return raws.map((raw) => lazyTxSource(raw, decode))
  }

  /** The epoch a block with these transactions leaves for its child (undefined without L1). */
  private epochOf(transactions: readonly Uint8Array[]): ParentEpoch | undefined {
    if (this.l1 === undefined) return undefined
    const info = blockL1Info(transactions)
    return parentEpochOf(
      this.l1.rollup,
      info === undefined ? undefined : { number: info.number, hash: info.hash, sequenceNumber: info.sequenceNumber },
    )
  }

  /** See `pickLimit`. `executed` < `picked`: the time budget stopped the executor. */
  private adaptPickLimit(picked: number, executed: number): void {
    const limit =
      executed < picked
        ? Math.max(MIN_PICK_LIMIT, Math.ceil(executed * 1.5))
        : Math.min(this.options.maxTxsPerMiniBlock, this.pickLimit * 2)
    if (limit === this.pickLimit) return
    this.pickLimit = limit
    this.metrics?.setPickLimit(limit)
  }
}

/** Fewest transactions a mini-block takes from the pool, however expensive the last ones were. */
const MIN_PICK_LIMIT = 8

/**
 * Mini-blocks whose WAL write may be outstanding at once. The fsync of one overlaps the execution of
 * the next (LevelDB group-commits queued writers), but a disk that cannot keep up must slow the loop
 * rather than grow this queue.
 */
const MAX_WAL_WRITES_IN_FLIGHT = 4

/** PREVRANDAO of a block: derived from the mini-block before it, so it is fixed (and replayable) at block open. */
function prevRandaoAfter(miniBlockHash: Uint8Array): Uint8Array {
  return keccak256(miniBlockHash)
}

function summarize(header: {
  number: bigint
  timestamp: bigint
  gasUsed: bigint
  gasLimit: bigint
  baseFeePerGas?: bigint
}): Omit<ParentSummary, 'epoch'> {
  return {
    number: header.number,
    timestamp: header.timestamp,
    gasUsed: header.gasUsed,
    gasLimit: header.gasLimit,
    baseFeePerGas: header.baseFeePerGas ?? 0n,
  }
}

/** The `reason` label of the rejected-transactions metric for each execution failure (the label values predate the codes). */
const REJECTED_LABELS: Record<TxExecutionErrorCode, string> = {
  TX_NONCE_MISMATCH: 'nonce',
  TX_INSUFFICIENT_FUNDS: 'funds',
  TX_BLOCK_GAS_LIMIT: 'gas_limit',
  TX_GAS_LIMIT_CAP: 'gas_limit',
  TX_INTRINSIC_GAS: 'gas_limit',
  TX_FEE_CAP_BELOW_BASE_FEE: 'base_fee',
  TX_SENDER_NOT_EOA: 'other',
  TX_INVALID: 'other',
}

/**
 * Whether `diff` contains every write of `writes` with the same value: how recovery tells that a
 * block's mini-blocks carried its system calls (their slots are keyed by the block's timestamp and
 * number, so no transaction writes the same values by chance).
 */
function diffCarries(diff: StateDiff, writes: StateDiff): boolean {
  for (const [address, change] of writes.accounts) {
    const carried = diff.accounts.get(address)
    if (carried === undefined) return false
    for (const [slot, value] of change.storage) {
      const got = carried.storage.get(slot)
      if (got === undefined || !equalsBytes(got, value)) return false
    }
  }
  return true
}
