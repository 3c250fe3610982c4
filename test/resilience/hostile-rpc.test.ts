/**
 * Resilience campaign `hostile-rpc` (issue 20): hostile JSON-RPC clients against a real `--dev` node,
 * past where test/e2e/rpc-fuzz.test.ts and test/e2e/bad-input.test.ts stop.
 *
 * Attacks, each its own test, all against one node:
 * - fast-check over every method the node registers (read from `rpc_methods`, so a new method is
 *   fuzzed without touching this file), over HTTP and WebSocket, with requests built as raw JSON
 *   text: 2^256 and 1e309 literals, "0x" + 10k digits, 10k-level nesting, MB arrays and strings,
 *   NUL and lone surrogates, null/float/object/array/bool/huge ids, notifications, non-array params.
 *   Oracle: the envelope decides the code (invalid id → -32600 with id null, primitive params →
 *   -32600, by-name params → -32602, notification → no answer) and a valid call to a registered
 *   method is never -32700/-32600/-32601/-32603;
 * - a valid batch truncated at every byte offset (→ -32700), and corrupted at every offset with
 *   hostile bytes: the answer is -32700 exactly when the text is not JSON (a differential oracle:
 *   JSON.parse on the client), otherwise well-formed;
 * - 10,000-item batches, alone and in parallel floods: the one-element -32600 "batch too large";
 * - slow-loris HTTP (headers a byte at a time, a body that never ends, an idle socket) and
 *   WebSocket (a frame trickled without answering pings): the node cuts them off;
 * - WebSocket clients that never read while subscriptions pump and responses pile up: closed at the
 *   send-buffer cap (1008), memory bounded;
 * - subscription floods: thousands of eth_subscribe per connection over many connections: exactly
 *   the per-connection cap is granted, the rest -32005.
 * Throughout, an honest client (test/helpers/honest-client.ts) measures eth_blockNumber and
 * send→receipt latencies and mini-block arrivals, and the node's RSS is sampled. The last test
 * asserts 0 crashes, bounded RSS, the latency budget, mini-blocks kept coming and every receipt the
 * honest client received is still there and identical (`lost`), then writes the campaign report.
 */
