// run-tests: alone — asserts how long a server takes to stop
import { test, describe, before, after, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { pino } from 'pino'
import type { Logger } from 'pino'
import { Registry } from 'prom-client'
import {
  MethodRegistry,
  RpcError,
  RpcServer,
  WsConnection,
  createRpcMetrics,
  executionReverted,
  expectParams,
  invalidRequest,
  methodNotFound,
  methodNotSupported,
  parseAddress,
  parseBlockTag,
  parseBoolean,
  parseBytes,
  parseHash,
  parseQuantity,
  resolveRpcServerOptions,
  resourceNotFound,
  toData,
  toQuantity,
  validateRequest,
} from '../../src/rpc/index.ts'
import type { RpcContext, RpcServerOptions, WsSocket } from '../../src/rpc/index.ts'
import { TestWs } from '../helpers/ws-test-client.ts'

// --- logging: capture JSON log lines so tests can assert what was logged ---

interface LogLine {
  level: number
  msg?: string
  method?: string
  err?: { message?: string; stack?: string }
}

function captureLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = []
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) })
  return { logger, lines }
}

// --- helpers -------------------------------------------------------------------

interface HttpResult {
  status: number
  headers: Headers
  text: string
  json: unknown
}

async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = { 'content-type': 'application/json' },
): Promise<HttpResult> {
  const res = await fetch(url, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) })
  const text = await res.text()
  return { status: res.status, headers: res.headers, text, json: text === '' ? undefined : (JSON.parse(text) as unknown) }
}

interface ErrorObj {
  code: number
  message: string
  data?: unknown
}
interface Resp {
  jsonrpc: string
  id: unknown
  result?: unknown
  error?: ErrorObj
}

function asResp(value: unknown): Resp {
  assert.ok(
    typeof value === 'object' && value !== null && !Array.isArray(value),
    `expected a response object, got ${JSON.stringify(value)}`,
  )
  const r = value as Resp
  assert.equal(r.jsonrpc, '2.0')
  return r
}

function asBatch(value: unknown): Resp[] {
  assert.ok(Array.isArray(value), `expected an array, got ${JSON.stringify(value)}`)
  return value.map(asResp)
}

function errorOf(value: unknown): ErrorObj {
  const r = asResp(value)
  assert.ok(r.error !== undefined, `expected an error response, got ${JSON.stringify(value)}`)
  assert.equal('result' in r, false)
  return r.error
}

// --- the test registry ------------------------------------------------------

const cleanups = { count: 0 }
const probes = { slowStarted: 0, hangStarted: 0, hangAborted: 0 }

function wsConnection(ctx: RpcContext): WsConnection {
  if (ctx.transport !== 'ws') throw methodNotSupported('test_subscribe over http')
  return ctx.connection
}

function buildRegistry(): MethodRegistry {
  const registry = new MethodRegistry()
  registry.registerAll({
    echo: (params) => params,
    add: (params) => {
      const [a, b] = expectParams(params, 2)
      return toQuantity(parseQuantity(a, 0) + parseQuantity(b, 1))
    },
    void: () => undefined,
    bigint: () => 1n,
    ctx_info: (_params, ctx) => ({ transport: ctx.transport, hasConnection: ctx.connection !== undefined }),
    fail_rpc: () => {
      throw resourceNotFound('block not found', { hint: 'try later' })
    },
    fail_plain: async () => {
      await sleep(1)
      throw new Error('secret internal detail /home/node/.keys')
    },
    fail_sync: () => {
      throw new TypeError('sync boom')
    },
    revert: () => {
      throw executionReverted('0x08c379a0', 'boom')
    },
    slow: async (params, ctx) => {
      probes.slowStarted++
      const ms = Number(params[0] ?? 100)
      await sleep(ms, undefined, { signal: ctx.signal })
      return 'done'
    },
    // Never finishes on its own; only an abort ends it.
    hang: (_params, ctx) => {
      probes.hangStarted++
      return new Promise((_resolve, reject) => {
        ctx.signal.addEventListener('abort', () => {
          probes.hangAborted++
          reject(ctx.signal.reason)
        })
      })
    },
    // Notifies synchronously *before* returning: the transport must hold these until the response is out.
    test_subscribe: (_params, ctx) => {
      const conn = wsConnection(ctx)
      const id = conn.addSubscription(() => {
        cleanups.count++
      })
      for (let i = 0; i < 3; i++) conn.notify(id, toQuantity(i))
      return id
    },
    test_unsubscribe: (params, ctx) => {
      const [id] = expectParams(params, 1)
      if (typeof id !== 'string') throw new RpcError(-32602, 'invalid argument 0: expected subscription id')
      return wsConnection(ctx).removeSubscription(id)
    },
    test_subscribeThenFail: (_params, ctx) => {
      wsConnection(ctx).addSubscription(() => {
        cleanups.count++
      })
      throw new Error('failed after subscribing')
    },
    test_subscriptionCount: (_params, ctx) => wsConnection(ctx).subscriptionCount,
  })
  return registry
}

const LIMITS: Partial<RpcServerOptions> = {
  host: '127.0.0.1',
  port: 0,
  maxBatchSize: 10,
  maxBodyBytes: 64 * 1024,
  maxWsMessageBytes: 16 * 1024,
  maxSubscriptionsPerConnection: 3,
  maxWsConnections: 50,
}

// =============================================================================
// params.ts
// =============================================================================

function assertInvalidParams(fn: () => unknown, message: string | RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof RpcError)
    assert.equal(err.code, -32602)
    if (typeof message === 'string') assert.equal(err.message, message)
    else assert.match(err.message, message)
    return true
  })
}

