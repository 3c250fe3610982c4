/**
 * The parallel executor's coordinator (main thread).
 *
 * A round of a batch is split in two: the main thread executes a prefix itself, directly on the
 * committed state (the first transactions of a round always see exactly the committed state, so
 * they need no validation), while the workers speculatively execute the rest — each sender's
 * transactions on one worker, in preset order, against its replica plus its share's earlier
 * writes, sent in parts so results stream back. Then, in preset order, each worker transaction is
 * validated by value — every account, slot and storage-emptiness it read from below its own writes
 * must still equal the committed value — and either its write set is replayed onto the committed
 * overlay, or it is re-executed on the main thread's sequential executor (exact by construction).
 * Receipts are placed at commit, so cumulative gas, transaction and log indices follow commit order.
 *
 * The fee recipient is credited lazily (as pevm does): see `ChunkRecords.applyWrites` and
 * `SpeculativeExecutor`. Design notes and measurements: docs/DESIGN.md, "Parallel execution".
 */
import { availableParallelism } from 'node:os'
import type { Block } from '@ethereumjs/block'
import type { DepositTransaction } from '../../chain/deposit-tx.ts'
import type { TxReceipt } from '../../chain/receipt.ts'
import type { Hex, StateDiff } from '../../primitives/state-diff.ts'
import { KECCAK256_NULL, bytesToHex } from '@ethereumjs/util'
import type { BlockEnv } from '../block-env.ts'
import {
  headerReceiptSource,
  placeReceipt,
  receiptSource,
  type BlockCursor,
  type SequentialExecutor,
  type TxOutcome,
  type Withdrawal,
} from '../executor.ts'
import type { FlatState } from '../../state/flat-state.ts'
import type { JournaledState, WriteListener } from '../../state/journaled-state.ts'
import {
  applyDepositsOn,
  newBatchProgress,
  pastDeadline,
  recordOutcome,
  runSequentialRange,
  type BatchOptions,
  type BatchOutcomes,
  type BatchProgress,
  type BatchTx,
  type MiniBlockExecutor,
} from './mini-block-executor.ts'
import { ContentionForecast } from './contention-forecast.ts'
import type { ExecWorkerPool } from './pool.ts'
import { ChunkRecords, REASON_NAMES } from './records.ts'
import type { ChunkResult, PackedTxs } from './speculative.ts'
import { WireWriter, equalBytes, writeStateDiff } from './wire.ts'

export interface ParallelExecutorOptions {
  /** Workers of the pool to execute chunks on (all get syncs). Default: the pool's size. */
  workers: number
  /**
   * CPU cores the process may use. With a worker on every core the main thread executes no prefix
   * of its own and only commits. Default: `availableParallelism()`.
   */
  cores: number
  /**
   * Batches (or the rest of one) with fewer transactions that need the interpreter run
   * sequentially. Default: 2 × (workers + 1).
   */
  minParallelTxs: number
  /** Most transactions per round (a batch is split into rounds; replicas are synced between them). Default: unbounded. */
  maxRoundTxs: number
  /** A round whose worker transactions were re-executed above this share triggers a sequential back-off. */
  maxReexecutionRate: number
  /** Longest sequential back-off, in batches (it doubles while probes keep conflicting). */
  maxBackoffBatches: number
  /** Flush the dirty-key log to the workers at `takeDiff` once it holds this many keys (bounds memory while sequential). */
  eagerSyncKeys: number
}

export const DEFAULT_PARALLEL_OPTIONS: Readonly<Omit<ParallelExecutorOptions, 'minParallelTxs' | 'workers' | 'cores'>> =
  Object.freeze({
    maxRoundTxs: Number.POSITIVE_INFINITY,
    maxReexecutionRate: 0.5,
    maxBackoffBatches: 64,
    eagerSyncKeys: 20_000,
  })

