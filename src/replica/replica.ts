import type { Common } from '@ethereumjs/common'
import { decodeL2Transaction, type L2Transaction } from '../chain/l2-transaction.ts'
import { fastTxOptions } from '../execution/validated-tx.ts'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import type { ChainConfig } from '../chain/config.ts'
import { blocksTopic, miniBlocksTopic, type P2pHost } from '../p2p/index.ts'
import type { ReplicaFailure } from './errors.ts'
import type { ReplicaChain } from './block-importer.ts'
import { Follower } from './follower.ts'
import { announcementSubscription, miniBlockSubscription } from './gossip.ts'
import { createReplicaMetrics, type ReplicaMetrics } from './metrics.ts'
import type { ReplicaOptions, TrustedCheckpoint } from './options.ts'
import { SequencerAuthenticator, SyncClient } from './sync-client.ts'
import { VerificationDriver } from './verification-driver.ts'
import { VerificationPool } from './verification-pool.ts'

export interface ReplicaParams {
  opened: ReplicaChain
  config: ChainConfig
  common: Common
  host: P2pHost
  options: ReplicaOptions
  bootnodes: readonly string[]
  logger: Logger
  metrics?: Registry
}

/** What a replica reports about itself (`mega_nodeInfo`, `/readyz`). */
export interface ReplicaStatus {
  /** Caught up with the sequencer once since start (a validator: reached its checkpoint). */
  caughtUp: boolean
  head: bigint
  verified: bigint
  failure: ReplicaFailure | undefined
  /** A validator's starting block and what vouched for it (a full replica verifies its chain from genesis: none). */
  checkpoint?: CheckpointStatus
}

/** What a validator's checkpoint was taken from: the operator's flag, L1's anchor, or the sequencer's word. */
export type CheckpointSource = 'flag' | 'L1 anchor' | 'sequencer head'

/** The checkpoint a validator started from and what vouched for it (`mega_nodeInfo`, the start-up log). */
export interface CheckpointStatus extends TrustedCheckpoint {
  source: CheckpointSource
}

/**
 * A full replica: follows the sequencer's mini-blocks and blocks over p2p into its own chain (for
 * JSON-RPC reads) and verifies every block statelessly in worker threads.
 */
export class Replica {
  private halted: ReplicaFailure | undefined

  private constructor(
    private readonly params: ReplicaParams,
    readonly sync: SyncClient,
    private readonly auth: SequencerAuthenticator,
    private readonly pool: VerificationPool,
    private readonly verifier: VerificationDriver,
    private readonly follower: Follower,
    private readonly metrics: ReplicaMetrics | undefined,
    /** Decodes the transactions of this replica's chain (mini-blocks applied, RPC reads). */
    readonly decode: (raw: Uint8Array) => L2Transaction,
  ) {}

  static async create(params: ReplicaParams): Promise<Replica> {
    const { opened, config, common, host, options, logger } = params
    const metrics = params.metrics === undefined ? undefined : createReplicaMetrics(params.metrics)
    const auth = new SequencerAuthenticator(config, common, options.sequencerAddress)
    const sync = new SyncClient(host, config, common, auth, params.bootnodes)
    const pool = VerificationPool.start(config, options.verifyWorkers)
    const verifiedHead = (await opened.artifacts.verifiedHead()) ?? 0n
    let replica: Replica | undefined
    const onFailure = (failure: ReplicaFailure): void => replica?.raiseAlarm(failure)
    const verifier = new VerificationDriver(
      pool,
      sync,
      onFailure,
      logger.child({ module: 'verifier' }),
      metrics,
      verifiedHead,
      options.verifyWorkers * 2,
      (block, witness) => opened.artifacts.markVerified(block, witness),
    )
    // Transactions here come in signed mini-blocks; one prepared Common spares ethereumjs a copy per transaction.
    const txOptions = fastTxOptions(common)
    const decode = (raw: Uint8Array): L2Transaction => decodeL2Transaction(raw, txOptions)
    const follower = new Follower({
      opened,
      sync,
      verifier,
      decode,
      onFailure,
      logger: logger.child({ module: 'follower' }),
      metrics,
    })
    replica = new Replica(params, sync, auth, pool, verifier, follower, metrics, decode)
    return replica
  }

