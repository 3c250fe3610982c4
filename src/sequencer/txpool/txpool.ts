/**
 * The sequencer's transaction pool.
 *
 * Per sender, txs split into
 *  - pending: the contiguous nonce run starting at the sender's state nonce (executable now);
 *  - queued: the rest, behind a nonce gap, promoted once the gap fills.
 *
 * The pool reads nonces and balances through an injected synchronous `PoolStateReader` and caches
 * each sender's state nonce; the sequencer tells it when state moved (`markIncluded`,
 * `onStateChanged`). Stateless validity (signature, chain id, intrinsic gas...) is the decoder's job:
 * the pool only accepts `DecodedTx`s.
 *
 * `pick` runs every mini-block (10 ms) with thousands of pending txs, so senders sit in a heap keyed
 * by the effective tip of their next tx: picking k txs costs O(k log senders), not a full sort.
 */
import type { Hex } from '../../primitives/state-diff.ts'
import { effectiveTip } from '../../execution/fees.ts'
import type { DecodedTx } from '../ingest/decode.ts'
import { rejectTx } from '../ingest/errors.ts'
import { IndexedHeap } from './heap.ts'
import { type TxPoolOptions, resolveTxPoolOptions } from './options.ts'

/** The state the pool validates against; synchronous because the pool sits on the sequencer's hot path. */
export interface PoolStateReader {
  getNonce(sender: Hex): bigint
  getBalance(sender: Hex): bigint
}

export interface AddResult {
  status: 'pending' | 'queued'
  /** Hash of the tx this one replaced (same sender and nonce). */
  replaced?: Hex
}

export interface PickOptions {
  maxCount: number
  maxGas: bigint
  /** Base fee of the block being built: orders by effective tip and skips txs that cannot pay it. */
  baseFee: bigint
}

/** Why a tx left the pool without being included. */
export type DropReason = 'replaced' | 'evicted' | 'expired' | 'stale' | 'unaffordable' | 'failed'

export interface DroppedTx {
  hash: Hex
  sender: Hex
  nonce: bigint
  reason: DropReason
  /** For `failed`: the reason given to `markFailed`. */
  detail?: string
}

/** txpool_content-style dump: per sender, txs in nonce order. */
export interface TxPoolContent {
  pending: Map<Hex, DecodedTx[]>
  queued: Map<Hex, DecodedTx[]>
}

export interface TxPoolInit {
  state: PoolStateReader
  /** Current base fee: txs whose fee cap is below it are refused (see `add`). */
  baseFee: bigint
  options?: Partial<TxPoolOptions>
  /** Clock for queued-tx ages; injectable for tests. */
  now?: () => number
  /** Where exceptions thrown by event listeners go; they never abort a pool operation. */
  onListenerError?: (err: unknown) => void
}

/** No tx needs less gas than this, so `pick` stops when less gas than this is left. */
const MIN_TX_GAS = 21_000n

interface Entry {
  readonly tx: DecodedTx
  readonly account: Account
  /** Arrival order; breaks ties (earlier first). */
  readonly seq: number
  pending: boolean
  /** When it last became queued; `prune` expires on this. */
  queuedSince: number
  /** Position in the queued heap, -1 when pending. */
  queuedIndex: number
}

interface Account {
  readonly address: Hex
  /** The sender's next nonce per the state reader, as of the last refresh. */
  stateNonce: bigint
  /** First nonce after the pending run: `eth_getTransactionCount(addr, 'pending')`. */
  pendingEnd: bigint
  readonly txs: Map<bigint, Entry>
  heapIndex: number
  /** The nonce this account is keyed by in the sender heap: its head, except during `pick`. */
  cursor: bigint
  /**
   * Effective tip of the tx at `cursor` at `heapBaseFee` (negative if it cannot pay the base fee),
   * as a double: heap comparisons are the hot loop of `pick`, and number compares are several
   * times cheaper than bigint ones. Exact up to 2^53 wei (9 million gwei) of tip; beyond that,
   * near-equal tips may tie and fall back to arrival order.
   */
  key: number
  keySeq: number
  /** `pick` call that last moved this account's cursor; tells it which accounts to restore. */
  pickEpoch: number
}

