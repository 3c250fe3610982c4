/**
 * The batcher (op-batcher's job, run inside the sequencer): sealed L2 blocks after the safe head →
 * channels (`ChannelBuilder`) → frames → L1 transactions to the batch inbox (`TxManager`).
 *
 * One loop, every `pollIntervalMs`:
 * 1. read the L1 head; if it does not extend the last head seen, check that every posted channel's
 *    transactions are still in canonical blocks: if one is not, a reorg dropped it, and the batcher
 *    resets (below);
 * 2. add the L2 blocks sealed since the last round to the open channel, closing it when full, when
 *    it has been open `maxChannelDuration` L1 blocks, when its oldest epoch nears the end of the
 *    sequencing window, or on `flush()`;
 * 3. hand closed channels' transactions to the transaction manager, in order (nonces in order, so
 *    frames land in order, as Holocene wants), at most `maxPendingTransactions` at once;
 * 4. when a channel's transactions are all confirmed, `postedThrough` moves to its last block.
 *
 * Reset (op-batcher's rule, the simplest correct one): on an L1 reorg that removed posted data, a
 * transaction that failed, or a safe head that stays behind what was confirmed for longer than the
 * channel timeout, the batcher waits for its in-flight transactions, drops every channel not
 * confirmed, resyncs its nonce and rebuilds channels from the safe head. Re-posting data that did
 * land is harmless: derivation drops batches it already has.
 *
 * L1 RPC failures pause the loop (alarm in the log and the `paused` gauge) and it resumes where it
 * was: nothing advances before the call it depends on succeeded.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { Logger } from 'pino'
import type { PublicClient, WalletClient } from 'viem'
import type { SealedBlock } from '../../chain/block.ts'
import type { RollupConfig } from '../../chain/rollup-config.ts'
import { errorMessage } from '../../primitives/errors.ts'
import type { Hex } from '../../primitives/state-diff.ts'
import { encodeBlob, MAX_BLOB_DATA_SIZE } from '../blob.ts'
import { encodeBatcherData } from '../frame.ts'
import { blockBatch, ChannelBuilder, type ChannelBuilderConfig, type ClosedChannel, frameDataSize } from './channel-builder.ts'
import { BatcherError } from './errors.ts'
import { type BlobProver, KzgWorker } from './kzg.ts'
import type { BatcherMetrics, DaKind } from './metrics.ts'
import { type BatcherOptions, DEFAULT_BATCHER_OPTIONS } from './options.ts'
import { calldataGas, type ConfirmedTx, type TxCandidate, TxManager } from './tx-manager.ts'

/** How often `drain` looks whether everything is posted. */
const DRAIN_POLL_MS = 100

/** The sealed L2 chain the batcher reads: `ChainView` satisfies it as is. */
export interface BlockSource {
  readonly head: { readonly header: { readonly number: bigint } }
  blockByNumber(number: bigint): Promise<SealedBlock | undefined>
  readonly events: {
    on(event: 'block', listener: (block: SealedBlock) => void): unknown
    off(event: 'block', listener: (block: SealedBlock) => void): unknown
  }
}

export interface BatcherModules {
  l1: PublicClient
  /** With the batcher key as a local account. */
  wallet: WalletClient
  rollup: RollupConfig
  blocks: BlockSource
  logger: Logger
  metrics?: BatcherMetrics | undefined
  /**
   * The newest L2 block derivation has derived from L1. Without derivation, leave it out: the batcher
   * then counts from what it confirmed itself (`postedThrough`, starting at the L2 genesis).
   */
  safeHead?: (() => bigint) | undefined
  /** Proves blobs (default: a KZG worker thread, started on the first blob). */
  prover?: BlobProver | undefined
}

/** A channel on its way to L1. */
interface Outgoing {
  readonly channel: ClosedChannel
  readonly da: DaKind
  readonly candidates: readonly TxCandidate[]
  readonly dataBytes: number
  sent: number
  readonly confirmed: (ConfirmedTx | undefined)[]
}

/** A channel whose transactions are all confirmed, watched for reorgs for `reorgWatchDepth` L1 blocks (and until the safe head covers it). */
interface Posted {
  readonly firstBlock: bigint
  readonly lastBlock: bigint
  readonly txs: readonly ConfirmedTx[]
}

