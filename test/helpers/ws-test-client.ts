/**
 * A WebSocket test client for the RPC server's unit tests: it queues what it receives (`next`, `call`), reports
 * how and when it was closed, and opens or is refused with the options the transport tests vary (source address,
 * headers, automatic pongs). No type declarations for `ws` are installed: the interface below is what we use.
 */
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { setTimeout as sleep } from 'node:timers/promises'

interface WsClient {
  readonly readyState: number
  send(data: string | Buffer, options?: { binary?: boolean }): void
  close(code?: number, reason?: string): void
  terminate(): void
  on(event: 'open', listener: () => void): unknown
  on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): unknown
  on(event: 'close', listener: (code: number, reason: Buffer) => void): unknown
  on(event: 'error', listener: (err: Error) => void): unknown
  on(
    event: 'unexpected-response',
    listener: (
      req: unknown,
      res: { statusCode?: number; on(e: 'data', l: (c: Buffer) => void): unknown; on(e: 'end', l: () => void): unknown },
    ) => void,
  ): unknown
}

export interface TestWsOptions {
  autoPong?: boolean
  headers?: Record<string, string>
  /** The source address (any of 127/8 on Linux): how a test is another client address. */
  localAddress?: string
}

const WebSocket = createRequire(import.meta.url)('ws') as new (url: string, options?: TestWsOptions) => WsClient

export class TestWs {
  private readonly queue: unknown[] = []
  private readonly waiters: Array<(v: unknown) => void> = []
  /** Resolves with the close code and reason once the connection closes. */
  readonly closed: Promise<{ code: number; reason: string }>
  isClosed = false

  private constructor(readonly ws: WsClient) {
    ws.on('message', (data) => {
      const parsed: unknown = JSON.parse(data.toString('utf8'))
      const waiter = this.waiters.shift()
      if (waiter !== undefined) waiter(parsed)
      else this.queue.push(parsed)
    })
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => {
        this.isClosed = true
        resolve({ code, reason: reason.toString('utf8') })
      }),
    )
  }

  static open(url: string, options?: TestWsOptions): Promise<TestWs> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, options)
      const client = new TestWs(ws)
      ws.on('open', () => resolve(client))
      ws.on('error', reject)
    })
  }

  /** The HTTP status and body the server refused the upgrade with (fails if it accepts). */
  static refused(url: string, options?: TestWsOptions): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, options)
      ws.on('open', () => reject(new Error('upgrade unexpectedly accepted')))
      ws.on('error', () => undefined)
      ws.on('unexpected-response', (_req, res) => {
        let body = ''
        res.on('data', (c) => {
          body += c.toString()
        })
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body })
          ws.terminate()
        })
      })
    })
  }

  send(payload: unknown): void {
    this.ws.send(typeof payload === 'string' ? payload : JSON.stringify(payload))
  }

  next(timeoutMs = 3000): Promise<unknown> {
    const queued = this.queue.shift()
    if (queued !== undefined) return Promise.resolve(queued)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for a ws message')), timeoutMs)
      this.waiters.push((v) => {
        clearTimeout(timer)
        resolve(v)
      })
    })
  }

  async call(payload: unknown): Promise<unknown> {
    this.send(payload)
    return this.next()
  }

  /** Messages received and not taken yet. */
  pending(): number {
    return this.queue.length
  }

  /** Asserts no further message arrives within `ms`. */
  async expectSilence(ms = 100): Promise<void> {
    await sleep(ms)
    assert.deepEqual(this.queue, [])
  }

  /** A normal close (1000), waited for. */
  async close(): Promise<void> {
    if (this.ws.readyState === 1) this.ws.close(1000)
    await this.closed
  }

  /** Drops the connection at once. */
  terminate(): void {
    this.ws.terminate()
  }
}