export class TxPool {
  readonly options: Readonly<TxPoolOptions>
  private readonly state: PoolStateReader
  private readonly now: () => number
  private readonly onListenerError: (err: unknown) => void
  private admissionBaseFee: bigint
  private readonly byHash = new Map<Hex, Entry>()
  private readonly accounts = new Map<Hex, Account>()
  /** Senders with pending txs, best next tx first. */
  private readonly senders: IndexedHeap<Account>
  /** The base fee the sender heap's keys were computed at. */
  private heapBaseFee: bigint
  /** Queued txs, lowest tip first: the eviction candidates. */
  private readonly queued: IndexedHeap<Entry>
  private seq = 0
  private pickEpoch = 0
  private readonly pendingListeners = new Set<(tx: DecodedTx) => void>()
  private readonly dropListeners = new Set<(dropped: DroppedTx) => void>()

  constructor(init: TxPoolInit) {
    this.options = Object.freeze(resolveTxPoolOptions(init.options))
    this.state = init.state
    this.admissionBaseFee = init.baseFee
    this.heapBaseFee = init.baseFee
    this.now = init.now ?? Date.now
    this.onListenerError =
      init.onListenerError ?? ((err) => process.emitWarning(err instanceof Error ? err : String(err), 'TxPoolListenerError'))
    this.senders = new IndexedHeap<Account>((a, b) => a.key > b.key || (a.key === b.key && a.keySeq < b.keySeq), {
      get: (a) => a.heapIndex,
      set: (a, i) => (a.heapIndex = i),
    })
    this.queued = new IndexedHeap<Entry>(
      (a, b) =>
        a.tx.maxPriorityFeePerGas < b.tx.maxPriorityFeePerGas ||
        (a.tx.maxPriorityFeePerGas === b.tx.maxPriorityFeePerGas && a.seq > b.seq),
      { get: (e) => e.queuedIndex, set: (e, i) => (e.queuedIndex = i) },
    )
  }

  get baseFee(): bigint {
    return this.admissionBaseFee
  }

  /** The base fee new txs must be able to pay. Call when a block with a new base fee starts. */
  setBaseFee(baseFee: bigint): void {
    this.admissionBaseFee = baseFee
  }

  /**
   * Admits a tx. Checks run in geth's order; every refusal is a `TxRejectedError`.
   *
   * Unlike geth, which queues a tx whose fee cap is below the base fee until fees drop, we refuse
   * it: clients of a real-time chain expect an immediate verdict, not a tx that silently waits.
   * The funds check is per tx against the current balance (as geth's), not cumulative over the
   * sender's pending txs; a tx that turns out unaffordable at execution is removed by `markFailed`.
   *
   * @throws TxRejectedError
   */
  add(tx: DecodedTx): AddResult {
    const opts = this.options
    if (this.byHash.has(tx.hash)) throw rejectTx('already-known')
    if (tx.size > opts.maxTxBytes) throw rejectTx('oversized', { size: tx.size, limit: opts.maxTxBytes })
    const account = this.accounts.get(tx.sender)
    const stateNonce = account?.stateNonce ?? this.state.getNonce(tx.sender)
    if (tx.nonce < stateNonce) throw rejectTx('nonce-too-low', { next: stateNonce, nonce: tx.nonce })
    if (tx.maxFeePerGas < this.admissionBaseFee) {
      throw rejectTx('fee-cap-below-base-fee', {
        address: tx.sender,
        maxFeePerGas: tx.maxFeePerGas,
        baseFee: this.admissionBaseFee,
      })
    }
    const balance = this.state.getBalance(tx.sender)
    const cost = txCost(tx)
    if (cost > balance) throw rejectTx('insufficient-funds', { balance, cost })

    const existing = account?.txs.get(tx.nonce)
    if (existing !== undefined) return this.replace(existing, tx)

    if (tx.nonce > (account?.pendingEnd ?? stateNonce) + BigInt(opts.maxNonceGap)) throw rejectTx('nonce-too-high')
    if (account !== undefined && account.txs.size >= opts.maxPerSender) throw rejectTx('account-limit')
    const dropped: DroppedTx[] = []
    if (this.byHash.size >= opts.maxTotal) dropped.push(this.evictFor(tx))

    const target = account ?? this.createAccount(tx.sender, stateNonce)
    const entry: Entry = { tx, account: target, seq: this.seq++, pending: false, queuedSince: this.now(), queuedIndex: -1 }
    target.txs.set(tx.nonce, entry)
    this.byHash.set(tx.hash, entry)

    const promoted: DecodedTx[] = []
    if (tx.nonce === target.pendingEnd) {
      let next = tx.nonce
      for (let e = entry as Entry | undefined; e !== undefined; e = target.txs.get(++next)) this.makePending(e, promoted)
      target.pendingEnd = next
      if (tx.nonce === target.stateNonce) this.reheap(target)
    } else {
      this.makeQueued(entry)
    }
    this.emit(promoted, dropped)
    return { status: entry.pending ? 'pending' : 'queued' }
  }