/** What one round or sequential stretch did; the sequencer turns it into metrics. */
export interface RoundReport {
  mode: 'parallel' | 'sequential'
  /**
   * Why a stretch ran sequentially: `small`, `transfers`, `contended`, `backoff`, `unavailable`,
   * `single_core` (workers and main thread would share one core); `speculative` for parallel rounds.
   */
  reason: string
  txs: number
  /** Parallel rounds: transactions executed by the main thread as its chunk. */
  mainTxs: number
  /**
   * Parallel rounds: transactions kept off the workers and executed by the main thread at their
   * turn, because its chunk has an earlier transaction of their sender or an earlier call to the
   * contended contract they call.
   */
  deferredTxs: number
  /** Parallel rounds: worker transactions reached by the commit loop (deferred ones not included). */
  workerTxs: number
  /** Of those, re-executed on the main thread, by reason (`conflict` = a read no longer valid). */
  reexecuted: Record<string, number>
  /**
   * Bytes and main-thread µs spent syncing replicas since the previous report: before this round,
   * and at the end of earlier batches (see `takeDiff`).
   */
  syncBytes: number
  syncUs: number
  /** Worker threads' CPU µs: executing their shares, and applying replica syncs (0 where the OS does not say). */
  workerCpuUs: number
  workerSyncCpuUs: number
  wallUs: number
}

export interface ParallelExecutionObserver {
  onRound(report: RoundReport): void
  onWorkerFailure?(error: Error): void
}

export interface ParallelStats {
  rounds: number
  sequentialStretches: number
  mainTxs: number
  deferredTxs: number
  workerTxs: number
  reexecuted: number
  syncBytes: number
  syncUs: number
}

const EWMA = 0.3
/** A round is abandoned (workers skip the rest, the main thread executes it) once at least this many
 * worker transactions were checked and more than `ABANDON_RATE` of them had to be re-executed. */
const ABANDON_AFTER = 8
const ABANDON_RATE = 0.75

/** Dirty-key log of the committed overlay: what the replicas have not seen yet. */
class DirtyLog implements WriteListener {
  accounts = new Set<Hex>()
  slots = new Map<Hex, Set<Hex>>()
  wiped = new Set<Hex>()
  codes = new Map<Hex, Uint8Array>()
  keys = 0

  onAccountWrite(address: Hex): void {
    if (!this.accounts.has(address)) {
      this.accounts.add(address)
      this.keys++
    }
  }

  onSlotWrite(address: Hex, slot: Hex): void {
    let slots = this.slots.get(address)
    if (slots === undefined) {
      slots = new Set()
      this.slots.set(address, slots)
    }
    if (!slots.has(slot)) {
      slots.add(slot)
      this.keys++
    }
  }

  onStorageWipe(address: Hex): void {
    this.wiped.add(address)
    this.keys++
  }

  onCodeWrite(codeHash: Hex, code: Uint8Array): void {
    this.codes.set(codeHash, code)
    this.keys++
  }

  clear(): void {
    this.accounts = new Set()
    this.slots = new Map()
    this.wiped = new Set()
    this.codes = new Map()
    this.keys = 0
  }
}

export class ParallelExecutor implements MiniBlockExecutor {
  readonly mode = 'parallel' as const
  private readonly options: ParallelExecutorOptions
  private readonly dirty = new DirtyLog()
  private replicasLoaded = false
  /** A parallel round ran since the last replica sync: the next round will likely want one too. */
  private syncDue = false
  /** Replica syncs not yet in a round report. */
  private unreportedSync = { bytes: 0, us: 0 }
  private disabled: Error | undefined
  private backoffLeft = 0
  private backoffNext = 2
  // Per-transaction cost estimates (µs), refined by measurement: they size the main thread's chunk.
  private mainUs = 150
  private workerUs = 180
  private commitUs = 15
  /** Wall µs per transaction of recent parallel rounds: sizes rounds under a deadline. */
  private roundUsPerTx = 80
  private reexecutionEwma = 0
  private readonly contention = new ContentionForecast()
  private readonly totals: ParallelStats = {
    rounds: 0,
    sequentialStretches: 0,
    mainTxs: 0,
    deferredTxs: 0,
    workerTxs: 0,
    reexecuted: 0,
    syncBytes: 0,
    syncUs: 0,
  }

