/**
 * One WebSocket peer: outbound framing, subscriptions, liveness and
 * back-pressure. The server owns inbound message dispatch; handlers see this
 * object as `ctx.connection` and use it to create subscriptions and push
 * `eth_subscription` notifications.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { randomBytes } from 'node:crypto'
import type { Logger } from 'pino'
import type { Hex } from 'viem'
import { limitExceeded, resourceUnavailable } from './errors.ts'

/** Close codes we use (RFC 6455 §7.4.1). */
export const WsCloseCode = {
  GoingAway: 1001,
  PolicyViolation: 1008,
  MessageTooBig: 1009,
  TryAgainLater: 1013,
} as const

/** `ws`'s readyState for an open socket. */
const WS_OPEN = 1

/** Inbound frame payload as delivered by the `ws` package. */
export type WsRawData = Buffer | ArrayBuffer | Buffer[]

/**
 * The subset of a `ws` WebSocket we rely on. Structural so the transport does
 * not need `ws` type declarations (none are installed) and so tests can fake it.
 */
export interface WsSocket {
  readonly readyState: number
  readonly bufferedAmount: number
  send(data: string): void
  ping(): void
  close(code?: number, reason?: string): void
  terminate(): void
  /**
   * The TCP socket under a `ws` WebSocket (`ws`'s `_socket`: not in its documented API, but what its
   * own Sender writes through, in every 7.x and 8.x release). Optional: fakes need not have one, and
   * without it frames are simply not coalesced (see `WsConnection.send`).
   */
  readonly _socket?: { cork(): void; uncork(): void } | null
  on(event: 'close', listener: (code: number, reason: Buffer) => void): unknown
  on(event: 'pong', listener: () => void): unknown
  on(event: 'message', listener: (data: WsRawData, isBinary: boolean) => void): unknown
}

export interface WsConnectionOptions {
  /** Max live subscriptions on this connection. */
  maxSubscriptions: number
  /** Max bytes queued toward the peer (see `send`). */
  maxBufferedBytes: number
  remoteAddress?: string
  logger?: Logger
}

interface Subscription {
  cleanup: () => void
  /**
   * The notification frame up to its result, built once per subscription: a notification is this,
   * the result's JSON and `}}`, so a result serialized once per event serves every subscriber.
   */
  prefix: string
  /**
   * Notifications produced before the `eth_subscribe` response went out.
   * A client must see the subscription id before any notification carrying
   * it, so these wait until the server settles the creating call.
   */
  held: string[] | undefined
}

/**
 * Tracks subscriptions created while one call runs. Opaque outside this file;
 * the server opens one per WS call and settles it after the response is sent.
 */
export class CallScope {
  /** @internal */ readonly created: string[] = []
  /** @internal */ settled = false
  constructor(/** @internal */ readonly connection: WsConnection) {}
}

// AsyncLocalStorage lets `addSubscription` find the call it runs in without
// widening the handler API: handlers just call `ctx.connection.addSubscription`.
const scopeStorage = new AsyncLocalStorage<CallScope>()

/** Random 16-byte id, `0x` + 32 lower-case hex chars (geth uses 16 random bytes too). */
export function newSubscriptionId(): Hex {
  return `0x${randomBytes(16).toString('hex')}`
}

/** An `eth_subscription` notification for `id` up to its result (see `Subscription.prefix`). */
function notificationPrefix(id: Hex): string {
  return `{"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":"${id}","result":`
}

/** Close reasons are capped at 123 bytes by RFC 6455; `ws` throws beyond that. */
function clampReason(reason: string): string {
  return Buffer.byteLength(reason) <= 123 ? reason : Buffer.from(reason).subarray(0, 120).toString('utf8')
}

export class WsConnection {
  readonly remoteAddress: string
  /** Aborted when the connection closes: pass it to long-running work started for this peer. */
  readonly signal: AbortSignal

  private readonly socket: WsSocket
  private readonly maxSubscriptions: number
  private readonly maxBufferedBytes: number
  private readonly logger: Logger | undefined
  private readonly controller = new AbortController()
  private readonly subscriptions = new Map<string, Subscription>()
  private readonly closeListeners: Array<() => void> = []
  /** Set once we decided to close (or the peer did): nothing more is sent. */
  private closing = false
  private disposed = false
  /** Cleared on each ping, set by pong/any inbound message. */
  private alive = true
  /** Size of the largest message sent since the buffer was last below the limit (see `send`). */
  private burstAllowance = 0
  private heldBytes = 0
  /** The TCP socket is corked until the next tick (see `send`). */
  private corked = false
  private readonly uncork = (): void => {
    this.corked = false
    this.socket._socket?.uncork()
  }

