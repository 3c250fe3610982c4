/**
 * Minimal JSON-RPC over HTTP/1.1 keep-alive (node:http): no client library in the hot path, so the
 * benchmark measures the server, not viem's request pipeline.
 */
import http from 'node:http'

export interface RpcErrorObject {
  code: number
  message: string
  data?: unknown
}

export interface RpcResponse<T = unknown> {
  id: number | string | null
  result?: T
  error?: RpcErrorObject
}

export class RpcCallError extends Error {
  constructor(
    readonly method: string,
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(`${method}: ${message} (code ${code})`)
  }
}

export class RpcClient {
  readonly agent: http.Agent
  private readonly host: string
  private readonly port: number
  private readonly path: string
  private nextId = 1

  constructor(
    readonly url: string,
    maxSockets = 8,
  ) {
    const u = new URL(url)
    this.host = u.hostname
    this.port = Number(u.port)
    this.path = u.pathname === '' ? '/' : u.pathname
    this.agent = new http.Agent({ keepAlive: true, maxSockets, keepAliveMsecs: 10_000 })
  }

  /** POSTs an already-serialized body; resolves with the raw response text. */
  postRaw(body: string | Buffer, timeoutMs = 60_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: this.host,
          port: this.port,
          path: this.path,
          method: 'POST',
          agent: this.agent,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8')
            if (res.statusCode !== 200 && !text.startsWith('{') && !text.startsWith('['))
              reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`))
            else resolve(text)
          })
          res.on('error', reject)
        },
      )
      req.on('timeout', () => req.destroy(new Error(`request timed out after ${timeoutMs} ms`)))
      req.on('error', reject)
      req.end(body)
    })
  }

  async call<T = unknown>(method: string, params: unknown[] = [], timeoutMs?: number): Promise<T> {
    const text = await this.postRaw(JSON.stringify({ jsonrpc: '2.0', id: this.nextId++, method, params }), timeoutMs)
    const res = JSON.parse(text) as RpcResponse<T>
    if (res.error !== undefined) throw new RpcCallError(method, res.error.code, res.error.message, res.error.data)
    return res.result as T
  }

  /** One HTTP request carrying a JSON-RPC batch; responses come back in request order. */
  async batch<T = unknown>(
    calls: Array<[method: string, params: unknown[]]>,
    timeoutMs?: number,
  ): Promise<Array<RpcResponse<T>>> {
    if (calls.length === 0) return []
    const base = this.nextId
    this.nextId += calls.length
    const body = JSON.stringify(calls.map(([method, params], i) => ({ jsonrpc: '2.0', id: base + i, method, params })))
    const res = JSON.parse(await this.postRaw(body, timeoutMs)) as Array<RpcResponse<T>> | RpcResponse<T>
    if (!Array.isArray(res)) throw new Error(`batch rejected: ${res.error?.message ?? JSON.stringify(res).slice(0, 200)}`)
    const byId = new Map<unknown, RpcResponse<T>>()
    for (const r of res) byId.set(r.id, r)
    return calls.map(
      (_, i) => byId.get(base + i) ?? { id: base + i, error: { code: -1, message: 'missing from batch response' } },
    )
  }

  close(): void {
    this.agent.destroy()
  }
}

export const hexNum = (hex: string): number => Number.parseInt(hex, 16)
export const toHex = (n: number | bigint): string => `0x${n.toString(16)}`