  /**
   * @param pool workers (may be shared by successive executors, e.g. one per block in block tests)
   * @param main the sequential executor over `base`: the committed state, and the exact fallback
   * @param base the flat state under `main`'s overlay (snapshotted to the workers on first use)
   */
  constructor(
    private readonly pool: ExecWorkerPool,
    readonly main: SequentialExecutor,
    private readonly base: FlatState,
    options: Partial<ParallelExecutorOptions> = {},
    private readonly observer?: ParallelExecutionObserver,
    private readonly ownsPool = false,
  ) {
    const workers = Math.min(options.workers ?? pool.size, pool.size)
    this.options = {
      workers,
      minParallelTxs: 2 * (workers + 1),
      cores: availableParallelism(),
      ...DEFAULT_PARALLEL_OPTIONS,
      ...options,
    }
    this.options.workers = workers
    if (main.state.writeListener !== undefined)
      throw new Error('ParallelExecutor: the executor state already has a write listener')
    main.state.writeListener = this.dirty
  }

  setBlockEnv(env: BlockEnv, block?: Block): void {
    this.main.setBlockEnv(env, block)
  }

  applySystemCalls(env: BlockEnv): Promise<void> {
    return this.main.applySystemCalls(env)
  }

  applyWithdrawals(withdrawals: readonly Withdrawal[]): Promise<void> {
    return this.main.applyWithdrawals(withdrawals)
  }

  /**
   * Deposits run on the main executor, like the system calls: their writes land in its committed
   * overlay, whose write listener (the dirty log) ships them to the workers' replicas at the next
   * sync, which every parallel round starts with.
   */
  applyDeposits(deposits: readonly DepositTransaction[], cursor: BlockCursor): Promise<TxReceipt[]> {
    return applyDepositsOn(this.main, deposits, cursor)
  }

  takeDiff(): StateDiff {
    // After a parallel round, the replicas get this batch's writes now rather than at the next
    // round's start: they apply them while the main thread seals, instead of while their next
    // shares wait. (And the replicas need wipes made in this overlay; past this point they are only
    // in `base`.)
    if ((this.syncDue || this.dirty.keys >= this.options.eagerSyncKeys) && this.replicasLoaded && this.disabled === undefined)
      this.sync()
    return this.main.takeDiff()
  }

  async close(): Promise<void> {
    this.main.state.writeListener = undefined
    if (this.ownsPool) await this.pool.close()
  }

  /**
   * Ships the state snapshot (and pending writes) to the workers now, instead of on the first
   * parallel round, and waits until every replica has loaded it.
   */
  async prepare(): Promise<void> {
    if (this.disabled !== undefined || this.pool.failure !== undefined) return
    const loaded = this.replicasLoaded
    this.sync()
    if (!loaded) await this.pool.barrier()
  }

  stats(): Readonly<ParallelStats> {
    return { ...this.totals }
  }

  /** Smoothed share of worker transactions re-executed on the main thread. */
  get reexecutionRate(): number {
    return this.reexecutionEwma
  }

  async executeBatch(txs: readonly BatchTx[], cursor: BlockCursor, options?: BatchOptions): Promise<BatchOutcomes> {
    const progress = newBatchProgress(options)
    let next = 0
    let backoffCounted = false
    while (next < txs.length) {
      if (pastDeadline(progress)) break
      const remaining = txs.length - next
      let sequentialReason: string | undefined
      if (this.disabled !== undefined || this.pool.failure !== undefined) sequentialReason = 'unavailable'
      else if (this.options.cores < 2) sequentialReason = 'single_core'
      else if (this.backoffLeft > 0) sequentialReason = 'backoff'
      else if (remaining < this.options.minParallelTxs) sequentialReason = 'small'
      else if (this.main.nativeTransfers && !hasInterpretedTxs(txs, next, this.options.minParallelTxs))
        sequentialReason = 'transfers'
      let size = Math.min(remaining, this.options.maxRoundTxs)
      if (sequentialReason === undefined && progress.deadline !== Number.POSITIVE_INFINITY) {
        const budgetUs = (progress.deadline - performance.now()) * 1000
        size = Math.min(size, Math.max(this.options.minParallelTxs, Math.floor(budgetUs / this.roundUsPerTx)))
      }
      if (sequentialReason !== undefined) {
        if (sequentialReason === 'backoff' && !backoffCounted) {
          this.backoffLeft--
          backoffCounted = true
        }
        await this.runSequentialStretch(txs, next, txs.length, cursor, progress, sequentialReason)
        break
      }
      const stoppedAt = await this.runRound(txs, next, next + size, cursor, progress)
      if (stoppedAt < next + size) break
      next = stoppedAt
    }
    return progress.outcomes
  }