describe('params: parseQuantity', () => {
  test('accepts canonical quantities', () => {
    assert.equal(parseQuantity('0x0', 0), 0n)
    assert.equal(parseQuantity('0x1', 0), 1n)
    assert.equal(parseQuantity('0x1a', 0), 26n)
    assert.equal(parseQuantity('0xAbC', 0), 0xabcn, 'upper-case digits')
    assert.equal(parseQuantity('0X10', 0), 16n, '0X prefix like geth')
    assert.equal(parseQuantity(`0x${'f'.repeat(64)}`, 0), (1n << 256n) - 1n)
  })
  test('rejects malformed quantities with precise messages', () => {
    assertInvalidParams(() => parseQuantity('0x', 0), 'invalid argument 0: empty hex string')
    assertInvalidParams(() => parseQuantity('0x01', 1), 'invalid argument 1: hex number with leading zero digits')
    assertInvalidParams(() => parseQuantity('0x00', 0), 'invalid argument 0: hex number with leading zero digits')
    assertInvalidParams(() => parseQuantity('10', 2), 'invalid argument 2: hex string without 0x prefix')
    assertInvalidParams(() => parseQuantity('', 0), 'invalid argument 0: hex string without 0x prefix')
    assertInvalidParams(() => parseQuantity('0xzz', 0), 'invalid argument 0: invalid hex string')
    assertInvalidParams(
      () => parseQuantity(16, 0),
      'invalid argument 0: expected quantity as a 0x-prefixed hex string, got number',
    )
    assertInvalidParams(() => parseQuantity(null, 0), /got null$/)
    assertInvalidParams(() => parseQuantity(`0x1${'0'.repeat(64)}`, 0), 'invalid argument 0: hex number > 256 bits')
    assertInvalidParams(
      () => parseQuantity('0x10000000000000000', 0, { maxBits: 64 }),
      'invalid argument 0: hex number > 64 bits',
    )
    assertInvalidParams(
      () => parseQuantity('0x01', 0, { field: 'gas' }),
      'invalid argument 0: gas: hex number with leading zero digits',
    )
  })
  test('bounds work on huge inputs', () => {
    assertInvalidParams(() => parseQuantity(`0x1${'0'.repeat(1_000_000)}`, 0), /> 256 bits/)
  })
})

describe('params: fixed-size hex', () => {
  const addr = `0x${'aB'.repeat(20)}`
  test('parseAddress accepts any case and normalizes to lower case', () => {
    assert.equal(parseAddress(addr, 0), addr.toLowerCase())
  })
  test('parseAddress rejects wrong lengths and bad digits', () => {
    assertInvalidParams(() => parseAddress(`${addr}ab`, 0), 'invalid argument 0: hex string has length 42, want 40 for address')
    assertInvalidParams(() => parseAddress('0x1234', 0), 'invalid argument 0: hex string has length 4, want 40 for address')
    assertInvalidParams(() => parseAddress(`0x${'g'.repeat(40)}`, 0), 'invalid argument 0: invalid hex string')
    assertInvalidParams(() => parseAddress('ab'.repeat(20), 0), 'invalid argument 0: hex string without 0x prefix')
    assertInvalidParams(() => parseAddress(undefined, 3), /^invalid argument 3: expected address .* got undefined$/)
  })
  test('parseHash requires exactly 32 bytes', () => {
    const hash = `0x${'11'.repeat(32)}`
    assert.equal(parseHash(hash.toUpperCase().replace('0X', '0x'), 0), hash)
    assertInvalidParams(
      () => parseHash(`0x${'11'.repeat(31)}`, 0),
      'invalid argument 0: hex string has length 62, want 64 for hash',
    )
  })
})

describe('params: parseBytes / parseBoolean', () => {
  test('parseBytes decodes any even length, including empty', () => {
    assert.deepEqual(parseBytes('0x', 0), new Uint8Array())
    assert.deepEqual(parseBytes('0x00ff', 0), new Uint8Array([0, 255]))
    assert.deepEqual(parseBytes('0xABcd', 0), new Uint8Array([0xab, 0xcd]))
    const out = parseBytes('0x0102', 0)
    assert.equal(out.constructor, Uint8Array, 'a plain Uint8Array, not a pooled Buffer')
  })
  test('parseBytes rejects odd length and bad digits', () => {
    assertInvalidParams(() => parseBytes('0x123', 0), 'invalid argument 0: hex string of odd length')
    assertInvalidParams(() => parseBytes('0x12zz', 1), 'invalid argument 1: invalid hex string')
    assertInvalidParams(() => parseBytes('1234', 0), 'invalid argument 0: hex string without 0x prefix')
  })
  test('parseBoolean', () => {
    assert.equal(parseBoolean(true, 0), true)
    assert.equal(parseBoolean(false, 0), false)
    assertInvalidParams(() => parseBoolean('true', 1), 'invalid argument 1: expected boolean, got string')
  })
})

