// run-tests: alone — races a stop against a 50 ms timer
/**
 * The admin server and methods in-process, over a real HTTP socket, against plain controls recording
 * what was done: authentication comes before everything (a refused request reaches no method and
 * reads no body), a `now` outside the window refuses a token signed at the old time, refusals beyond
 * the per-minute budget are counted instead of logged, and the sequencer methods keep op-node's rules
 * (start only when stopped, on the head; not while a stop is sealing; "not a sequencer" without one).
 */
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { after, before, describe, it } from 'node:test'
import pino from 'pino'
import { Registry } from 'prom-client'
import {
  AdminServer,
  type AdminControls,
  createAdminMetrics,
  registerAdminMethods,
  signJwt,
  type SequencerControl,
} from '../../src/admin/index.ts'
import type { Hex } from '../../src/primitives/state-diff.ts'
import { MethodRegistry } from '../../src/rpc/index.ts'

const SECRET = Uint8Array.from({ length: 32 }, (_, i) => i)
const HEAD = `0x${'cd'.repeat(32)}` as Hex

describe('admin server', () => {
  const calls: string[] = []
  const logs: { msg: string; reason?: string; token?: unknown }[] = []
  let clock = 1_800_000_000
  let active = true
  let stopGate: Promise<void> = Promise.resolve()
  let url = ''
  let server: AdminServer
  const registry = new Registry()

  const sequencer: SequencerControl = {
    active: () => active,
    stop: async () => {
      calls.push('stop')
      active = false
      await stopGate
      return HEAD
    },
    start: () => {
      calls.push('start')
      active = true
    },
    headHash: () => HEAD,
  }
  const controls: AdminControls = {
    sequencer,
    peers: undefined,
    logLevel: { level: () => 'info', setLevel: (level) => calls.push(`level ${level}`) },
    nodeInfo: () => ({ id: 'x' }),
  }

  before(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) logs.push(JSON.parse(line) as { msg: string })
        done()
      },
    })
    const methods = new MethodRegistry()
    registerAdminMethods(methods, controls)
    server = new AdminServer({ host: '127.0.0.1', port: 0, jwtSecret: SECRET, maxBodyBytes: 1024 }, methods, {
      logger: pino({ level: 'info' }, sink),
      metrics: createAdminMetrics(registry),
      now: () => clock,
    })
    const address = await server.start()
    url = `http://${address.host}:${address.port}`
  })
  after(() => server.stop())

  const post = async (body: unknown, token: string | null = signJwt(SECRET, clock), method = 'POST') => {
    const res = await fetch(url, {
      method,
      headers: { 'content-type': 'application/json', ...(token === null ? {} : { authorization: `Bearer ${token}` }) },
      ...(method === 'POST' ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    })
    return {
      status: res.status,
      body: (await res.json()) as Record<string, unknown> & { error?: { message: string; code: number } },
    }
  }
  const call = (method: string, params: unknown[] = [], token?: string) =>
    post({ jsonrpc: '2.0', id: 1, method, params }, token ?? signJwt(SECRET, clock))

  it('authenticates before reading the request: a refused one reaches no method', async () => {
    const token = signJwt(SECRET, clock)
    clock += 61
    const refused = await call('admin_stopSequencer', [], token)
    assert.equal(refused.status, 401)
    assert.match(String(refused.body.error), /iat/)
    assert.deepEqual(calls, [])
    assert.equal((await post('not json', null)).status, 401)
    assert.equal((await post({}, 'Basic abc')).status, 401)
    assert.equal((await fetch(url, { method: 'POST', headers: { authorization: 'Bearer' } })).status, 401)
    for (const line of logs.filter((l) => l.msg === 'admin request refused')) assert.ok(!JSON.stringify(line).includes(token))
    // Authenticated, but not JSON-RPC over POST.
    assert.equal((await post(undefined, signJwt(SECRET, clock), 'GET')).status, 405)
    assert.equal((await post('x'.repeat(2048))).status, 413)
    assert.equal((await post('{')).body.error?.code, -32700)
  })

  it('serves batches; op-node rules for stop and start', async () => {
    const batch = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${signJwt(SECRET, clock)}` },
      body: JSON.stringify([
        { jsonrpc: '2.0', id: 1, method: 'admin_sequencerActive', params: [] },
        { jsonrpc: '2.0', id: 2, method: 'admin_nodeInfo', params: [] },
      ]),
    })
    assert.deepEqual(await batch.json(), [
      { jsonrpc: '2.0', id: 1, result: true },
      { jsonrpc: '2.0', id: 2, result: { id: 'x' } },
    ])
    assert.match(String((await call('admin_startSequencer', [HEAD])).body.error?.message), /already running/)
    let release: () => void = () => undefined
    stopGate = new Promise<void>((resolve) => (release = resolve))
    const stopping = call('admin_stopSequencer')
    await new Promise((resolve) => setTimeout(resolve, 50))
    assert.match(String((await call('admin_stopSequencer')).body.error?.message), /not running/)
    release()
    assert.equal((await stopping).body.result, HEAD)
    const wrong = await call('admin_startSequencer', [`0x${'00'.repeat(32)}`])
    assert.equal(wrong.body.error?.code, -32602)
    assert.equal((await call('admin_startSequencer', ['0x1234'])).body.error?.code, -32602)
    assert.equal((await call('admin_startSequencer', [HEAD.toUpperCase().replace('0X', '0x')])).body.result, null)
    assert.deepEqual(calls, ['stop', 'start'])
    assert.equal((await call('admin_setLogLevel', ['debug'])).body.result, null)
    assert.equal((await call('admin_setLogLevel', ['verbose'])).body.error?.code, -32602)
    assert.match(String((await call('admin_addPeer', ['/ip4/1.2.3.4/tcp/1'])).body.error?.message), /no p2p/)
    assert.deepEqual((await call('admin_peers')).body.result, [])
  })

  it('logs refusals up to a budget per minute and counts every one', async () => {
    const before = logs.filter((l) => l.msg === 'admin request refused').length
    for (let i = 0; i < 30; i++) await call('admin_nodeInfo', [], 'x.y.z')
    const logged = logs.filter((l) => l.msg === 'admin request refused').length
    assert.equal(logged, 20, `logged ${logged - before} of 30 (${before} before)`)
    const metrics = await registry.metrics()
    assert.match(metrics, /megaeth_admin_requests_total\{method="none",outcome="unauthorized"\} 34/)
    assert.match(metrics, /megaeth_admin_requests_total\{method="admin_startSequencer",outcome="error"\} 3/)
  })

  it('answers "not a sequencer" without a sequencer control', async () => {
    const methods = new MethodRegistry()
    registerAdminMethods(methods, { ...controls, sequencer: undefined })
    const handler = methods.get('admin_sequencerActive')!
    assert.throws(
      () => handler([], { transport: 'http', signal: new AbortController().signal, remoteAddress: '' }),
      /not a sequencer/,
    )
  })
})