  /** Materializes the dirty-key log from the committed state and ships it to every replica. */
  private sync(): void {
    const started = performance.now()
    let bytes = 0
    this.syncDue = false
    if (!this.replicasLoaded) {
      const w = new WireWriter(1 << 16)
      writeStateDiff(w, snapshotDiff(this.base))
      const data = w.finish()
      bytes += data.length
      this.pool.snapshot(data).catch(() => undefined)
      this.replicasLoaded = true
    }
    if (this.dirty.keys > 0) {
      const w = new WireWriter(1 << 14)
      writeStateDiff(w, this.materializeDirty())
      const data = w.finish()
      bytes += data.length
      for (const done of this.pool.sync(data)) void done.catch(() => undefined)
    }
    const us = (performance.now() - started) * 1000
    this.totals.syncBytes += bytes
    this.totals.syncUs += us
    this.unreportedSync.bytes += bytes
    this.unreportedSync.us += us
  }

  /** Syncs since the previous round report, for the next one. */
  private takeSyncReport(): { syncBytes: number; syncUs: number } {
    const { bytes, us } = this.unreportedSync
    this.unreportedSync = { bytes: 0, us: 0 }
    return { syncBytes: bytes, syncUs: us }
  }

  private materializeDirty(): StateDiff {
    const state = this.main.state
    const { accounts, slots, wiped, codes } = this.dirty
    const diff: StateDiff = { accounts: new Map(), codes }
    const addresses = new Set<Hex>([...accounts, ...slots.keys(), ...wiped])
    for (const address of addresses) {
      const account = state.readAccount(address) ?? null
      if (wiped.has(address)) {
        // Wiped since the last sync: send the whole current storage after a wipe.
        const overlay = state.peekStorage(address)
        const storage = new Map<Hex, Uint8Array>()
        if (overlay?.cleared !== true) for (const [slot, value] of this.base.storage.get(address) ?? []) storage.set(slot, value)
        if (overlay !== undefined) for (const [slot, value] of overlay.slots) storage.set(slot, value)
        diff.accounts.set(address, { account, storageCleared: true, storage })
        continue
      }
      const storage = new Map<Hex, Uint8Array>()
      for (const slot of slots.get(address) ?? []) storage.set(slot, state.readSlot(address, slot))
      diff.accounts.set(address, { account, storageCleared: false, storage })
    }
    this.dirty.clear()
    return diff
  }

  /** How many of `n` transactions the main thread takes (a prefix), so it and the workers finish together. */
  private mainShare(n: number): number {
    // No core of its own: a prefix would take a worker's core, and three busy threads on two cores
    // got through a round slower than two workers with a main thread that only commits
    // (docs/DESIGN.md, "Parallel execution").
    if (this.options.workers >= this.options.cores) return 0
    const perWorker = this.workerUs / this.options.workers
    // Main: mainCount × mainUs + (n − mainCount) × commitUs; each worker: (n − mainCount) × perWorker.
    const c = Math.min(this.commitUs, perWorker * 0.9)
    const mainCount = Math.round((n * (perWorker - c)) / (this.mainUs - c + perWorker))
    return Math.max(1, Math.min(n - 1, mainCount))
  }