  /**
   * The next txs to execute: per sender in nonce order, across senders highest effective tip
   * (min(tip, maxFee - baseFee)) first, ties by arrival. Stops at `maxCount`, or when no sender's
   * next tx fits the remaining gas or can pay `baseFee` (such txs stay in the pool).
   *
   * Does not remove anything: report the outcome with `markIncluded` / `markFailed` before picking
   * again, or the same txs come back.
   */
  pick(opts: PickOptions): DecodedTx[] {
    if (opts.baseFee !== this.heapBaseFee) {
      this.heapBaseFee = opts.baseFee
      for (const account of this.senders.values()) this.keyAt(account, account.cursor)
      this.senders.rebuild()
    }
    const picked: DecodedTx[] = []
    const touched: Account[] = []
    const epoch = ++this.pickEpoch
    let gasLeft = opts.maxGas
    while (picked.length < opts.maxCount && gasLeft >= MIN_TX_GAS) {
      const account = this.senders.peek()
      // Keys are effective tips: once the best is negative, no remaining sender can pay the base fee.
      if (account === undefined || account.key < 0) break
      if (account.pickEpoch !== epoch) {
        account.pickEpoch = epoch
        touched.push(account)
      }
      const tx = account.txs.get(account.cursor)!.tx
      if (tx.gasLimit > gasLeft) {
        // Too big for what is left: this sender's later nonces cannot go before it, so it sits out.
        this.senders.pop()
        continue
      }
      picked.push(tx)
      gasLeft -= tx.gasLimit
      if (account.cursor + 1n < account.pendingEnd) {
        // Re-key the top in place: one sift down instead of a pop and a push.
        this.keyAt(account, account.cursor + 1n)
        this.senders.update(account)
      } else {
        this.senders.pop()
      }
    }
    // Put every account moved or popped back at its head tx.
    for (const account of touched) this.reheap(account)
    return picked
  }

  /**
   * Removes txs the sequencer included and moves each sender's nonce past them (even if the state
   * reader does not reflect the mini-block yet), then drops stale txs and promotes queued ones.
   */
  markIncluded(txs: Iterable<{ sender: Hex; nonce: bigint; hash: Hex }>): void {
    const nextNonce = new Map<Hex, bigint>()
    for (const { sender, nonce, hash } of txs) {
      const entry = this.byHash.get(hash)
      if (entry !== undefined) this.removeEntry(entry)
      const known = nextNonce.get(sender)
      if (known === undefined || nonce + 1n > known) nextNonce.set(sender, nonce + 1n)
    }
    const promoted: DecodedTx[] = []
    const dropped: DroppedTx[] = []
    for (const [sender, next] of nextNonce) {
      const account = this.accounts.get(sender)
      if (account === undefined) continue
      const stateNonce = this.state.getNonce(sender)
      this.refresh(account, stateNonce > next ? stateNonce : next, promoted, dropped)
    }
    this.emit(promoted, dropped)
  }

  /**
   * Re-reads nonce and balance of `changedSenders` (default: every sender in the pool): drops txs
   * that became stale (nonce below the state nonce) or unaffordable, promotes queued txs whose gap
   * closed and demotes pending txs behind a new gap. The reader is authoritative here, so a nonce
   * that went backwards (a rolled-back mini-block) is followed too.
   */
  onStateChanged(changedSenders?: Iterable<Hex>): void {
    const targets: Account[] = []
    if (changedSenders === undefined) {
      targets.push(...this.accounts.values())
    } else {
      for (const sender of changedSenders) {
        const account = this.accounts.get(sender.toLowerCase() as Hex)
        if (account !== undefined) targets.push(account)
      }
    }
    const promoted: DecodedTx[] = []
    const dropped: DroppedTx[] = []
    for (const account of targets) {
      if (this.accounts.get(account.address) === account)
        this.refresh(account, this.state.getNonce(account.address), promoted, dropped)
    }
    this.emit(promoted, dropped)
  }

  /**
   * Drops a tx that could not be executed, then re-validates its sender: stale or unaffordable txs
   * go too, and the sender's later txs, now behind a gap, become queued. They are kept (until
   * `lifetimeMs`) rather than dropped, as in geth: the sender can close the gap by re-sending the
   * failed nonce.
   * @returns whether the tx was in the pool
   */
  markFailed(hash: Hex, reason: string): boolean {
    const entry = this.byHash.get(hash.toLowerCase() as Hex)
    if (entry === undefined) return false
    this.removeEntry(entry)
    const dropped: DroppedTx[] = [dropInfo(entry.tx, 'failed', reason)]
    const promoted: DecodedTx[] = []
    const account = entry.account
    if (this.accounts.get(account.address) === account)
      this.refresh(account, this.state.getNonce(account.address), promoted, dropped)
    this.emit(promoted, dropped)
    return true
  }

