/**
 * The WebSocket caps that keep one client from taking what others need (`--rpc.ws-connections-per-ip`,
 * `--rpc.ws-inflight`): each enforced with a precise answer, and another client served meanwhile.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { setTimeout as sleep } from 'node:timers/promises'
import { pino } from 'pino'
import { MethodRegistry } from '../../src/rpc/registry.ts'
import { RpcServer } from '../../src/rpc/server.ts'

interface WsClient {
  readonly readyState: number
  on(event: 'open', listener: () => void): unknown
  on(event: 'message', listener: (data: Buffer) => void): unknown
  on(event: 'close', listener: (code: number, reason: Buffer) => void): unknown
  on(event: 'error', listener: (err: Error) => void): unknown
  on(
    event: 'unexpected-response',
    listener: (
      req: unknown,
      res: { statusCode?: number; on(e: 'data', l: (c: Buffer) => void): unknown; on(e: 'end', l: () => void): unknown },
    ) => void,
  ): unknown
  send(data: string): void
  close(code?: number): void
  terminate(): void
}
const WebSocket = createRequire(import.meta.url)('ws') as new (url: string, options?: Record<string, unknown>) => WsClient

/** A client that queues what it receives; `localAddress` picks its source address (any of 127/8 on Linux). */
class Client {
  private readonly queue: unknown[] = []
  private readonly waiters: Array<(v: unknown) => void> = []
  closed = false
  private constructor(readonly ws: WsClient) {
    ws.on('message', (data) => {
      const parsed: unknown = JSON.parse(data.toString('utf8'))
      const waiter = this.waiters.shift()
      if (waiter !== undefined) waiter(parsed)
      else this.queue.push(parsed)
    })
    ws.on('close', () => {
      this.closed = true
    })
  }

  static open(url: string, localAddress = '127.0.0.1'): Promise<Client> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { localAddress })
      ws.on('open', () => resolve(new Client(ws)))
      ws.on('error', reject)
    })
  }

  /** The HTTP status and body the server refused the upgrade with. */
  static refused(url: string, localAddress = '127.0.0.1'): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { localAddress })
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
    this.ws.send(JSON.stringify(payload))
  }

  next(timeoutMs = 3000): Promise<unknown> {
    if (this.queue.length > 0) return Promise.resolve(this.queue.shift())
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

  pending(): number {
    return this.queue.length
  }

  close(): void {
    this.ws.terminate()
  }
}

/** `test_wait` answers when the test releases it; `test_echo` at once. */
function registry(): { registry: MethodRegistry; release(): void; waiting(): number } {
  let gates: Array<() => void> = []
  const reg = new MethodRegistry().registerAll({
    test_wait: () => new Promise<string>((resolve) => gates.push(() => resolve('released'))),
    test_echo: (params) => params[0] ?? null,
  })
  return {
    registry: reg,
    release: () => {
      for (const open of gates) open()
      gates = []
    },
    waiting: () => gates.length,
  }
}

async function waitUntil(what: string, condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(10)
  }
}

describe('--rpc.ws-connections-per-ip', () => {
  let server: RpcServer
  let url: string
  before(async () => {
    server = new RpcServer({ host: '127.0.0.1', port: 0, maxWsConnectionsPerIp: 3 }, registry().registry, {
      logger: pino({ level: 'silent' }),
    })
    url = `ws://127.0.0.1:${(await server.start()).port}`
  })
  after(() => server.stop())

  test('one address gets its 3 connections and a 503 for the 4th; another address is still served; a closed one frees its slot', async () => {
    const mine = await Promise.all([Client.open(url), Client.open(url), Client.open(url)])
    const refused = await Client.refused(url)
    assert.equal(refused.status, 503)
    assert.match(refused.body, /too many connections from this address \(max 3\)/)
    // An honest client elsewhere (another loopback source address) connects and is answered.
    const honest = await Client.open(url, '127.0.0.2')
    assert.deepEqual(await honest.call({ jsonrpc: '2.0', id: 1, method: 'test_echo', params: ['hi'] }), {
      jsonrpc: '2.0',
      id: 1,
      result: 'hi',
    })
    // HTTP from the capped address is not a WebSocket connection: still served.
    const res = await fetch(url.replace('ws:', 'http:'), {
      method: 'POST',
      body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'test_echo', params: [2] }),
    })
    assert.deepEqual(await res.json(), { jsonrpc: '2.0', id: 2, result: 2 })
    mine[0]!.close()
    await waitUntil('the closed connection to be released', () => server.wsConnectionCount === 3)
    const again = await Client.open(url)
    assert.deepEqual(await again.call({ jsonrpc: '2.0', id: 3, method: 'test_echo', params: [3] }), {
      jsonrpc: '2.0',
      id: 3,
      result: 3,
    })
    for (const c of [...mine, honest, again]) c.close()
    await waitUntil('every connection to be released', () => server.wsConnectionCount === 0)
    // Every address's count went back to nothing: a full set of new connections is admitted.
    const next = await Promise.all([Client.open(url), Client.open(url), Client.open(url)])
    for (const c of next) c.close()
  })
})