import { after, afterEach, before, beforeEach, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import type { Socket } from 'node:net'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import fc from 'fast-check'
import type { Hex } from 'viem'
import { DEV_KEYS, WebSocketClient, postRaw, rpc, startNode, waitFor } from '../helpers/node-process.ts'
import type { NodeHandle } from '../helpers/node-process.ts'
import { quantile, startHonestClient } from '../helpers/honest-client.ts'
import { rssMb } from '../helpers/node-observations.ts'
import { INSPECT_ENV, NodeInspector } from '../helpers/node-inspector.ts'
import type { HeapUsage } from '../helpers/node-inspector.ts'
import type { HonestClient, HonestSummary } from '../helpers/honest-client.ts'
import { byForm, campaignSeed, isLongForm, writeCampaignReport } from '../helpers/resilience.ts'

const SEED = campaignSeed(20_2026)
const RUNS_PER_METHOD = byForm(4, 30)
const FUZZ_LANES = 4
const CORRUPT_BYTES = byForm(
  ['\u0000', '"', '}', '\uffff'],
  ['\u0000', '"', '}', ']', ',', '\\', '\uffff', '\ud800', 'x', ' ', '1'],
)
const BIG_BATCH = 10_000
const BIG_BATCH_FLOOD = byForm(8, 40)
const NEVER_READING_CLIENTS = byForm(2, 8)
const FLOOD_CONNECTIONS = byForm(10, 50)
const FLOOD_SUBSCRIBES_PER_CONNECTION = byForm(1_000, 2_000)
const FLOOD_HOLD_MS = byForm(3_000, 30_000)
/** The node's defaults these attacks run into (src/rpc/options.ts). */
const MAX_BATCH = 500
const MAX_BODY_BYTES = 5 * 1024 * 1024
const MAX_SUBSCRIPTIONS = 128
const MAX_WS_CONNECTIONS_PER_IP = 100
const REQUEST_TIMEOUT_MS = 30_000
const WS_PING_INTERVAL_MS = 30_000
const WS_MAX_BUFFERED_BYTES = 16 * 1024 * 1024
/**
 * Honest client budget: generous, because CI is 2 cores shared with other suites (this machine ran at a
 * load average of 25 while these were set); the measured values go in the report.
 */
const LATENCY_P99_BUDGET_MS = 3_000
/** Heap used after a full GC, end of the run vs before the attacks (the precise memory property). */
const HEAP_GROWTH_BOUND_MB = 32
/**
 * RSS bounds, loose on purpose (the heap bound above is the precise property): RSS also counts pages V8
 * and malloc freed but keep until V8's memory reducer hands them back. Measured in the long form: the
 * fuzz phase's giant bodies (3 M-character strings, 600,000-element arrays, 4 lanes) left RSS +233 MB
 * over the baseline while the heap used after a GC was +5 MB, and RSS fell back to +59 MB by the end.
 * The peak adds the never-reading clients' send buffers on top of such kept pages: each client up to
 * its 16 MiB cap plus one message, so the long form's 8 take up to ~160 MB more
 * (300 kept + 8 × 20 + 100 for the big batches = 560). After the attacks: the kept pages only.
 */
const RSS_PEAK_BOUND_MB = byForm(400, 560)
const RSS_AFTER_BOUND_MB = 200
const MINI_BLOCK_GAP_BUDGET_MS = 5_000

/** A directory to write the node's heap snapshots to (baseline, after the subscription flood, at the end); none when unset. */
const HEAP_SNAPSHOT_DIR = process.env['HOSTILE_RPC_HEAP_SNAPSHOTS']

const started = performance.now()
let node: NodeHandle
/** The node's V8 heap, read through its inspector: heap used right after a full GC, per phase. */
let inspector: NodeInspector
let heapBaseline: HeapUsage
let methods: string[] = []
let honest: HonestClient
const tried: Record<string, number> = {}
const measured: Record<string, number> = {}
const findings: string[] = [
  'fixed: an HTTP body trickled a byte at a time held its socket forever (fastify left Node headersTimeout at 60 s, above requestTimeout, and Node never expired the request); now cut off within 1.1 × the 30 s request timeout (test/unit/rpc-slow-clients.test.ts)',
  'fixed: a subscription event was JSON-encoded once per subscriber and written with one socket write per frame, so the flood (a quarter of 6,400 subscriptions on the 100-per-second miniBlocks stream) starved the event loop (honest p99 5–9 s); now encoded once per event and a connection’s frames of one tick leave in one corked write: 1,600 subscriptions cost 1.65 ms per empty mini-block instead of 22 ms (bench/ws-notify.ts --real; test/unit/rpc-subscription-fanout.test.ts)',
  'added: --rpc.ws-connections-per-ip (100; HTTP 503 with the reason) and --rpc.ws-inflight (256 messages per connection; -32005 at once) (test/unit/rpc-ws-caps.test.ts)',
  'memory: no structure retains what the attacks left: the heap used after a full GC ends within a few MB of where it started (heapGrowthAfterGcMb; heap snapshots by constructor agree); RSS above it is pages V8 and malloc keep after freeing them, plus code and the worker threads’ heaps',
]
const round1 = (x: number): number => Math.round(x * 10) / 10

async function heapSnapshot(label: string): Promise<void> {
  if (HEAP_SNAPSHOT_DIR === undefined) return
  mkdirSync(HEAP_SNAPSHOT_DIR, { recursive: true })
  const path = join(HEAP_SNAPSHOT_DIR, `hostile-rpc-${label}.heapsnapshot`)
  await inspector.writeHeapSnapshot(path)
  console.log(`heap snapshot ${path}`)
}

const count = (kind: string, n = 1): void => {
  tried[kind] = (tried[kind] ?? 0) + n
}

// --- answers ---------------------------------------------------------------------------------------

interface Answer {
  jsonrpc?: unknown
  id?: unknown
  result?: unknown
  error?: { code?: unknown; message?: unknown }
}

/** What is wrong with one JSON-RPC response object (undefined: nothing). */
function malformed(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not an object'
  const r = value as Answer
  if (r.jsonrpc !== '2.0') return `jsonrpc is ${JSON.stringify(r.jsonrpc)}`
  if (!('id' in r)) return 'no id'
  if ('result' in r === 'error' in r) return 'needs exactly one of result and error'
  if ('error' in r) {
    if (typeof r.error !== 'object' || r.error === null) return 'error is not an object'
    if (!Number.isInteger(r.error.code)) return `error code ${JSON.stringify(r.error.code)}`
    if (typeof r.error.message !== 'string') return 'error message is not a string'
  }
  return undefined
}

const codeOf = (a: Answer): number | undefined => (a.error === undefined ? undefined : (a.error.code as number))

// --- generated requests (raw JSON text) ----------------------------------------------------------

const TWO_256 = (1n << 256n).toString()
const nestArrays = (depth: number): string => `${'['.repeat(depth)}1${']'.repeat(depth)}`
const nestObjects = (depth: number): string => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`

/** One parameter, as JSON text: plausible values (to get past first checks) and hostile ones. */
const paramText: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom('"latest"', '"pending"', '"0x0"', '"0x1"', 'true', 'null', '{}', '[]'), weight: 3 },
  {
    arbitrary: fc.uint8Array({ minLength: 0, maxLength: 33 }).map((b) => JSON.stringify(`0x${Buffer.from(b).toString('hex')}`)),
    weight: 3,
  },
  // huge, negative, fractional, overflowing numbers — as literals the client never rounds
  fc.constantFrom(TWO_256, `-${TWO_256}`, '-1', '-0', '0.5', '1e308', '1e309', '-1e309', '1e-400', '9007199254740993'),
  fc.constantFrom(`"0x${(1n << 256n).toString(16)}"`, '"-0x1"', '"0x-1"', '"0xg"', '" 0x1"', '"0X1"', '"1e3"'),
  fc.integer({ min: 10_000, max: 12_000 }).map((n) => `"0x${'9'.repeat(n)}"`),
  // deep nesting (10k levels) and wide structures
  fc.constantFrom(nestArrays(10_000), nestObjects(10_000), nestArrays(100), nestObjects(100)),
  fc.integer({ min: 10_000, max: byForm(50_000, 600_000) }).map((n) => `[${'0,'.repeat(n)}0]`),
  fc.integer({ min: 100_000, max: byForm(300_000, 3_000_000) }).map((n) => JSON.stringify('a'.repeat(n))),
  // unicode: NUL, lone surrogates, astral, RTL, as escapes and raw
  fc.constantFrom('"\\u0000"', '"\\ud800"', '"\\udfff\\ud800"', '"0x\\u0000"', '"\u202e0x1"', '"𝟘x1"', '"０x１"'),
  fc.string({ unit: 'binary', maxLength: 64 }).map((s) => JSON.stringify(s)),
  // structures with keys a naive handler could trip on
  fc.constantFrom('{"__proto__":{"x":1}}', '{"constructor":1,"toString":2}', '{"to":{"__proto__":1}}', '{"from":[],"data":{}}'),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
)

type IdKind = 'valid' | 'invalid' | 'absent'
/** An id as JSON text, with what the server must do with it. */
const idText: fc.Arbitrary<{ text: string; kind: IdKind }> = fc.oneof(
  fc.constantFrom('null', '0', '-1', '1.5', '1e300', '"x"', '""', '"\\u0000"', '"\\ud800"', TWO_256).map((text) => ({
    text,
    kind: 'valid' as const,
  })),
  fc.integer().map((n) => ({ text: String(n), kind: 'valid' as const })),
  fc.string({ unit: 'grapheme', maxLength: 20 }).map((s) => ({ text: JSON.stringify(s), kind: 'valid' as const })),
  fc.constantFrom('{}', '[]', '[1]', 'true', 'false', '1e309', '{"id":1}').map((text) => ({ text, kind: 'invalid' as const })),
  fc.constant({ text: '', kind: 'absent' as const }),
)

type ParamsKind = 'array' | 'named' | 'primitive' | 'none'
const paramsText: fc.Arbitrary<{ text: string; kind: ParamsKind }> = fc.oneof(
  {
    arbitrary: fc.array(paramText, { maxLength: 5 }).map((ps) => ({ text: `[${ps.join(',')}]`, kind: 'array' as const })),
    weight: 8,
  },
  fc.constantFrom('null', '').map((text) => ({ text, kind: 'none' as const })),
  fc.constantFrom('"eth_chainId"', '1', 'true', '1e309').map((text) => ({ text, kind: 'primitive' as const })),
  fc.constantFrom('{}', '{"0":"latest"}', '{"address":"0x00"}').map((text) => ({ text, kind: 'named' as const })),
)

interface Call {
  body: string
  id: { text: string; kind: IdKind }
  params: { text: string; kind: ParamsKind }
  method: string
}

function buildCall(method: string, id: Call['id'], params: Call['params']): Call {
  const fields = ['"jsonrpc":"2.0"']
  if (id.kind !== 'absent') fields.push(`"id":${id.text}`)
  fields.push(`"method":${JSON.stringify(method)}`)
  if (params.text !== '') fields.push(`"params":${params.text}`)
  return { body: `{${fields.join(',')}}`, id, params, method }
}

/** Why an answer to `call` is wrong (undefined: it is right). `transport` matters for eth_subscribe. */
function judge(call: Call, answer: unknown, transport: 'http' | 'ws'): string | undefined {
  const bad = malformed(answer)
  if (bad !== undefined) return bad
  const a = answer as Answer
  const code = codeOf(a)
  if (code === -32603) return `-32603 ${String(a.error?.message)}`
  if (call.id.kind === 'invalid') {
    if (code !== -32600 || a.id !== null)
      return `invalid id ${call.id.text}: want -32600 with id null, got ${code} id ${JSON.stringify(a.id)}`
    return undefined
  }
  const wantId: unknown = call.id.kind === 'absent' ? null : JSON.parse(call.id.text)
  if (!Object.is(a.id, wantId) && a.id !== wantId) return `id ${JSON.stringify(a.id)}, sent ${call.id.text.slice(0, 40)}`
  if (call.params.kind === 'primitive')
    return code === -32600 ? undefined : `params ${call.params.text}: want -32600, got ${code}`
  if (!methods.includes(call.method)) return code === -32601 ? undefined : `unknown method: want -32601, got ${code}`
  if (call.params.kind === 'named') return code === -32602 ? undefined : `by-name params: want -32602, got ${code}`
  const subscribeOverHttp = transport === 'http' && (call.method === 'eth_subscribe' || call.method === 'eth_unsubscribe')
  // The OP methods that need L1 are registered on every node and answer -32601 on one without L1
  // (src/rpc/optimism-methods.ts: as if absent, which is what an op-node-less geth would say).
  const withoutL1 = code === -32601 && String(a.error?.message).endsWith('this node runs without L1 (no rollup config)')
  if (code === -32601 && !subscribeOverHttp && !withoutL1) return `a registered method answered -32601`
  if (code === -32700 || code === -32600) return `a valid request answered ${code}`
  return undefined
}

// --- transports ------------------------------------------------------------------------------------

async function httpSend(body: string | Buffer): Promise<{ status: number; text: string }> {
  return postRaw(node.rpcUrl, body)
}

interface WsLike {
  readonly readyState: number
  send(data: string | Buffer): void
  close(code?: number, reason?: string): void
  terminate(): void
  pause(): void
  resume(): void
  on(event: 'open' | 'ping', listener: () => void): unknown
  on(event: 'message', listener: (data: Buffer) => void): unknown
  on(event: 'close', listener: (code: number, reason: Buffer) => void): unknown
  on(event: 'error', listener: (err: Error) => void): unknown
}

/** A raw WebSocket that answers one request at a time (notifications skipped). */
class SequentialWs {
  private waiter: ((text: string) => void) | undefined
  closed: number | undefined
  private constructor(readonly socket: WsLike) {
    socket.on('message', (data) => {
      const text = data.toString()
      if (text.startsWith('{"jsonrpc":"2.0","method":"eth_subscription"')) return
      const w = this.waiter
      this.waiter = undefined
      w?.(text)
    })
    socket.on('close', (code) => {
      this.closed = code
    })
  }

  static open(url: string): Promise<SequentialWs> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocketClient(url) as unknown as WsLike
      socket.on('open', () => resolve(new SequentialWs(socket)))
      socket.on('error', reject)
    })
  }

  send(body: string, timeoutMs = 30_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`ws: no answer within ${timeoutMs} ms to ${body.slice(0, 100)}`)),
        timeoutMs,
      )
      this.waiter = (text) => {
        clearTimeout(timer)
        resolve(text)
      }
      this.socket.send(body)
    })
  }
}

/** Opens WebSocket connections one by one until the node refuses one (or `max` are open). */
async function openUntilRefused(
  max: number,
): Promise<{ opened: WsLike[]; refusal: { status: number; body: string } | undefined }> {
  const opened: WsLike[] = []
  while (opened.length < max) {
    const outcome = await new Promise<WsLike | { status: number; body: string }>((resolve, reject) => {
      const socket = new WebSocketClient(node.wsUrl) as unknown as WsLike & {
        on(
          event: 'unexpected-response',
          listener: (req: unknown, res: NodeJS.ReadableStream & { statusCode?: number }) => void,
        ): unknown
      }
      socket.on('open', () => resolve(socket))
      socket.on('error', (err) => reject(err))
      socket.on('unexpected-response', (_req, res) => {
        let body = ''
        res.on('data', (chunk: Buffer) => {
          body += chunk.toString()
        })
        res.on('end', () => {
          socket.terminate()
          resolve({ status: res.statusCode ?? 0, body })
        })
      })
    })
    if ('status' in outcome) return { opened, refusal: outcome }
    opened.push(outcome)
  }
  return { opened, refusal: undefined }
}

// --- setup ---------------------------------------------------------------------------------------

before(async () => {
  console.log(`hostile-rpc seed ${SEED} (${isLongForm() ? 'long' : 'CI'} form; RESILIENCE_SEED replays)`)
  node = await startNode({ args: ['--rpc.gascap=1000000', '--log.level=warn'], env: { ...INSPECT_ENV } })
  inspector = await NodeInspector.attach(node)
  methods = (await rpc<{ methods: string[] }>(node.rpcUrl, 'rpc_methods')).methods
  assert.ok(methods.length > 40, `rpc_methods lists ${methods.length} methods`)
  await waitFor('block 1', async () => BigInt(await rpc<Hex>(node.rpcUrl, 'eth_blockNumber')) >= 1n, 30_000)
  honest = await startHonestClient(node, DEV_KEYS[9]!)
  heapBaseline = await inspector.heapAfterGc()
  measured.heapBaselineAfterGcMb = round1(heapBaseline.usedMb)
  for (const [k, v] of Object.entries(await inspector.memoryUsage())) measured[`baseline.memoryUsage.${k}Mb`] = v
  await heapSnapshot('baseline')
  startSlowClients()
})

after(async () => {
  inspector?.close()
  for (const s of slowClients) s.stop()
  await node?.stop()
})

// --- slow-loris: started first, checked last (the node's request timeout is 30 s) ----------------

interface SlowClient {
  name: string
  openedAt: number
  closedAt: number | undefined
  pinged: boolean
  stop(): void
}
const slowClients: SlowClient[] = []

function rawSlowClient(
  name: string,
  first: string | Buffer,
  drip: (() => string | Buffer) | undefined,
  periodMs = 200,
): SlowClient {
  const socket: Socket = connect(node.port, '127.0.0.1')
  const client: SlowClient = {
    name,
    openedAt: performance.now(),
    closedAt: undefined,
    pinged: false,
    stop: () => socket.destroy(),
  }
  let timer: NodeJS.Timeout | undefined
  socket.on('connect', () => {
    if (first.length > 0) socket.write(first)
    if (drip !== undefined) timer = setInterval(() => socket.writable && socket.write(drip()), periodMs)
  })
  socket.on('data', (data) => {
    // A WebSocket ping frame from the server (opcode 0x9): the liveness check is armed.
    if (data.includes(0x89)) client.pinged = true
  })
  socket.on('error', () => undefined)
  socket.on('close', () => {
    client.closedAt = performance.now()
    clearInterval(timer)
  })
  slowClients.push(client)
  return client
}

function startSlowClients(): void {
  const slowloris = byForm(3, 30)
  for (let i = 0; i < slowloris; i++) {
    const header = `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-Slow-${i}: `
    let at = 0
    rawSlowClient(`http headers a byte at a time #${i}`, '', () => (at < header.length ? header[at++]! : 'a'))
    rawSlowClient(
      `http body that never ends #${i}`,
      'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n[',
      () => '{"jsonrpc":"2.0","id":1,"method":"eth_chainId"},',
    )
    rawSlowClient(`http idle socket #${i}`, '', undefined)
    // Upgraded, then one frame trickled a byte at a time; never answers the server's pings.
    const frame = Buffer.concat([Buffer.from([0x81, 0xfe, 0x40, 0x00, 1, 2, 3, 4]), Buffer.alloc(0x4000, 0x20)])
    let offset = 0
    rawSlowClient(
      `ws frame trickled #${i}`,
      'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      () => frame.subarray(offset, Math.min(frame.length, ++offset)),
    )
  }
  count('slowClients', slowClients.length)
}