describe('params: parseBlockTag', () => {
  const hash = `0x${'ab'.repeat(32)}`
  test('tags, numbers and hashes', () => {
    for (const tag of ['latest', 'pending', 'safe', 'finalized', 'earliest'] as const) {
      assert.deepEqual(parseBlockTag(tag, 0), { kind: 'tag', tag })
    }
    assert.deepEqual(parseBlockTag('0x0', 0), { kind: 'number', number: 0n })
    assert.deepEqual(parseBlockTag('0x1b4', 1), { kind: 'number', number: 436n })
    assert.deepEqual(parseBlockTag(hash, 0), { kind: 'hash', hash, requireCanonical: false })
  })
  test('EIP-1898 objects', () => {
    assert.deepEqual(parseBlockTag({ blockNumber: '0x10' }, 1), { kind: 'number', number: 16n })
    assert.deepEqual(parseBlockTag({ blockNumber: 'finalized' }, 1), { kind: 'tag', tag: 'finalized' })
    assert.deepEqual(parseBlockTag({ blockHash: hash }, 1), { kind: 'hash', hash, requireCanonical: false })
    assert.deepEqual(parseBlockTag({ blockHash: hash, requireCanonical: true }, 1), {
      kind: 'hash',
      hash,
      requireCanonical: true,
    })
  })
  test('fallback for an omitted optional argument', () => {
    assert.deepEqual(parseBlockTag(undefined, 1, { kind: 'tag', tag: 'latest' }), { kind: 'tag', tag: 'latest' })
  })
  test('rejects bad block references', () => {
    assertInvalidParams(() => parseBlockTag('0x01', 1), 'invalid argument 1: hex number with leading zero digits')
    assertInvalidParams(() => parseBlockTag('Latest', 1), /^invalid argument 1: invalid block tag/)
    assertInvalidParams(() => parseBlockTag('0x8000000000000000', 1), 'invalid argument 1: block number larger than int64')
    assertInvalidParams(() => parseBlockTag({ blockHash: hash, blockNumber: '0x1' }, 1), /cannot specify both/)
    assertInvalidParams(() => parseBlockTag({}, 1), /expected an object with blockNumber or blockHash/)
    assertInvalidParams(
      () => parseBlockTag({ blockHash: '0x12' }, 1),
      'invalid argument 1: blockHash: hex string has length 2, want 64 for hash',
    )
    assertInvalidParams(
      () => parseBlockTag({ blockHash: hash, requireCanonical: 'yes' }, 1),
      'invalid argument 1: requireCanonical: expected boolean, got string',
    )
    assertInvalidParams(() => parseBlockTag(5, 0), /got number$/)
    assertInvalidParams(() => parseBlockTag(undefined, 0), /got undefined$/)
  })
})

describe('params: expectParams and encoders', () => {
  test('pads optional params and maps optional nulls to undefined', () => {
    assert.deepEqual(expectParams(['a'], 1, 3), ['a', undefined, undefined])
    assert.deepEqual(expectParams(['a', null], 1, 2), ['a', undefined])
    assert.deepEqual(expectParams([], 0, 0), [])
  })
  test('rejects missing required and extra params', () => {
    assertInvalidParams(() => expectParams([], 1, 2), 'missing value for required argument 0')
    assertInvalidParams(() => expectParams(['a', null], 2), 'missing value for required argument 1')
    assertInvalidParams(() => expectParams([1, 2, 3], 1, 2), 'too many arguments, want at most 2')
  })
  test('toQuantity / toData', () => {
    assert.equal(toQuantity(0), '0x0')
    assert.equal(toQuantity(0n), '0x0')
    assert.equal(toQuantity(255), '0xff')
    assert.equal(toQuantity(1n << 64n), '0x10000000000000000')
    assert.throws(() => toQuantity(-1), RangeError)
    assert.throws(() => toQuantity(1.5), RangeError)
    assert.equal(toData(new Uint8Array()), '0x')
    assert.equal(toData(new Uint8Array([0, 1, 0xab])), '0x0001ab')
    const view = new Uint8Array([9, 8, 7, 6]).subarray(1, 3)
    assert.equal(toData(view), '0x0807', 'respects byteOffset of views')
  })
})

describe('errors', () => {
  test('standard constructors', () => {
    assert.equal(methodNotFound('foo_bar').message, 'the method foo_bar does not exist/is not available')
    assert.equal(methodNotFound('foo_bar').code, -32601)
    assert.equal(invalidRequest().code, -32600)
    const reverted = executionReverted('0xdead')
    assert.deepEqual(reverted.toObject(), { code: 3, message: 'execution reverted', data: '0xdead' })
    assert.equal(executionReverted('0x', 'nope').message, 'execution reverted: nope')
    assert.deepEqual(invalidRequest('x').toObject(), { code: -32600, message: 'invalid request: x' }, 'no data key when absent')
  })
  test('validateRequest', () => {
    assert.deepEqual(validateRequest({ jsonrpc: '2.0', method: 'a' }), { kind: 'valid', id: undefined, method: 'a', params: [] })
    assert.deepEqual(validateRequest({ jsonrpc: '2.0', id: null, method: 'a', params: null }), {
      kind: 'valid',
      id: null,
      method: 'a',
      params: [],
    })
    assert.equal(validateRequest({ jsonrpc: '2.0', id: [1], method: 'a' }).kind, 'invalid')
  })
  test('options validation', () => {
    assert.equal(resolveRpcServerOptions().port, 8545)
    assert.equal(resolveRpcServerOptions({ port: undefined }).port, 8545)
    assert.throws(() => resolveRpcServerOptions({ maxBatchSize: 0 }), RangeError)
    assert.throws(() => resolveRpcServerOptions({ port: 70000 }), RangeError)
  })
})

// =============================================================================
// WsConnection (fake socket: deterministic back-pressure checks)
// =============================================================================

class FakeSocket implements WsSocket {
  readyState = 1
  bufferedAmount = 0
  readonly sent: string[] = []
  closedWith: { code?: number; reason?: string } | undefined
  private readonly listeners = new Map<string, Array<(...args: never[]) => void>>()

  send(data: string): void {
    this.sent.push(data)
  }
  ping(): void {}
  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason }
    this.readyState = 2
  }
  terminate(): void {
    this.readyState = 3
    this.emitClose()
  }
  on(event: string, listener: (...args: never[]) => void): this {
    const list = this.listeners.get(event) ?? []
    list.push(listener)
    this.listeners.set(event, list)
    return this
  }
  emitClose(): void {
    for (const l of this.listeners.get('close') ?? []) (l as (code: number, reason: Buffer) => void)(1000, Buffer.alloc(0))
  }
}

