/**
 * Follows L1: its head, `safe` and `finalized` tags, and a window of confirmed L1 origins (blocks at least
 * `confirmations` below the head) from the rollup's genesis L1 block on, read in order so the system config
 * carries from block to block. Reads are synchronous (the sequencer's 10 ms loop cannot await RPC); the poll
 * loop runs beside it. A reorg is found by hash (the cached block at a height is no longer the canonical one):
 * the dropped origins go (their deposits with them), `reorg` is emitted, and the new blocks are read again.
 * An L1 outage sets `failure` (an alarm) while polling continues with backoff; nothing is lost.
 */
import { EventEmitter } from 'node:events'
import type { Logger } from 'pino'
import type { Hex } from 'viem'
import { type L1BlockRef, type L1Origin, l1BlockRefOf, type SystemConfigValues } from '../chain/l1-origin.ts'
import type { RollupConfig } from '../chain/rollup-config.ts'
import { errorMessage, NodeError } from '../primitives/errors.ts'
import {
  fetchHeader,
  fetchL1BlockRef,
  fetchRollupLogs,
  L1BlockNotFoundError,
  type L1Client,
  l1BlockRefOfHeader,
  type L1Header,
  l1OriginFromBlock,
  type L1Log,
} from './l1-fetch.ts'
import type { L1WatcherMetrics } from './l1-watcher-metrics.ts'
import { DEFAULT_L1_WATCHER_OPTIONS, type L1WatcherOptions } from './l1-watcher-options.ts'

export interface L1Reorg {
  /** The newest cached origin still canonical. */
  readonly commonAncestor: L1BlockRef
  /** The origins that left the canonical chain, oldest first. */
  readonly dropped: readonly L1BlockRef[]
}

export interface L1WatcherEvents {
  origin: [L1Origin]
  reorg: [L1Reorg]
}

/** L1 could not be read, or does not hold what the rollup config says (the message has no RPC URL in it). */
export class L1WatcherError extends NodeError<
  'L1_RPC_FAILED' | 'L1_GENESIS_MISMATCH' | 'L1_REORG_TOO_DEEP' | 'L1_WATCHER_STOPPED',
  undefined
> {
  override readonly name = 'L1WatcherError'
}

/** An origin asked for by hash that cannot be served (unknown block, or reorged out and not cached). */
export class L1OriginUnavailableError extends NodeError<'L1_ORIGIN_UNAVAILABLE', undefined> {
  override readonly name = 'L1OriginUnavailableError'
  constructor(message: string) {
    super('L1_ORIGIN_UNAVAILABLE', message, { severity: 'temporary' })
  }
}

export interface L1WatcherDeps {
  client: L1Client
  rollup: RollupConfig
  options?: Partial<L1WatcherOptions>
  logger: Logger
  metrics?: L1WatcherMetrics
  /** Removes secrets (the RPC URL) from error texts before they are kept or logged. */
  scrub?: (text: string) => string
}

export class L1Watcher extends EventEmitter<L1WatcherEvents> {
  private readonly client: L1Client
  private readonly rollup: RollupConfig
  private readonly options: L1WatcherOptions
  private readonly logger: Logger
  private readonly metrics: L1WatcherMetrics | undefined
  private readonly scrub: (text: string) => string
  /** The canonical confirmed window, contiguous by number. */
  private readonly origins = new Map<bigint, L1Origin>()
  private readonly byHash = new Map<Hex, L1Origin>()
  /** Origins fetched by hash outside the window (crash recovery), a few kept. */
  private readonly extra = new Map<Hex, L1Origin>()
  /** Blocks whose logs changed the config, oldest first (with genesis): the config of any canonical block. */
  private configChanges: Array<{ number: bigint; config: SystemConfigValues }>
  private oldest: bigint | undefined
  private tip: L1Origin | undefined
  private headRef: L1BlockRef | undefined
  private safeRef: L1BlockRef | undefined
  private finalizedRef: L1BlockRef | undefined
  private lastFailure: Error | undefined
  private pruneFloor: bigint | undefined
  private stopped = false
  private running: Promise<void> | undefined
  private wake: (() => void) | undefined
  private firstSync: { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } | undefined

