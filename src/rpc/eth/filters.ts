/**
 * Polling filters: `eth_newFilter`, `eth_newBlockFilter`, `eth_newPendingTransactionFilter`,
 * `eth_getFilterChanges`, `eth_getFilterLogs`, `eth_uninstallFilter`.
 *
 * Log filters are realtime: a log is queued when its mini-block lands (`blockHash: null`, as
 * MegaETH's realtime receipts), so a client polling every 10 ms sees it within one poll rather than
 * after the 1 s seal. Each log is queued exactly once — its later appearance in the sealed block is
 * not reported again (see `watchLiveReceipts`).
 */
import { performance } from 'node:perf_hooks'
import type { SealedBlock } from '../../chain/block.ts'
import type { MiniBlock } from '../../chain/mini-block.ts'
import type { TxReceipt } from '../../chain/receipt.ts'
import type { Hex } from '../../primitives/state-diff.ts'
import type { ChainView } from '../../storage/chain-view.ts'
import { type RpcError, invalidInput, invalidParams, limitExceeded, resourceUnavailable } from '../errors.ts'
import { expectParams, invalidArgument } from '../params.ts'
import type { RpcHandler } from '../registry.ts'
import { newSubscriptionId } from '../ws-connection.ts'
import type { EthBackend } from './backend.ts'
import { formatLog, unsealedBlockHash, type RpcObject } from './format.ts'
import { matchesLog, parseLogFilter, type LogFilter } from './log-filter.ts'
import { queryLogs } from './logs.ts'

/** Reports an exception thrown inside a chain-event listener (which must never reach the producer). */
export type ListenerErrorHandler = (error: unknown, where: string) => void

/**
 * Wraps a chain-event listener: ChainView emits synchronously from the producer's and sealer's
 * paths, so an exception escaping here would fail block production, not just this RPC feature.
 */
export function guardListener<A extends unknown[]>(
  where: string,
  onError: ListenerErrorHandler,
  fn: (...args: A) => void,
): (...args: A) => void {
  return (...args) => {
    try {
      fn(...args)
    } catch (error) {
      try {
        onError(error, where)
      } catch {
        // The error reporter itself failed: nothing sensible left to do on the producer's stack.
      }
    }
  }
}

/** The newest mini-block the chain has published (sealed or not); −1 before the first. */
function lastMiniBlockNumber(chain: ChainView): bigint {
  const tip = chain.latestMiniBlock
  if (tip !== undefined) return tip.number
  const { first, count } = chain.head.miniBlocks
  return first + BigInt(count) - 1n
}

/**
 * Calls `listener` with every receipt that becomes visible from now on, exactly once: when its
 * mini-block lands (`blockHash` null), or — for a mini-block this node never received as such, e.g.
 * a replica catching up from sealed blocks — when its EVM block is sealed (`blockHash` set).
 * Relies on mini-block numbers being published in ascending order. Returns the detach function.
 */
export function watchLiveReceipts(
  chain: ChainView,
  listener: (receipts: readonly TxReceipt[], blockHash: Hex | null) => void,
): () => void {
  let lastSeen = lastMiniBlockNumber(chain)
  const onMiniBlock = (block: MiniBlock): void => {
    if (block.number <= lastSeen) return
    lastSeen = block.number
    if (block.receipts.length > 0) listener(block.receipts, null)
  }
  const onBlock = (block: SealedBlock): void => {
    const end = block.miniBlocks.first + BigInt(block.miniBlocks.count) - 1n
    if (end <= lastSeen) return
    const threshold = lastSeen
    lastSeen = end
    const missed = block.receipts.filter((r) => r.miniBlockNumber > threshold)
    if (missed.length > 0) listener(missed, block.hash)
  }
  chain.events.on('miniBlock', onMiniBlock)
  chain.events.on('block', onBlock)
  return () => {
    chain.events.off('miniBlock', onMiniBlock)
    chain.events.off('block', onBlock)
  }
}