  constructor(socket: WsSocket, options: WsConnectionOptions) {
    this.socket = socket
    this.maxSubscriptions = options.maxSubscriptions
    this.maxBufferedBytes = options.maxBufferedBytes
    this.remoteAddress = options.remoteAddress ?? 'unknown'
    this.logger = options.logger
    this.signal = this.controller.signal
    socket.on('close', () => this.dispose())
    socket.on('pong', () => {
      this.alive = true
    })
    socket.on('message', () => {
      this.alive = true
    })
  }

  /** True until a close was initiated by either side. */
  get isOpen(): boolean {
    return !this.closing && this.socket.readyState === WS_OPEN
  }

  get subscriptionCount(): number {
    return this.subscriptions.size
  }

  /**
   * Queues one text frame. Returns false if it was dropped (closing, or the
   * peer is not reading).
   *
   * Back-pressure: if the socket's `bufferedAmount` exceeds the limit the
   * connection is closed with 1008 instead of buffering without bound. The
   * limit is relaxed by the size of the largest message sent since the buffer
   * last drained below it, so one legitimately huge response (eth_getLogs)
   * followed immediately by a notification is not mistaken for a stalled peer,
   * while a peer that stops reading is still cut off after at most
   * limit + one message.
   *
   * Coalescing: the first frame sent in a tick corks the TCP socket until the
   * next tick, so the frames of one fan-out (every subscription of this peer
   * notified of one mini-block) or of a burst of answers leave in one write
   * instead of one syscall each. Per-frame writes were the larger part of
   * what 1,600 `miniBlocks` subscriptions cost the event loop (the
   * hostile-rpc campaign; bench/ws-notify.ts --real).
   */
  send(text: string): boolean {
    if (this.closing || this.socket.readyState !== WS_OPEN) return false
    const buffered = this.socket.bufferedAmount
    if (buffered <= this.maxBufferedBytes) {
      this.burstAllowance = 0
    } else if (buffered > this.maxBufferedBytes + this.burstAllowance) {
      this.closeSlowConsumer(buffered)
      return false
    }
    try {
      this.corkUntilNextTick()
      this.socket.send(text)
    } catch (err) {
      this.logger?.debug({ err, remoteAddress: this.remoteAddress }, 'ws send failed')
      return false
    }
    // String length ≈ UTF-8 bytes for JSON (ASCII); close enough for a budget.
    if (text.length > this.burstAllowance) this.burstAllowance = text.length
    return true
  }

  /**
   * Pushes an `eth_subscription` notification. Returns false when the
   * subscription no longer exists (unsubscribed/closed — a normal race for
   * producers) or the message was dropped. Never throws: producers run on
   * chain-event paths that must not be disturbed by one bad peer or value.
   * A producer fanning one event out to many subscriptions should serialize
   * it once and call `notifyJson` instead.
   */
  notify(subscriptionId: Hex, result: unknown): boolean {
    if (!this.subscriptions.has(subscriptionId) || this.closing) return false
    let json: string
    try {
      json = JSON.stringify(result)
    } catch (err) {
      // Typically a bigint that should have been hex-encoded by the producer.
      this.logger?.error({ err, subscriptionId }, 'ws notification is not JSON-serializable; dropped')
      return false
    }
    // JSON.stringify(undefined) is undefined, not text; a notification's result is then null.
    return this.notifyJson(subscriptionId, json ?? 'null')
  }

  /**
   * `notify` with the result already serialized (`resultJson` must be one JSON value). The frame is
   * the subscription's prefix, the result and `}}`: no per-subscriber serialization, which is what
   * let thousands of subscriptions to one 100-per-second event starve the event loop.
   */
  notifyJson(subscriptionId: Hex, resultJson: string): boolean {
    const sub = this.subscriptions.get(subscriptionId)
    if (sub === undefined || this.closing) return false
    const text = `${sub.prefix}${resultJson}}}`
    if (sub.held !== undefined) {
      if (this.heldBytes + text.length > this.maxBufferedBytes) {
        this.closeSlowConsumer(this.heldBytes)
        return false
      }
      sub.held.push(text)
      this.heldBytes += text.length
      return true
    }
    return this.send(text)
  }

  /**
   * Registers a subscription and returns its id. `cleanup` runs exactly once,
   * on `removeSubscription` or when the connection closes; it should detach
   * the producer. Throws -32005 when the per-connection cap is reached.
   *
   * When called from a handler, notifications for the new id are held back
   * until the handler's response has been sent, and the subscription is
   * removed again if the handler ultimately fails.
   */
  addSubscription(cleanup: () => void): Hex {
    if (this.closing) throw resourceUnavailable('connection is closing')
    if (this.subscriptions.size >= this.maxSubscriptions) {
      throw limitExceeded(`subscription limit reached (${this.maxSubscriptions} per connection)`)
    }
    let id = newSubscriptionId()
    while (this.subscriptions.has(id)) id = newSubscriptionId()
    const scope = scopeStorage.getStore()
    // A settled scope can still be the async context of timers a handler started; those are not "during the call".
    const inCall = scope !== undefined && scope.connection === this && !scope.settled
    this.subscriptions.set(id, { cleanup, prefix: notificationPrefix(id), held: inCall ? [] : undefined })
    if (inCall) scope.created.push(id)
    return id
  }