  /** Drops queued txs that have waited longer than `lifetimeMs`. The caller schedules this. @returns how many */
  prune(now: number = this.now()): number {
    const cutoff = now - this.options.lifetimeMs
    const expired = this.queued.values().filter((e) => e.queuedSince <= cutoff)
    for (const entry of expired) this.removeEntry(entry)
    this.emit(
      [],
      expired.map((e) => dropInfo(e.tx, 'expired')),
    )
    return expired.length
  }

  get(hash: Hex): DecodedTx | undefined {
    return this.byHash.get(hash.toLowerCase() as Hex)?.tx
  }

  has(hash: Hex): boolean {
    return this.byHash.has(hash.toLowerCase() as Hex)
  }

  /** The nonce the sender's next tx should use: state nonce plus its contiguous pending run. */
  pendingNonce(sender: Hex): bigint {
    const address = sender.toLowerCase() as Hex
    return this.accounts.get(address)?.pendingEnd ?? this.state.getNonce(address)
  }

  size(): { pending: number; queued: number } {
    return { pending: this.byHash.size - this.queued.size, queued: this.queued.size }
  }

  content(): TxPoolContent {
    const content: TxPoolContent = { pending: new Map(), queued: new Map() }
    for (const account of this.accounts.values()) {
      const entries = [...account.txs.values()].sort((a, b) => (a.tx.nonce < b.tx.nonce ? -1 : 1))
      for (const entry of entries) {
        const section = entry.pending ? content.pending : content.queued
        let list = section.get(account.address)
        if (list === undefined) section.set(account.address, (list = []))
        list.push(entry.tx)
      }
    }
    return content
  }

  /** Called with each tx that becomes pending (on add, promotion or replacement). @returns unsubscribe */
  onPendingTx(listener: (tx: DecodedTx) => void): () => void {
    this.pendingListeners.add(listener)
    return () => this.pendingListeners.delete(listener)
  }

  /** Called with each tx that leaves the pool without being included. @returns unsubscribe */
  onDroppedTx(listener: (dropped: DroppedTx) => void): () => void {
    this.dropListeners.add(listener)
    return () => this.dropListeners.delete(listener)
  }

  private replace(old: Entry, tx: DecodedTx): AddResult {
    const bump = BigInt(100 + this.options.priceBumpPercent)
    const prev = old.tx
    // As geth: strictly higher on both, and by at least the bump percentage.
    if (
      tx.maxFeePerGas <= prev.maxFeePerGas ||
      tx.maxPriorityFeePerGas <= prev.maxPriorityFeePerGas ||
      tx.maxFeePerGas < (prev.maxFeePerGas * bump) / 100n ||
      tx.maxPriorityFeePerGas < (prev.maxPriorityFeePerGas * bump) / 100n
    ) {
      throw rejectTx('replacement-underpriced')
    }
    const account = old.account
    const entry: Entry = { tx, account, seq: this.seq++, pending: old.pending, queuedSince: this.now(), queuedIndex: -1 }
    if (!old.pending) this.queued.remove(old)
    this.byHash.delete(prev.hash)
    this.byHash.set(tx.hash, entry)
    account.txs.set(tx.nonce, entry)
    if (!entry.pending) this.queued.push(entry)
    else if (tx.nonce === account.stateNonce) this.reheap(account)
    this.emit(entry.pending ? [tx] : [], [dropInfo(prev, 'replaced')])
    return { status: entry.pending ? 'pending' : 'queued', replaced: prev.hash }
  }

  /** Makes room for `tx` by evicting the cheapest queued tx of another sender, if `tx` pays more. */
  private evictFor(tx: DecodedTx): DroppedTx {
    const victim = this.queued.peek()
    if (
      victim === undefined ||
      victim.account.address === tx.sender ||
      tx.maxPriorityFeePerGas <= victim.tx.maxPriorityFeePerGas
    ) {
      throw rejectTx('pool-full')
    }
    this.removeEntry(victim)
    return dropInfo(victim.tx, 'evicted')
  }

