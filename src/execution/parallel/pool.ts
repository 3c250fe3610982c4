import { Worker } from 'node:worker_threads'
import { NodeError, fromPlainError } from '../../primitives/errors.ts'
import type { BlockEnv } from '../block-env.ts'
import type { CommonSpec } from './common-spec.ts'
import type { ChunkResult, PackedTxs } from './speculative.ts'
import { READY_ID, type WorkerInit, type WorkerRequest, type WorkerResponse } from './worker.ts'

/** An execution worker failed a request (`cause`: its error, carried across as plain data) or is gone. */
export class ExecWorkerError extends NodeError<'EXEC_WORKER_FAILED', undefined> {
  override readonly name = 'ExecWorkerError'
  constructor(message: string, options?: { cause?: unknown }) {
    super('EXEC_WORKER_FAILED', message, options)
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never

interface Pending {
  resolve(response: WorkerResponse & { ok: true }): void
  reject(error: Error): void
}

/** One long-lived execution thread and its request/response bookkeeping. */
class ExecThread {
  private nextId = READY_ID + 1
  private readonly pending = new Map<number, Pending>()
  failure: Error | undefined

  private constructor(private readonly worker: Worker) {
    worker.on('message', (response: WorkerResponse) => {
      const pending = this.pending.get(response.id)
      if (pending === undefined) return
      this.pending.delete(response.id)
      // Not while terminating: an unref'd worker lets the process exit before its 'exit' (and
      // close() would never settle).
      if (this.pending.size === 0 && this.failure === undefined) this.worker.unref()
      if (response.ok) pending.resolve(response)
      else
        pending.reject(
          new ExecWorkerError(`execution worker: ${response.error.message}`, { cause: fromPlainError(response.error) }),
        )
    })
    worker.on('error', (error) => this.fail(error))
    worker.on('exit', (code) => this.fail(new ExecWorkerError(`execution worker exited (code ${code})`)))
  }

  static start(spec: CommonSpec, abandoned: Int32Array): Promise<ExecThread> {
    const worker = new Worker(new URL('./worker-entry.mjs', import.meta.url), {
      workerData: { spec, abandoned } satisfies WorkerInit,
    })
    const thread = new ExecThread(worker)
    return new Promise((resolve, reject) => {
      thread.pending.set(READY_ID, { resolve: () => resolve(thread), reject })
    })
  }

  private fail(error: Error): void {
    this.failure ??=
      error instanceof ExecWorkerError
        ? error
        : new ExecWorkerError(`execution worker failed: ${error.message}`, { cause: error })
    for (const pending of this.pending.values()) pending.reject(this.failure)
    this.pending.clear()
  }

  request(body: DistributiveOmit<WorkerRequest, 'id'>, transfer: ArrayBuffer[] = []): Promise<WorkerResponse & { ok: true }> {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    const id = this.nextId++
    const promise = new Promise<WorkerResponse & { ok: true }>((resolve, reject) => this.pending.set(id, { resolve, reject }))
    // Keep the process alive only while a request is outstanding (a forgotten pool must not hang exit).
    if (this.pending.size === 1) this.worker.ref()
    this.worker.postMessage({ ...body, id } as WorkerRequest, transfer)
    return promise
  }

  async terminate(): Promise<void> {
    this.failure ??= new ExecWorkerError('execution worker pool closed')
    this.worker.ref()
    await this.worker.terminate()
  }
}

/**
 * Long-lived execution workers, each holding a state replica and one VM (built once). Stateful, so
 * raw `worker_threads` rather than a task pool: chunk i goes to worker i, syncs go to all.
 */
export class ExecWorkerPool {
  private closed = false
  private rounds = 0

  private constructor(
    private readonly threads: ExecThread[],
    readonly spec: CommonSpec,
    private readonly abandoned: Int32Array,
  ) {}

  /** Starts `size` workers and waits until each has built its VM. */
  static async start(size: number, spec: CommonSpec): Promise<ExecWorkerPool> {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`execution workers must be a positive integer, got ${size}`)
    const abandoned = new Int32Array(new SharedArrayBuffer(4))
    const threads = await Promise.all(Array.from({ length: size }, () => ExecThread.start(spec, abandoned)))
    return new ExecWorkerPool(threads, spec, abandoned)
  }

  get size(): number {
    return this.threads.length
  }

  /** Why the pool cannot be used any more, if it cannot. */
  get failure(): Error | undefined {
    if (this.closed) return new ExecWorkerError('execution worker pool closed')
    return this.threads.find((t) => t.failure !== undefined)?.failure
  }

  /** Replaces every replica with `data` (an encoded full state). */
  async snapshot(data: Uint8Array): Promise<void> {
    await Promise.all(this.threads.map((t) => t.request({ op: 'snapshot', data })))
  }

  /**
   * Sends committed writes to every replica. Not awaited by callers on the hot path: requests are
   * served in order, so a later chunk runs after it; failures surface on that chunk.
   */
  sync(data: Uint8Array): Promise<void>[] {
    return this.threads.map((t) => t.request({ op: 'sync', data }).then(() => undefined))
  }

  /** Resolves once every worker has served everything sent to it before. */
  async barrier(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.request({ op: 'sync', data: new Uint8Array(0) })))
  }

  /**
   * Executes `txs` on `worker` as part of `round` (a positive number, increasing); `continues`: they
   * follow its previous call's in the same share.
   */
  async exec(worker: number, env: BlockEnv, txs: PackedTxs, continues = false, round = 0): Promise<ChunkResult> {
    const thread = this.threads[worker]
    if (thread === undefined) throw new RangeError(`no execution worker ${worker}`)
    const response = await thread.request({ op: 'exec', env, txs, continues, round }, [
      txs.raw.buffer as ArrayBuffer,
      txs.offsets.buffer as ArrayBuffer,
      txs.pubKeys.buffer as ArrayBuffer,
    ])
    if (response.result === undefined) throw new ExecWorkerError('execution worker answered a chunk without a result')
    return response.result
  }

  /** A new round number (rounds are numbered per pool, which executors may share). */
  nextRound(): number {
    return ++this.rounds
  }

  /** Tells every worker to skip what is left of rounds up to `round` (takes effect between transactions). */
  abandon(round: number): void {
    if (round > Atomics.load(this.abandoned, 0)) Atomics.store(this.abandoned, 0, round)
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await Promise.all(this.threads.map((t) => t.terminate()))
  }
}