/**
 * FIFO of at most `capacity` entries that overwrites its oldest entry when full (O(1) per push).
 * Storage grows with what it holds (doubling, up to `capacity`) and is let go when drained: an idle
 * filter costs a few bytes, not its cap (reserving the cap up front made 10,000 idle block filters
 * hold 800 MB).
 */
class RingBuffer<T> {
  private slots: Array<T | undefined> = []
  private start = 0
  private length = 0
  /** Entries overwritten since the last drain. */
  dropped = 0

  constructor(private readonly capacity: number) {}

  push(item: T): void {
    if (this.length === this.slots.length && this.length < this.capacity) this.grow()
    const room = this.slots.length
    if (this.length === room) {
      this.slots[this.start] = item
      this.start = (this.start + 1) % room
      this.dropped++
      return
    }
    this.slots[(this.start + this.length) % room] = item
    this.length++
  }

  drain(): T[] {
    const out: T[] = new Array<T>(this.length)
    for (let i = 0; i < this.length; i++) out[i] = this.slots[(this.start + i) % this.slots.length] as T
    this.slots = []
    this.start = 0
    this.length = 0
    this.dropped = 0
    return out
  }

  /** Doubles the storage (at least 16, at most `capacity`), unrolling the ring so it starts at 0. */
  private grow(): void {
    const next = new Array<T | undefined>(Math.min(this.capacity, Math.max(16, this.slots.length * 2)))
    for (let i = 0; i < this.length; i++) next[i] = this.slots[(this.start + i) % this.slots.length]
    this.slots = next
    this.start = 0
  }
}

interface LogFilterState {
  kind: 'logs'
  filter: LogFilter & { kind: 'range' }
  /** Numeric bounds constrain live logs by block number; tag bounds do not (geth). */
  minBlock: bigint | undefined
  maxBlock: bigint | undefined
  /** Logs since the last poll; `undefined` once the filter overflowed and let go of them. */
  pending: RpcObject[] | undefined
  lastPolled: number
}

interface HashFilterState {
  kind: 'blocks' | 'pendingTransactions'
  pending: RingBuffer<Hex>
  lastPolled: number
}

/** Who installed a filter (the peer's address): installs are capped per client. */
type FilterState = (LogFilterState | HashFilterState) & { client: string }

export interface FilterManagerOptions {
  onListenerError?: ListenerErrorHandler
  /** Monotonic milliseconds; injectable for tests. */
  now?: () => number
}

/** geth's wording (`errFilterNotFound`), code -32000: viem re-creates a filter when polling fails with -32000. */
export function filterNotFound(): RpcError {
  return invalidInput('filter not found')
}

/**
 * Installed filters and what they have accumulated. Buffers are bounded by `maxLogsResults`
 * entries (a poll answers no more than one eth_getLogs would):
 * - block and pending-transaction filters keep the newest entries and drop the oldest — they are
 *   hints a client re-syncs from anyway;
 * - a log filter that overflows releases its buffer at once and answers its next poll with -32005
 *   (then it is gone), because silently skipping logs would corrupt the client's view; it can
 *   reinstall and recover the gap with eth_getLogs.
 * Filters not polled within `filterTimeoutMs` are removed, so an abandoned one costs at most
 * one buffer for that long. At most `maxFilters` are installed at once, `maxFiltersPerClient` of them
 * by one client (its peer address, over HTTP and WebSocket alike), so one client cannot take them all.
 */
export class FilterManager {
  private readonly filters = new Map<Hex, FilterState>()
  /** Installed filters per client. */
  private readonly perClient = new Map<string, number>()
  private readonly onListenerError: ListenerErrorHandler
  private readonly now: () => number
  private readonly capacity: number
  private detach: Array<() => void> = []
  private sweepTimer: NodeJS.Timeout | undefined

  constructor(
    private readonly backend: EthBackend,
    options: FilterManagerOptions = {},
  ) {
    this.onListenerError = options.onListenerError ?? (() => undefined)
    this.now = options.now ?? (() => performance.now())
    this.capacity = Math.max(1, backend.options.maxLogsResults)
  }

  get running(): boolean {
    return this.sweepTimer !== undefined
  }

