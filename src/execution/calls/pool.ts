import { availableParallelism } from 'node:os'
import { MessageChannel, Worker } from 'node:worker_threads'
import { formatDurationMs } from '../../util/duration.ts'
import { NodeError } from '../../primitives/errors.ts'
import type { Hex } from '../../primitives/state-diff.ts'
import type { BlockEnv } from '../block-env.ts'
import { ZERO_ADDRESS } from '../call.ts'
import type { CommonSpec } from '../parallel/common-spec.ts'
import type { StateReader } from '../../state/state-reader.ts'
import type { BlockHashLookup } from '../vm-factory.ts'
import { createCallSignal, prefetch, StateRequestServer } from './state-channel.ts'
import type { CallTask, CallTaskOutcome } from './tasks.ts'
import type { CallWorkerInit, CallWorkerRequest, CallWorkerResponse } from './worker.ts'

export interface CallPoolOptions {
  /** Worker threads running calls. */
  workers: number
  /** Wall-clock limit of one task, queueing included (geth's `--rpc.evmtimeout`); 0 = none. */
  timeoutMs: number
  /** Tasks one client may have running or queued at once. */
  maxPerClient: number
  /** Tasks running or queued at once, all clients together. */
  maxInFlight: number
}

/** The limits' defaults: geth's 5 s `--rpc.evmtimeout`; a JSON-RPC batch of reads runs its members concurrently. */
export const DEFAULT_CALL_POOL_LIMITS = { timeoutMs: 5_000, maxPerClient: 64, maxInFlight: 256 } as const satisfies Omit<
  CallPoolOptions,
  'workers'
>

/**
 * One per core, at least 2 (one looping call must not hold every call up for its whole time limit)
 * and at most 4 (calls are short; each worker holds a VM and ~50 MB).
 */
export function defaultCallWorkers(): number {
  return Math.min(4, Math.max(2, availableParallelism()))
}

/** How long a worker may take to stop after its deadline before it is terminated and replaced. */
const ABORT_GRACE_MS = 500

/** A task refused at admission: its client, or the node, has too many calls in flight. */
export class CallLimitError extends NodeError<'CALL_LIMIT', undefined> {
  override name = 'CallLimitError'
  constructor(message: string) {
    super('CALL_LIMIT', message, { severity: 'temporary' })
  }
}

/** geth's `execution aborted (timeout = 5s)`. */
export class CallTimeoutError extends NodeError<'CALL_TIMEOUT', { timeoutMs: number }> {
  override name = 'CallTimeoutError'
  constructor(timeoutMs: number) {
    super('CALL_TIMEOUT', `execution aborted (timeout = ${formatDurationMs(timeoutMs)})`, { data: { timeoutMs } })
  }
}

/** A call worker failed (crashed, or answered something it should not). */
export class CallWorkerError extends NodeError<'CALL_WORKER_FAILED', undefined> {
  override name = 'CallWorkerError'
  constructor(message: string, options?: { cause?: unknown }) {
    super('CALL_WORKER_FAILED', message, options)
  }
}

/** The state a task reads and the block it runs in; `release` is called once the task is over, however it ends. */
export interface OpenedCall {
  state: StateReader
  env: BlockEnv
  release(): void
}

export interface CallRequest {
  /** Who sent it (the client's address): the unit of the per-client bound and of fair queueing. */
  client: string
  /**
   * Called when a worker takes the task: a pinned state costs every mini-block while it is held, so
   * only running tasks hold one, not queued ones. What it throws answers the task.
   */
  open(): OpenedCall
  task: CallTask
}

interface Job extends CallRequest {
  opened: OpenedCall | undefined
  id: number
  deadline: number
  timer: NodeJS.Timeout | undefined
  settled: boolean
  resolve(outcome: CallTaskOutcome): void
  reject(error: Error): void
}