// --- the honest client's view, phase by phase (which attack costs what) ---------------------------

const PHASES = ['fuzz', 'malformed', 'bigBatches', 'neverReading', 'subscriptionFlood']
let phase = 0
let phaseStart: HonestSummary | undefined
beforeEach(() => {
  phaseStart = honest?.snapshot()
})
afterEach(async () => {
  const name = PHASES[phase++]
  if (name === undefined || phaseStart === undefined || honest === undefined) return
  // What each attack left behind: RSS, and the heap still in use once V8 has collected.
  measured[`${name}.rssMb`] = Math.round(rssMb(node.pid))
  const heap = await inspector.heapAfterGc()
  measured[`${name}.heapAfterGcMb`] = round1(heap.usedMb)
  measured[`${name}.heapTotalMb`] = round1(heap.totalMb)
  if (name === 'subscriptionFlood') await heapSnapshot('after-subscription-flood')
  const now = honest.snapshot()
  const blockNumber = now.blockNumberMs.slice(phaseStart.blockNumberMs.length)
  const receipts = now.receiptMs.slice(phaseStart.receiptMs.length)
  const arrivals = now.miniBlockArrivals.slice(Math.max(0, phaseStart.miniBlockArrivals.length - 1))
  measured[`${name}.blockNumberP99Ms`] = Math.round(quantile(blockNumber, 0.99))
  measured[`${name}.receiptP99Ms`] = Math.round(quantile(receipts, 0.99))
  measured[`${name}.miniBlockMaxGapMs`] = Math.round(maxGap(arrivals))
})