  /** Number of installed filters. */
  get size(): number {
    return this.filters.size
  }

  /** Attaches to the chain and the pool and starts expiring idle filters. Idempotent. */
  start(): void {
    if (this.running) return
    const { chain } = this.backend
    this.detach.push(
      watchLiveReceipts(
        chain,
        guardListener('filters: logs', this.onListenerError, (receipts, blockHash) => this.onReceipts(receipts, blockHash)),
      ),
    )
    const onBlock = guardListener('filters: blocks', this.onListenerError, (block: SealedBlock) =>
      this.pushHash('blocks', block.hash),
    )
    chain.events.on('block', onBlock)
    this.detach.push(() => chain.events.off('block', onBlock))
    this.detach.push(
      this.backend.onPendingTransaction(
        guardListener('filters: pending transactions', this.onListenerError, (hash: Hex) =>
          this.pushHash('pendingTransactions', hash),
        ),
      ),
    )
    const timeout = this.backend.options.filterTimeoutMs
    // A few sweeps per timeout bounds how long past its deadline a filter lingers.
    const interval = Math.min(Math.max(Math.floor(timeout / 4), 10), 60_000)
    this.sweepTimer = setInterval(() => this.expire(), interval)
    this.sweepTimer.unref()
  }

  /** Detaches everything and drops every filter. */
  stop(): void {
    clearInterval(this.sweepTimer)
    this.sweepTimer = undefined
    for (const detach of this.detach.splice(0)) detach()
    this.filters.clear()
    this.perClient.clear()
  }

  /** `client`: who installs it (the peer address), for the per-client cap. */
  newLogFilter(filter: LogFilter, client: string): Hex {
    if (filter.kind !== 'range') throw invalidArgument(0, 'blockHash is not supported by eth_newFilter; use eth_getLogs')
    return this.install(client, {
      kind: 'logs',
      filter,
      minBlock: filter.fromBlock.kind === 'number' ? filter.fromBlock.number : undefined,
      maxBlock: filter.toBlock.kind === 'number' ? filter.toBlock.number : undefined,
      pending: [],
      lastPolled: this.now(),
    })
  }

  newBlockFilter(client: string): Hex {
    return this.install(client, { kind: 'blocks', pending: new RingBuffer<Hex>(this.capacity), lastPolled: this.now() })
  }

  newPendingTransactionFilter(client: string): Hex {
    return this.install(client, {
      kind: 'pendingTransactions',
      pending: new RingBuffer<Hex>(this.capacity),
      lastPolled: this.now(),
    })
  }

  /** What accumulated since the last poll: logs, block hashes or transaction hashes. */
  changes(id: string): unknown[] {
    const state = this.lookup(id)
    state.lastPolled = this.now()
    if (state.kind !== 'logs') return state.pending.drain()
    if (state.pending === undefined) {
      this.remove(id as Hex, state)
      throw limitExceeded(
        `filter overflowed: more than ${this.capacity} logs since the last poll; install a new filter and use eth_getLogs to recover the gap`,
      )
    }
    const out = state.pending
    state.pending = []
    return out
  }

  /** eth_getFilterLogs: the filter's query run now, tags resolved against the current head. */
  async filterLogs(id: string, signal?: AbortSignal): Promise<RpcObject[]> {
    const state = this.lookup(id)
    if (state.kind !== 'logs') throw filterNotFound()
    state.lastPolled = this.now()
    return queryLogs(this.backend.chain, this.backend.options, state.filter, signal)
  }

  uninstall(id: string): boolean {
    const state = this.filters.get(id as Hex)
    if (state === undefined) return false
    this.remove(id as Hex, state)
    return true
  }

  /** Removes filters not polled within `filterTimeoutMs` (runs on the sweep timer; public for tests and shutdown paths). */
  expire(): void {
    const deadline = this.now() - this.backend.options.filterTimeoutMs
    for (const [id, state] of this.filters) if (state.lastPolled < deadline) this.remove(id, state)
  }