  constructor(deps: L1WatcherDeps) {
    super()
    this.client = deps.client
    this.rollup = deps.rollup
    this.options = { ...DEFAULT_L1_WATCHER_OPTIONS, ...deps.options }
    this.logger = deps.logger
    this.metrics = deps.metrics
    this.scrub = deps.scrub ?? ((text) => text)
    this.configChanges = [{ number: deps.rollup.genesis.l1.number, config: deps.rollup.genesis.systemConfig }]
  }

  /** Starts polling; resolves after the first poll that reached the confirmed target. Rejects if stopped first. */
  start(): Promise<void> {
    if (this.firstSync !== undefined) return this.firstSync.promise
    let resolve!: () => void
    let reject!: (e: Error) => void
    const promise = new Promise<void>((res, rej) => {
      resolve = res
      reject = rej
    })
    this.firstSync = { promise, resolve, reject }
    this.running = this.loop()
    return promise
  }

  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    this.wake?.()
    this.firstSync?.reject(new L1WatcherError('L1_WATCHER_STOPPED', 'the L1 watcher stopped before its first sync'))
    // A start() nobody awaits must not surface as an unhandled rejection.
    this.firstSync?.promise.catch(() => undefined)
    await this.running
  }

  get head(): L1BlockRef | undefined {
    return this.headRef
  }

  /** The newest confirmed origin's ref. */
  get confirmedHead(): L1BlockRef | undefined {
    return this.tip === undefined ? undefined : l1BlockRefOf(this.tip)
  }

  get safe(): L1BlockRef | undefined {
    return this.safeRef
  }

  get finalized(): L1BlockRef | undefined {
    return this.finalizedRef
  }

  /** The last L1 error while it persists (undefined once a poll succeeds again). */
  get failure(): Error | undefined {
    return this.lastFailure
  }

  /** The canonical confirmed origin at `number`, if cached. */
  origin(number: bigint): L1Origin | undefined {
    return this.origins.get(number)
  }

  /** How many origins the window holds (metrics, tests). */
  get cachedOrigins(): number {
    return this.origins.size
  }

  /**
   * The origin with this hash: cached, or fetched (crash recovery: the L2 head's origin after a restart). A block
   * outside the window takes its config from the config history when it is canonical, or from its cached parent.
   * @throws L1OriginUnavailableError
   */
  async originByHash(hash: Hex): Promise<L1Origin> {
    const key = hash.toLowerCase() as Hex
    const cached = this.byHash.get(key) ?? this.extra.get(key)
    if (cached !== undefined) return cached
    let header: L1Header
    try {
      header = await fetchHeader(this.client, key)
    } catch (error) {
      if (error instanceof L1BlockNotFoundError) throw new L1OriginUnavailableError(`L1 block ${key} is unknown to the L1 node`)
      throw this.rpcError(error)
    }
    const ref = l1BlockRefOfHeader(header)
    const genesis = this.rollup.genesis.l1
    if (ref.number < genesis.number) throw new L1OriginUnavailableError(`L1 block ${key} is before the rollup's genesis`)
    let configBefore: SystemConfigValues | undefined = this.byHash.get(ref.parentHash)?.systemConfig
    if (ref.number === genesis.number) configBefore = this.rollup.genesis.systemConfig
    if (configBefore === undefined) {
      const canonical = await fetchL1BlockRef(this.client, ref.number).catch((error: unknown) => {
        throw this.rpcError(error)
      })
      if (canonical.hash !== ref.hash || this.tip === undefined || ref.number > this.tip.number)
        throw new L1OriginUnavailableError(`L1 block ${key} (${ref.number}) is not a confirmed canonical block`)
      configBefore = this.configAt(ref.number - 1n)
    }
    const logs = await fetchRollupLogs(this.client, this.rollup, ref.hash).catch((error: unknown) => {
      throw this.rpcError(error)
    })
    const origin = this.assemble(header, logs, configBefore)
    if (this.extra.size >= 64) this.extra.delete(this.extra.keys().next().value!)
    this.extra.set(origin.hash, origin)
    return origin
  }

  /** The oldest origin a caller still needs: older ones may be dropped (`retainOrigins` are kept behind it). */
  prune(belowNumber: bigint): void {
    if (this.pruneFloor === undefined || belowNumber > this.pruneFloor) this.pruneFloor = belowNumber
    this.trim()
  }

  // --- polling -------------------------------------------------------------------------------------

  private async loop(): Promise<void> {
    let delay = this.options.pollMs
    while (!this.stopped) {
      try {
        await this.poll()
        if (this.lastFailure !== undefined) this.logger.info('L1 reachable again: following it from where it stopped')
        this.lastFailure = undefined
        delay = this.options.pollMs
        this.firstSync?.resolve()
      } catch (error) {
        if (this.stopped) break
        const failure = this.rpcError(error)
        if (this.lastFailure === undefined || this.lastFailure.message !== failure.message)
          this.logger.warn({ err: { message: failure.message, code: failure.code } }, 'L1 poll failed; retrying with backoff')
        this.lastFailure = failure
        this.metrics?.observeRpcError()
        delay = Math.min(delay * 2, this.options.maxBackoffMs)
      }
      await this.sleep(delay)
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      function done(): void {
        clearTimeout(timer)
        resolve()
      }
      this.wake = done
    })
  }

  private async poll(): Promise<void> {
    const head = await fetchL1BlockRef(this.client, 'latest')
    const [safe, finalized] = await Promise.all([this.optionalTag('safe'), this.optionalTag('finalized')])
    this.headRef = head
    this.safeRef = safe
    this.finalizedRef = finalized
    await this.checkReorg(head)
    const target = head.number - BigInt(this.options.confirmations)
    let next = this.tip === undefined ? this.rollup.genesis.l1.number : this.tip.number + 1n
    while (next <= target && !this.stopped) {
      const last =
        next + BigInt(this.options.fetchConcurrency) - 1n < target ? next + BigInt(this.options.fetchConcurrency) - 1n : target
      const numbers: bigint[] = []
      for (let n = next; n <= last; n++) numbers.push(n)
      const headers = await Promise.all(numbers.map((n) => fetchHeader(this.client, n)))
      const logs = await Promise.all(headers.map((h) => fetchRollupLogs(this.client, this.rollup, h.hash!)))
      for (let i = 0; i < headers.length; i++) {
        // The chain moved under us (a reorg between two reads): the next poll finds the fork point.
        if (!this.append(headers[i]!, logs[i]!)) return
      }
      next = last + 1n
    }
    this.metrics?.setHeads({
      head: head.number,
      confirmed: this.tip?.number,
      safe: safe?.number,
      finalized: finalized?.number,
    })
  }

  /**
   * `safe` / `finalized` as the L1 reports them; undefined where the L1 has no such block yet. An L1 that refuses
   * the tag (a pre-merge chain) must not stop the watcher: the last value stays (the `latest` read has succeeded).
   */
  private async optionalTag(tag: 'safe' | 'finalized'): Promise<L1BlockRef | undefined> {
    try {
      return await fetchL1BlockRef(this.client, tag)
    } catch (error) {
      if (error instanceof L1BlockNotFoundError) return undefined
      return tag === 'safe' ? this.safeRef : this.finalizedRef
    }
  }

  /** Adds the next block's origin; false when it does not extend the tip (a reorg happened meanwhile). */
  private append(header: L1Header, logs: readonly L1Log[]): boolean {
    const ref = l1BlockRefOfHeader(header)
    const genesis = this.rollup.genesis.l1
    let configBefore: SystemConfigValues
    if (this.tip === undefined) {
      if (ref.number !== genesis.number || ref.hash !== genesis.hash.toLowerCase())
        throw new L1WatcherError(
          'L1_GENESIS_MISMATCH',
          `L1 block ${ref.number} is ${ref.hash}, but the rollup config's genesis.l1 is ${genesis.hash} at ${genesis.number}: wrong L1 or wrong rollup config`,
          { severity: 'critical' },
        )
      configBefore = this.rollup.genesis.systemConfig
    } else {
      if (ref.parentHash !== this.tip.hash) return false
      configBefore = this.tip.systemConfig
    }
    let origin = this.assemble(header, logs, configBefore)
    // The genesis origin's config is the rollup config's, whatever its logs (they set up that config).
    if (this.tip === undefined) origin = { ...origin, systemConfig: this.rollup.genesis.systemConfig }
    else if (origin.systemConfig !== configBefore) this.configChanges.push({ number: origin.number, config: origin.systemConfig })
    this.origins.set(origin.number, origin)
    this.byHash.set(origin.hash, origin)
    this.oldest ??= origin.number
    this.tip = origin
    this.metrics?.observeOrigin(origin.deposits.length)
    this.emit('origin', origin)
    this.trim()
    return true
  }

  private assemble(header: L1Header, logs: readonly L1Log[], configBefore: SystemConfigValues): L1Origin {
    return l1OriginFromBlock(this.rollup, header, logs, configBefore, {
      ...(this.options.blobBaseFeeUpdateFraction === undefined
        ? {}
        : { blobBaseFeeUpdateFraction: this.options.blobBaseFeeUpdateFraction }),
      onSkippedLog: (kind, log, reason) => {
        this.metrics?.observeSkippedLog(kind)
        this.logger.warn({ kind, block: header.number?.toString(), logIndex: log.logIndex, reason }, 'L1 log ignored')
      },
    })
  }

  /**
   * Compares the cached tip (or the head's height, if the head went back) with the canonical chain; on a mismatch
   * walks back to the newest cached block still canonical and drops everything above it.
   */
  private async checkReorg(head: L1BlockRef): Promise<void> {
    const tip = this.tip
    if (tip === undefined || this.oldest === undefined) return
    let n = head.number < tip.number ? head.number : tip.number
    if (n < this.oldest) n = this.oldest
    let ancestor: L1Origin | undefined
    for (; n >= this.oldest; n--) {
      const cached = this.origins.get(n)!
      const canonical = n === head.number ? head : await this.canonicalRef(n)
      if (canonical?.hash === cached.hash) {
        ancestor = cached
        break
      }
    }
    if (ancestor === undefined) {
      throw new L1WatcherError(
        'L1_REORG_TOO_DEEP',
        this.oldest === this.rollup.genesis.l1.number
          ? `the rollup's genesis L1 block ${this.rollup.genesis.l1.hash} is no longer canonical`
          : `an L1 reorg deeper than the ${this.origins.size} cached origins (below block ${this.oldest})`,
        { severity: 'critical' },
      )
    }
    if (ancestor.number === tip.number) return
    const dropped: L1BlockRef[] = []
    for (let m = ancestor.number + 1n; m <= tip.number; m++) {
      const origin = this.origins.get(m)
      if (origin === undefined) continue
      dropped.push(l1BlockRefOf(origin))
      this.origins.delete(m)
      this.byHash.delete(origin.hash)
    }
    this.configChanges = this.configChanges.filter((c) => c.number <= ancestor.number)
    this.tip = ancestor
    this.metrics?.observeReorg(dropped.length)
    this.logger.warn(
      { commonAncestor: ancestor.number.toString(), dropped: dropped.map((d) => d.number.toString()) },
      'L1 reorg: dropped origins above the common ancestor',
    )
    this.emit('reorg', { commonAncestor: l1BlockRefOf(ancestor), dropped })
  }

  private async canonicalRef(n: bigint): Promise<L1BlockRef | undefined> {
    try {
      return await fetchL1BlockRef(this.client, n)
    } catch (error) {
      if (error instanceof L1BlockNotFoundError) return undefined
      throw error
    }
  }

  private configAt(number: bigint): SystemConfigValues {
    let config = this.rollup.genesis.systemConfig
    for (const change of this.configChanges) {
      if (change.number > number) break
      config = change.config
    }
    return config
  }

  /** Drops origins more than `retainOrigins` behind the oldest one still needed (the confirmed tip without `prune`). */
  private trim(): void {
    if (this.tip === undefined || this.oldest === undefined) return
    const needed = this.pruneFloor !== undefined && this.pruneFloor <= this.tip.number ? this.pruneFloor : this.tip.number
    const keepFrom = needed - BigInt(this.options.retainOrigins)
    while (this.oldest < keepFrom && this.oldest < this.tip.number) {
      const origin = this.origins.get(this.oldest)
      if (origin !== undefined) {
        this.origins.delete(this.oldest)
        this.byHash.delete(origin.hash)
      }
      this.oldest++
    }
    this.metrics?.setCachedOrigins(this.origins.size)
  }

  /** An error safe to keep and log: a typed one, with the RPC URL scrubbed from its text. */
  private rpcError(error: unknown): L1WatcherError | L1OriginUnavailableError {
    if (error instanceof L1WatcherError || error instanceof L1OriginUnavailableError) return error
    const text = error instanceof Error && 'shortMessage' in error ? String(error.shortMessage) : errorMessage(error)
    const details = error instanceof Error && 'details' in error && typeof error.details === 'string' ? `: ${error.details}` : ''
    return new L1WatcherError('L1_RPC_FAILED', this.scrub(`L1 RPC failed: ${text}${details}`), { severity: 'temporary' })
  }
}
