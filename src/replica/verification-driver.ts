import type { BlockHeader } from '@ethereumjs/block'
import { bytesToHex, equalsBytes } from '@ethereumjs/util'
import type { Logger } from 'pino'
import { executionReceiptsDigest, type TxReceipt } from '../chain/receipt.ts'
import { isNotKeptAnswer } from '../p2p/index.ts'
import { fromPlainError } from '../primitives/errors.ts'
import { ReplicaFailure } from './errors.ts'
import type { ReplicaMetrics } from './metrics.ts'
import type { SyncClient } from './sync-client.ts'
import type { VerificationPool } from './verification-pool.ts'
import type { VerifyOutcome } from './verify-worker.ts'
import { failpoint } from '../util/failpoints.ts'

export interface BlockToCheck {
  header: BlockHeader
  transactions: Uint8Array[]
  /** The receipts the replica serves for this block; execution must reproduce them exactly. */
  receipts?: TxReceipt[]
}

interface Checked {
  outcome: VerifyOutcome
  witness: Uint8Array
}

interface InFlight {
  block: BlockToCheck
  outcome: Promise<Checked | ReplicaFailure>
}

/** Backoff between witness fetch attempts: from the first to the cap, doubling. */
const RETRY_FIRST_MS = 250
const RETRY_MAX_MS = 5_000

/**
 * Verifies imported blocks statelessly, several at once on the worker pool, and advances the verified
 * head strictly in block order. The first failure stops it for good: the replica raises the alarm
 * and does not move past a block it could not verify.
 */
export class VerificationDriver {
  private readonly queue: InFlight[] = []
  private readonly waiting: BlockToCheck[] = []
  private verified: bigint
  private failed: ReplicaFailure | undefined
  private stopped = false
  private draining = false

  constructor(
    private readonly pool: VerificationPool,
    private readonly sync: SyncClient,
    private readonly onFailure: (failure: ReplicaFailure) => void,
    private readonly logger: Logger,
    private readonly metrics: ReplicaMetrics | undefined,
    verifiedHead: bigint,
    /** Blocks fetched and verified at once: enough to keep every worker busy while witnesses download. */
    private readonly concurrency: number,
    /** Called with each verified block's witness, in order (a full replica keeps them to serve). */
    private readonly onVerified?: (block: bigint, witness: Uint8Array) => Promise<void>,
  ) {
    this.verified = verifiedHead
  }

  get verifiedHead(): bigint {
    return this.verified
  }

  get failure(): ReplicaFailure | undefined {
    return this.failed
  }

  /** Blocks handed in but not verified yet. */
  get pending(): number {
    return this.queue.length + this.waiting.length
  }

  /** Queues the next block (blocks must come in order, each once). */
  submit(block: BlockToCheck): void {
    if (this.failed !== undefined || this.stopped) return
    this.waiting.push(block)
    this.fill()
  }

  stop(): void {
    this.stopped = true
  }

  /** Verifies one block now, outside the queue (to diagnose a block that failed another check). */
  async verifyNow(block: BlockToCheck): Promise<ReplicaFailure | undefined> {
    const result = await this.check(block)
    return result instanceof ReplicaFailure ? result : this.judge(block, result.outcome)
  }

  private fill(): void {
    while (this.queue.length < this.concurrency && this.waiting.length > 0) {
      const block = this.waiting.shift()!
      this.queue.push({ block, outcome: this.check(block) })
    }
    void this.drain()
  }