  /** Removes a subscription (runs its cleanup). False if unknown — e.g. already removed. */
  removeSubscription(id: string): boolean {
    const sub = this.subscriptions.get(id)
    if (sub === undefined) return false
    this.subscriptions.delete(id)
    this.dropHeld(sub)
    this.runCleanup(id, sub)
    return true
  }

  hasSubscription(id: string): boolean {
    return this.subscriptions.has(id)
  }

  /** Registers a callback for when the connection is gone (runs once; immediately if already closed). */
  onClose(listener: () => void): void {
    if (this.disposed) listener()
    else this.closeListeners.push(listener)
  }

  /** Initiates a clean close; `ws` destroys the socket if the peer does not complete the handshake in 30 s. */
  close(code: number, reason: string): void {
    if (this.closing) return
    this.closing = true
    try {
      this.socket.close(code, clampReason(reason))
    } catch (err) {
      this.logger?.debug({ err }, 'ws close failed; terminating')
      this.socket.terminate()
    }
  }

  /** Drops the TCP connection without a close handshake. */
  terminate(): void {
    this.closing = true
    this.socket.terminate()
  }

  /**
   * Keepalive tick, called by the server every ping interval: a peer that has
   * not answered the previous ping (nor sent anything) is considered dead.
   */
  heartbeat(): void {
    if (this.disposed) return
    if (!this.alive) {
      this.logger?.debug({ remoteAddress: this.remoteAddress }, 'ws peer missed keepalive; terminating')
      this.terminate()
      return
    }
    this.alive = false
    try {
      this.socket.ping()
    } catch {
      // Not open any more: the close event will dispose us.
    }
  }

  // --- server-side plumbing (not for handlers) ------------------------------

  /** @internal Opens a scope for one call; pair with `settleScope`. */
  openScope(): CallScope {
    return new CallScope(this)
  }

  /** @internal Runs `fn` (a handler invocation) inside `scope`. */
  runInScope<T>(scope: CallScope, fn: () => T): T {
    return scopeStorage.run(scope, fn)
  }

  /**
   * @internal Called after the response for the scope's call was queued.
   * `keep`: the call succeeded → release held notifications; otherwise remove
   * the subscriptions it created so a failed eth_subscribe leaks nothing.
   */
  settleScope(scope: CallScope, keep: boolean): void {
    scope.settled = true
    for (const id of scope.created) {
      const sub = this.subscriptions.get(id)
      if (sub === undefined) continue
      if (!keep) {
        this.removeSubscription(id)
        continue
      }
      const held = sub.held
      this.dropHeld(sub)
      if (held !== undefined) for (const text of held) this.send(text)
    }
  }

  // --- internals --------------------------------------------------------------

  private corkUntilNextTick(): void {
    if (this.corked) return
    const tcp = this.socket._socket
    if (tcp === undefined || tcp === null) return
    tcp.cork()
    this.corked = true
    // nextTick runs once the current synchronous fan-out (an event's listeners) is done.
    process.nextTick(this.uncork)
  }

  private dropHeld(sub: Subscription): void {
    if (sub.held === undefined) return
    for (const text of sub.held) this.heldBytes -= text.length
    sub.held = undefined
  }

  private runCleanup(id: string, sub: Subscription): void {
    try {
      sub.cleanup()
    } catch (err) {
      this.logger?.error({ err, subscriptionId: id }, 'subscription cleanup threw')
    }
  }

  private closeSlowConsumer(buffered: number): void {
    this.logger?.warn(
      { remoteAddress: this.remoteAddress, buffered, limit: this.maxBufferedBytes },
      'ws peer is not reading; closing',
    )
    this.close(WsCloseCode.PolicyViolation, `send buffer limit exceeded (${this.maxBufferedBytes} bytes)`)
  }

  /** Socket closed (either side): abort in-flight work and release every subscription. */
  private dispose(): void {
    if (this.disposed) return
    this.disposed = true
    this.closing = true
    this.controller.abort(new Error('websocket closed'))
    const subs = [...this.subscriptions]
    this.subscriptions.clear()
    this.heldBytes = 0
    for (const [id, sub] of subs) this.runCleanup(id, sub)
    for (const listener of this.closeListeners.splice(0)) {
      try {
        listener()
      } catch (err) {
        this.logger?.error({ err }, 'ws close listener threw')
      }
    }
  }
}
