/**
 * Decodes and ecrecovers incoming raw txs off the main thread, in batches.
 *
 * A piscina round trip costs ~16 µs while an ecrecover costs ~50 µs, so one task per tx would
 * spend a quarter of the time on messaging. Callers submit txs one by one (`decodeOne`, one per
 * `eth_sendRawTransaction`); everything submitted within one event-loop turn is coalesced into
 * tasks of at most `maxBatch` txs, spread evenly over the workers.
 *
 * With `workers: 0` the same API decodes in the calling thread (tests, tiny deployments).
 */
import { Piscina } from 'piscina'
import { createChainCommon, type ChainConfig } from '../../chain/config.ts'
import { defaultIngestWorkers } from '../options.ts'
import {
  type DecodeLimits,
  type DecodedTx,
  type TxCodec,
  fromWireDecodedTx,
  getTxCodec,
  toDecodedTx,
  verifyRawTransaction,
} from './decode.ts'
import { NodeError, fromPlainError } from '../../primitives/errors.ts'
import { type TxRejection, isTxRejectedError, rejectTx } from './errors.ts'
import type { IngestTask, WireDecodeOutcome } from './worker.ts'

export type DecodeOutcome = { ok: true; tx: DecodedTx } | { ok: false; error: TxRejection }

export interface IngestPoolOptions {
  chain: Pick<ChainConfig, 'chainId' | 'name'>
  limits: DecodeLimits
  /**
   * Worker threads; 0 decodes in the calling thread. Default: one per core, at most four (`defaultIngestWorkers`).
   */
  workers?: number
  /** Most txs per worker task. Default 256: ~15 ms of work, small enough to keep latency low. */
  maxBatch?: number
}

export const DEFAULT_INGEST_MAX_BATCH = 256

/**
 * Tasks piscina hands a worker ahead of the one it runs. Piscina queues tasks on the main thread
 * and posts the next one only when it handles the previous one's result; with one at a time, a
 * worker idled whenever the main thread was busy (a mini-block, a GC pause) with its result
 * waiting. Queued in the worker's port they run back to back: +10–15 % transfers/s on 2 cores.
 */
const TASKS_QUEUED_PER_WORKER = 4

/**
 * Latency-sensitive decodes (`decodeUrgent`) done in the calling thread per `INLINE_WINDOW_MS`: each
 * costs the main thread ~60 µs (mostly the sender's ecrecover), so at most ~1 ms in 10 ms; past
 * that, urgent decodes queue for the workers like any other.
 */
const INLINE_DECODES_PER_WINDOW = 16
const INLINE_WINDOW_MS = 10

export class IngestPoolStoppedError extends NodeError<'INGEST_POOL_STOPPED', undefined> {
  override readonly name = 'IngestPoolStoppedError'
  constructor() {
    super('INGEST_POOL_STOPPED', 'ingest pool is not running')
  }
}

interface QueuedRaw {
  raw: Uint8Array
  settle: (outcome: DecodeOutcome) => void
  fail: (err: Error) => void
}

export class IngestPool {
  readonly workers: number
  private readonly maxBatch: number
  private readonly chain: Pick<ChainConfig, 'chainId' | 'name'>
  private readonly limits: DecodeLimits
  private readonly codec: TxCodec
  private piscina: Piscina | undefined
  private running = false
  private queue: QueuedRaw[] = []
  private flushScheduled = false
  private readonly inflight = new Set<Promise<void>>()
  private tasksRun = 0
  private txsDecoded = 0
  private inlineWindowStart = Number.NEGATIVE_INFINITY
  private inlineInWindow = 0

  constructor(opts: IngestPoolOptions) {
    this.workers = opts.workers ?? defaultIngestWorkers()
    this.maxBatch = opts.maxBatch ?? DEFAULT_INGEST_MAX_BATCH
    if (!Number.isInteger(this.workers) || this.workers < 0)
      throw new RangeError(`workers must be a non-negative integer, got ${this.workers}`)
    if (!Number.isInteger(this.maxBatch) || this.maxBatch < 1)
      throw new RangeError(`maxBatch must be a positive integer, got ${this.maxBatch}`)
    this.chain = { chainId: opts.chain.chainId, name: opts.chain.name }
    this.limits = { ...opts.limits }
    this.codec = getTxCodec(createChainCommon(this.chain))
  }

  /** Spawns the workers and waits until they answer a first (empty) task, so the first tx is not slow. */
  async start(): Promise<void> {
    if (this.running) return
    if (this.workers > 0) {
      const piscina = new Piscina({
        filename: new URL('./worker-entry.mjs', import.meta.url).href,
        minThreads: this.workers,
        maxThreads: this.workers,
        idleTimeout: Number.POSITIVE_INFINITY,
        concurrentTasksPerWorker: TASKS_QUEUED_PER_WORKER,
      })
      this.piscina = piscina
      const warmup: IngestTask = {
        chain: this.chain,
        limits: this.limits,
        packed: new Uint8Array(0),
        offsets: new Uint32Array([0]),
      }
      try {
        await Promise.all(Array.from({ length: this.workers * TASKS_QUEUED_PER_WORKER }, () => piscina.run(warmup)))
      } catch (err) {
        this.piscina = undefined
        await piscina.destroy()
        throw err
      }
    }
    this.running = true
  }