// --- the attacks -----------------------------------------------------------------------------------

test('every registered method × hostile parameters and envelopes, over HTTP and WebSocket: the right code, never -32603', async () => {
  const wrong: string[] = []
  const targets = [...methods, 'eth_noSuchMethod', 'constructor', '__proto__']
  // FUZZ_LANES methods at a time, each lane with its own WebSocket: answers are awaited one by one
  // within a lane (fast-check's async properties run sequentially), so lanes keep the node busy.
  const lane = async (indexes: number[]): Promise<void> => {
    const ws = await SequentialWs.open(node.wsUrl)
    try {
      for (const i of indexes) {
        const method = targets[i]!
        await fc.assert(
          fc.asyncProperty(idText, paramsText, fc.boolean(), async (id, params, overWs) => {
            const call = buildCall(method, id, params)
            // Past the 5 MiB body/message limit the answer is the limit's (413 over HTTP; WS closes with 1009,
            // covered by test/e2e/bad-input.test.ts): such bodies go over HTTP and must get the 413.
            const oversized = Buffer.byteLength(call.body) > MAX_BODY_BYTES
            const transport = overWs && id.kind !== 'absent' && !oversized ? 'ws' : 'http'
            if (oversized) {
              count('fuzz.oversized')
              const { status, text } = await httpSend(call.body).catch(() => ({ status: 413, text: '' }))
              if (status !== 413)
                wrong.push(`${method}: ${Buffer.byteLength(call.body)} bytes answered HTTP ${status} ${text.slice(0, 100)}`)
              return
            }
            count(`fuzz.${transport}`)
            let answer: unknown
            if (transport === 'ws') {
              answer = JSON.parse(await ws.send(call.body))
            } else {
              const { status, text } = await httpSend(call.body)
              if (id.kind === 'absent' && params.kind !== 'primitive') {
                // A notification: HTTP 200 and nothing else (JSON-RPC 2.0 §4.1).
                if (status !== 200 || text !== '') wrong.push(`${method} notification: HTTP ${status} ${text.slice(0, 200)}`)
                return
              }
              if (status !== 200) wrong.push(`${method}: HTTP ${status} ${text.slice(0, 200)}`)
              answer = JSON.parse(text)
            }
            const problem = judge(call, answer, transport)
            if (problem !== undefined) wrong.push(`${method} over ${transport}: ${problem}; request ${call.body.slice(0, 300)}`)
          }),
          { seed: SEED + i, numRuns: RUNS_PER_METHOD },
        )
      }
    } finally {
      ws.socket.close()
    }
    assert.ok(
      ws.closed === undefined || ws.closed === 1000 || ws.closed === 1005,
      `a fuzz socket was closed by the node: ${ws.closed}`,
    )
  }
  await Promise.all(
    Array.from({ length: FUZZ_LANES }, (_, l) => lane(targets.map((_m, i) => i).filter((i) => i % FUZZ_LANES === l))),
  )
  assert.deepEqual(wrong.slice(0, 20), [], `${wrong.length} wrong answers`)
})

