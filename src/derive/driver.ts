/**
 * Drives a `DerivationPipeline` for one consumer: pulls derived blocks, hands each to the consumer
 * (a `--sync=l1` replica builds it, the sequencer compares it with its own), feeds the result back,
 * and keeps the L2 `safe` and `finalized` heads that come out of it. Errors by severity: a temporary
 * one (L1 unreachable) is retried with backoff while `failure` reports it (the alarm), a critical one
 * stops derivation and stays in `failure`.
 */
import type { Logger } from 'pino'
import type { L1BlockRef } from '../chain/l1-origin.ts'
import { isNodeError } from '../primitives/errors.ts'
import type { DerivationPipeline } from './pipeline.ts'
import type { DerivedBlock, SafeBlockRef } from './safe-chain.ts'

/** What the consumer did with a derived block. */
export type ConsumerResult =
  /** The block is part of the chain now (`depositOnly`: as Holocene's deposit-only replacement). */
  | { ref: SafeBlockRef; depositOnly?: boolean }
  /** Not yet: the consumer cannot place the block now (e.g. the sequencer has not sealed it); ask again later. */
  | 'wait'

export interface DerivedBlockConsumer {
  apply(derived: DerivedBlock): Promise<ConsumerResult>
  /** An L1 reorg took the data of blocks after `to`: the pipeline goes on from `to`. */
  rewind(to: SafeBlockRef): Promise<void>
}

export interface DerivationDriverOptions {
  /** How long to wait when L1 has nothing new (ms). */
  pollMs: number
  /** Longest wait between retries of a failing L1 (ms). */
  maxBackoffMs: number
}

export interface DerivationDriverModules {
  pipeline: DerivationPipeline
  consumer: DerivedBlockConsumer
  /** The L1 `finalized` block (the watcher's); blocks derived from it or older are final. */
  finalizedL1: () => L1BlockRef | undefined
  /** Told every time the heads move (the chain view's `safe`/`finalized` tags). */
  onHeads: (heads: { safe: bigint; finalized: bigint }) => void
  logger: Logger
  /** Told how long the driver slept waiting for L1 (`DerivationMetrics.observeStage('idle')`). */
  observeIdle?: (seconds: number) => void
}

export class DerivationDriver {
  private running = false
  private loop: Promise<void> | undefined
  private wake: (() => void) | undefined
  private lastFailure: Error | undefined
  private safeNumber: bigint
  private finalizedNumber: bigint
  /** Derived blocks not final yet, oldest first: [L2 number, L1 block it was derived from]. */
  private readonly unfinalized: Array<{ number: bigint; from: bigint }> = []

  constructor(
    private readonly options: DerivationDriverOptions,
    private readonly modules: DerivationDriverModules,
    /** Where the heads start (`derivationStart`: a restarted node's record, or genesis). */
    start: { safe: bigint; finalized: bigint },
  ) {
    this.safeNumber = start.safe
    this.finalizedNumber = start.finalized < start.safe ? start.finalized : start.safe
  }

  /** The newest block derived from L1. */
  safe(): bigint {
    return this.safeNumber
  }

  /** The newest block derived from finalized L1 blocks. */
  finalized(): bigint {
    return this.finalizedNumber
  }

  /** The L1 block derivation has read up to. */
  currentL1(): L1BlockRef | undefined {
    try {
      return this.modules.pipeline.currentL1
    } catch {
      return undefined
    }
  }

  /** Why derivation is stalled (a temporary L1 failure while it lasts) or stopped (critical), if it is. */
  get failure(): Error | undefined {
    return this.lastFailure
  }

  /** Derives until L1 has nothing more (or the consumer waits). @throws on a critical failure, which also stops the driver for good */
  async runUntilIdle(): Promise<void> {
    try {
      for (;;) {
        const outcome = await this.stepOnce()
        if (outcome !== 'progress') return
      }
    } catch (error) {
      if (isNodeError(error) && error.severity === 'critical') this.lastFailure = error
      throw error
    }
  }

  start(): void {
    // After a critical failure derivation stays stopped: `failure` keeps saying why.
    if (this.running || (isNodeError(this.lastFailure) && this.lastFailure.severity === 'critical')) return
    this.running = true
    this.loop = this.run()
  }

  async stop(): Promise<void> {
    this.running = false
    this.wake?.()
    await this.loop
  }

  private async run(): Promise<void> {
    let backoff = this.options.pollMs
    while (this.running) {
      let outcome: 'progress' | 'idle'
      try {
        outcome = await this.stepOnce()
        backoff = this.options.pollMs
        if (this.lastFailure !== undefined) this.modules.logger.info('derivation resumed')
        this.lastFailure = undefined
      } catch (error) {
        const err = error instanceof Error ? error : new Error(String(error))
        if (isNodeError(err) && err.severity === 'critical') {
          this.lastFailure = err
          this.modules.logger.error({ err }, 'DERIVATION STOPPED: the chain is no longer checked against L1')
          this.running = false
          return
        }
        if (this.lastFailure === undefined) this.modules.logger.warn({ err }, 'derivation paused: L1 read failed, retrying')
        this.lastFailure = err
        outcome = 'idle'
        backoff = Math.min(this.options.maxBackoffMs, backoff * 2)
      }
      if (outcome === 'idle') {
        const slept = performance.now()
        await this.sleep(backoff)
        this.modules.observeIdle?.((performance.now() - slept) / 1000)
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms)
      this.wake = () => {
        clearTimeout(timer)
        resolve()
      }
    })
  }

  private async stepOnce(): Promise<'progress' | 'idle'> {
    const { pipeline, consumer } = this.modules
    const result = await pipeline.step()
    if (result === 'idle') {
      this.updateFinalized()
      return 'idle'
    }
    if (result === 'reset') {
      const to = pipeline.safeHead
      await consumer.rewind(to)
      this.safeNumber = to.number
      while (this.unfinalized.length > 0 && this.unfinalized.at(-1)!.number > to.number) this.unfinalized.pop()
      if (this.finalizedNumber > to.number) this.finalizedNumber = to.number
      this.publish()
      return 'progress'
    }
    const applied = await consumer.apply(result)
    if (applied === 'wait') {
      // The pipeline holds the block until it is advanced: derive it again after a reset to the same head.
      await pipeline.reset(pipeline.safeHead)
      return 'idle'
    }
    pipeline.advanceSafeHead(applied.ref, { depositOnly: applied.depositOnly === true })
    this.safeNumber = applied.ref.number
    this.unfinalized.push({ number: applied.ref.number, from: result.derivedFrom.number })
    this.updateFinalized()
    return 'progress'
  }

  private updateFinalized(): void {
    const finalizedL1 = this.modules.finalizedL1()
    if (finalizedL1 !== undefined) {
      while (this.unfinalized.length > 0 && this.unfinalized[0]!.from <= finalizedL1.number) {
        this.finalizedNumber = this.unfinalized.shift()!.number
      }
    }
    this.publish()
  }

  private publish(): void {
    this.modules.onHeads({ safe: this.safeNumber, finalized: this.finalizedNumber })
  }
}
