/**
 * Cost of fanning one subscription event out to many WebSocket subscriptions, in-process: the
 * payload serialized per subscriber (`WsConnection.notify`, what eth_subscribe did before) vs once
 * per event with each subscriber's frame spliced around it (`notifyJson`, what it does now). The
 * socket is a sink that encodes each frame to UTF-8 as `ws` does (`Buffer.from`), without I/O: the
 * socket write per frame comes on top in both cases.
 *
 *   node --import tsx bench/ws-notify.ts [--subscribers=1600] [--events=300] [--txs=0,10]
 *   node --import tsx bench/ws-notify.ts --real [--subscribers=1600] [--events=300] [--txs=0,10]
 *
 * `--real`: the same fan-out through a real RpcServer on loopback to real `ws` clients in this
 * process (they read every frame), timing the synchronous part of each event's fan-out: frame
 * building plus `ws`'s send, socket writes included (Node writes to a writable socket at once).
 *
 * The default is the hostile-rpc campaign's long-form flood: 50 connections × 128 subscriptions, a
 * quarter of them to `miniBlocks` (100 events/s at 10 ms mini-blocks).
 */
import { EventEmitter } from 'node:events'
import { createRequire } from 'node:module'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { pino } from 'pino'
import { MethodRegistry } from '../src/rpc/registry.ts'
import { RpcServer } from '../src/rpc/server.ts'
import { WsConnection, type WsSocket } from '../src/rpc/ws-connection.ts'

function arg(name: string, fallback: string): string {
  const found = process.argv.find((a) => a.startsWith(`--${name}=`))
  return found === undefined ? fallback : found.slice(name.length + 3)
}

const SUBSCRIBERS = Number(arg('subscribers', '1600'))
const EVENTS = Number(arg('events', '300'))
const TX_COUNTS = arg('txs', '0,10').split(',').map(Number)
const PER_CONNECTION = 128

/** A socket that encodes every frame as `ws` does before writing it, and counts the bytes. */
class SinkSocket implements WsSocket {
  readonly readyState = 1
  readonly bufferedAmount = 0
  bytes = 0
  send(data: string): void {
    this.bytes += Buffer.from(data).length
  }
  ping(): void {}
  close(): void {}
  terminate(): void {}
  on(): unknown {
    return this
  }
}

const hex = (bytes: number, seed: number): string =>
  `0x${(seed.toString(16).padStart(8, '0') + 'ab'.repeat(bytes)).slice(0, bytes * 2)}`

/** A `miniBlocks` payload shaped like `formatMiniBlock`'s, with `txs` transfers. */
function miniBlockPayload(n: number, txs: number): Record<string, unknown> {
  return {
    block_number: `0x${(n >> 7).toString(16)}`,
    block_timestamp: '0x6553f100',
    index: `0x${(n % 100).toString(16)}`,
    mini_block_number: `0x${n.toString(16)}`,
    mini_block_timestamp: '0x60a5b3d1c8e40',
    gas_used: `0x${(21_000 * txs).toString(16)}`,
    transactions: Array.from({ length: txs }, (_, i) => ({
      blockHash: null,
      blockNumber: '0x80',
      from: hex(20, i),
      gas: '0x5208',
      gasPrice: '0x3b9aca00',
      maxFeePerGas: '0x3b9aca00',
      maxPriorityFeePerGas: '0x1',
      hash: hex(32, n * 1000 + i),
      input: '0x',
      nonce: `0x${i.toString(16)}`,
      to: hex(20, i + 7),
      transactionIndex: `0x${i.toString(16)}`,
      value: '0x1',
      type: '0x2',
      accessList: [],
      chainId: '0x18c6',
      v: '0x1',
      r: hex(32, i + 1),
      s: hex(32, i + 2),
      yParity: '0x1',
    })),
    receipts: Array.from({ length: txs }, (_, i) => ({
      transactionHash: hex(32, n * 1000 + i),
      transactionIndex: `0x${i.toString(16)}`,
      blockHash: null,
      blockNumber: '0x80',
      from: hex(20, i),
      to: hex(20, i + 7),
      cumulativeGasUsed: `0x${(21_000 * (i + 1)).toString(16)}`,
      gasUsed: '0x5208',
      contractAddress: null,
      logs: [],
      logsBloom: `0x${'00'.repeat(256)}`,
      type: '0x2',
      status: '0x1',
      effectiveGasPrice: '0x3b9aca01',
      miniBlockNumber: `0x${n.toString(16)}`,
    })),
  }
}

interface Fanout {
  connections: WsConnection[]
  ids: Array<{ conn: WsConnection; id: `0x${string}` }>
  sockets: SinkSocket[]
}

function fanout(subscribers: number): Fanout {
  const sockets: SinkSocket[] = []
  const connections: WsConnection[] = []
  const ids: Fanout['ids'] = []
  for (let i = 0; i < subscribers; i++) {
    if (i % PER_CONNECTION === 0) {
      const socket = new SinkSocket()
      sockets.push(socket)
      connections.push(new WsConnection(socket, { maxSubscriptions: PER_CONNECTION, maxBufferedBytes: 16 << 20 }))
    }
    const conn = connections[connections.length - 1]!
    ids.push({ conn, id: conn.addSubscription(() => undefined) })
  }
  return { connections, ids, sockets }
}

/** Mean µs per event for `EVENTS` events fanned out by `deliver`. */
function time(f: Fanout, txs: number, deliver: (f: Fanout, payload: Record<string, unknown>) => void): number {
  const payloads = Array.from({ length: EVENTS }, (_, n) => miniBlockPayload(n, txs))
  for (let n = 0; n < Math.min(20, EVENTS); n++) deliver(f, payloads[n]!) // warm-up
  const start = performance.now()
  for (const payload of payloads) deliver(f, payload)
  return ((performance.now() - start) * 1000) / EVENTS
}