test('a valid batch truncated at every byte offset is -32700; corrupted at every offset, -32700 exactly when it is not JSON', async () => {
  const valid = JSON.stringify([
    { jsonrpc: '2.0', id: 1, method: 'eth_getBalance', params: ['0x00000000000000000000000000000000deadbeef', 'latest'] },
    { jsonrpc: '2.0', id: 'two', method: 'eth_getBlockByNumber', params: ['0x0', false] },
    { jsonrpc: '2.0', method: 'eth_chainId' },
    { jsonrpc: '2.0', id: null, method: 'eth_blockNumber', params: [] },
  ])
  const wrong: string[] = []
  const ws = await SequentialWs.open(node.wsUrl)
  const check = (body: string, text: string, via: string): void => {
    let expectParse = false
    try {
      JSON.parse(body)
    } catch {
      expectParse = true
    }
    let answer: unknown
    try {
      answer = text === '' ? undefined : JSON.parse(text)
    } catch {
      wrong.push(`${via} ${JSON.stringify(body.slice(0, 80))}: answer is not JSON: ${text.slice(0, 100)}`)
      return
    }
    if (expectParse) {
      const a = answer as Answer
      if (malformed(a) !== undefined || codeOf(a) !== -32700 || a.id !== null)
        wrong.push(`${via} ${JSON.stringify(body.slice(0, 80))}: want -32700 id null, got ${text.slice(0, 200)}`)
      return
    }
    const items = Array.isArray(answer) ? answer : answer === undefined ? [] : [answer]
    for (const item of items) {
      const problem = malformed(item) ?? (codeOf(item as Answer) === -32603 ? '-32603' : undefined)
      if (problem !== undefined || codeOf(item as Answer) === -32700)
        wrong.push(`${via} ${JSON.stringify(body.slice(0, 80))}: ${problem ?? 'parse error for valid JSON'}`)
    }
  }
  const bodies: string[] = []
  for (let cut = 0; cut < valid.length; cut++) bodies.push(valid.slice(0, cut))
  // Every offset gets a hostile byte (CI: one per offset, in turn; long form: each of them at each offset).
  for (let at = 0; at < valid.length; at++)
    for (const b of isLongForm() ? CORRUPT_BYTES : [CORRUPT_BYTES[at % CORRUPT_BYTES.length]!])
      bodies.push(valid.slice(0, at) + b + valid.slice(at + 1))
  // Bodies with invalid UTF-8 (bytes, not text): decoded to U+FFFD by the node as by Buffer.toString here.
  const invalidUtf8 = [0xff, 0xc0, 0x80, 0xed].map((byte, i) => {
    const buf = Buffer.from(valid)
    buf[5 + i * 7] = byte
    return buf
  })
  try {
    for (let i = 0; i < bodies.length; i += 25) {
      await Promise.all(
        bodies.slice(i, i + 25).map(async (body) => {
          const { text } = await httpSend(body)
          check(body, text, 'http')
        }),
      )
    }
    for (const buf of invalidUtf8) check(buf.toString('utf8'), (await httpSend(buf)).text, 'http utf8')
    // Over WebSocket, the truncations (a message is the unit there, not a stream).
    for (let cut = 1; cut < valid.length; cut += byForm(7, 1))
      check(valid.slice(0, cut), await ws.send(valid.slice(0, cut)), 'ws')
  } finally {
    ws.socket.close()
  }
  count('malformed', bodies.length + invalidUtf8.length)
  assert.deepEqual(wrong.slice(0, 20), [], `${wrong.length} wrong answers`)
})