describe('WsConnection', () => {
  test('subscription ids are random 16-byte hex', () => {
    const conn = new WsConnection(new FakeSocket(), { maxSubscriptions: 10, maxBufferedBytes: 1024 })
    const a = conn.addSubscription(() => {})
    const b = conn.addSubscription(() => {})
    assert.match(a, /^0x[0-9a-f]{32}$/)
    assert.notEqual(a, b)
  })

  test('notification format', () => {
    const socket = new FakeSocket()
    const conn = new WsConnection(socket, { maxSubscriptions: 10, maxBufferedBytes: 1024 })
    const id = conn.addSubscription(() => {})
    assert.equal(conn.notify(id, { n: '0x1' }), true)
    assert.deepEqual(JSON.parse(socket.sent[0] ?? ''), {
      jsonrpc: '2.0',
      method: 'eth_subscription',
      params: { subscription: id, result: { n: '0x1' } },
    })
    assert.equal(conn.notify(id, 5n), false, 'bigint is dropped, not thrown')
    assert.equal(conn.notify('0x00', 1), false, 'unknown subscription')
  })

  test('closes a stalled reader with 1008 instead of buffering without bound', () => {
    const socket = new FakeSocket()
    const conn = new WsConnection(socket, { maxSubscriptions: 10, maxBufferedBytes: 1000 })
    const id = conn.addSubscription(() => {})
    socket.bufferedAmount = 500
    assert.equal(conn.notify(id, 'x'), true)
    // One large message may exceed the limit on its own …
    assert.equal(conn.send('y'.repeat(5000)), true)
    socket.bufferedAmount = 5200
    // … and small messages right behind it are still fine while it drains …
    assert.equal(conn.notify(id, 'x'), true)
    // … but a backlog beyond limit + largest recent message means the peer is not reading.
    socket.bufferedAmount = 6100
    assert.equal(conn.notify(id, 'x'), false)
    assert.equal(socket.closedWith?.code, 1008)
    assert.match(socket.closedWith?.reason ?? '', /send buffer limit exceeded \(1000 bytes\)/)
    assert.equal(conn.isOpen, false)
    assert.equal(conn.send('z'), false, 'nothing is sent after deciding to close')
  })

  test('close runs every cleanup once and aborts the signal', () => {
    const socket = new FakeSocket()
    const conn = new WsConnection(socket, { maxSubscriptions: 10, maxBufferedBytes: 1024 })
    let cleaned = 0
    const a = conn.addSubscription(() => cleaned++)
    conn.addSubscription(() => cleaned++)
    assert.equal(conn.removeSubscription(a), true)
    assert.equal(conn.removeSubscription(a), false)
    assert.equal(cleaned, 1)
    let closed = false
    conn.onClose(() => (closed = true))
    socket.emitClose()
    assert.equal(cleaned, 2)
    assert.equal(conn.signal.aborted, true)
    assert.equal(closed, true)
    assert.equal(conn.subscriptionCount, 0)
  })

  test('heartbeat terminates a peer that missed a pong', () => {
    const socket = new FakeSocket()
    const conn = new WsConnection(socket, { maxSubscriptions: 1, maxBufferedBytes: 1024 })
    conn.heartbeat()
    assert.equal(socket.readyState, 1)
    conn.heartbeat()
    assert.equal(socket.readyState, 3)
    assert.equal(conn.signal.aborted, true)
  })
})

// =============================================================================
// RpcServer over real HTTP and WebSocket
// =============================================================================