  /**
   * Assigns the worker part of a round, `txs[workFrom, to)`, to workers. Each sender's
   * transactions stay on one lane (a nonce run, or a sender spending what it just received, then
   * sees its own earlier writes), each new sender going to the least loaded worker. Calls to a
   * contract the forecast judges contended follow the round's first call to it. A transaction
   * whose lane is the main thread's chunk is kept off the workers altogether (`deferred`: the main
   * thread runs it at its turn, instead of a worker running it only to fail validation). Each
   * worker runs its share in preset order.
   */
  private assign(txs: readonly BatchTx[], from: number, workFrom: number, to: number): RoundPlan {
    const workers = Math.min(this.options.workers, to - workFrom)
    const shares: number[][] = Array.from({ length: workers }, () => [])
    const bySender = new Map<string, number>()
    const worker = new Int32Array(to - workFrom)
    const slot = new Int32Array(to - workFrom)
    const deferred = new Set<number>()
    const samples = new Map<number, Hex>()
    const targets = new ContractTargets(this.main.state)
    // Lane of the round's first call to each contract: MAIN_LANE for the main thread's chunk.
    const firstLane = new Map<Hex, number>()
    // Contracts called from more than one lane so far this round.
    const crossLane = new Set<Hex>()
    for (let i = from; i < workFrom; i++) {
      const item = txs[i]!
      bySender.set(item.sender, MAIN_LANE)
      const target = targets.of(item)
      if (target !== undefined && !firstLane.has(target.address)) firstLane.set(target.address, MAIN_LANE)
    }
    for (let i = workFrom; i < to; i++) {
      const item = txs[i]!
      const target = targets.of(item)
      const lane = target === undefined ? undefined : firstLane.get(target.address)
      let k = bySender.get(item.sender)
      if (lane !== undefined && this.contention.isContended(target!.codeHash)) k = lane
      // A sender with a transaction in the main thread's chunk would find a stale nonce on a
      // worker: its later transactions stay with the main thread as well.
      if (k === MAIN_LANE) {
        deferred.add(i)
        worker[i - workFrom] = MAIN_LANE
        continue
      }
      if (k === undefined) {
        k = 0
        for (let j = 1; j < workers; j++) if (shares[j]!.length < shares[k]!.length) k = j
      }
      if (!bySender.has(item.sender)) bySender.set(item.sender, k)
      if (target !== undefined) {
        if (lane === undefined) firstLane.set(target.address, k)
        else if (lane !== k || crossLane.has(target.address)) {
          samples.set(i, target.codeHash)
          crossLane.add(target.address)
        }
      }
      worker[i - workFrom] = k
      slot[i - workFrom] = shares[k]!.length
      shares[k]!.push(i)
    }
    return { worker, slot, shares, deferred, samples }
  }

  private async runSequentialStretch(
    txs: readonly BatchTx[],
    from: number,
    to: number,
    cursor: BlockCursor,
    progress: BatchProgress,
    reason: string,
  ): Promise<number> {
    const started = performance.now()
    const stoppedAt = await runSequentialRange(this.main, txs, from, to, cursor, progress)
    this.totals.sequentialStretches++
    this.observer?.onRound({
      mode: 'sequential',
      reason,
      txs: stoppedAt - from,
      mainTxs: stoppedAt - from,
      deferredTxs: 0,
      workerTxs: 0,
      reexecuted: {},
      ...this.takeSyncReport(),
      workerCpuUs: 0,
      workerSyncCpuUs: 0,
      wallUs: (performance.now() - started) * 1000,
    })
    return stoppedAt
  }