test(`${BIG_BATCH}-item batches, alone and ${BIG_BATCH_FLOOD} at once: the one-element -32600 answer with the first id`, async () => {
  const call = (i: number) => ({ jsonrpc: '2.0', id: i + 7, method: 'eth_getBlockByNumber', params: ['latest', true] })
  const batches = [
    JSON.stringify(Array.from({ length: BIG_BATCH }, (_, i) => call(i))),
    // First element without a usable id: the first one that has one.
    JSON.stringify([{ jsonrpc: '2.0', method: 'eth_chainId' }, 5, ...Array.from({ length: BIG_BATCH }, (_, i) => call(i))]),
    // Notifications only: there is no id to give.
    JSON.stringify(
      Array.from({ length: BIG_BATCH }, () => ({ jsonrpc: '2.0', method: 'eth_sendRawTransaction', params: ['0x00'] })),
    ),
  ]
  const want = (id: number | null) => [
    { jsonrpc: '2.0', id, error: { code: -32600, message: `batch too large (max ${MAX_BATCH})` } },
  ]
  assert.deepEqual(JSON.parse((await httpSend(batches[0]!)).text), want(7))
  assert.deepEqual(JSON.parse((await httpSend(batches[1]!)).text), want(7))
  assert.deepEqual(JSON.parse((await httpSend(batches[2]!)).text), want(null))
  const ws = await SequentialWs.open(node.wsUrl)
  try {
    assert.deepEqual(JSON.parse(await ws.send(batches[0]!)), want(7))
  } finally {
    ws.socket.close()
  }
  const flood = await Promise.all(Array.from({ length: BIG_BATCH_FLOOD }, (_, i) => httpSend(batches[i % 2]!)))
  for (const answer of flood) assert.deepEqual(JSON.parse(answer.text), want(7))
  count('bigBatches', 4 + BIG_BATCH_FLOOD)
})

