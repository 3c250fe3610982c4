import type { L2Transaction } from '../chain/l2-transaction.ts'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import type { Logger } from 'pino'
import type { MiniBlock } from '../chain/mini-block.ts'
import { emptyStateDiff, mergeStateDiff } from '../primitives/state-diff.ts'
import type { BlockAnnouncement, BlockBundle } from '../p2p/index.ts'
import { lazyTxSource } from '../storage/chain-view.ts'
import { importBlock, type ReplicaChain, type ImportableBlock } from './block-importer.ts'
import { ReplicaFailure } from './errors.ts'
import { checkAnnouncedLastHash } from './mini-block-chain.ts'
import type { ReplicaMetrics } from './metrics.ts'
import type { SyncClient } from './sync-client.ts'
import { StepQueue } from './step-queue.ts'
import type { VerificationDriver } from './verification-driver.ts'

/** How long a gap may stay open (mini-blocks or a block announcement missing) before the replica asks the sequencer. */
const GAP_PATIENCE_MS = 300
/** Pause between sync attempts while the sequencer is unreachable. */
const SYNC_RETRY_MS = 500
/**
 * Silence after which the replica asks the sequencer what it missed: mini-blocks come every 10 ms, so
 * seconds without one mean gossip is not reaching us (or what reaches us is refused).
 */
const STALL_MS = 2_000

/** What following the sequencer works with. */
export interface FollowerModules {
  /** The chain it imports into. */
  opened: ReplicaChain
  sync: SyncClient
  verifier: VerificationDriver
  decode: (raw: Uint8Array) => L2Transaction
  /** Called once, when the replica halts on a failure. */
  onFailure: (failure: ReplicaFailure) => void
  logger: Logger
  metrics: ReplicaMetrics | undefined
}

/**
 * A full replica's view of the sequencer's chain: mini-blocks from gossip are applied to the live
 * state in order (so reads and realtime subscriptions see them within milliseconds), signed block
 * announcements seal them into EVM blocks once their state diffs merkleize to the header's root, and
 * every imported block goes to the stateless verifier. Gaps (missed gossip, a restart) are filled
 * over the sync protocol. All state changes run one at a time on a single queue.
 */
export class Follower {
  /** Number of the next mini-block to apply. */
  private expected: bigint
  /** Hash of the last applied mini-block; unknown right after a block imported from a sync bundle. */
  private lastHash: Uint8Array | undefined
  /** Applied mini-blocks not yet sealed into an imported block. */
  private applied: MiniBlock[] = []
  private readonly ahead = new Map<bigint, MiniBlock>()
  private readonly announcements = new Map<bigint, BlockAnnouncement>()
  private readonly steps: StepQueue
  private gapTimer: NodeJS.Timeout | undefined
  private stallTimer: NodeJS.Timeout | undefined
  /**
   * The one pending retry of a failed catch-up. One, not one per failure: catch-ups also start from the
   * gap and stall timers, and a retry armed by each failure would multiply while the sequencer is away
   * (measured: hundreds of requests a second after minutes without a peer, which got the replica banned).
   */
  private retryTimer: NodeJS.Timeout | undefined
  private lastProgressAt = Date.now()
  /** A catch-up is queued and has not started: more reasons to catch up join it. */
  private catchUpQueued = false
  private halted: ReplicaFailure | undefined
  private stopped = false
  private synced = false

  private readonly opened: ReplicaChain
  private readonly sync: SyncClient
  private readonly verifier: VerificationDriver
  private readonly decode: (raw: Uint8Array) => L2Transaction
  private readonly onFailure: (failure: ReplicaFailure) => void
  private readonly logger: Logger
  private readonly metrics: ReplicaMetrics | undefined

  constructor(modules: FollowerModules) {
    const { opened, metrics } = modules
    this.opened = opened
    this.sync = modules.sync
    this.verifier = modules.verifier
    this.decode = modules.decode
    this.onFailure = modules.onFailure
    this.logger = modules.logger
    this.metrics = metrics
    const head = opened.chain.head
    this.expected = head.miniBlocks.first + BigInt(head.miniBlocks.count)
    // Unknown only for a head stored before blocks kept it: the next mini-block is then taken unchecked.
    this.lastHash = head.miniBlocks.lastHash === undefined ? undefined : hexToBytes(head.miniBlocks.lastHash)
    metrics?.setHead(head.header.number)
    this.steps = new StepQueue((error) => {
      if (error instanceof ReplicaFailure) this.halt(error)
      else this.logger.error({ err: error }, 'replica step failed')
    })
  }