  private async runRound(
    txs: readonly BatchTx[],
    from: number,
    to: number,
    cursor: BlockCursor,
    progress: BatchProgress,
  ): Promise<number> {
    const started = performance.now()
    const env = this.main.env
    if (env === undefined) throw new Error('ParallelExecutor.executeBatch before setBlockEnv')
    const mainCount = this.mainShare(to - from)
    const workFrom = from + mainCount
    this.contention.nextRound()
    const { worker, slot, shares, deferred, samples } = this.assign(txs, from, workFrom, to)
    // Calls to one contended contract (a shared counter) leave the workers next to nothing, or all
    // of it to one lane: not worth a round.
    const lanes = (mainCount > 0 ? 1 : 0) + shares.filter((share) => share.length > 0).length
    if (to - workFrom - deferred.size < this.options.minParallelTxs || lanes < 2)
      return this.runSequentialStretch(txs, from, to, cursor, progress, 'contended')
    this.sync()

    // Dispatch the workers' shares first, so they run while the main thread executes its prefix.
    // Each share goes out in parts, so the main thread can validate a share's first transactions
    // while the worker still runs its last ones (the commit phase overlaps execution). Parts go out
    // round-robin (every worker's first part before any second one): no worker waits while another's
    // whole share is packed.
    const mainOnly = new Set<number>()
    const round = this.pool.nextRound()
    const sizes = shares.map((share) => partSize(share.length))
    const parts: Array<Array<Promise<ChunkResult>>> = shares.map(() => [])
    for (let p = 0, more = true; more; p++) {
      more = false
      for (let k = 0; k < shares.length; k++) {
        const at = p * sizes[k]!
        if (at >= shares[k]!.length) continue
        more = true
        const chunk = packShare(txs, shares[k]!.slice(at, at + sizes[k]!))
        for (const i of chunk.mainOnly) mainOnly.add(i)
        const result = this.pool.exec(k, env, chunk.packed, p > 0, round)
        result.catch(() => undefined) // observed below; a part abandoned at the deadline must not be unhandled
        parts[k]!.push(result)
      }
    }
    this.syncDue = true

    const mainStarted = performance.now()
    const mainStopped = await runSequentialRange(this.main, txs, from, workFrom, cursor, progress)
    const mainTxs = mainStopped - from
    if (mainTxs > 0) this.mainUs = ewma(this.mainUs, ((performance.now() - mainStarted) * 1000) / mainTxs)

    const reexecuted: Record<string, number> = {}
    let workerTxs = 0
    let deferredTxs = 0
    let committedFromWorkers = 0
    let commitTime = 0
    let workerCpuUs = 0
    let workerSyncCpuUs = 0
    let stoppedAt = mainStopped
    if (mainStopped === workFrom) {
      const coinbase = env.coinbase.toLowerCase() as Hex
      const records: Array<Array<ChunkRecords | null | undefined>> = shares.map(() => [])
      let abandoned = false
      let checked = 0
      let wasted = 0
      stoppedAt = to
      for (let i = workFrom; i < to; i++) {
        if (pastDeadline(progress)) {
          stoppedAt = i
          break
        }
        const item = txs[i]!
        if (progress.failedSenders.has(item.sender)) {
          progress.outcomes.push(undefined)
          continue
        }
        if (deferred.has(i)) {
          deferredTxs++
          recordOutcome(progress, item, await this.main.applyBatchTx(item, cursor))
          continue
        }
        workerTxs++
        if (abandoned) {
          // Conflict-heavy round: no point waiting for the rest of the speculation.
          count(reexecuted, 'abandoned')
          recordOutcome(progress, item, await this.main.applyBatchTx(item, cursor))
          continue
        }
        const k = worker[i - workFrom]!
        const size = sizes[k]!
        const at = slot[i - workFrom]!
        const p = Math.floor(at / size)
        let part = records[k]![p]
        if (part === undefined) {
          try {
            const result = await parts[k]![p]!
            part = new ChunkRecords(result.records, Math.min(size, shares[k]!.length - p * size))
            this.workerUs = ewma(this.workerUs, result.execUs / Math.min(size, shares[k]!.length - p * size))
            workerCpuUs += result.cpuUs
            workerSyncCpuUs += result.syncCpuUs
          } catch (error) {
            this.disable(error instanceof Error ? error : new Error(String(error)))
            part = null
          }
          records[k]![p] = part
        }
        const share = part
        const j = at - p * size
        const commitStarted = performance.now()
        let outcome: TxOutcome | undefined
        // The block gas check comes first, exactly as `applyTx` orders it.
        if (mainOnly.has(i)) count(reexecuted, 'sender')
        else if (share === null) count(reexecuted, 'worker_failed')
        else if (cursor.gasUsed + (item.header?.gasLimit ?? item.tx.gasLimit) <= env.gasLimit) {
          const kind = share.kind(j)
          if (kind !== 0) count(reexecuted, REASON_NAMES[kind] ?? 'internal')
          else {
            const valid = share.readsStillValid(j, this.main.state)
            const codeHash = samples.get(i)
            if (codeHash !== undefined) this.contention.observe(codeHash, !valid)
            if (!valid) count(reexecuted, 'conflict')
            else {
              const source =
                item.header === undefined
                  ? receiptSource(item.tx, env.baseFeePerGas)
                  : headerReceiptSource(item.header, env.baseFeePerGas)
              outcome = { ok: true, receipt: placeReceipt(source, env, cursor, share.applyWrites(j, this.main.state, coinbase)) }
              committedFromWorkers++
            }
          }
        } else count(reexecuted, 'block_gas_limit')
        commitTime += performance.now() - commitStarted
        checked++
        if (outcome === undefined) wasted++
        if (checked >= ABANDON_AFTER && wasted > checked * ABANDON_RATE && i + 1 < to) {
          abandoned = true
          this.pool.abandon(round)
        }
        // Re-executed on the committed state: exact by construction.
        outcome ??= await this.main.applyBatchTx(item, cursor)
        recordOutcome(progress, item, outcome)
      }
    }
    // Stopped early (the time budget): whatever the workers still have of this round is moot.
    if (stoppedAt < to) this.pool.abandon(round)
    if (committedFromWorkers > 0) this.commitUs = ewma(this.commitUs, (commitTime * 1000) / committedFromWorkers)
    const reexecutedTotal = Object.values(reexecuted).reduce((a, b) => a + b, 0)
    const wallUs = (performance.now() - started) * 1000
    const roundTxs = stoppedAt - from
    // Rounds cut short by the deadline count too (time per transaction actually done): learning only
    // from complete rounds left an optimistic estimate in place whenever rounds were too large to
    // complete, so they stayed too large and every worker share was thrown away.
    if (roundTxs > 0) this.roundUsPerTx = ewma(this.roundUsPerTx, wallUs / roundTxs)
    this.afterRound(workerTxs, reexecutedTotal)
    this.totals.rounds++
    this.totals.mainTxs += mainTxs
    this.totals.deferredTxs += deferredTxs
    this.totals.workerTxs += workerTxs
    this.totals.reexecuted += reexecutedTotal
    this.observer?.onRound({
      mode: 'parallel',
      reason: 'speculative',
      txs: roundTxs,
      mainTxs,
      deferredTxs,
      workerTxs,
      reexecuted,
      ...this.takeSyncReport(),
      workerCpuUs,
      workerSyncCpuUs,
      wallUs,
    })
    return stoppedAt
  }