describe('RpcServer', () => {
  const { logger, lines } = captureLogger()
  const promRegistry = new Registry()
  const health = { live: true, ready: true as boolean, reason: undefined as string | undefined, throws: false }
  let server: RpcServer
  let url = ''
  let wsUrl = ''

  before(async () => {
    server = new RpcServer(LIMITS, buildRegistry(), {
      logger,
      metrics: createRpcMetrics(promRegistry),
      health: {
        healthz: () => {
          if (health.throws) throw new Error('probe exploded')
          return health.live
        },
        readyz: () => (health.reason === undefined ? { ready: health.ready } : { ready: health.ready, reason: health.reason }),
      },
    })
    const { host, port } = await server.start()
    assert.equal(host, '127.0.0.1')
    assert.ok(port > 0)
    url = `http://${host}:${port}/`
    wsUrl = `ws://${host}:${port}`
  })

  after(async () => {
    await server.stop()
  })

  // The server must keep serving after every (bad) input.
  afterEach(async () => {
    const res = await post(url, { jsonrpc: '2.0', id: 'alive', method: 'echo', params: [1] })
    assert.deepEqual(res.json, { jsonrpc: '2.0', id: 'alive', result: [1] })
  })

  describe('HTTP', () => {
    test('single request: ids of every valid type are echoed', async () => {
      for (const id of [1, 'abc', null, 0, 1.5]) {
        const res = await post(url, { jsonrpc: '2.0', id, method: 'echo', params: ['x', 2] })
        assert.equal(res.status, 200)
        assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
        assert.deepEqual(res.json, { jsonrpc: '2.0', id, result: ['x', 2] })
      }
    })

    test('params parsing errors come back as -32602 with the argument index', async () => {
      const ok = await post(url, { jsonrpc: '2.0', id: 1, method: 'add', params: ['0x1', '0x2'] })
      assert.equal(asResp(ok.json).result, '0x3')
      const bad = await post(url, { jsonrpc: '2.0', id: 2, method: 'add', params: ['0x1', '0x02'] })
      assert.deepEqual(asResp(bad.json), {
        jsonrpc: '2.0',
        id: 2,
        error: { code: -32602, message: 'invalid argument 1: hex number with leading zero digits' },
      })
      const missing = await post(url, { jsonrpc: '2.0', id: 3, method: 'add', params: ['0x1'] })
      assert.equal(errorOf(missing.json).message, 'missing value for required argument 1')
      const named = await post(url, { jsonrpc: '2.0', id: 4, method: 'add', params: { a: '0x1' } })
      assert.equal(errorOf(named.json).code, -32602)
    })

    test('batch: order preserved, notifications omitted, errors per element', async () => {
      const res = await post(url, [
        { jsonrpc: '2.0', id: 1, method: 'echo', params: ['a'] },
        { jsonrpc: '2.0', method: 'echo', params: ['notification'] },
        { jsonrpc: '2.0', id: 3, method: 'nope_nope' },
        1,
        { jsonrpc: '2.0', id: 5, method: 'add', params: ['0x2', '0x2'] },
        { jsonrpc: '2.0', id: 6, method: 'fail_rpc' },
      ])
      const batch = asBatch(res.json)
      assert.deepEqual(
        batch.map((r) => r.id),
        [1, 3, null, 5, 6],
      )
      assert.deepEqual(batch[0]?.result, ['a'])
      assert.equal(batch[1]?.error?.code, -32601)
      assert.equal(batch[2]?.error?.code, -32600)
      assert.equal(batch[3]?.result, '0x4')
      assert.equal(batch[4]?.error?.code, -32001)
    })

    test('a batch exactly at the cap is served', async () => {
      const batch = Array.from({ length: 10 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'echo', params: [i] }))
      const res = await post(url, batch)
      assert.deepEqual(
        asBatch(res.json).map((r) => r.result),
        batch.map((_, i) => [i]),
      )
    })

    test('notifications get no response: 200 with an empty body', async () => {
      const single = await post(url, { jsonrpc: '2.0', method: 'echo', params: [1] })
      assert.equal(single.status, 200)
      assert.equal(single.text, '')
      const batch = await post(url, [
        { jsonrpc: '2.0', method: 'echo' },
        { jsonrpc: '2.0', method: 'nope_nope' },
        { jsonrpc: '2.0', method: 'fail_plain' },
      ])
      assert.equal(batch.status, 200)
      assert.equal(batch.text, '')
    })

    test('empty batch → single -32600 error', async () => {
      const res = await post(url, [])
      assert.deepEqual(res.json, { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'empty batch' } })
    })

    test('oversized batch → one -32600 error in an array, carrying the first id (geth)', async () => {
      const batch = Array.from({ length: 11 }, (_, i) => ({ jsonrpc: '2.0', id: 100 + i, method: 'echo' }))
      const res = await post(url, batch)
      assert.deepEqual(res.json, [{ jsonrpc: '2.0', id: 100, error: { code: -32600, message: 'batch too large (max 10)' } }])
    })

    test('malformed JSON → -32700 with id null', async () => {
      for (const body of ['{"jsonrpc":"2.0",', 'not json', '']) {
        const res = await post(url, body)
        assert.equal(res.status, 200)
        const err = errorOf(res.json)
        assert.equal(asResp(res.json).id, null)
        assert.equal(err.code, -32700)
        assert.match(err.message, /^parse error/)
      }
    })

    test('invalid request objects → -32600', async () => {
      const cases: Array<[unknown, unknown, RegExp]> = [
        [{ jsonrpc: '1.0', id: 7, method: 'echo' }, 7, /jsonrpc must be "2.0"/],
        [{ id: 7, method: 'echo' }, 7, /jsonrpc must be "2.0"/],
        [{ jsonrpc: '2.0', id: 8, method: 42 }, 8, /method must be a string/],
        [{ jsonrpc: '2.0', id: 9 }, 9, /method must be a string/],
        [{ jsonrpc: '2.0', id: { a: 1 }, method: 'echo' }, null, /id must be a string, number or null/],
        [{ jsonrpc: '2.0', id: true, method: 'echo' }, null, /id must be/],
        [{ jsonrpc: '2.0', id: 10, method: 'echo', params: 'str' }, 10, /params must be an array/],
        ['"hello"', null, /expected a JSON object/],
        [42, null, /expected a JSON object/],
      ]
      for (const [body, id, message] of cases) {
        const res = await post(url, body)
        const r = asResp(res.json)
        assert.equal(r.id, id, JSON.stringify(body))
        assert.equal(r.error?.code, -32600)
        assert.match(r.error?.message ?? '', message)
      }
      // JSON-RPC 2.0 spec example: [1,2,3] → three errors.
      const batch = asBatch((await post(url, [1, 2, 3])).json)
      assert.equal(batch.length, 3)
      for (const r of batch) assert.equal(r.error?.code, -32600)
    })

    test('body over maxBodyBytes → HTTP 413 with a JSON-RPC error', async () => {
      const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'echo', params: ['x'.repeat(70 * 1024)] })
      const res = await post(url, big)
      assert.equal(res.status, 413)
      assert.deepEqual(res.json, {
        jsonrpc: '2.0',
        id: null,
        error: { code: -32600, message: 'request body too large (max 65536 bytes)' },
      })
    })

    test('unknown methods → -32601 with geth wording (prototype names included)', async () => {
      for (const method of ['foo_bar', 'constructor', '__proto__', 'toString', '']) {
        const res = await post(url, { jsonrpc: '2.0', id: 1, method })
        assert.deepEqual(errorOf(res.json), { code: -32601, message: `the method ${method} does not exist/is not available` })
      }
    })

    test('handler RpcError → its code, message and data', async () => {
      const res = await post(url, { jsonrpc: '2.0', id: 1, method: 'fail_rpc' })
      assert.deepEqual(errorOf(res.json), { code: -32001, message: 'block not found', data: { hint: 'try later' } })
      const reverted = await post(url, { jsonrpc: '2.0', id: 2, method: 'revert' })
      assert.deepEqual(errorOf(reverted.json), { code: 3, message: 'execution reverted: boom', data: '0x08c379a0' })
    })

    test('plain errors → -32603 internal error, logged with stack, never leaked', async () => {
      const before = lines.length
      for (const method of ['fail_plain', 'fail_sync']) {
        const res = await post(url, { jsonrpc: '2.0', id: 1, method })
        assert.deepEqual(errorOf(res.json), { code: -32603, message: 'internal error' })
        assert.doesNotMatch(res.text, /secret|boom|\.ts|at /)
      }
      const logged = lines.slice(before).filter((l) => l.level === 50 && l.msg === 'rpc handler threw')
      assert.deepEqual(
        logged.map((l) => l.method),
        ['fail_plain', 'fail_sync'],
      )
      assert.match(logged[0]?.err?.stack ?? '', /secret internal detail[\s\S]*\n\s+at /)
    })

    test('a bigint result is a clear internal error, not a crash', async () => {
      const res = await post(url, [
        { jsonrpc: '2.0', id: 1, method: 'bigint' },
        { jsonrpc: '2.0', id: 2, method: 'echo', params: ['still fine'] },
      ])
      const [bad, good] = asBatch(res.json)
      assert.deepEqual(bad?.error, { code: -32603, message: 'internal error: response is not JSON-serializable' })
      assert.deepEqual(good?.result, ['still fine'])
      assert.ok(lines.some((l) => l.level === 50 && /not JSON-serializable/.test(l.msg ?? '')))
    })

    test('undefined result → null', async () => {
      const res = await post(url, { jsonrpc: '2.0', id: 1, method: 'void' })
      assert.deepEqual(res.json, { jsonrpc: '2.0', id: 1, result: null })
    })

    test('ctx.signal aborts when the HTTP client disconnects', async () => {
      const { hangStarted, hangAborted } = probes
      const controller = new AbortController()
      const pending = fetch(url, {
        method: 'POST',
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'hang' }),
        signal: controller.signal,
      }).catch((err: unknown) => err)
      await waitFor(() => probes.hangStarted === hangStarted + 1)
      controller.abort()
      await pending
      await waitFor(() => probes.hangAborted === hangAborted + 1)
    })

    test('ctx over HTTP has no connection', async () => {
      const res = await post(url, { jsonrpc: '2.0', id: 1, method: 'ctx_info' })
      assert.deepEqual(asResp(res.json).result, { transport: 'http', hasConnection: false })
    })

    test('lenient content types (curl users)', async () => {
      const body = { jsonrpc: '2.0', id: 1, method: 'echo', params: [] }
      for (const headers of [
        { 'content-type': 'application/json; charset=UTF-8' },
        { 'content-type': 'application/x-www-form-urlencoded' },
        { 'content-type': 'text/plain' },
        { 'content-type': 'garbage' },
        { 'content-type': '' },
        {} as Record<string, string>,
      ]) {
        const res = await post(url, body, headers)
        assert.deepEqual(res.json, { jsonrpc: '2.0', id: 1, result: [] }, JSON.stringify(headers))
      }
    })

    test('non-RPC routes: 405 / 404 as JSON', async () => {
      const get = await fetch(url)
      assert.equal(get.status, 405)
      assert.equal(get.headers.get('allow'), 'POST, GET, OPTIONS')
      assert.equal(((await get.json()) as { statusCode: number }).statusCode, 405)
      const put = await fetch(url, { method: 'PUT', body: '{}' })
      assert.equal(put.status, 405)
      await put.arrayBuffer()
      const missing = await fetch(new URL('/nope', url))
      assert.equal(missing.status, 404)
      assert.match(missing.headers.get('content-type') ?? '', /application\/json/)
      await missing.arrayBuffer()
      const postMissing = await fetch(new URL('/nope', url), { method: 'POST', body: '{}' })
      assert.equal(postMissing.status, 404)
      await postMissing.arrayBuffer()
    })

    test('/healthz and /readyz', async () => {
      const healthz = new URL('/healthz', url)
      const readyz = new URL('/readyz', url)
      let res = await fetch(healthz)
      assert.equal(res.status, 200)
      assert.deepEqual(await res.json(), { status: 'ok' })
      health.live = false
      res = await fetch(healthz)
      assert.equal(res.status, 503)
      assert.deepEqual(await res.json(), { status: 'unhealthy' })
      health.live = true
      health.throws = true
      res = await fetch(healthz)
      assert.equal(res.status, 503)
      await res.arrayBuffer()
      health.throws = false

      res = await fetch(readyz)
      assert.equal(res.status, 200)
      assert.deepEqual(await res.json(), { ready: true })
      health.ready = false
      health.reason = 'syncing'
      res = await fetch(readyz)
      assert.equal(res.status, 503)
      assert.deepEqual(await res.json(), { ready: false, reason: 'syncing' })
      health.ready = true
      health.reason = undefined
    })

    test('CORS: preflight and response headers (wildcard)', async () => {
      const pre = await fetch(url, {
        method: 'OPTIONS',
        headers: {
          origin: 'https://dapp.example',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type, x-wallet-sdk',
        },
      })
      assert.equal(pre.status, 204)
      assert.equal(pre.headers.get('access-control-allow-origin'), '*')
      assert.match(pre.headers.get('access-control-allow-methods') ?? '', /POST/)
      assert.equal(pre.headers.get('access-control-allow-headers'), 'content-type, x-wallet-sdk')
      await pre.arrayBuffer()
      const res = await post(
        url,
        { jsonrpc: '2.0', id: 1, method: 'echo' },
        { 'content-type': 'application/json', origin: 'https://dapp.example' },
      )
      assert.equal(res.headers.get('access-control-allow-origin'), '*')
    })

    test('metrics: registered methods get their own label, unknown ones are "other"', async () => {
      await post(url, { jsonrpc: '2.0', id: 1, method: 'add', params: ['0x1', '0x1'] })
      await post(url, { jsonrpc: '2.0', id: 1, method: 'attacker_random_1234' })
      const text = await promRegistry.metrics()
      assert.match(text, /megaeth_rpc_request_duration_seconds_count\{method="add",status="ok"\} \d+/)
      assert.match(text, /megaeth_rpc_request_duration_seconds_count\{method="other",status="error"\} \d+/)
      assert.match(text, /method="fail_rpc",status="error"/)
      assert.doesNotMatch(text, /attacker_random_1234/)
    })
  })

  describe('WebSocket', () => {
    test('single, batch and ctx.connection', async () => {
      const ws = await TestWs.open(wsUrl)
      try {
        assert.deepEqual(await ws.call({ jsonrpc: '2.0', id: 1, method: 'echo', params: [1] }), {
          jsonrpc: '2.0',
          id: 1,
          result: [1],
        })
        const batch = asBatch(
          await ws.call([
            { jsonrpc: '2.0', id: 'a', method: 'add', params: ['0x1', '0x2'] },
            { jsonrpc: '2.0', method: 'echo' },
            { jsonrpc: '2.0', id: 'b', method: 'ctx_info' },
          ]),
        )
        assert.deepEqual(
          batch.map((r) => r.result),
          ['0x3', { transport: 'ws', hasConnection: true }],
        )
        // Notification only: nothing comes back.
        ws.send({ jsonrpc: '2.0', method: 'echo' })
        ws.send([{ jsonrpc: '2.0', method: 'echo' }])
        await ws.expectSilence()
        // Binary frames carrying JSON are accepted too.
        ws.ws.send(Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'echo', params: ['bin'] })), { binary: true })
        assert.deepEqual(await ws.next(), { jsonrpc: '2.0', id: 2, result: ['bin'] })
      } finally {
        await ws.close()
      }
    })

    test('bad input does not close the connection', async () => {
      const ws = await TestWs.open(wsUrl)
      try {
        assert.equal(errorOf(await ws.call('{oops')).code, -32700)
        assert.equal(errorOf(await ws.call([])).message, 'empty batch')
        assert.equal(errorOf(await ws.call({ jsonrpc: '2.0', id: 1, method: 'fail_plain' })).message, 'internal error')
        const tooMany = Array.from({ length: 11 }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'echo' }))
        assert.equal(asBatch(await ws.call(tooMany))[0]?.error?.message, 'batch too large (max 10)')
        assert.deepEqual(await ws.call({ jsonrpc: '2.0', id: 9, method: 'echo' }), { jsonrpc: '2.0', id: 9, result: [] })
      } finally {
        await ws.close()
      }
    })

    test('subscription: response first, then 3 notifications in order; unsubscribe', async () => {
      const ws = await TestWs.open(wsUrl)
      try {
        const cleanupsBefore = cleanups.count
        const sub = asResp(await ws.call({ jsonrpc: '2.0', id: 1, method: 'test_subscribe' }))
        assert.equal(sub.id, 1)
        assert.match(String(sub.result), /^0x[0-9a-f]{32}$/)
        for (let i = 0; i < 3; i++) {
          assert.deepEqual(await ws.next(), {
            jsonrpc: '2.0',
            method: 'eth_subscription',
            params: { subscription: sub.result, result: `0x${i}` },
          })
        }
        assert.deepEqual(await ws.call({ jsonrpc: '2.0', id: 2, method: 'test_unsubscribe', params: [sub.result] }), {
          jsonrpc: '2.0',
          id: 2,
          result: true,
        })
        assert.equal(cleanups.count, cleanupsBefore + 1)
        assert.equal(
          asResp(await ws.call({ jsonrpc: '2.0', id: 3, method: 'test_unsubscribe', params: [sub.result] })).result,
          false,
        )
      } finally {
        await ws.close()
      }
    })

    test('subscription inside a batch: the batch response precedes notifications', async () => {
      const ws = await TestWs.open(wsUrl)
      try {
        const batch = asBatch(
          await ws.call([
            { jsonrpc: '2.0', id: 1, method: 'test_subscribe' },
            { jsonrpc: '2.0', id: 2, method: 'echo', params: ['x'] },
          ]),
        )
        const id = batch[0]?.result
        assert.equal(typeof id, 'string')
        const notes = [await ws.next(), await ws.next(), await ws.next()] as Array<{ params: { subscription: unknown } }>
        for (const n of notes) assert.equal(n.params.subscription, id)
      } finally {
        await ws.close()
      }
    })

    test('subscription cap per connection, failed subscribe leaks nothing, cleanup on close', async () => {
      const ws = await TestWs.open(wsUrl)
      const cleanupsBefore = cleanups.count
      const ids: unknown[] = []
      for (let i = 0; i < 3; i++) {
        const r = asResp(await ws.call({ jsonrpc: '2.0', id: i, method: 'test_subscribe' }))
        ids.push(r.result)
        for (let n = 0; n < 3; n++) await ws.next()
      }
      assert.deepEqual(errorOf(await ws.call({ jsonrpc: '2.0', id: 9, method: 'test_subscribe' })), {
        code: -32005,
        message: 'subscription limit reached (3 per connection)',
      })
      // Freeing one slot makes room again.
      assert.equal(asResp(await ws.call({ jsonrpc: '2.0', id: 10, method: 'test_unsubscribe', params: [ids[0]] })).result, true)
      // A handler that subscribes then throws must not keep the subscription.
      assert.equal(errorOf(await ws.call({ jsonrpc: '2.0', id: 11, method: 'test_subscribeThenFail' })).code, -32603)
      assert.equal(asResp(await ws.call({ jsonrpc: '2.0', id: 12, method: 'test_subscriptionCount' })).result, 2)
      assert.equal(cleanups.count, cleanupsBefore + 2)
      // Closing the socket cleans up the remaining two.
      await ws.close()
      await waitFor(() => cleanups.count === cleanupsBefore + 4)
      await waitFor(() => server.wsConnectionCount === 0)
    })

    test('message over maxWsMessageBytes closes that socket with 1009; others are unaffected', async () => {
      const victim = await TestWs.open(wsUrl)
      const bystander = await TestWs.open(wsUrl)
      try {
        victim.send({ jsonrpc: '2.0', id: 1, method: 'echo', params: ['x'.repeat(20 * 1024)] })
        const closed = await victim.closed
        assert.equal(closed.code, 1009)
        assert.deepEqual(await bystander.call({ jsonrpc: '2.0', id: 1, method: 'echo' }), { jsonrpc: '2.0', id: 1, result: [] })
      } finally {
        await bystander.close()
      }
    })

    test('unknown WS path is refused with 404', async () => {
      assert.equal((await TestWs.refused(`${wsUrl}/nope`)).status, 404)
    })
  })
})