  private async check(block: BlockToCheck): Promise<Checked | ReplicaFailure> {
    const number = block.header.number
    // An unreachable sequencer says nothing about the block: keep asking (the replica shows as
    // lagging meanwhile). Only stopping ends the wait.
    let witness: Uint8Array | undefined
    for (let delay = RETRY_FIRST_MS; witness === undefined; delay = Math.min(delay * 2, RETRY_MAX_MS)) {
      try {
        witness = await this.sync.witness(number)
      } catch (error) {
        if (this.stopped)
          return new ReplicaFailure('WITNESS_UNAVAILABLE', number, `block ${number}: stopped while fetching its witness`)
        // Pruned is not "not yet": say so plainly, or an operator waits for a witness that never comes.
        if (isNotKeptAnswer(error))
          this.logger.error(
            { block: number.toString() },
            'the sequencer no longer keeps this block’s witness, so it cannot be verified here (a validator: restart it from a newer --replica.checkpoint); retrying',
          )
        else if (delay === RETRY_MAX_MS)
          this.logger.warn(
            { block: number.toString(), err: error instanceof Error ? error.message : String(error) },
            'witness not available yet; retrying',
          )
        await new Promise((resolve) => setTimeout(resolve, delay))
      }
    }
    try {
      const outcome = await this.pool.verify(block.header.serialize(), block.transactions, witness)
      return { outcome, witness }
    } catch (error) {
      // A worker crash is a bug, not a verdict on the block: stop verifying and say so.
      return new ReplicaFailure(
        'VERIFIER_FAILED',
        number,
        `block ${number}: verification worker failed: ${error instanceof Error ? error.message : String(error)}`,
      )
    }
  }

  /** Applies finished verifications from the front of the queue, in order. */
  private async drain(): Promise<void> {
    if (this.draining) return
    this.draining = true
    try {
      // `check` never rejects, so each outcome settles to a result or a failure.
      while (this.queue.length > 0 && this.failed === undefined && !this.stopped) {
        const { block, outcome } = this.queue[0]!
        const result = await outcome
        // Stopped meanwhile: stopping terminates the worker pool, which fails the verifications in
        // flight ("Terminating worker thread"); that is no verdict on the block, so no alarm.
        if (this.stopped) return
        this.queue.shift()
        const failure = result instanceof ReplicaFailure ? result : this.judge(block, result.outcome)
        if (failure !== undefined) {
          this.fail(failure)
          return
        }
        if (!(result instanceof ReplicaFailure) && result.outcome.ok) {
          // Failpoint `replica.verify.before-mark`: verified, not yet recorded as verified on disk.
          failpoint('replica.verify.before-mark')
          this.verified = block.header.number
          this.metrics?.observeVerified(block.transactions.length, result.outcome.ms / 1000, result.witness.length)
          await this.onVerified?.(this.verified, result.witness).catch((err: unknown) =>
            this.logger.warn({ err }, 'could not keep a verified witness'),
          )
          this.metrics?.setVerified(this.verified, BigInt(this.pending))
          this.logger.debug(
            { block: this.verified.toString(), txs: block.transactions.length, ms: Math.round(result.outcome.ms) },
            'block verified statelessly',
          )
        }
        this.fill()
      }
    } finally {
      this.draining = false
    }
  }

  private judge(block: BlockToCheck, outcome: VerifyOutcome): ReplicaFailure | undefined {
    const number = block.header.number
    if (!outcome.ok)
      return new ReplicaFailure(outcome.error.code, number, outcome.error.message, { cause: fromPlainError(outcome.error) })
    if (block.receipts !== undefined && !equalsBytes(executionReceiptsDigest(block.receipts), outcome.receiptsDigest)) {
      return new ReplicaFailure(
        'RECEIPTS_MISMATCH',
        number,
        `block ${number}: the receipts served from its mini-blocks differ from what executing it gives`,
      )
    }
    if (outcome.stateRoot !== bytesToHex(block.header.stateRoot)) {
      return new ReplicaFailure(
        'STATE_ROOT_MISMATCH',
        number,
        `block ${number}: verified state root ${outcome.stateRoot} differs from the header`,
      )
    }
    return undefined
  }

  private fail(failure: ReplicaFailure): void {
    if (this.failed !== undefined) return
    this.failed = failure
    this.onFailure(failure)
  }
}