  /** Conflict back-off: a round that mostly re-executed makes the next batches sequential. */
  private afterRound(workerTxs: number, reexecuted: number): void {
    if (workerTxs === 0) return
    const rate = reexecuted / workerTxs
    this.reexecutionEwma = ewma(this.reexecutionEwma, rate)
    if (rate > this.options.maxReexecutionRate) {
      this.backoffLeft = this.backoffNext
      this.backoffNext = Math.min(this.backoffNext * 2, this.options.maxBackoffBatches)
    } else {
      this.backoffNext = 2
    }
  }

  private disable(error: Error): void {
    if (this.disabled !== undefined) return
    this.disabled = error
    this.observer?.onWorkerFailure?.(error)
  }
}

/** The lane of the main thread's chunk in a round plan. */
const MAIN_LANE = -1

interface RoundPlan {
  /** Per worker transaction of the round (index − workFrom): its worker, or MAIN_LANE if deferred. */
  worker: Int32Array
  /** Its position in that worker's share. */
  slot: Int32Array
  /** Per worker, the round's transactions it runs, in preset order (some may be empty). */
  shares: number[][]
  /** Transactions the main thread runs at their turn (its chunk has their sender, or their contended contract). */
  deferred: Set<number>
  /** Transactions whose validation teaches the forecast: they call, by code hash, a contract another lane called first. */
  samples: Map<number, Hex>
}

