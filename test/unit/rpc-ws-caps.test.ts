/**
 * The WebSocket caps that keep one client from taking what others need (`--rpc.ws-connections-per-ip`,
 * `--rpc.ws-inflight`): each enforced with a precise answer, and another client served meanwhile.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { pino } from 'pino'
import { MethodRegistry } from '../../src/rpc/registry.ts'
import { RpcServer } from '../../src/rpc/server.ts'
import { TestWs } from '../helpers/ws-test-client.ts'

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
    const mine = await Promise.all([TestWs.open(url), TestWs.open(url), TestWs.open(url)])
    const refused = await TestWs.refused(url)
    assert.equal(refused.status, 503)
    assert.match(refused.body, /too many connections from this address \(max 3\)/)
    // An honest client elsewhere (another loopback source address) connects and is answered.
    const honest = await TestWs.open(url, { localAddress: '127.0.0.2' })
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
    mine[0]!.terminate()
    await waitUntil('the closed connection to be released', () => server.wsConnectionCount === 3)
    const again = await TestWs.open(url)
    assert.deepEqual(await again.call({ jsonrpc: '2.0', id: 3, method: 'test_echo', params: [3] }), {
      jsonrpc: '2.0',
      id: 3,
      result: 3,
    })
    for (const c of [...mine, honest, again]) c.terminate()
    await waitUntil('every connection to be released', () => server.wsConnectionCount === 0)
    // Every address's count went back to nothing: a full set of new connections is admitted.
    const next = await Promise.all([TestWs.open(url), TestWs.open(url), TestWs.open(url)])
    for (const c of next) c.terminate()
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
    const greedy = await TestWs.open(url)
    const other = await TestWs.open(url)
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
    greedy.terminate()
    other.terminate()
  })
})
