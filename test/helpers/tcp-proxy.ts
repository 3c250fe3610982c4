/**
 * A TCP proxy on 127.0.0.1 that stands for the network between two nodes, so a test can partition
 * them without touching either process. Every connection accepted on `port` is forwarded to the
 * target; the mode, switched at run time, decides what happens to the bytes:
 * - `pass`: forwarded both ways as they come;
 * - `drop`: a black hole. Connections stay open and their bytes are read (so neither side sees back
 *   pressure) but never forwarded: the nasty partition, where nothing tells either end the peer is
 *   gone and only its own timeouts (pings, request deadlines) can find out. New connections are
 *   accepted and black-holed too.
 * - `delay`: each chunk is forwarded `delayMs` after it arrived, in order (a slow, long link);
 * - `reset`: every open connection is destroyed at once and new ones are closed on accept (a peer
 *   that went away cleanly, or a firewall answering with RST).
 * A connection that lost bytes in `drop` can never carry a valid stream again (its encrypted frames
 * have a hole): `heal` says what becomes of it — destroyed (`reset`, the peers notice at once and
 * redial) or kept black-holed for ever (`dead`, the peers must notice by themselves) — and lets
 * every other connection and every new one pass.
 */
import { createServer, connect, type Server, type Socket } from 'node:net'

export type ProxyMode = 'pass' | 'drop' | 'delay' | 'reset'

export interface TcpProxyOptions {
  /** Where connections go: the real listener (127.0.0.1). */
  targetPort: number
  targetHost?: string
}

export interface TcpProxyStats {
  accepted: number
  /** Bytes forwarded, both directions. */
  forwarded: number
  /** Bytes read and thrown away in `drop`. */
  dropped: number
  /** Connections destroyed by `reset` (or by `heal('reset')`), or refused on accept in `reset`. */
  reset: number
}

interface Pair {
  client: Socket
  upstream: Socket
  /** Lost bytes in `drop`: never forwarded again. */
  tainted: boolean
  /** Kept dead by `heal('dead')`: its bytes are thrown away for good. */
  dead: boolean
  /** Per direction, delayed chunks not yet forwarded, oldest first: chunks keep their order. */
  queued: { up: Array<{ due: number; chunk: Buffer }>; down: Array<{ due: number; chunk: Buffer }> }
  /** Per direction, the timer that forwards the oldest queued chunk. */
  pumps: { up: NodeJS.Timeout | undefined; down: NodeJS.Timeout | undefined }
}

export class TcpProxy {
  private mode: ProxyMode = 'pass'
  private delayMs = 0
  private readonly pairs = new Set<Pair>()
  private readonly timers = new Set<NodeJS.Timeout>()
  readonly stats: TcpProxyStats = { accepted: 0, forwarded: 0, dropped: 0, reset: 0 }

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  static async start(options: TcpProxyOptions): Promise<TcpProxy> {
    const target = { host: options.targetHost ?? '127.0.0.1', port: options.targetPort }
    let proxy: TcpProxy | undefined
    const server = createServer((client) => proxy?.accept(client))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve())
    })
    const address = server.address()
    if (address === null || typeof address === 'string') throw new Error('tcp proxy: no port')
    proxy = new TcpProxy(server, address.port, target)
    return proxy
  }

  get currentMode(): ProxyMode {
    return this.mode
  }

  /** Open connections (accepted, not closed yet). */
  get connections(): number {
    return this.pairs.size
  }

  /** Switches mode; `reset` destroys every open connection now. */
  setMode(mode: ProxyMode, delayMs = 0): void {
    this.mode = mode
    this.delayMs = delayMs
    if (mode === 'reset') for (const pair of [...this.pairs]) this.destroy(pair, true)
  }

  /**
   * Ends a partition: back to `pass`. Connections that lost bytes while black-holed are destroyed
   * (`reset`) or stay black holes for ever (`dead`).
   */
  heal(tainted: 'reset' | 'dead'): void {
    for (const pair of [...this.pairs]) {
      if (!pair.tainted) continue
      if (tainted === 'reset') this.destroy(pair, true)
      else pair.dead = true
    }
    this.mode = 'pass'
    this.delayMs = 0
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
    for (const pair of [...this.pairs]) this.destroy(pair, false)
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private accept(client: Socket): void {
    this.stats.accepted++
    if (this.mode === 'reset') {
      this.stats.reset++
      client.resetAndDestroy()
      return
    }
    client.setNoDelay(true)
    const upstream = connect({ host: this.target.host, port: this.target.port })
    upstream.setNoDelay(true)
    const pair: Pair = {
      client,
      upstream,
      tainted: false,
      dead: false,
      queued: { up: [], down: [] },
      pumps: { up: undefined, down: undefined },
    }
    this.pairs.add(pair)
    client.on('data', (chunk: Buffer) => this.carry(pair, chunk, 'up'))
    upstream.on('data', (chunk: Buffer) => this.carry(pair, chunk, 'down'))
    // Either side closing or failing closes the other: the proxy is transparent to a clean close.
    const close = (): void => this.destroy(pair, false)
    for (const socket of [client, upstream]) {
      socket.on('error', close)
      socket.on('close', close)
      socket.on('end', close)
    }
  }

  private carry(pair: Pair, chunk: Buffer, direction: 'up' | 'down'): void {
    if (pair.dead || this.mode === 'drop') {
      this.swallow(pair, chunk)
      return
    }
    const queue = pair.queued[direction]
    const delay = this.mode === 'delay' ? this.delayMs : 0
    // Behind chunks still delayed even in `pass`: a TCP stream must come out in order.
    if (delay <= 0 && queue.length === 0) {
      this.write(direction === 'up' ? pair.upstream : pair.client, chunk)
      return
    }
    queue.push({ due: Date.now() + delay, chunk })
    this.pump(pair, direction)
  }

  /** Forwards the queued chunks that are due, then waits for the next one. */
  private pump(pair: Pair, direction: 'up' | 'down'): void {
    if (pair.pumps[direction] !== undefined) return
    const queue = pair.queued[direction]
    const to = direction === 'up' ? pair.upstream : pair.client
    while (queue.length > 0 && queue[0]!.due <= Date.now()) {
      const { chunk } = queue.shift()!
      // A partition that began meanwhile swallows it too.
      if (pair.dead || this.mode === 'drop') this.swallow(pair, chunk)
      else this.write(to, chunk)
    }
    if (queue.length === 0 || !this.pairs.has(pair)) return
    const timer = setTimeout(
      () => {
        this.timers.delete(timer)
        pair.pumps[direction] = undefined
        this.pump(pair, direction)
      },
      Math.max(0, queue[0]!.due - Date.now()),
    )
    pair.pumps[direction] = timer
    this.timers.add(timer)
  }

  private swallow(pair: Pair, chunk: Buffer): void {
    pair.tainted = true
    this.stats.dropped += chunk.length
  }

  private write(to: Socket, chunk: Buffer): void {
    if (to.destroyed) return
    this.stats.forwarded += chunk.length
    to.write(chunk)
  }

  private destroy(pair: Pair, reset: boolean): void {
    if (!this.pairs.delete(pair)) return
    for (const timer of [pair.pumps.up, pair.pumps.down]) {
      if (timer === undefined) continue
      clearTimeout(timer)
      this.timers.delete(timer)
    }
    if (reset) {
      this.stats.reset++
      pair.client.resetAndDestroy()
      pair.upstream.resetAndDestroy()
    } else {
      pair.client.destroy()
      pair.upstream.destroy()
    }
  }
}
