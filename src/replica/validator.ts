import { bytesToHex } from '@ethereumjs/util'
import type { Hex } from '../primitives/state-diff.ts'
import { blocksTopic, type BlockAnnouncement } from '../p2p/index.ts'
import { ReplicaFailure } from './errors.ts'
import { announcementSubscription } from './gossip.ts'
import { createReplicaMetrics, type ReplicaMetrics } from './metrics.ts'
import type { ReplicaParams, ReplicaStatus } from './replica.ts'
import { StepQueue } from './step-queue.ts'
import { SequencerAuthenticator, SyncClient } from './sync-client.ts'
import { VerificationDriver } from './verification-driver.ts'
import { VerificationPool } from './verification-pool.ts'

/** A full replica's parts but its chain: a validator keeps none. */
export type ValidatorParams = Omit<ReplicaParams, 'opened'>

const RETRY_MS = 500
/** Seconds without a new block after which the validator asks the sequencer for its head. */
const STALL_MS = 3_000

/**
 * Validator mode: only the stateless verifier. It keeps no state and writes nothing: each announced
 * block's body and witness are fetched from the sequencer, the block is verified in a worker, and
 * the headers must chain. It starts from the sequencer's head at start-up (its trusted checkpoint,
 * logged) — MegaETH's stateless validator in miniature.
 */
export class Validator {
  /** Hash and number of the newest header handed to the verifier (the chain the next must extend). */
  private tip: { number: bigint; hash: Hex } | undefined
  /** The newest block number announced or reported by the sequencer. */
  private newestKnown = 0n
  private lastProgressAt = Date.now()
  private stallTimer: NodeJS.Timeout | undefined
  private readonly steps: StepQueue
  private halted: ReplicaFailure | undefined

  private constructor(
    private readonly params: ValidatorParams,
    private readonly sync: SyncClient,
    private readonly auth: SequencerAuthenticator,
    private readonly pool: VerificationPool,
    private readonly verifier: VerificationDriver,
    private readonly metrics: ReplicaMetrics | undefined,
  ) {
    this.steps = new StepQueue((error) => {
      if (error instanceof ReplicaFailure) this.raiseAlarm(error)
      else
        this.params.logger.warn(
          { err: error instanceof Error ? error.message : String(error) },
          'validator step failed; retrying',
        )
    })
  }

  static create(params: ValidatorParams): Validator {
    const { config, common, host, options, logger } = params
    const metrics = params.metrics === undefined ? undefined : createReplicaMetrics(params.metrics)
    const auth = new SequencerAuthenticator(config, common, options.sequencerAddress)
    const sync = new SyncClient(host, config, common, auth, params.bootnodes)
    const pool = VerificationPool.start(config, options.verifyWorkers)
    let validator: Validator | undefined
    const verifier = new VerificationDriver(
      pool,
      sync,
      (failure) => validator?.raiseAlarm(failure),
      logger.child({ module: 'verifier' }),
      metrics,
      0n,
      options.verifyWorkers * 2,
    )
    validator = new Validator(params, sync, auth, pool, verifier, metrics)
    return validator
  }

  async start(): Promise<void> {
    this.params.host.subscribe(
      blocksTopic(this.params.config.chainId),
      announcementSubscription(
        this.auth,
        () => this.tip?.number ?? -1n,
        (announcement) => this.enqueue(() => this.onAnnouncement(announcement)),
      ),
    )
    this.enqueue(() => this.checkpoint())
    // Announcements come every block; silence means lost gossip or a failed fetch: ask the sequencer.
    this.stallTimer = setInterval(() => {
      if (this.tip !== undefined && Date.now() - this.lastProgressAt >= STALL_MS) this.enqueue(() => this.refresh())
    }, STALL_MS)
    this.stallTimer.unref()
  }

  async stop(): Promise<void> {
    clearInterval(this.stallTimer)
    this.verifier.stop()
    await this.steps.close()
    await this.pool.stop()
  }

  status(): ReplicaStatus {
    return {
      caughtUp: this.tip !== undefined,
      head: this.tip?.number ?? 0n,
      verified: this.verifier.verifiedHead,
      failure: this.halted,
    }
  }

  private enqueue(step: () => Promise<void>): void {
    this.steps.push(step)
  }

  /** Trusts the sequencer's current head as the starting point; every later block is verified. */
  private async checkpoint(): Promise<void> {
    try {
      const status = await this.sync.status()
      this.tip = { number: status.head, hash: status.headHash }
      this.newestKnown = status.head
      this.params.logger.info(
        { block: status.head.toString(), hash: status.headHash },
        'validator checkpoint: verifying every block after this one',
      )
      this.metrics?.setHead(status.head)
      await this.advance()
    } catch (error) {
      if (error instanceof ReplicaFailure) throw error
      this.params.logger.warn(
        { err: error instanceof Error ? error.message : String(error) },
        'sequencer not reachable yet; retrying',
      )
      setTimeout(() => this.enqueue(() => this.checkpoint()), RETRY_MS).unref()
    }
  }

  private async onAnnouncement(announcement: BlockAnnouncement): Promise<void> {
    if (this.tip === undefined || announcement.header.number <= this.tip.number) return
    if (announcement.header.number > this.newestKnown) this.newestKnown = announcement.header.number
    await this.advance()
  }

  private async refresh(): Promise<void> {
    const { head } = await this.sync.status()
    if (head > this.newestKnown) this.newestKnown = head
    await this.advance()
  }

  /**
   * Hands every block after the tip up to the newest known one to the verifier, in order: bodies come
   * over sync (with their signed announcements), so a block whose gossip was lost is fetched too.
   */
  private async advance(): Promise<void> {
    this.lastProgressAt = Date.now()
    while (this.tip !== undefined && this.tip.number < this.newestKnown) {
      const bundles = await this.sync.blocks(this.tip.number + 1n)
      if (bundles.length === 0) return
      for (const { announcement, transactions } of bundles) {
        const { header } = announcement
        if (bytesToHex(header.parentHash) !== this.tip.hash) {
          throw new ReplicaFailure(
            'PARENT_MISMATCH',
            header.number,
            `block ${header.number} does not extend block ${this.tip.number} (${this.tip.hash})`,
          )
        }
        this.verifier.submit({ header, transactions })
        this.tip = { number: header.number, hash: bytesToHex(header.hash()) as Hex }
        this.lastProgressAt = Date.now()
        this.metrics?.setHead(header.number)
      }
    }
  }

  private raiseAlarm(failure: ReplicaFailure): void {
    if (this.halted !== undefined) return
    this.halted = failure
    this.metrics?.observeFailure(failure.code)
    clearInterval(this.stallTimer)
    this.verifier.stop()
    void this.steps.close()
    this.params.logger.error(
      { code: failure.code, block: failure.data.block.toString(), reason: failure.message },
      'VERIFICATION FAILED: the validator stops at the last good block',
    )
  }
}