  /** JSON-RPC handlers for the filter family. */
  handlers(): Record<string, RpcHandler> {
    return {
      eth_newFilter: (params, ctx) => {
        const [filter] = expectParams(params, 1)
        return this.newLogFilter(parseLogFilter(filter, 0), ctx.remoteAddress)
      },
      eth_newBlockFilter: (params, ctx) => {
        expectParams(params, 0)
        return this.newBlockFilter(ctx.remoteAddress)
      },
      eth_newPendingTransactionFilter: (params, ctx) => {
        // geth accepts an optional `fullTx` flag; hashes are all the pool exposes to RPC, so it is accepted and ignored.
        expectParams(params, 0, 1)
        return this.newPendingTransactionFilter(ctx.remoteAddress)
      },
      eth_getFilterChanges: (params) => this.changes(parseFilterId(params)),
      eth_getFilterLogs: (params, ctx) => this.filterLogs(parseFilterId(params), ctx.signal),
      eth_uninstallFilter: (params) => this.uninstall(parseFilterId(params)),
    }
  }

  private install(client: string, filter: LogFilterState | HashFilterState): Hex {
    // A wiring mistake (never started) would otherwise look like a chain without activity.
    if (!this.running) throw resourceUnavailable('filters are not available: the filter manager is not running')
    const { maxFilters, maxFiltersPerClient } = this.backend.options
    if (this.filters.size >= maxFilters)
      throw limitExceeded(`limit exceeded: ${this.filters.size} filters installed (max ${maxFilters})`)
    const installed = this.perClient.get(client) ?? 0
    if (installed >= maxFiltersPerClient)
      throw limitExceeded(`limit exceeded: ${installed} filters installed by this client (max ${maxFiltersPerClient})`)
    let id = newSubscriptionId()
    while (this.filters.has(id)) id = newSubscriptionId()
    this.filters.set(id, { ...filter, client })
    this.perClient.set(client, installed + 1)
    return id
  }

  private remove(id: Hex, state: FilterState): void {
    this.filters.delete(id)
    const left = (this.perClient.get(state.client) ?? 1) - 1
    if (left > 0) this.perClient.set(state.client, left)
    else this.perClient.delete(state.client)
  }

  private lookup(id: string): FilterState {
    const state = this.filters.get(id as Hex)
    if (state === undefined) throw filterNotFound()
    return state
  }

  private pushHash(kind: HashFilterState['kind'], hash: Hex): void {
    for (const state of this.filters.values()) if (state.kind === kind) state.pending.push(hash)
  }

  private onReceipts(receipts: readonly TxReceipt[], blockHash: Hex | null): void {
    const logFilters: LogFilterState[] = []
    for (const state of this.filters.values()) if (state.kind === 'logs' && state.pending !== undefined) logFilters.push(state)
    if (logFilters.length === 0) return
    for (const receipt of receipts) {
      receipt.logs.forEach((log, i) => {
        // Formatted once and shared by every filter that matches: nothing mutates it after this.
        let formatted: RpcObject | undefined
        for (const state of logFilters) {
          if (state.pending === undefined || !inLiveRange(state, receipt.blockNumber) || !matchesLog(state.filter, log)) continue
          if (state.pending.length >= this.capacity) {
            state.pending = undefined
            continue
          }
          formatted ??= formatLog(log, receipt, receipt.logIndexStart + i, blockHash ?? unsealedBlockHash(receipt.blockNumber))
          state.pending.push(formatted)
        }
      })
    }
  }
}

function inLiveRange(state: LogFilterState, blockNumber: bigint): boolean {
  return (
    (state.minBlock === undefined || blockNumber >= state.minBlock) &&
    (state.maxBlock === undefined || blockNumber <= state.maxBlock)
  )
}

/** Filter ids are opaque strings; ours are lower-case hex, so case is normalized for lenient clients. */
function parseFilterId(params: unknown[]): string {
  const [id] = expectParams(params, 1)
  if (typeof id !== 'string') throw invalidParams('invalid argument 0: expected a filter id string')
  return id.toLowerCase()
}