test('WebSocket clients that never read, with subscriptions pumping and responses piling up, are cut off at the send-buffer cap', async () => {
  const rssBefore = rssMb(node.pid)
  const closedBefore = node.logs().stdout.split('ws peer is not reading; closing').length - 1
  const clients = await Promise.all(
    Array.from(
      { length: NEVER_READING_CLIENTS },
      () =>
        new Promise<{ socket: WsLike; closed: number | undefined }>((resolve, reject) => {
          const socket = new WebSocketClient(node.wsUrl) as unknown as WsLike
          const c = { socket, closed: undefined as number | undefined }
          socket.on('open', () => resolve(c))
          socket.on('error', reject)
          socket.on('close', (code) => {
            c.closed = code
          })
        }),
    ),
  )
  // Each subscribes as much as it may, then stops reading and keeps asking for big answers.
  const subscribe = JSON.stringify(
    Array.from({ length: MAX_SUBSCRIPTIONS }, (_, i) => ({
      jsonrpc: '2.0',
      id: i,
      method: 'eth_subscribe',
      params: [i % 2 === 0 ? 'miniBlocks' : 'newHeads'],
    })),
  )
  const big = JSON.stringify(Array.from({ length: MAX_BATCH }, (_, i) => ({ jsonrpc: '2.0', id: i, method: 'rpc_methods' })))
  for (const c of clients) c.socket.send(subscribe)
  await sleep(500)
  for (const c of clients) c.socket.pause()
  let sent = 0
  const bigSize = JSON.stringify({ jsonrpc: '2.0', id: 0, result: { methods } }).length * MAX_BATCH
  // The cap plus what the kernel's socket buffers hold on loopback (a few MiB), and a margin.
  const needed = Math.ceil((WS_MAX_BUFFERED_BYTES + 8 * 1024 * 1024) / bigSize) + 4
  for (let round = 0; round < needed; round++) {
    for (const c of clients) if (c.socket.readyState === 1) c.socket.send(big)
    sent += clients.length
    await sleep(100)
  }
  const notReading = (): number => node.logs().stdout.split('ws peer is not reading; closing').length - 1
  // The node notices each one at its send-buffer cap and closes it (logged at warn).
  await waitFor(
    `the node to close ${clients.length} never-reading clients`,
    () => notReading() >= closedBefore + clients.length,
    60_000,
    200,
  ).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}; closed so far: ${notReading() - closedBefore}`)
  })
  const peak = rssMb(node.pid)
  // Reading again: each client drains what the node had queued, then finds the close behind it (1008;
  // 1006 if the node's 30 s close handshake timed out first and it dropped the socket).
  for (const c of clients) c.socket.resume()
  await waitFor(
    'every never-reading client to see its socket closed',
    () => clients.every((c) => c.closed !== undefined),
    60_000,
    100,
  )
  count('neverReadingClients', clients.length)
  count('neverReadingRequests', sent)
  const codes = clients.map((c) => c.closed)
  assert.ok(
    codes.every((code) => code === 1008 || code === 1006),
    `closed with ${codes.join(', ')} (want 1008: send buffer limit exceeded)`,
  )
  const growth = peak - rssBefore
  // Per client at most the 16 MiB cap plus one message in flight; the rest is V8's heap slack.
  const bound = NEVER_READING_CLIENTS * (WS_MAX_BUFFERED_BYTES / 1024 / 1024 + 4) + 150
  measured.neverReadingRssGrowthMb = Math.round(growth)
  assert.ok(growth < bound, `RSS grew ${Math.round(growth)} MB during the never-reading attack (bound ${bound} MB)`)
})

test(`subscription flood: ${FLOOD_CONNECTIONS} connections × ${FLOOD_SUBSCRIBES_PER_CONNECTION} eth_subscribe: exactly ${MAX_SUBSCRIPTIONS} each, the rest -32005`, async () => {
  const types = ['newHeads', 'miniBlocks', 'newPendingTransactions', 'logs']
  const sockets: SequentialWs[] = []
  const before = honest.snapshot()
  // The flood's readers share this process with the honest client: this process's own event-loop lag
  // tells how much of a gap the honest client sees is the harness reading 6,400 subscriptions, not the node.
  const harnessLag = monitorEventLoopDelay({ resolution: 20 })
  harnessLag.enable()
  try {
    for (let i = 0; i < FLOOD_CONNECTIONS; i += 25)
      sockets.push(
        ...(await Promise.all(Array.from({ length: Math.min(25, FLOOD_CONNECTIONS - i) }, () => SequentialWs.open(node.wsUrl)))),
      )
    const granted = await Promise.all(
      sockets.map(async (ws) => {
        let ok = 0
        let refused = 0
        for (let sent = 0; sent < FLOOD_SUBSCRIBES_PER_CONNECTION; sent += MAX_BATCH) {
          const n = Math.min(MAX_BATCH, FLOOD_SUBSCRIBES_PER_CONNECTION - sent)
          const batch = Array.from({ length: n }, (_, j) => ({
            jsonrpc: '2.0',
            id: sent + j,
            method: 'eth_subscribe',
            params: types[(sent + j) % types.length] === 'logs' ? ['logs', {}] : [types[(sent + j) % types.length]],
          }))
          const answers = JSON.parse(await ws.send(JSON.stringify(batch), 60_000)) as Answer[]
          for (const a of answers) {
            if (typeof a.result === 'string') ok++
            else if (codeOf(a) === -32005) refused++
            else throw new Error(`eth_subscribe answered ${JSON.stringify(a).slice(0, 200)}`)
          }
        }
        return { ok, refused }
      }),
    )
    count('subscribeAttempts', FLOOD_CONNECTIONS * FLOOD_SUBSCRIBES_PER_CONNECTION)
    for (const g of granted) {
      assert.equal(g.ok, MAX_SUBSCRIPTIONS)
      assert.equal(g.refused, FLOOD_SUBSCRIBES_PER_CONNECTION - MAX_SUBSCRIPTIONS)
    }
    count('liveSubscriptions', FLOOD_CONNECTIONS * MAX_SUBSCRIPTIONS)
    // Every client here comes from 127.0.0.1: more connections are refused at the per-address cap.
    const extra = await openUntilRefused(MAX_WS_CONNECTIONS_PER_IP + 1)
    try {
      count('perIpConnectionsOpened', extra.opened.length)
      assert.ok(extra.opened.length + FLOOD_CONNECTIONS <= MAX_WS_CONNECTIONS_PER_IP, `${extra.opened.length} more opened`)
      assert.equal(extra.refusal?.status, 503)
      assert.match(
        extra.refusal?.body ?? '',
        new RegExp(`too many connections from this address \\(max ${MAX_WS_CONNECTIONS_PER_IP}\\)`),
      )
    } finally {
      for (const socket of extra.opened) socket.terminate()
    }
    // Held while notifications go out to all of them.
    await sleep(FLOOD_HOLD_MS)
    assert.ok(
      sockets.every((s) => s.closed === undefined),
      'flood sockets that read their notifications stay open',
    )
  } finally {
    harnessLag.disable()
    for (const s of sockets) s.socket.terminate()
  }
  measured.floodHarnessLoopLagMaxMs = Math.round(harnessLag.max / 1e6)
  measured.floodHarnessLoopLagP99Ms = Math.round(harnessLag.percentile(99) / 1e6)
  const during = honest.snapshot()
  const arrivals = during.miniBlockArrivals.length - before.miniBlockArrivals.length
  measured.floodMiniBlocksSeen = arrivals
  assert.ok(arrivals > 0, 'the honest subscriber saw mini-blocks during the flood')
})

// --- the verdict -------------------------------------------------------------------------------------

function maxGap(times: readonly number[]): number {
  let gap = 0
  for (let i = 1; i < times.length; i++) gap = Math.max(gap, times[i]! - times[i - 1]!)
  return gap
}

test('slow-loris sockets were cut off; 0 crashes; RSS bounded; the honest client was served; nothing it was told is lost', async (t) => {
  // Slow clients: HTTP ones by the request timeout, WebSocket ones by the keepalive (two ping intervals).
  const httpDeadline = REQUEST_TIMEOUT_MS * 1.1 + 5_000
  const wsDeadline = 2 * WS_PING_INTERVAL_MS + 5_000
  const http = slowClients.filter((c) => c.name.startsWith('http'))
  const wsTricklers = slowClients.filter((c) => c.name.startsWith('ws'))
  await waitFor(
    'the slow-loris HTTP sockets to be closed',
    () => http.every((c) => c.closedAt !== undefined),
    Math.max(1_000, httpDeadline - (performance.now() - Math.min(...http.map((c) => c.openedAt)))),
    200,
  )
  for (const c of http) {
    const held = c.closedAt! - c.openedAt
    assert.ok(held <= httpDeadline, `${c.name}: held ${Math.round(held)} ms (request timeout ${REQUEST_TIMEOUT_MS} ms)`)
    measured.slowlorisHeldMaxMs = Math.max(measured.slowlorisHeldMaxMs ?? 0, Math.round(held))
  }
  // The WebSocket keepalive needs up to a minute: CI checks it is armed (a ping reached the trickler), the long form waits.
  if (isLongForm()) {
    await waitFor(
      'the trickling WebSocket sockets to be closed',
      () => wsTricklers.every((c) => c.closedAt !== undefined),
      wsDeadline,
      500,
    )
    for (const c of wsTricklers)
      assert.ok(c.closedAt! - c.openedAt <= wsDeadline, `${c.name}: held ${Math.round(c.closedAt! - c.openedAt)} ms`)
  } else {
    await waitFor(
      'a keepalive ping to each trickling WebSocket',
      () => wsTricklers.every((c) => c.pinged || c.closedAt !== undefined),
      wsDeadline / 2,
      500,
    )
  }

  const summary: HonestSummary = await honest.stop()
  assert.equal(node.exited, false, `the node crashed: ${node.logs().stderr.slice(-2000)}`)
  assert.equal(await rpc<string>(node.rpcUrl, 'eth_chainId'), '0x18c6')
  const rssAfter = rssMb(node.pid)
  const heapAfter = await inspector.heapAfterGc()
  // The main thread's view after that GC: RSS minus heap and malloc'd buffers is what the runtime keeps
  // of freed pages, plus code and the worker threads' own heaps (the report quotes it).
  for (const [k, v] of Object.entries(await inspector.memoryUsage())) measured[`end.memoryUsage.${k}Mb`] = v
  await heapSnapshot('end')

  // Nothing the honest client was told is lost: each acknowledged transaction's receipt is there, the same.
  let lost = 0
  for (const ack of summary.acknowledged) {
    const receipt = await rpc<{ transactionHash: Hex; status: Hex } | null>(node.rpcUrl, 'eth_getTransactionReceipt', [
      ack.transactionHash,
    ])
    if (receipt === null || receipt.status !== ack.status || receipt.transactionHash !== ack.transactionHash) lost++
  }

  Object.assign(measured, {
    honestBlockNumberCalls: summary.blockNumberMs.length,
    honestBlockNumberP50Ms: Math.round(quantile(summary.blockNumberMs, 0.5)),
    honestBlockNumberP99Ms: Math.round(quantile(summary.blockNumberMs, 0.99)),
    honestBlockNumberMaxMs: Math.round(quantile(summary.blockNumberMs, 1)),
    honestReceipts: summary.acknowledged.length,
    honestSyncTimeouts: summary.syncTimeouts,
    honestReceiptP50Ms: Math.round(quantile(summary.receiptMs, 0.5)),
    honestReceiptP99Ms: Math.round(quantile(summary.receiptMs, 0.99)),
    honestReceiptMaxMs: Math.round(quantile(summary.receiptMs, 1)),
    miniBlocksSeen: summary.miniBlockArrivals.length,
    miniBlockMaxGapMs: Math.round(maxGap(summary.miniBlockArrivals)),
    rssBaselineMb: Math.round(summary.rssBaselineMb),
    rssPeakMb: Math.round(summary.rssPeakMb),
    rssAfterMb: Math.round(rssAfter),
    heapAfterGcMb: round1(heapAfter.usedMb),
    heapGrowthAfterGcMb: round1(heapAfter.usedMb - heapBaseline.usedMb),
    heapTotalAfterMb: round1(heapAfter.totalMb),
  })
  t.diagnostic(JSON.stringify(measured))
  t.diagnostic(`tried ${JSON.stringify(tried)}`)

  assert.deepEqual(summary.failures.slice(0, 10), [], `${summary.failures.length} honest-client failures`)
  assert.equal(lost, 0, `${lost} acknowledged receipts missing or different`)
  assert.ok(summary.acknowledged.length >= 10, `the honest client got ${summary.acknowledged.length} receipts`)
  assert.ok(
    measured.honestBlockNumberP99Ms! <= LATENCY_P99_BUDGET_MS,
    `eth_blockNumber p99 ${measured.honestBlockNumberP99Ms} ms (budget ${LATENCY_P99_BUDGET_MS})`,
  )
  assert.ok(
    measured.honestReceiptP99Ms! <= LATENCY_P99_BUDGET_MS,
    `send→receipt p99 ${measured.honestReceiptP99Ms} ms (budget ${LATENCY_P99_BUDGET_MS})`,
  )
  assert.ok(
    measured.miniBlockMaxGapMs! <= MINI_BLOCK_GAP_BUDGET_MS,
    `mini-blocks stalled for ${measured.miniBlockMaxGapMs} ms (budget ${MINI_BLOCK_GAP_BUDGET_MS})`,
  )
  // Memory, precisely: the heap still in use after a full GC, against the same reading taken before
  // the attacks (with the honest client already running). A structure that kept what an attack left
  // (a closed connection's subscriptions, buffers, filter state) shows here, whatever V8 and the
  // allocator do with the pages they freed.
  assert.ok(
    heapAfter.usedMb - heapBaseline.usedMb < HEAP_GROWTH_BOUND_MB,
    `heap used after GC ${round1(heapAfter.usedMb)} MB from ${round1(heapBaseline.usedMb)} (bound +${HEAP_GROWTH_BOUND_MB})`,
  )
  // RSS, loosely: it also counts pages V8 and malloc freed but keep (see RSS_PEAK_BOUND_MB).
  assert.ok(
    summary.rssPeakMb - summary.rssBaselineMb < RSS_PEAK_BOUND_MB,
    `RSS peak ${Math.round(summary.rssPeakMb)} MB from ${Math.round(summary.rssBaselineMb)} (bound +${RSS_PEAK_BOUND_MB})`,
  )
  assert.ok(
    rssAfter - summary.rssBaselineMb < RSS_AFTER_BOUND_MB,
    `RSS after ${Math.round(rssAfter)} MB from ${Math.round(summary.rssBaselineMb)} (bound +${RSS_AFTER_BOUND_MB})`,
  )

  writeCampaignReport({
    campaign: 'hostile-rpc',
    seed: SEED,
    tried,
    checked: {
      methods: methods.length,
      honestReceipts: summary.acknowledged.length,
      honestBlockNumberCalls: summary.blockNumberMs.length,
      slowClientsClosed: slowClients.filter((c) => c.closedAt !== undefined).length,
    },
    lost,
    findings,
    measured,
    durationMs: Math.round(performance.now() - started),
  })
})