  async start(): Promise<void> {
    const { opened, config, host } = this.params
    // Blocks imported before a restart but not verified then are verified first.
    for (let n = this.verifier.verifiedHead + 1n; n <= opened.chain.head.header.number; n++) {
      const block = await opened.chain.blockByNumber(n)
      if (block !== undefined)
        this.verifier.submit({ header: block.header, transactions: block.transactions, receipts: block.receipts })
    }
    host.subscribe(
      miniBlocksTopic(config.chainId),
      miniBlockSubscription(
        this.auth,
        () => this.follower.nextMiniBlock,
        (block) => this.follower.onMiniBlock(block),
      ),
    )
    host.subscribe(
      blocksTopic(config.chainId),
      announcementSubscription(
        this.auth,
        () => opened.chain.head.header.number,
        (announcement) => this.follower.onAnnouncement(announcement),
      ),
    )
    this.follower.start()
  }

  async stop(): Promise<void> {
    this.verifier.stop()
    await this.follower.stop()
    await this.pool.stop()
  }

  status(): ReplicaStatus {
    return {
      caughtUp: this.follower.caughtUp,
      head: this.params.opened.chain.head.header.number,
      verified: this.verifier.verifiedHead,
      failure: this.halted,
    }
  }

  /**
   * The sequencer's RPC URL as configured, or as its sync status gives it (asked for when not known
   * yet). A sequencer answers status before its RPC server listens, with an empty URL: that is "not
   * known yet", asked again at the next forward.
   */
  async sequencerRpcUrl(): Promise<string | undefined> {
    const known = this.knownSequencerRpcUrl()
    if (known !== undefined) return known
    try {
      return urlOrUndefined((await this.sync.status()).rpcUrl)
    } catch {
      return undefined
    }
  }

  /** The sequencer's RPC URL as configured or as its last status gave it, without asking (what this replica tells its own peers). */
  knownSequencerRpcUrl(): string | undefined {
    return this.params.options.sequencerRpc ?? urlOrUndefined(this.sync.lastStatus?.rpcUrl)
  }

  /**
   * A block failed a check: stop following past it, freeze what RPC serves at the last verified block
   * (mini-blocks applied after it were never verified), and say so everywhere an operator looks.
   */
  private raiseAlarm(failure: ReplicaFailure): void {
    if (this.halted !== undefined) return
    this.halted = failure
    this.metrics?.observeFailure(failure.code)
    this.verifier.stop()
    this.follower.halt(failure)
    const { chain } = this.params.opened
    chain
      .freezeAt(this.verifier.verifiedHead)
      .catch((err: unknown) => this.params.logger.error({ err }, 'could not freeze the chain view at the last verified block'))
    this.params.logger.error(
      {
        code: failure.code,
        block: failure.data.block.toString(),
        reason: failure.message,
        servingBlock: this.verifier.verifiedHead.toString(),
        ...(REWIND_SIGNS.has(failure.code) ? { hint: SEQUENCER_REWIND_HINT } : {}),
      },
      'VERIFICATION FAILED: the replica stops at the last verified block',
    )
  }
}

/** Failures a sequencer's start-up rewind shows up as on a replica that held the dropped blocks. */
const REWIND_SIGNS = new Set<string>(['PARENT_MISMATCH', 'MINI_BLOCK_PARENT_MISMATCH', 'MINI_BLOCKS_MISMATCH'])
const SEQUENCER_REWIND_HINT =
  'the sequencer may have rewound its chain to follow L1 (blocks whose batches never reached L1 within the sequencing window were replaced by L1-derived ones; its log says "L1 overruled sequencer blocks"): this replica holds dropped blocks — resync it on a fresh datadir'

/** An advertised URL, or undefined for the empty one a sequencer gives before its RPC server listens. */
function urlOrUndefined(url: string | undefined): string | undefined {
  return url === '' ? undefined : url
}