  /** Starts by catching up with the sequencer (whatever happened while this replica was down). */
  start(): void {
    this.scheduleCatchUp()
    this.stallTimer = setInterval(() => {
      if (Date.now() - this.lastProgressAt >= STALL_MS) this.scheduleCatchUp()
    }, STALL_MS)
    this.stallTimer.unref()
  }

  stop(): Promise<void> {
    this.stopped = true
    clearInterval(this.stallTimer)
    clearTimeout(this.retryTimer)
    this.cancelGapTimer()
    return this.steps.close()
  }

  get failure(): ReplicaFailure | undefined {
    return this.halted
  }

  /** Number of the next mini-block to apply: gossip of older ones is stale. */
  get nextMiniBlock(): bigint {
    return this.expected
  }

  /** Whether the replica has caught up with the sequencer at least once since it started. */
  get caughtUp(): boolean {
    return this.synced
  }

  /** A mini-block from gossip, already authenticated. */
  onMiniBlock(block: MiniBlock): void {
    this.enqueue(() => this.acceptMiniBlock(block))
  }

  /** A block announcement from gossip, already authenticated. */
  onAnnouncement(announcement: BlockAnnouncement): void {
    this.enqueue(async () => {
      if (announcement.header.number <= this.opened.chain.head.header.number) return
      this.announcements.set(announcement.header.number, announcement)
      await this.importReady()
    })
  }

  private enqueue(step: () => Promise<void>): void {
    this.steps.push(step)
  }

  /** Stops importing for good (a block failed a check here or in the verifier). */
  halt(failure: ReplicaFailure): void {
    if (this.halted !== undefined) return
    this.halted = failure
    clearInterval(this.stallTimer)
    clearTimeout(this.retryTimer)
    this.cancelGapTimer()
    void this.steps.close()
    this.onFailure(failure)
  }

  private async acceptMiniBlock(block: MiniBlock): Promise<void> {
    if (block.number < this.expected) return
    if (block.number > this.expected) {
      this.ahead.set(block.number, block)
      this.watchGap()
      return
    }
    this.applyMiniBlock(block)
    for (let next = this.ahead.get(this.expected); next !== undefined; next = this.ahead.get(this.expected)) {
      this.ahead.delete(next.number)
      this.applyMiniBlock(next)
    }
    await this.importReady()
  }

  private applyMiniBlock(block: MiniBlock): void {
    if (this.lastHash !== undefined && bytesToHex(block.parentHash) !== bytesToHex(this.lastHash)) {
      throw new ReplicaFailure(
        'MINI_BLOCK_PARENT_MISMATCH',
        block.blockNumber,
        `mini-block ${block.number} does not extend mini-block ${block.number - 1n}: the sequencer signed two histories`,
      )
    }
    const { chain } = this.opened
    chain.state.apply(block.blockNumber, block.stateDiff)
    chain.addMiniBlock(
      block,
      block.transactions.map((raw) => lazyTxSource(raw, this.decode)),
    )
    this.applied.push(block)
    this.expected = block.number + 1n
    this.lastHash = block.hash
    this.lastProgressAt = Date.now()
    this.metrics?.observeMiniBlock()
  }

  /** Imports announced blocks whose mini-blocks have all been applied, in order. */
  private async importReady(): Promise<void> {
    for (;;) {
      const number = this.opened.chain.head.header.number + 1n
      const announcement = this.announcements.get(number)
      if (announcement === undefined) break
      const { first, count } = announcement.miniBlocks
      const end = first + BigInt(count)
      if (this.expected < end) {
        this.watchGap()
        break
      }
      const miniBlocks = this.applied.filter((mb) => mb.number >= first && mb.number < end)
      if (miniBlocks.length !== count || miniBlocks.some((mb) => mb.blockNumber !== number)) {
        throw new ReplicaFailure(
          'MINI_BLOCKS_MISMATCH',
          number,
          `block ${number}: announced as mini-blocks ${first}…${end - 1n}, which do not all belong to it`,
        )
      }
      checkAnnouncedLastHash(announcement, miniBlocks)
      const diff = emptyStateDiff()
      for (const mb of miniBlocks) mergeStateDiff(diff, mb.stateDiff)
      await this.import({
        announcement,
        transactions: miniBlocks.flatMap((mb) => mb.transactions),
        receipts: miniBlocks.flatMap((mb) => mb.receipts),
        diff,
        appliedLive: true,
      })
      this.applied = this.applied.filter((mb) => mb.number >= end)
    }
    // An announcement past the next block while the next one's is missing: that one was lost (gossip
    // is best effort), and only the sequencer can fill the gap.
    if ([...this.announcements.keys()].some((n) => n > this.opened.chain.head.header.number)) this.watchGap()
    else if (this.ahead.size === 0) this.cancelGapTimer()
  }