export class Batcher {
  private readonly options: BatcherOptions
  private readonly txManager: TxManager
  private readonly prover: BlobProver
  private readonly logger: Logger
  private readonly metrics: BatcherMetrics | undefined
  private timer: NodeJS.Timeout | undefined
  private running = false
  private tickInFlight: Promise<void> | undefined
  private open: { builder: ChannelBuilder; da: DaKind } | undefined
  private outgoing: Outgoing[] = []
  private posted: Posted[] = []
  private inFlight = 0
  private nextBlock: bigint
  private confirmedThrough: bigint
  private lastHead: { number: bigint; hash: Hex } | undefined
  private resetReason: string | undefined
  private flushRequested = false
  private paused = false

  constructor(
    options: Partial<BatcherOptions>,
    private readonly modules: BatcherModules,
  ) {
    this.options = {
      ...DEFAULT_BATCHER_OPTIONS,
      ...options,
      txManager: { ...DEFAULT_BATCHER_OPTIONS.txManager, ...options.txManager },
    }
    this.logger = modules.logger
    this.metrics = modules.metrics
    this.prover = modules.prover ?? new KzgWorker()
    this.txManager = new TxManager(this.options.txManager, {
      l1: modules.l1,
      wallet: modules.wallet,
      to: modules.rollup.batchInboxAddress,
      l1ChainId: modules.rollup.l1ChainId,
      prover: this.prover,
      logger: modules.logger,
      onBroadcast: (candidate, replacement) => this.metrics?.txSent(candidate.kind, replacement),
    })
    this.confirmedThrough = modules.safeHead?.() ?? modules.rollup.genesis.l2.number
    this.nextBlock = this.confirmedThrough + 1n
  }

  /** The newest L2 block whose batch, and every earlier one, is confirmed on L1 (and not reorged out since). */
  get postedThrough(): bigint {
    return this.confirmedThrough
  }

  /** The batcher's L1 address. */
  get address(): Hex {
    return this.txManager.address
  }

  start(): void {
    if (this.running) return
    this.running = true
    this.modules.blocks.events.on('block', this.onBlock)
    this.schedule(0)
  }

  async stop(): Promise<void> {
    this.running = false
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.modules.blocks.events.off('block', this.onBlock)
    this.txManager.stop()
    await this.tickInFlight
    await this.prover.stop()
  }

  /**
   * Posts every block sealed so far and waits until L1 confirms them, for at most `timeoutMs` (a
   * graceful stop: blocks left unposted become unsafe blocks L1 may overrule once their sequencing
   * window ends). Resolves whether everything got posted.
   */
  async drain(timeoutMs: number): Promise<boolean> {
    const target = this.modules.blocks.head.header.number
    const deadline = Date.now() + timeoutMs
    while (this.confirmedThrough < target) {
      if (!this.running || Date.now() > deadline) return false
      this.flush()
      await sleep(DRAIN_POLL_MS)
    }
    return true
  }

  /** Close the open channel at the next round, whatever its size and age. */
  flush(): void {
    this.flushRequested = true
    this.schedule(0)
  }

  /** Runs one round now (tests and tools drive the batcher this way; `start()` runs them on a timer). */
  async tick(): Promise<void> {
    while (this.tickInFlight !== undefined) await this.tickInFlight
    this.tickInFlight = this.round().finally(() => {
      this.tickInFlight = undefined
    })
    return this.tickInFlight
  }

  private readonly onBlock = (): void => {
    // Blocks are picked up by the next round; a block event only matters when a flush waits.
    if (this.flushRequested) this.schedule(0)
  }