/** One worker thread, the main-thread end of its state channel, and the job it runs. */
class CallThread {
  job: Job | undefined
  isReady = false
  /** Settles when the worker has built its VM, or has died trying. */
  readonly ready: Promise<void>
  private markReady!: () => void
  private graceTimer: NodeJS.Timeout | undefined

  private constructor(
    readonly worker: Worker,
    readonly server: StateRequestServer,
  ) {
    this.ready = new Promise((resolve) => (this.markReady = resolve))
  }

  onReady(): void {
    this.isReady = true
    this.markReady()
  }

  onDeath(): void {
    this.markReady()
  }

  static spawn(spec: CommonSpec): CallThread {
    const { port1, port2 } = new MessageChannel()
    const signal = createCallSignal()
    const worker = new Worker(new URL('./worker-entry.mjs', import.meta.url), {
      workerData: { spec, port: port2, signal } satisfies CallWorkerInit,
      transferList: [port2],
    })
    // Only a worker with a job keeps the process alive (see `dispatch`), so a forgotten pool cannot hang exit.
    worker.unref()
    return new CallThread(worker, new StateRequestServer(port1, signal))
  }

  /** After the deadline: stop at the next read or interpreter check, or be terminated after the grace. */
  abort(job: Job, onStuck: () => void): void {
    this.server.abort(job.id)
    this.graceTimer = setTimeout(() => {
      if (this.job === job) onStuck()
    }, ABORT_GRACE_MS)
    this.graceTimer.unref()
  }

  /** Ref'd first: an unref'd worker lets the process exit before its 'exit' event. */
  async terminate(): Promise<void> {
    this.worker.ref()
    await this.worker.terminate()
  }

  finish(): void {
    clearTimeout(this.graceTimer)
    this.server.close()
    this.job = undefined
    this.worker.unref()
  }
}

/**
 * Runs eth_call, eth_estimateGas and eth_createAccessList in worker threads, so no call stalls the
 * mini-block loop or other clients. Each task reads its pinned state over a state channel (see
 * state-channel.ts), stops at its deadline (checked in the interpreter and on every read; a worker
 * that misses it is terminated and replaced), and waits in a per-client round-robin queue when
 * every worker is busy. With three workers or more a client never holds all of them, so while one
 * client floods the pool with looping calls another's call still runs at once.
 */
export class CallWorkerPool {
  private threads: CallThread[] = []
  /** Whether the workers were spawned: on the first call, not at start-up (see `start`). */
  private started = false
  /** Queued jobs per client; Map order is the round-robin order. */
  private readonly queued = new Map<string, Job[]>()
  private readonly perClient = new Map<string, number>()
  /** Workers busy with each client's tasks (a timed-out task counts until its worker stops). */
  private readonly runningPerClient = new Map<string, number>()
  /** From three workers on, one is always left to the other clients, so no client can hold every worker. */
  private readonly maxRunningPerClient: number
  private inFlight = 0
  private nextId = 1
  private closed = false
  /**
   * Whether a worker has ever been ready. Until then calls wait without their clock running: booting
   * the workers (a VM each, seconds on a loaded machine) is not the call's time, and start-up does not
   * wait for it.
   */
  private booted = false
  /** Workers terminated because they missed a deadline by more than the grace (the interrupt failed them). */
  terminated = 0

  constructor(
    private readonly spec: CommonSpec,
    private readonly blockHash: BlockHashLookup,
    private readonly options: CallPoolOptions,
  ) {
    if (!Number.isInteger(options.workers) || options.workers < 1)
      throw new RangeError(`call workers must be a positive integer, got ${options.workers}`)
    // With two workers, holding one back would halve one client's throughput (a batch of reads runs one at a time).
    this.maxRunningPerClient = options.workers >= 3 ? options.workers - 1 : options.workers
  }

  /**
   * Spawns the workers, once: on the first call (or `whenReady`), not when the node starts. Each boots
   * tsx, ethereumjs and a VM (~1 s of CPU, ~50 MB); a node that serves no call — a validator's
   * neighbour, most of a test suite's replicas — should not pay that, and several nodes starting on
   * one machine slowed each other into missed deadlines when every one booted its workers at once.
   * The first call waits for a worker without its clock running.
   */
  private start(): void {
    if (this.started || this.closed) return
    this.started = true
    this.threads = Array.from({ length: this.options.workers }, () => this.spawn())
  }