  private async import(block: ImportableBlock): Promise<void> {
    const sealed = await importBlock(this.opened, block, (header, transactions) =>
      this.verifier.verifyNow({ header, transactions }),
    )
    this.lastProgressAt = Date.now()
    const number = sealed.header.number
    this.announcements.delete(number)
    this.metrics?.setHead(number)
    this.verifier.submit({ header: sealed.header, transactions: sealed.transactions, receipts: sealed.receipts })
  }

  /** The gap closed by itself: drop the timer, so that the next gap arms a new one. */
  private cancelGapTimer(): void {
    clearTimeout(this.gapTimer)
    this.gapTimer = undefined
  }

  /** Something is missing: give gossip a moment to deliver it, then ask the sequencer. */
  private watchGap(): void {
    if (this.gapTimer !== undefined) return
    this.gapTimer = setTimeout(() => {
      this.gapTimer = undefined
      this.scheduleCatchUp()
    }, GAP_PATIENCE_MS)
  }

  private scheduleCatchUp(): void {
    if (this.catchUpQueued) return
    this.catchUpQueued = true
    this.enqueue(() => {
      this.catchUpQueued = false
      return this.catchUp()
    })
  }

  /**
   * Fetches sealed blocks the replica lacks (as bundles: body, receipts and merged state diff, all
   * checked against the signed header), then the open block's mini-blocks published so far.
   */
  private async catchUp(): Promise<void> {
    const { chain } = this.opened
    let status
    try {
      status = await this.sync.status()
      while (chain.head.header.number < status.head && !this.stopped) {
        const bundles = await this.sync.blocks(chain.head.header.number + 1n)
        if (bundles.length === 0) break
        for (const bundle of bundles) await this.importBundle(bundle)
        this.metrics?.observeSync('blocks', 'ok')
      }
      const pending = await this.sync.miniBlocks(this.expected)
      for (const block of pending) await this.acceptMiniBlock(block)
      this.metrics?.observeSync('miniBlocks', 'ok')
    } catch (error) {
      if (error instanceof ReplicaFailure) throw error
      this.metrics?.observeSync(status === undefined ? 'status' : 'blocks', 'error')
      this.logger.warn(
        { err: error instanceof Error ? error.message : String(error) },
        'sync with the sequencer failed; retrying',
      )
      this.retryTimer ??= setTimeout(() => {
        this.retryTimer = undefined
        this.scheduleCatchUp()
      }, SYNC_RETRY_MS).unref()
      return
    }
    if (!this.synced)
      this.logger.info(
        { head: chain.head.header.number.toString(), miniBlock: (this.expected - 1n).toString() },
        'caught up with the sequencer',
      )
    this.synced = true
    // Gossip that arrived ahead of the gap may now be next in line.
    const next = this.ahead.get(this.expected)
    if (next !== undefined) await this.acceptMiniBlock(next)
    await this.importReady()
  }

  private async importBundle(bundle: BlockBundle): Promise<void> {
    const { first, count } = bundle.announcement.miniBlocks
    const end = first + BigInt(count)
    checkAnnouncedLastHash(bundle.announcement, this.applied)
    // Mini-blocks of this block applied from gossip are a prefix of it; the bundle's diff holds
    // final values, so applying it over them gives the same state. When all of them were applied
    // (only the announcement was missed), mini-blocks of later blocks may be applied too: the live
    // state already holds this block, and applying its diff again would undo theirs.
    await this.import({ ...bundle, appliedLive: count > 0 && this.expected >= end })
    this.applied = this.applied.filter((mb) => mb.number >= end)
    for (const n of [...this.ahead.keys()]) if (n < end) this.ahead.delete(n)
    if (this.expected < end) {
      // Skipped past mini-blocks never received: the signed announcement says what the next one extends.
      this.expected = end
      const { lastHash } = bundle.announcement.miniBlocks
      this.lastHash = lastHash === undefined ? undefined : hexToBytes(lastHash)
    }
  }
}