  private schedule(delayMs: number): void {
    if (!this.running) return
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.tick().finally(() => this.schedule(this.options.pollIntervalMs))
    }, delayMs)
  }

  private async round(): Promise<void> {
    try {
      const head = await this.modules.l1.getBlock({ blockTag: 'latest' })
      const l1Head = { number: head.number, hash: head.hash.toLowerCase() as Hex }
      // A transaction can confirm in a block newer than the last head a round saw; a reorg of that
      // block before the next round leaves a head that still extends the last one, so such blocks
      // are checked by number too.
      if (this.lastHead !== undefined && (this.confirmedPast(this.lastHead.number) || !(await this.extendsLastHead(head))))
        await this.checkPosted()
      this.lastHead = l1Head
      this.checkSafeHeadLag(l1Head.number)
      if (this.resetReason !== undefined) {
        if (this.inFlight > 0) return
        this.reset()
      }
      await this.fillChannels(l1Head.number, head.baseFeePerGas ?? 0n)
      this.send()
      this.prunePosted(l1Head.number)
      this.report(l1Head.number)
      if (this.paused) {
        this.paused = false
        this.metrics?.setPaused(false)
        this.logger.info('batcher resumed')
      }
    } catch (error) {
      if (error instanceof BatcherError && error.severity === 'critical') {
        this.logger.error({ err: error, alarm: true }, 'batcher cannot post this chain; stopped')
        this.metrics?.failure('critical')
        this.running = false
        return
      }
      if (error instanceof BatcherError && error.severity === 'reset') {
        this.requestReset(error.message)
        return
      }
      this.metrics?.failure('l1-rpc')
      this.metrics?.setPaused(true)
      this.paused = true
      this.logger.warn({ err: errorMessage(error), alarm: true }, 'batcher paused: L1 or L2 read failed; retrying')
    }
  }

  /** Whether `head` is the last head seen or descends from it (walking back at most `reorgWatchDepth` blocks). */
  private async extendsLastHead(head: { number: bigint; hash: Hex; parentHash: Hex }): Promise<boolean> {
    const last = this.lastHead
    if (last === undefined) return true
    if (head.number < last.number) return false
    if (head.number === last.number) return head.hash.toLowerCase() === last.hash
    let current = head
    for (let steps = 0; current.number > last.number + 1n; steps++) {
      if (steps >= this.options.reorgWatchDepth) return false
      current = await this.modules.l1.getBlock({ blockHash: current.parentHash })
    }
    return current.parentHash.toLowerCase() === last.hash
  }

  /** Whether a posted or confirmed batcher transaction landed in an L1 block after `number`. */
  private confirmedPast(number: bigint): boolean {
    const past = (tx: ConfirmedTx | undefined): boolean => tx !== undefined && tx.blockNumber > number
    return this.posted.some((p) => p.txs.some(past)) || this.outgoing.some((o) => o.confirmed.some(past))
  }

  /**
   * Verifies that the blocks holding posted channels (and confirmed transactions of channels still
   * being sent) are canonical; rolls `postedThrough` back before the first that is not, and resets.
   */
  private async checkPosted(): Promise<void> {
    const hashes = new Map<bigint, string>()
    const canonical = async (tx: ConfirmedTx): Promise<boolean> => {
      let hash = hashes.get(tx.blockNumber)
      if (hash === undefined) {
        const block = await this.modules.l1.getBlock({ blockNumber: tx.blockNumber }).catch(() => undefined)
        hash = block?.hash.toLowerCase() ?? 'missing'
        hashes.set(tx.blockNumber, hash)
      }
      return hash === tx.blockHash
    }
    for (const out of this.outgoing)
      for (const tx of out.confirmed)
        if (tx !== undefined && !(await canonical(tx))) {
          this.logger.warn(
            { l1Block: tx.blockNumber.toString(), tx: tx.hash, alarm: true },
            'L1 reorg dropped a batcher transaction; re-posting',
          )
          this.metrics?.failure('reorg')
          this.requestReset('L1 reorg')
        }
    for (const [i, posted] of this.posted.entries()) {
      for (const tx of posted.txs) {
        if (await canonical(tx)) continue
        const dropped = this.posted.slice(i)
        this.posted = this.posted.slice(0, i)
        this.confirmedThrough = dropped[0]!.firstBlock - 1n
        this.metrics?.failure('reorg')
        this.logger.warn(
          { l1Block: tx.blockNumber.toString(), tx: tx.hash, from: dropped[0]!.firstBlock.toString(), alarm: true },
          'L1 reorg dropped posted batches; re-posting',
        )
        this.requestReset('L1 reorg')
        return
      }
    }
  }

  /**
   * op-batcher's rule: a posted channel that the safe head still does not cover `channelTimeout` L1
   * blocks after it landed did not count (derivation dropped it, or read another chain): re-post
   * from the safe head.
   */
  private checkSafeHeadLag(l1Head: bigint): void {
    const safeHead = this.modules.safeHead
    if (safeHead === undefined) return
    const safe = safeHead()
    const waiting = this.posted.find((p) => p.lastBlock > safe)
    if (waiting === undefined) return
    const landed = waiting.txs.reduce((n, tx) => (tx.blockNumber > n ? tx.blockNumber : n), 0n)
    if (l1Head - landed <= this.modules.rollup.channelTimeout) return
    this.logger.warn(
      { safeHead: safe.toString(), postedThrough: this.confirmedThrough.toString(), landedAt: landed.toString(), alarm: true },
      'safe head stays behind posted batches; re-posting from it',
    )
    this.posted = this.posted.filter((p) => p.lastBlock <= safe)
    if (safe < this.confirmedThrough) this.confirmedThrough = safe
    this.requestReset('safe head lag')
  }

  private requestReset(reason: string): void {
    this.resetReason ??= reason
    this.metrics?.failure('reset')
  }

  private reset(): void {
    const safe = this.modules.safeHead?.() ?? this.confirmedThrough
    const from = (safe < this.confirmedThrough ? safe : this.confirmedThrough) + 1n
    this.logger.info({ reason: this.resetReason, from: from.toString() }, 'batcher reset: rebuilding channels')
    this.open = undefined
    this.outgoing = []
    this.posted = this.posted.filter((p) => p.lastBlock < from)
    this.confirmedThrough = from - 1n
    this.nextBlock = from
    this.txManager.resetNonce()
    this.resetReason = undefined
    this.flushRequested = false
  }

  private async fillChannels(l1Head: bigint, baseFee: bigint): Promise<void> {
    const l2Head = this.modules.blocks.head.header.number
    while (this.nextBlock <= l2Head && this.outgoing.length < 2 * this.options.maxPendingTransactions) {
      const block = await this.modules.blocks.blockByNumber(this.nextBlock)
      if (block === undefined)
        throw new BatcherError('BATCHER_BLOCK_MISSING', `L2 block ${this.nextBlock} is not available`, { block: this.nextBlock })
      const batch = blockBatch(block)
      this.open ??= await this.openChannel(l1Head, baseFee)
      if ((await this.open.builder.addBlock(batch)) === 'full') {
        await this.closeChannel('full')
        this.open = await this.openChannel(l1Head, baseFee)
        await this.open.builder.addBlock(batch)
      }
      this.nextBlock++
    }
    const reason = this.flushRequested ? 'flush' : this.open?.builder.timeoutReason(l1Head)
    this.flushRequested = false
    if (reason !== undefined && this.open !== undefined && !this.open.builder.isEmpty) await this.closeChannel(reason)
    if (this.open?.builder.isFull) await this.closeChannel('full')
  }

  private async openChannel(l1Head: bigint, baseFee: bigint): Promise<{ builder: ChannelBuilder; da: DaKind }> {
    const da = await this.chooseDa(baseFee)
    const o = this.options
    const config: ChannelBuilderConfig = {
      batchType: o.batchType,
      compression: { algorithm: 'brotli', level: o.compressionLevel },
      maxFrameDataSize: da === 'blobs' ? frameDataSize(MAX_BLOB_DATA_SIZE) : frameDataSize(o.maxCalldataTxSize),
      targetFrames: da === 'blobs' ? o.blobsPerTx : o.calldataTargetFrames,
      maxChannelDuration: BigInt(o.maxChannelDuration),
      subSafetyMargin: BigInt(o.subSafetyMargin),
    }
    return { builder: new ChannelBuilder(config, this.modules.rollup, l1Head), da }
  }

  /** `auto`: blobs when their L1 cost per byte of data is below calldata's at current fees. */
  private async chooseDa(baseFee: bigint): Promise<DaKind> {
    const type = this.options.dataAvailabilityType
    if (type !== 'auto') return type
    const [blobBaseFee, tip] = await Promise.all([
      this.modules.l1.getBlobBaseFee(),
      this.modules.l1.request({ method: 'eth_maxPriorityFeePerGas' }).then(BigInt, () => 0n),
    ])
    return blobsCheaper(baseFee + tip, blobBaseFee, this.options.blobsPerTx) ? 'blobs' : 'calldata'
  }

  private async closeChannel(reason: Parameters<ChannelBuilder['close']>[0]): Promise<void> {
    const open = this.open
    if (open === undefined || open.builder.isEmpty) return
    this.open = undefined
    const channel = await open.builder.close(reason)
    const candidates: TxCandidate[] = []
    let dataBytes = 0
    if (open.da === 'calldata') {
      for (const frame of channel.frames) {
        const data = encodeBatcherData([frame])
        dataBytes += data.length
        candidates.push({ kind: 'calldata', data })
      }
    } else {
      for (let i = 0; i < channel.frames.length; i += this.options.blobsPerTx) {
        const blobs = channel.frames.slice(i, i + this.options.blobsPerTx).map((frame) => {
          const data = encodeBatcherData([frame])
          dataBytes += data.length
          return encodeBlob(data)
        })
        candidates.push({ kind: 'blobs', blobs })
      }
    }
    this.metrics?.channelClosed(channel, open.da)
    this.logger.info(
      {
        blocks: `${channel.firstBlock}-${channel.lastBlock}`,
        reason,
        da: open.da,
        txs: channel.txs,
        frames: channel.frames.length,
        compressed: channel.compressedBytes,
        ratio: (channel.uncompressedBytes / Math.max(1, channel.compressedBytes)).toFixed(2),
      },
      'channel closed',
    )
    this.outgoing.push({ channel, da: open.da, candidates, dataBytes, sent: 0, confirmed: candidates.map(() => undefined) })
  }

  private send(): void {
    for (const out of this.outgoing) {
      while (out.sent < out.candidates.length) {
        if (this.inFlight >= this.options.maxPendingTransactions || this.resetReason !== undefined) return
        const index = out.sent++
        this.inFlight++
        this.txManager
          .send(out.candidates[index]!)
          .then((tx) => {
            out.confirmed[index] = tx
            this.onConfirmed()
          })
          .catch((error: unknown) => {
            if (error instanceof BatcherError && error.code === 'BATCHER_STOPPED') return
            this.metrics?.failure('tx')
            this.logger.warn({ err: errorMessage(error), alarm: true }, 'batcher transaction failed; resetting')
            this.requestReset('transaction failed')
          })
          .finally(() => {
            this.inFlight--
          })
      }
    }
  }

  /** Moves `postedThrough` over the channels, in order, whose transactions are all confirmed. */
  private onConfirmed(): void {
    while (this.outgoing.length > 0) {
      const out = this.outgoing[0]!
      if (out.confirmed.some((tx) => tx === undefined) || out.channel.firstBlock !== this.confirmedThrough + 1n) return
      this.outgoing.shift()
      const txs = out.confirmed as ConfirmedTx[]
      this.posted.push({ firstBlock: out.channel.firstBlock, lastBlock: out.channel.lastBlock, txs })
      this.confirmedThrough = out.channel.lastBlock
      this.metrics?.channelPosted(out.channel, out.da, txs, out.dataBytes)
      this.metrics?.setPostedThrough(this.confirmedThrough)
      this.logger.info(
        {
          blocks: `${out.channel.firstBlock}-${out.channel.lastBlock}`,
          l1Blocks: txs.map((tx) => tx.blockNumber.toString()),
          da: out.da,
        },
        'channel posted',
      )
    }
  }

  private prunePosted(l1Head: bigint): void {
    const horizon = l1Head - BigInt(this.options.reorgWatchDepth)
    // Kept while the safe head does not cover them either (the lag rule reads them).
    const safe = this.modules.safeHead?.()
    const done = (p: Posted): boolean =>
      p.txs.every((tx) => tx.blockNumber < horizon) && (safe === undefined || p.lastBlock <= safe)
    while (this.posted.length > 1 && done(this.posted[0]!)) this.posted.shift()
  }

  private report(l1Head: bigint): void {
    const l2Head = this.modules.blocks.head.header.number
    this.metrics?.setLag(l2Head - this.confirmedThrough)
    const oldest = this.outgoing[0]?.channel.oldestEpoch ?? this.open?.builder.firstEpoch
    if (oldest === undefined) {
      this.metrics?.setOldestEpochAge(0n)
      return
    }
    const age = l1Head - oldest
    this.metrics?.setOldestEpochAge(age)
    if (age > this.modules.rollup.seqWindowSize / 2n)
      this.logger.warn(
        {
          epoch: oldest.toString(),
          l1Head: l1Head.toString(),
          seqWindowSize: this.modules.rollup.seqWindowSize.toString(),
          alarm: true,
        },
        'oldest unposted batch is past half the sequencing window',
      )
  }
}

/**
 * Whether blob data costs less per byte than calldata: calldata pays EIP-7623's floor gas per
 * non-zero byte (compressed data is nearly all non-zero) at `gasPrice`; blobs pay 131,072 blob gas
 * per 130,044 bytes at `blobBaseFee`, plus a 21,000-gas transaction per `blobsPerTx` blobs.
 */
export function blobsCheaper(gasPrice: bigint, blobBaseFee: bigint, blobsPerTx: number): boolean {
  const probe = new Uint8Array(1000).fill(1)
  const calldataPerKb = (calldataGas(probe) - 21_000n) * gasPrice
  const blobBytes = BigInt(MAX_BLOB_DATA_SIZE * blobsPerTx)
  const blobPerKb = ((131_072n * BigInt(blobsPerTx) * blobBaseFee + 21_000n * gasPrice) * 1000n) / blobBytes
  return blobPerKb < calldataPerKb
}
