import { bytesToHex } from '@ethereumjs/util'
import type { Hex } from '../primitives/state-diff.ts'
import { blocksTopic, isNotKeptAnswer, NOT_KEPT, type BlockAnnouncement } from '../p2p/index.ts'
import { ReplicaFailure } from './errors.ts'
import { announcementSubscription } from './gossip.ts'
import { createReplicaMetrics, type ReplicaMetrics } from './metrics.ts'
import type { TrustedCheckpoint } from './options.ts'
import type { CheckpointStatus, ReplicaParams, ReplicaStatus } from './replica.ts'
import { StepQueue } from './step-queue.ts'
import { SequencerAuthenticator, SyncClient } from './sync-client.ts'
import { VerificationDriver } from './verification-driver.ts'
import { VerificationPool } from './verification-pool.ts'

/** A full replica's parts but its chain (a validator keeps none), and what it may check its checkpoint against. */
export type ValidatorParams = Omit<ReplicaParams, 'opened'> & {
  /**
   * L1's anchored block, already checked against its published preimage (node/anchor-checkpoint.ts): the
   * checkpoint without `--replica.checkpoint` when the node has an L1; undefined when the rollup has no anchor (no
   * dispute contracts on its L1). Throws a `ReplicaFailure` when L1 cannot vouch for it; any other error is retried.
   */
  l1Anchor?: () => Promise<TrustedCheckpoint | undefined>
  /**
   * This node's own genesis hash, for a checkpoint at block 0: the sequencer serves no bundle for genesis (it
   * has no state diff), and the genesis file is a better witness of it than any peer. A function: hashing a
   * large genesis is work a validator starting elsewhere need not do.
   */
  genesisHash: () => Hex
}

const RETRY_MS = 500
/** Seconds without a new block after which the validator asks the sequencer for its head. */
const STALL_MS = 3_000