const perSubscriber = (f: Fanout, payload: Record<string, unknown>): void => {
  for (const { conn, id } of f.ids) conn.notify(id, payload)
}
const oncePerEvent = (f: Fanout, payload: Record<string, unknown>): void => {
  const json = JSON.stringify(payload)
  for (const { conn, id } of f.ids) conn.notifyJson(id, json)
}

interface WsClient {
  on(event: 'open', listener: () => void): unknown
  on(event: 'message', listener: (data: Buffer) => void): unknown
  on(event: 'error', listener: (err: Error) => void): unknown
  send(data: string): void
  terminate(): void
}
const WebSocket = createRequire(import.meta.url)('ws') as new (url: string) => WsClient

/** Mean µs of the synchronous fan-out per event through a real server, both ways. */
async function real(txs: number): Promise<{ perSubscriber: number; oncePerEvent: number; frames: number }> {
  const events = new EventEmitter<{ event: [Record<string, unknown>] }>()
  events.setMaxListeners(0)
  let mode: 'perSubscriber' | 'oncePerEvent' = 'perSubscriber'
  let json = ''
  const registry = new MethodRegistry().registerAll({
    bench_subscribe: (_params, ctx) => {
      if (ctx.transport !== 'ws') throw new Error('ws only')
      const conn = ctx.connection
      const id = conn.addSubscription(() => events.off('event', listener))
      const listener = (payload: Record<string, unknown>): void => {
        if (mode === 'perSubscriber') conn.notify(id, payload)
        else conn.notifyJson(id, json)
      }
      events.on('event', listener)
      return id
    },
  })
  const server = new RpcServer(
    { host: '127.0.0.1', port: 0, maxSubscriptionsPerConnection: PER_CONNECTION, maxBatchSize: PER_CONNECTION },
    registry,
    { logger: pino({ level: 'silent' }) },
  )
  const { port } = await server.start()
  const clients: WsClient[] = []
  let frames = 0
  try {
    for (let left = SUBSCRIBERS; left > 0; left -= PER_CONNECTION) {
      const client = await new Promise<WsClient>((resolve, reject) => {
        const c = new WebSocket(`ws://127.0.0.1:${port}`)
        c.on('open', () => resolve(c))
        c.on('error', reject)
      })
      let answered: () => void = () => undefined
      const done = new Promise<void>((resolve) => (answered = resolve))
      client.on('message', () => {
        frames++
        answered()
      })
      const n = Math.min(PER_CONNECTION, left)
      client.send(JSON.stringify(Array.from({ length: n }, (_, id) => ({ jsonrpc: '2.0', id, method: 'bench_subscribe' }))))
      await done
      clients.push(client)
    }
    const measure = async (m: typeof mode): Promise<number> => {
      mode = m
      let total = 0
      for (let n = 0; n < EVENTS; n++) {
        const payload = miniBlockPayload(n, txs)
        const start = performance.now()
        if (m === 'oncePerEvent') json = JSON.stringify(payload)
        events.emit('event', payload)
        total += performance.now() - start
        // 10 ms apart, as mini-blocks: the clients read in between.
        await sleep(10)
      }
      return (total * 1000) / EVENTS
    }
    const a = Math.min(await measure('perSubscriber'), await measure('perSubscriber'))
    const b = Math.min(await measure('oncePerEvent'), await measure('oncePerEvent'))
    return { perSubscriber: a, oncePerEvent: b, frames }
  } finally {
    for (const c of clients) c.terminate()
    await server.stop()
  }
}

if (process.argv.includes('--real')) {
  console.log(
    `real server: ${SUBSCRIBERS} subscriptions over ${Math.ceil(SUBSCRIBERS / PER_CONNECTION)} connections, ${EVENTS} events 10 ms apart`,
  )
  for (const txs of TX_COUNTS) {
    const r = await real(txs)
    console.log(
      `mini-block with ${txs} txs: per-subscriber stringify ${(r.perSubscriber / 1000).toFixed(2)} ms/event; ` +
        `once per event ${(r.oncePerEvent / 1000).toFixed(2)} ms/event; ${(r.perSubscriber / r.oncePerEvent).toFixed(1)}× (${r.frames} frames read)`,
    )
  }
  process.exit(0)
}

console.log(`${SUBSCRIBERS} subscriptions (${Math.ceil(SUBSCRIBERS / PER_CONNECTION)} connections), ${EVENTS} events each`)
for (const txs of TX_COUNTS) {
  const size = JSON.stringify(miniBlockPayload(1, txs)).length
  const f = fanout(SUBSCRIBERS)
  // Interleaved, twice, so neither lane gets all the JIT or GC luck.
  const a1 = time(f, txs, perSubscriber)
  const b1 = time(f, txs, oncePerEvent)
  const a2 = time(f, txs, perSubscriber)
  const b2 = time(f, txs, oncePerEvent)
  const a = Math.min(a1, a2)
  const b = Math.min(b1, b2)
  const share = (us: number): string => `${((us * 100) / 1e6 / 1).toFixed(2)} core-s per s at 100 events/s`
  console.log(
    `mini-block with ${txs} txs (${size} chars): per-subscriber stringify ${(a / 1000).toFixed(2)} ms/event (${share(a)}); ` +
      `once per event ${(b / 1000).toFixed(2)} ms/event (${share(b)}); ${(a / b).toFixed(1)}×`,
  )
}
