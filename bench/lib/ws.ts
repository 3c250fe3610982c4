/** A small JSON-RPC-over-WebSocket client on the `ws` package (no @types/ws here, so typed locally). */
import { createRequire } from 'node:module'

interface WsSocket {
  on(event: 'open', cb: () => void): void
  on(event: 'message', cb: (data: Buffer) => void): void
  on(event: 'error', cb: (err: Error) => void): void
  on(event: 'close', cb: () => void): void
  send(data: string): void
  close(): void
  terminate(): void
}
type WsCtor = new (url: string, opts?: { perMessageDeflate?: boolean }) => WsSocket

const WebSocket = createRequire(import.meta.url)('ws') as WsCtor

export interface Notification {
  subscription: string
  result: unknown
  /** performance.now() when the frame arrived */
  at: number
}

export class WsRpc {
  private nextId = 1
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  private readonly handlers = new Map<string, (n: Notification) => void>()

  private constructor(private readonly socket: WsSocket) {
    socket.on('message', (data) => {
      const at = performance.now()
      const msg = JSON.parse(data.toString('utf8')) as {
        id?: number
        result?: unknown
        error?: { message: string }
        method?: string
        params?: { subscription: string; result: unknown }
      }
      if (msg.method === 'eth_subscription' && msg.params !== undefined) {
        this.handlers.get(msg.params.subscription)?.({ subscription: msg.params.subscription, result: msg.params.result, at })
        return
      }
      if (msg.id === undefined) return
      const w = this.waiting.get(msg.id)
      if (w === undefined) return
      this.waiting.delete(msg.id)
      if (msg.error !== undefined) w.reject(new Error(msg.error.message))
      else w.resolve(msg.result)
    })
    socket.on('close', () => {
      for (const w of this.waiting.values()) w.reject(new Error('websocket closed'))
      this.waiting.clear()
    })
  }

  static connect(url: string, timeoutMs = 10_000): Promise<WsRpc> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, { perMessageDeflate: false })
      const timer = setTimeout(() => {
        socket.terminate()
        reject(new Error(`websocket ${url}: no connection in ${timeoutMs} ms`))
      }, timeoutMs)
      socket.on('open', () => {
        clearTimeout(timer)
        resolve(new WsRpc(socket))
      })
      socket.on('error', (err) => {
        clearTimeout(timer)
        reject(err)
      })
    })
  }

  call<T>(method: string, params: unknown[] = []): Promise<T> {
    const id = this.nextId++
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject })
      this.socket.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }))
    })
  }

  async subscribe(params: unknown[], onNotification: (n: Notification) => void): Promise<string> {
    const id = await this.call<string>('eth_subscribe', params)
    this.handlers.set(id, onNotification)
    return id
  }

  close(): void {
    this.socket.close()
  }
}