  /** Decodes what is already submitted, then terminates the workers. Later submissions fail. */
  async stop(): Promise<void> {
    if (!this.running) return
    this.running = false
    if (this.queue.length > 0) this.flush()
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight])
    const piscina = this.piscina
    this.piscina = undefined
    if (piscina !== undefined) await piscina.destroy()
  }

  /** Counters for metrics: worker tasks run and txs decoded (either path). */
  stats(): { tasks: number; txs: number; queued: number; inflightTasks: number } {
    return { tasks: this.tasksRun, txs: this.txsDecoded, queued: this.queue.length, inflightTasks: this.inflight.size }
  }

  /** Decodes one tx, coalesced with others submitted in the same event-loop turn. Rejects with `TxRejectedError`. */
  decodeOne(raw: Uint8Array): Promise<DecodedTx> {
    return new Promise((resolve, reject) => {
      this.enqueue({ raw, settle: (o) => (o.ok ? resolve(o.tx) : reject(o.error)), fail: reject })
    })
  }

  /**
   * Decodes one tx a client waits on for its receipt (eth_sendRawTransactionSync): in the calling
   * thread while the inline budget lasts (`INLINE_DECODES_PER_WINDOW`), else as `decodeOne`. A
   * worker round trip is two thread hand-offs, and under load the tx queues behind bulk batches
   * of plain sends (a 100-tx batch is ~6 ms of decoding) and behind the workers' lower priority.
   * Same verification, same result: only the thread differs. `inline` says which path ran.
   */
  decodeUrgent(raw: Uint8Array): { inline: boolean; tx: Promise<DecodedTx> } {
    if (this.piscina === undefined || !this.running || !this.takeInlineSlot()) return { inline: false, tx: this.decodeOne(raw) }
    this.txsDecoded++
    const outcome = this.decodeInThread(raw)
    return { inline: true, tx: outcome.ok ? Promise.resolve(outcome.tx) : Promise.reject(outcome.error) }
  }

  private takeInlineSlot(): boolean {
    const now = performance.now()
    if (now - this.inlineWindowStart >= INLINE_WINDOW_MS) {
      this.inlineWindowStart = now
      this.inlineInWindow = 0
    }
    if (this.inlineInWindow >= INLINE_DECODES_PER_WINDOW) return false
    this.inlineInWindow++
    return true
  }

  /** Decodes several txs; one outcome per input, in order. Rejects only if the pool itself fails. */
  decode(raws: readonly Uint8Array[]): Promise<DecodeOutcome[]> {
    if (raws.length === 0) return this.running ? Promise.resolve([]) : Promise.reject(new IngestPoolStoppedError())
    return new Promise((resolve, reject) => {
      const out: DecodeOutcome[] = new Array(raws.length)
      let left = raws.length
      let failed = false
      const fail = (err: Error): void => {
        if (!failed) reject(err)
        failed = true
      }
      raws.forEach((raw, i) => {
        this.enqueue({
          raw,
          settle: (o) => {
            out[i] = o
            if (--left === 0 && !failed) resolve(out)
          },
          fail,
        })
      })
    })
  }

  private enqueue(item: QueuedRaw): void {
    if (!this.running) {
      item.fail(new IngestPoolStoppedError())
      return
    }
    this.queue.push(item)
    if (!this.flushScheduled) {
      this.flushScheduled = true
      // setImmediate, not a microtask: it runs after the current poll phase, so txs from all the
      // requests parsed in this loop turn land in the same batch.
      setImmediate(() => this.flush())
    }
  }

  private flush(): void {
    this.flushScheduled = false
    const items = this.queue
    this.queue = []
    if (items.length === 0) return
    const piscina = this.piscina
    this.txsDecoded += items.length
    if (piscina === undefined) {
      for (const item of items) item.settle(this.decodeInThread(item.raw))
      return
    }
    const chunk = Math.min(this.maxBatch, Math.ceil(items.length / this.workers))
    for (let i = 0; i < items.length; i += chunk) this.runTask(piscina, items.slice(i, i + chunk))
  }

  private runTask(piscina: Piscina, items: QueuedRaw[]): void {
    const offsets = new Uint32Array(items.length + 1)
    for (let i = 0; i < items.length; i++) offsets[i + 1] = offsets[i]! + items[i]!.raw.length
    const packed = new Uint8Array(offsets[items.length]!)
    for (let i = 0; i < items.length; i++) packed.set(items[i]!.raw, offsets[i]!)
    const task: IngestTask = { chain: this.chain, limits: this.limits, packed, offsets }
    this.tasksRun++
    const done = piscina.run(task, { transferList: [packed.buffer] }).then(
      (results: WireDecodeOutcome[]) => {
        for (let i = 0; i < items.length; i++) {
          const item = items[i]!
          const result = results[i]!
          if (result.ok) {
            item.settle({ ok: true, tx: fromWireDecodedTx(item.raw, result.tx, this.codec) })
            continue
          }
          const error = fromPlainError(result.error)
          if (isTxRejectedError(error)) item.settle({ ok: false, error })
          else item.fail(error)
        }
      },
      (err: unknown) => {
        const error = err instanceof Error ? err : new Error(String(err))
        for (const item of items) item.fail(error)
      },
    )
    const tracked = done.finally(() => this.inflight.delete(tracked))
    this.inflight.add(tracked)
  }

  private decodeInThread(raw: Uint8Array): DecodeOutcome {
    try {
      return { ok: true, tx: toDecodedTx(raw, verifyRawTransaction(raw, this.codec, this.limits), this.codec) }
    } catch (err) {
      if (isTxRejectedError(err)) return { ok: false, error: err }
      return { ok: false, error: rejectTx('malformed', { detail: err instanceof Error ? err.message : String(err) }) }
    }
  }
}