/** The contract a transaction calls, by address and code hash (committed state, memoized per round). */
class ContractTargets {
  private readonly codeHashes = new Map<Hex, Hex | null>()

  constructor(private readonly state: JournaledState) {}

  of(item: BatchTx): { address: Hex; codeHash: Hex } | undefined {
    if (item.transfer !== undefined) return undefined
    const address = item.header === undefined ? (item.tx.to?.toString() as Hex | undefined) : (item.header.to ?? undefined)
    if (address === undefined) return undefined
    let codeHash = this.codeHashes.get(address)
    if (codeHash === undefined) {
      const account = this.state.readAccount(address)
      codeHash =
        account === undefined || equalBytes(account.codeHash, KECCAK256_NULL) ? null : (bytesToHex(account.codeHash) as Hex)
      this.codeHashes.set(address, codeHash)
    }
    return codeHash === null ? undefined : { address, codeHash }
  }
}

function ewma(previous: number, sample: number): number {
  return previous + EWMA * (sample - previous)
}

function count(into: Record<string, number>, key: string): void {
  into[key] = (into[key] ?? 0) + 1
}

/** Transactions per part of a worker's share: small enough to overlap validation with execution. */
function partSize(shareLength: number): number {
  return Math.min(64, Math.max(8, Math.ceil(shareLength / 8)))
}

/**
 * Packs the transactions at `indices` into transferable buffers (see `PackedTxs`). A transaction
 * whose sender cannot be recovered gets a zero key and is listed in `mainOnly`: the main thread
 * executes it (and fails it exactly as sequential execution does).
 */
function packShare(txs: readonly BatchTx[], indices: readonly number[]): { packed: PackedTxs; mainOnly: number[] } {
  const raws: Uint8Array[] = new Array(indices.length)
  let total = 0
  for (let j = 0; j < indices.length; j++) {
    const item = txs[indices[j]!]!
    const raw = item.raw ?? item.tx.serialize()
    raws[j] = raw
    total += raw.length
  }
  const raw = new Uint8Array(total)
  const offsets = new Uint32Array(raws.length + 1)
  const pubKeys = new Uint8Array(raws.length * 64)
  const mainOnly: number[] = []
  let offset = 0
  for (let j = 0; j < raws.length; j++) {
    raw.set(raws[j]!, offset)
    offsets[j] = offset
    offset += raws[j]!.length
    try {
      const item = txs[indices[j]!]!
      pubKeys.set(item.header?.senderPubKey ?? item.tx.getSenderPublicKey(), j * 64)
    } catch {
      mainOnly.push(indices[j]!)
    }
  }
  offsets[raws.length] = offset
  return { packed: { raw, offsets, pubKeys }, mainOnly }
}

/** A flat state as a diff from nothing (what a worker replica starts from). */
function snapshotDiff(state: FlatState): StateDiff {
  const accounts: StateDiff['accounts'] = new Map()
  for (const { address, account, storage } of state.entries()) accounts.set(address, { account, storageCleared: false, storage })
  return { accounts, codes: state.codes }
}

/**
 * Whether `txs[from..]` holds at least `count` transactions that may need the interpreter. Plain
 * value transfers (no data, not a creation) take the main thread's native path in a few µs, less
 * than shipping them to a worker and committing its result; a batch of mostly transfers runs
 * sequentially. (Only where that path exists: under rules it does not implement, or with it
 * switched off, transfers run through the interpreter like any call.)
 */
function hasInterpretedTxs(txs: readonly BatchTx[], from: number, count: number): boolean {
  let found = 0
  for (let i = from; i < txs.length; i++) {
    const item = txs[i]!
    if (item.transfer !== undefined) continue
    if ((item.tx.to === undefined || item.tx.data.length > 0) && ++found >= count) return true
  }
  return false
}