describe('--rpc.ws-inflight', () => {
  const r = registry()
  let server: RpcServer
  let url: string
  before(async () => {
    server = new RpcServer({ host: '127.0.0.1', port: 0, maxWsRequestsInFlight: 2 }, r.registry, {
      logger: pino({ level: 'silent' }),
    })
    url = `ws://127.0.0.1:${(await server.start()).port}`
  })
  after(() => server.stop())

  test('past 2 messages in flight, a call, a batch and a notification are refused at once (-32005); others are served; answers free the slots', async () => {
    const greedy = await Client.open(url)
    const other = await Client.open(url)
    greedy.send({ jsonrpc: '2.0', id: 1, method: 'test_wait' })
    // A batch is one message: it takes one slot however many calls it holds.
    greedy.send([
      { jsonrpc: '2.0', id: 2, method: 'test_wait' },
      { jsonrpc: '2.0', id: 3, method: 'test_wait' },
    ])
    await waitUntil('3 calls to be running', () => r.waiting() === 3)
    const limit = { code: -32005, message: 'too many requests in flight on this connection (limit 2); wait for answers' }
    assert.deepEqual(await greedy.call({ jsonrpc: '2.0', id: 4, method: 'test_echo', params: [4] }), {
      jsonrpc: '2.0',
      id: 4,
      error: limit,
    })
    assert.deepEqual(
      await greedy.call([
        { jsonrpc: '2.0', id: 5, method: 'test_echo' },
        { jsonrpc: '2.0', method: 'test_echo' },
        { jsonrpc: '2.0', id: 'six', method: 'test_wait' },
        { id: 7 },
      ]),
      [
        { jsonrpc: '2.0', id: 5, error: limit },
        { jsonrpc: '2.0', id: 'six', error: limit },
        { jsonrpc: '2.0', id: 7, error: { code: -32600, message: 'invalid request: jsonrpc must be "2.0"' } },
      ],
    )
    greedy.send({ jsonrpc: '2.0', method: 'test_echo' })
    greedy.ws.send('not json')
    const parse = (await greedy.next()) as { id: unknown; error: { code: number } }
    assert.equal(parse.id, null)
    assert.equal(parse.error.code, -32700, 'text that is not JSON gets its parse error, as always')
    assert.equal(r.waiting(), 3, 'nothing refused ran')
    // Another connection has its own slots.
    assert.deepEqual(await other.call({ jsonrpc: '2.0', id: 8, method: 'test_echo', params: [8] }), {
      jsonrpc: '2.0',
      id: 8,
      result: 8,
    })
    r.release()
    const answers = [await greedy.next(), await greedy.next()]
    assert.deepEqual(
      answers.sort((a) => (Array.isArray(a) ? 1 : -1)),
      [
        { jsonrpc: '2.0', id: 1, result: 'released' },
        [
          { jsonrpc: '2.0', id: 2, result: 'released' },
          { jsonrpc: '2.0', id: 3, result: 'released' },
        ],
      ],
    )
    assert.deepEqual(await greedy.call({ jsonrpc: '2.0', id: 9, method: 'test_echo', params: [9] }), {
      jsonrpc: '2.0',
      id: 9,
      result: 9,
    })
    assert.equal(greedy.pending(), 0, 'the refused notification got no answer')
    greedy.close()
    other.close()
  })
})