/**
 * Validator mode: only the stateless verifier. It keeps no state and writes nothing: each announced
 * block's body and witness are fetched from the sequencer, the block is verified in a worker, and
 * the headers must chain — MegaETH's stateless validator in miniature.
 *
 * Every block after its checkpoint is verified; the checkpoint itself is trusted, so it comes from
 * something other than the sequencer when it can (issue 23): `--replica.checkpoint`, else L1's anchor
 * (an output root a dispute game settled, opened by its published preimage), else — with a warning —
 * the sequencer's head at start-up. A flag or anchor block must be the sequencer's block of that
 * number, hash for hash, or the validator halts with `CHECKPOINT_MISMATCH`.
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
  /** The block verification started from, once accepted, and what vouched for it. */
  private started: CheckpointStatus | undefined
  /** L1's anchor once read and opened (null: the rollup has none). */
  private anchor: CheckpointStatus | null | undefined
  /** The "checkpoint block not sealed yet" line is logged once, not at every retry. */
  private waitingLogged = false

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
      checkpoint: this.started,
    }
  }

  private enqueue(step: () => Promise<void>): void {
    this.steps.push(step)
  }

  /**
   * Finds the block to verify from and checks it against the sequencer's; every later block is then
   * verified. A sequencer or L1 that does not answer yet is asked again; a checkpoint that does not
   * check out halts the validator.
   */
  private async checkpoint(): Promise<void> {
    try {
      const trusted = await this.trustedCheckpoint()
      if (trusted === undefined) await this.startAtSequencerHead()
      else await this.startAt(trusted)
    } catch (error) {
      if (error instanceof ReplicaFailure) throw error
      this.params.logger.warn(
        { err: error instanceof Error ? error.message : String(error) },
        'checkpoint not reachable yet (sequencer or L1); retrying',
      )
      this.retryCheckpoint()
    }
  }

  private retryCheckpoint(): void {
    setTimeout(() => this.enqueue(() => this.checkpoint()), RETRY_MS).unref()
  }

  /** The operator's flag beats L1's anchor; neither: undefined (the sequencer's head is all there is). */
  private async trustedCheckpoint(): Promise<CheckpointStatus | undefined> {
    const { options, l1Anchor } = this.params
    if (options.checkpoint !== undefined) return { ...options.checkpoint, source: 'flag' }
    if (l1Anchor === undefined) return undefined
    // Read once: a retry waiting for the sequencer need not search L1 for the preimage again.
    if (this.anchor === undefined) {
      const anchor = await l1Anchor()
      this.anchor = anchor === undefined ? null : { ...anchor, source: 'L1 anchor' }
    }
    return this.anchor ?? undefined
  }

  /** Starts after a trusted block, once the sequencer's block of that number is found to be the same block. */
  private async startAt(trusted: CheckpointStatus): Promise<void> {
    const theirs = await this.sequencerHashAt(trusted.number)
    if (theirs === undefined) {
      if (!this.waitingLogged)
        this.params.logger.info(
          { block: trusted.number.toString(), source: trusted.source },
          'the sequencer has not sealed the checkpoint block yet; waiting for it',
        )
      this.waitingLogged = true
      this.retryCheckpoint()
      return
    }
    if (theirs !== trusted.hash) {
      // Block 0 is checked against this node's genesis file; block 1's parent hash then checks the sequencer's.
      const whose = trusted.number === 0n ? "this node's genesis" : `the sequencer's block ${trusted.number}`
      throw new ReplicaFailure(
        'CHECKPOINT_MISMATCH',
        trusted.number,
        `checkpoint block ${trusted.number} (${trusted.source}) is ${trusted.hash}, but ${whose} is ${theirs}: the chain is not the trusted one`,
      )
    }
    const { head } = await this.sync.status()
    this.begin(trusted, head)
    await this.advance()
  }

  /** Today's fallback: the sequencer's word for where the chain is. Every later block is still verified. */
  private async startAtSequencerHead(): Promise<void> {
    const status = await this.sync.status()
    this.params.logger.warn(
      'the validator trusts the sequencer’s head as its checkpoint: give it a block it can check with --replica.checkpoint=<number>:<block hash>, or an L1 (--l1.rpc, --rollup.config) to start from the rollup’s anchor',
    )
    this.begin({ number: status.head, hash: status.headHash, source: 'sequencer head' }, status.head)
    await this.advance()
  }

  private begin(checkpoint: CheckpointStatus, sequencerHead: bigint): void {
    this.started = checkpoint
    this.tip = { number: checkpoint.number, hash: checkpoint.hash }
    this.newestKnown = sequencerHead > checkpoint.number ? sequencerHead : checkpoint.number
    this.params.logger.info(
      { block: checkpoint.number.toString(), hash: checkpoint.hash, source: checkpoint.source },
      'validator checkpoint: verifying every block after this one',
    )
    this.metrics?.setHead(checkpoint.number)
  }

  /**
   * The hash of the sequencer's block `number` (its announcement's signature is checked by the sync client),
   * undefined when it has not sealed it yet. Block 0 is this node's own genesis.
   */
  private async sequencerHashAt(number: bigint): Promise<Hex | undefined> {
    if (number === 0n) return this.params.genesisHash()
    let bundles: Awaited<ReturnType<SyncClient['blocks']>>
    try {
      bundles = await this.sync.blocks(number, 1)
    } catch (error) {
      if (isNotKeptAnswer(error)) throw notKept(number, 'CHECKPOINT_UNAVAILABLE', `checkpoint block ${number}`)
      throw error
    }
    const bundle = bundles[0]
    return bundle === undefined ? undefined : (bytesToHex(bundle.announcement.header.hash()) as Hex)
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
      const next = this.tip.number + 1n
      const bundles = await this.sync.blocks(next).catch((error: unknown) => {
        throw isNotKeptAnswer(error) ? notKept(next, 'WITNESS_UNAVAILABLE', `block ${next}`) : error
      })
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

/**
 * The sequencer pruned what verifying from `block` needs (its diff and witness window): no retry brings it back,
 * so the validator halts and says what to do.
 */
function notKept(block: bigint, code: 'CHECKPOINT_UNAVAILABLE' | 'WITNESS_UNAVAILABLE', what: string): ReplicaFailure {
  return new ReplicaFailure(
    code,
    block,
    `${what} is ${NOT_KEPT}: it keeps the witnesses and state diffs of its newest blocks only (10,000 by default), and a validator verifies each block from its witness; start from a newer checkpoint (--replica.checkpoint=<number>:<block hash>)`,
  )
}