async function waitFor(cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await sleep(10)
  }
}

describe('RpcServer limits and lifecycle', () => {
  test('WebSocket connection cap refuses the upgrade', async () => {
    const server = new RpcServer({ ...LIMITS, maxWsConnections: 2 }, buildRegistry(), { logger: pino({ level: 'silent' }) })
    const { port } = await server.start()
    const wsUrl = `ws://127.0.0.1:${port}`
    const clients: TestWs[] = []
    try {
      clients.push(await TestWs.open(wsUrl), await TestWs.open(wsUrl))
      assert.equal((await TestWs.refused(wsUrl)).status, 503)
      await clients.shift()?.close()
      await waitFor(() => server.wsConnectionCount === 1)
      const again = await TestWs.open(wsUrl)
      clients.push(again)
      assert.equal(asResp(await again.call({ jsonrpc: '2.0', id: 1, method: 'echo' })).id, 1)
    } finally {
      for (const c of clients) await c.close()
      await server.stop()
    }
  })

  test('restricted CORS origins: echo allowed origin, refuse others (HTTP preflight and WS upgrade)', async () => {
    const server = new RpcServer({ ...LIMITS, corsOrigins: ['https://good.example'] }, buildRegistry(), {
      logger: pino({ level: 'silent' }),
    })
    const { port } = await server.start()
    const url = `http://127.0.0.1:${port}/`
    try {
      const good = await fetch(url, {
        method: 'OPTIONS',
        headers: { origin: 'https://good.example', 'access-control-request-method': 'POST' },
      })
      assert.equal(good.status, 204)
      assert.equal(good.headers.get('access-control-allow-origin'), 'https://good.example')
      assert.match(good.headers.get('vary') ?? '', /Origin/)
      const bad = await fetch(url, {
        method: 'OPTIONS',
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
      })
      assert.equal(bad.status, 403)
      assert.equal(bad.headers.get('access-control-allow-origin'), null)
      await Promise.all([good.arrayBuffer(), bad.arrayBuffer()])
      assert.equal((await TestWs.refused(`ws://127.0.0.1:${port}`, { headers: { origin: 'https://evil.example' } })).status, 403)
      const ok = await TestWs.open(`ws://127.0.0.1:${port}`, { headers: { origin: 'https://good.example' } })
      await ok.close()
    } finally {
      await server.stop()
    }
  })

  test('keepalive drops a peer that stops answering pings', async () => {
    const server = new RpcServer({ ...LIMITS, wsPingIntervalMs: 50 }, buildRegistry(), { logger: pino({ level: 'silent' }) })
    const { port } = await server.start()
    try {
      const healthy = await TestWs.open(`ws://127.0.0.1:${port}`)
      const dead = await TestWs.open(`ws://127.0.0.1:${port}`, { autoPong: false })
      const closed = await dead.closed
      assert.equal(closed.code, 1006, 'terminated without a close frame')
      assert.equal(asResp(await healthy.call({ jsonrpc: '2.0', id: 1, method: 'echo' })).id, 1)
      await healthy.close()
    } finally {
      await server.stop()
    }
  })

  test('graceful stop: in-flight requests finish, WS closed with 1001, then refuses', async () => {
    const server = new RpcServer(LIMITS, buildRegistry(), { logger: pino({ level: 'silent' }) })
    const { port } = await server.start()
    const url = `http://127.0.0.1:${port}/`
    const ws = await TestWs.open(`ws://127.0.0.1:${port}`)
    const slowBefore = probes.slowStarted
    const inflight = post(url, { jsonrpc: '2.0', id: 1, method: 'slow', params: [150] })
    await waitFor(() => probes.slowStarted === slowBefore + 1)
    const started = Date.now()
    await server.stop()
    assert.deepEqual((await inflight).json, { jsonrpc: '2.0', id: 1, result: 'done' })
    assert.ok(Date.now() - started < 2000)
    const closed = await ws.closed
    assert.equal(closed.code, 1001)
    assert.equal(closed.reason, 'server shutting down')
    await assert.rejects(fetch(url))
    await server.stop() // idempotent
  })

  test('stop() is bounded: hung handlers are aborted after shutdownTimeoutMs', async () => {
    const server = new RpcServer({ ...LIMITS, shutdownTimeoutMs: 200 }, buildRegistry(), { logger: pino({ level: 'silent' }) })
    const { port } = await server.start()
    const inflight = fetch(`http://127.0.0.1:${port}/`, {
      method: 'POST',
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'hang' }),
    }).then(
      (res) => res.text(),
      (err: unknown) => err,
    )
    const { hangStarted, hangAborted } = probes
    await waitFor(() => probes.hangStarted === hangStarted + 1)
    const started = Date.now()
    await server.stop()
    const elapsed = Date.now() - started
    assert.ok(elapsed >= 150 && elapsed < 2000, `stop took ${elapsed} ms`)
    assert.equal(probes.hangAborted, hangAborted + 1, 'the handler saw ctx.signal abort')
    await inflight
  })

  test('start() reports EADDRINUSE and a server cannot be started twice', async () => {
    const a = new RpcServer(LIMITS, new MethodRegistry(), { logger: pino({ level: 'silent' }) })
    const { port } = await a.start()
    try {
      await assert.rejects(a.start(), /cannot start/)
      const b = new RpcServer({ ...LIMITS, port }, new MethodRegistry(), { logger: pino({ level: 'silent' }) })
      await assert.rejects(b.start(), /EADDRINUSE/)
      await b.stop()
    } finally {
      await a.stop()
    }
  })
})

describe('MethodRegistry', () => {
  test('rejects duplicates and malformed names', () => {
    const r = new MethodRegistry()
    r.register('eth_chainId', () => '0x1')
    assert.throws(() => r.register('eth_chainId', () => '0x1'), /already registered/)
    assert.throws(() => r.register('bad name', () => null), TypeError)
    assert.equal(r.has('eth_chainId'), true)
    assert.equal(r.has('constructor'), false)
    assert.equal(r.get('toString'), undefined)
    assert.deepEqual(r.names(), ['eth_chainId'])
  })
})