  private createAccount(address: Hex, stateNonce: bigint): Account {
    const account: Account = {
      address,
      stateNonce,
      pendingEnd: stateNonce,
      txs: new Map(),
      heapIndex: -1,
      cursor: stateNonce,
      key: 0,
      keySeq: 0,
      pickEpoch: 0,
    }
    this.accounts.set(address, account)
    return account
  }

  /**
   * Brings an account in line with a new state nonce and its current balance: drops stale txs,
   * re-walks the pending run (dropping the first unaffordable tx, which ends the run), demotes
   * what is no longer contiguous and promotes what now is.
   */
  private refresh(account: Account, stateNonce: bigint, promoted: DecodedTx[], dropped: DroppedTx[]): void {
    const { txs } = account
    const previous = account.stateNonce
    const previousEnd = account.pendingEnd
    account.stateNonce = stateNonce
    if (stateNonce > previous) {
      // Every tx is at or above the previous state nonce, so stale ones are in [previous, stateNonce).
      const stale: Entry[] = []
      if (stateNonce - previous <= BigInt(txs.size)) {
        for (let n = previous; n < stateNonce; n++) {
          const entry = txs.get(n)
          if (entry !== undefined) stale.push(entry)
        }
      } else {
        for (const entry of txs.values()) if (entry.tx.nonce < stateNonce) stale.push(entry)
      }
      for (const entry of stale) {
        this.removeEntry(entry)
        dropped.push(dropInfo(entry.tx, 'stale'))
      }
    }

    let next = stateNonce
    if (txs.size > 0) {
      const balance = this.state.getBalance(account.address)
      for (let entry = txs.get(next); entry !== undefined; entry = txs.get(++next)) {
        if (txCost(entry.tx) > balance) {
          this.removeEntry(entry)
          dropped.push(dropInfo(entry.tx, 'unaffordable'))
          break
        }
        this.makePending(entry, promoted)
      }
      for (let n = next; n < previousEnd; n++) {
        const entry = txs.get(n)
        if (entry !== undefined) this.makeQueued(entry)
      }
    }
    account.pendingEnd = next
    this.reheap(account)
  }

  /** Puts the account in the sender heap keyed by its head tx, or takes it out if it has none pending. */
  private reheap(account: Account): void {
    if (account.pendingEnd > account.stateNonce && account.txs.size > 0) {
      this.keyAt(account, account.stateNonce)
      if (this.senders.has(account)) this.senders.update(account)
      else this.senders.push(account)
    } else {
      this.senders.remove(account)
      account.cursor = account.stateNonce
    }
  }

  private keyAt(account: Account, nonce: bigint): void {
    const entry = account.txs.get(nonce)!
    account.cursor = nonce
    account.key = Number(effectiveTip(entry.tx, this.heapBaseFee))
    account.keySeq = entry.seq
  }

  private makePending(entry: Entry, promoted: DecodedTx[]): void {
    if (entry.pending) return
    if (entry.queuedIndex >= 0) this.queued.remove(entry)
    entry.pending = true
    promoted.push(entry.tx)
  }

  private makeQueued(entry: Entry): void {
    if (entry.queuedIndex >= 0) return
    entry.pending = false
    entry.queuedSince = this.now()
    this.queued.push(entry)
  }

  /** Unlinks a tx from every index. Does not fix the sender's pending run: callers refresh. */
  private removeEntry(entry: Entry): void {
    const { account, tx } = entry
    this.byHash.delete(tx.hash)
    account.txs.delete(tx.nonce)
    if (entry.queuedIndex >= 0) this.queued.remove(entry)
    entry.pending = false
    if (account.txs.size === 0) {
      this.senders.remove(account)
      this.accounts.delete(account.address)
    }
  }

  private emit(promoted: readonly DecodedTx[], dropped: readonly DroppedTx[]): void {
    for (const tx of promoted) {
      for (const listener of this.pendingListeners) {
        try {
          listener(tx)
        } catch (err) {
          this.onListenerError(err)
        }
      }
    }
    for (const info of dropped) {
      for (const listener of this.dropListeners) {
        try {
          listener(info)
        } catch (err) {
          this.onListenerError(err)
        }
      }
    }
  }
}

/** The most the tx can cost its sender: gasLimit * maxFeePerGas + value (geth's `tx.Cost()`). */
function txCost(tx: DecodedTx): bigint {
  return tx.gasLimit * tx.maxFeePerGas + tx.value
}

function dropInfo(tx: DecodedTx, reason: DropReason, detail?: string): DroppedTx {
  const info: DroppedTx = { hash: tx.hash, sender: tx.sender, nonce: tx.nonce, reason }
  if (detail !== undefined) info.detail = detail
  return info
}