  get size(): number {
    return this.options.workers
  }

  /** Workers that have built their VM and are alive. */
  get readyWorkers(): number {
    return this.threads.filter((t) => t.isReady).length
  }

  /** Resolves once every worker has built its VM (calls sent before simply wait in the queue). */
  async whenReady(): Promise<void> {
    this.start()
    await Promise.all(this.threads.map((t) => t.ready))
  }

  /** Tasks running or queued. */
  get pending(): number {
    return this.inFlight
  }

  /**
   * Runs `request.task`; rejects with `CallLimitError` at once when its client or the node is over
   * its bound, with `CallTimeoutError` at the deadline (the limit counts queueing, but not the
   * workers' first boot). What `request.open()` returned is released in every case.
   */
  run(request: CallRequest): Promise<CallTaskOutcome> {
    const { client } = request
    const clientCount = this.perClient.get(client) ?? 0
    let refusal: Error | undefined
    if (this.closed) refusal = new CallWorkerError('call workers are shut down')
    else if (clientCount >= this.options.maxPerClient)
      refusal = new CallLimitError(`too many concurrent calls from this client (limit ${this.options.maxPerClient})`)
    else if (this.inFlight >= this.options.maxInFlight)
      refusal = new CallLimitError(`too many concurrent calls on this node (limit ${this.options.maxInFlight})`)
    if (refusal !== undefined) return Promise.reject(refusal)
    this.perClient.set(client, clientCount + 1)
    this.inFlight++
    return new Promise<CallTaskOutcome>((resolve, reject) => {
      const job: Job = {
        ...request,
        opened: undefined,
        id: this.nextId++,
        deadline: Number.MAX_SAFE_INTEGER,
        timer: undefined,
        settled: false,
        resolve,
        reject,
      }
      this.start()
      if (this.booted) this.startClock(job)
      const queue = this.queued.get(client)
      if (queue === undefined) this.queued.set(client, [job])
      else queue.push(job)
      this.dispatch()
    })
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const queue of this.queued.values())
      for (const job of queue) this.settle(job, new CallWorkerError('call workers are shut down'))
    this.queued.clear()
    for (const thread of this.threads)
      if (thread.job !== undefined) this.settle(thread.job, new CallWorkerError('call workers are shut down'))
    await Promise.all(this.threads.map((t) => t.terminate()))
  }

  private spawn(): CallThread {
    const thread = CallThread.spawn(this.spec)
    thread.worker.on('message', (response: CallWorkerResponse) => this.onResponse(thread, response))
    thread.worker.on('error', (error) => this.onExit(thread, new CallWorkerError(`call worker failed: ${error.message}`)))
    thread.worker.on('exit', (code) => this.onExit(thread, new CallWorkerError(`call worker exited (code ${code})`)))
    return thread
  }

  private onResponse(thread: CallThread, response: CallWorkerResponse): void {
    if ('ready' in response) {
      thread.onReady()
      if (!this.booted) {
        this.booted = true
        for (const queue of this.queued.values()) for (const job of queue) this.startClock(job)
      }
      this.dispatch()
      return
    }
    const job = thread.job
    if (job === undefined || job.id !== response.id) return
    this.finish(thread, job)
    if (response.ok) this.settle(job, response.outcome)
    // An aborted task was already answered by `expire`.
    else if (!response.aborted) this.settle(job, new CallWorkerError(`call worker: ${response.error}`))
    this.dispatch()
  }

  /** A worker died (terminated after a missed deadline, or crashed): answer its job and replace it. */
  private onExit(thread: CallThread, error: Error): void {
    thread.onDeath()
    const index = this.threads.indexOf(thread)
    if (index === -1) return
    const job = thread.job
    if (job !== undefined) {
      this.finish(thread, job)
      this.settle(job, error)
    }
    if (this.closed) return
    // A worker that never became ready would fail the same way again: keep the slot empty then.
    if (!thread.isReady) {
      this.threads.splice(index, 1)
      if (this.threads.length === 0) this.failQueued(error)
      return
    }
    this.threads[index] = this.spawn()
  }

  private failQueued(error: Error): void {
    for (const queue of this.queued.values()) for (const job of queue) this.settle(job, error)
    this.queued.clear()
  }

  /** The time limit runs from now (geth's: from the start of the call). */
  private startClock(job: Job): void {
    const { timeoutMs } = this.options
    if (timeoutMs === 0) return
    job.deadline = Date.now() + timeoutMs
    job.timer = setTimeout(() => this.expire(job), timeoutMs)
  }

  private expire(job: Job): void {
    job.timer = undefined
    const thread = this.threads.find((t) => t.job === job)
    if (thread === undefined) this.unqueue(job)
    else {
      thread.abort(job, () => {
        this.terminated++
        void thread.terminate()
      })
    }
    this.settle(job, new CallTimeoutError(this.options.timeoutMs))
  }

  private unqueue(job: Job): void {
    const queue = this.queued.get(job.client)
    if (queue === undefined) return
    const index = queue.indexOf(job)
    if (index !== -1) queue.splice(index, 1)
    if (queue.length === 0) this.queued.delete(job.client)
  }

  /** Hands queued jobs to idle ready workers, one client after another. */
  private dispatch(): void {
    for (const thread of this.threads) {
      if (!thread.isReady || thread.job !== undefined) continue
      const next = this.openNext()
      if (next === undefined) return
      const { job, opened } = next
      thread.job = job
      this.runningPerClient.set(job.client, (this.runningPerClient.get(job.client) ?? 0) + 1)
      thread.server.open(job.id, opened.state, this.blockHash)
      thread.worker.ref()
      const { message } = job.task
      const prefetched = prefetch(opened.state, [
        message.from ?? ZERO_ADDRESS,
        ...(message.to === undefined ? [] : [message.to]),
        opened.env.coinbase.toLowerCase() as Hex,
      ])
      thread.worker.postMessage({
        id: job.id,
        env: opened.env,
        task: job.task,
        deadline: job.deadline,
        prefetched,
      } satisfies CallWorkerRequest)
    }
  }

  /** The next queued job, its state opened; a job whose state cannot open is answered with the error. */
  private openNext(): { job: Job; opened: OpenedCall } | undefined {
    for (;;) {
      const job = this.nextQueued()
      if (job === undefined) return undefined
      try {
        const opened = job.open()
        job.opened = opened
        return { job, opened }
      } catch (error) {
        this.settle(job, error instanceof Error ? error : new Error(String(error)))
      }
    }
  }

  private nextQueued(): Job | undefined {
    for (const [client, queue] of this.queued) {
      if ((this.runningPerClient.get(client) ?? 0) >= this.maxRunningPerClient) continue
      const job = queue.shift()
      this.queued.delete(client)
      // Back of the line: the next free worker serves another client first.
      if (queue.length > 0) this.queued.set(client, queue)
      if (job !== undefined) return job
    }
    return undefined
  }

  /** `thread` is free again. */
  private finish(thread: CallThread, job: Job): void {
    thread.finish()
    decrement(this.runningPerClient, job.client)
  }

  private settle(job: Job, result: CallTaskOutcome | Error): void {
    if (job.settled) return
    job.settled = true
    clearTimeout(job.timer)
    job.opened?.release()
    decrement(this.perClient, job.client)
    this.inFlight--
    if (result instanceof Error) job.reject(result)
    else job.resolve(result)
  }
}

function decrement(counts: Map<string, number>, key: string): void {
  const count = (counts.get(key) ?? 1) - 1
  if (count === 0) counts.delete(key)
  else counts.set(key, count)
}
