/**
 * One chain event fanned out to many WebSocket subscriptions: serialized once (not once per
 * subscriber), framed per subscription around that text, the frames of one fan-out coalesced into
 * one socket write per connection, and every producer detached when its connection goes.
 *
 * The hostile-rpc campaign's subscription flood (50 connections × 128 subscriptions, a quarter on
 * the 100-per-second `miniBlocks` stream) starved the event loop through per-subscriber
 * JSON.stringify and one socket write per frame.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import type { MiniBlock } from '../../src/chain/mini-block.ts'
import type { TxReceipt } from '../../src/chain/receipt.ts'
import type { AccountDiff, Hex } from '../../src/primitives/state-diff.ts'
import type { EthBackend } from '../../src/rpc/eth/backend.ts'
import { subscriptionHandlers } from '../../src/rpc/eth/subscriptions.ts'
import type { RpcContext } from '../../src/rpc/registry.ts'
import { WsConnection, type WsSocket } from '../../src/rpc/ws-connection.ts'

/** A TCP socket's cork counter, as Node keeps it: writes are held while it is above 0. */
class FakeTcp {
  corked = 0
  corks = 0
  cork(): void {
    this.corked++
    this.corks++
  }
  uncork(): void {
    if (this.corked > 0) this.corked--
  }
}

class FakeSocket implements WsSocket {
  readyState = 1
  bufferedAmount = 0
  readonly sent: string[] = []
  /** How corked the TCP socket was when each frame was sent. */
  readonly corkedAtSend: number[] = []
  private readonly closeListeners: Array<(code: number, reason: Buffer) => void> = []
  constructor(readonly _socket: FakeTcp | undefined = new FakeTcp()) {}
  send(data: string): void {
    this.sent.push(data)
    this.corkedAtSend.push(this._socket?.corked ?? 0)
  }
  ping(): void {}
  close(): void {
    this.readyState = 2
  }
  terminate(): void {
    this.readyState = 3
    this.emitClose()
  }
  on(event: string, listener: (...args: never[]) => void): this {
    if (event === 'close') this.closeListeners.push(listener as (code: number, reason: Buffer) => void)
    return this
  }
  emitClose(): void {
    this.readyState = 3
    for (const l of this.closeListeners) l(1000, Buffer.alloc(0))
  }
}

const nextTick = (): Promise<void> => new Promise((resolve) => process.nextTick(resolve))

describe('WsConnection framing', () => {
  test('notifyJson frames the given result text verbatim, and notify is the same frame', () => {
    const socket = new FakeSocket()
    const conn = new WsConnection(socket, { maxSubscriptions: 4, maxBufferedBytes: 1 << 20 })
    const id = conn.addSubscription(() => undefined)
    assert.equal(conn.notifyJson(id, '{"n":"0x1","s":"\\u00e9"}'), true)
    assert.equal(conn.notify(id, { n: '0x1', s: 'é' }), true)
    const [a, b] = socket.sent.map((text) => JSON.parse(text) as unknown)
    const want = { jsonrpc: '2.0', method: 'eth_subscription', params: { subscription: id, result: { n: '0x1', s: 'é' } } }
    assert.deepEqual(a, want)
    assert.deepEqual(b, want)
    assert.equal(conn.notifyJson('0x00', '1'), false, 'unknown subscription')
    assert.equal(conn.notify(id, 5n), false, 'a bigint is dropped, not thrown')
  })

  test('frames sent in one tick go out under one cork, released on the next tick', async () => {
    const socket = new FakeSocket()
    const tcp = socket._socket!
    const conn = new WsConnection(socket, { maxSubscriptions: 64, maxBufferedBytes: 1 << 20 })
    const ids = Array.from({ length: 32 }, () => conn.addSubscription(() => undefined))
    for (const id of ids) conn.notifyJson(id, '"0xabc"')
    assert.equal(socket.sent.length, 32)
    assert.equal(tcp.corks, 1, 'one cork for the whole fan-out')
    assert.ok(
      socket.corkedAtSend.every((c) => c === 1),
      'every frame was written while corked',
    )
    await nextTick()
    assert.equal(tcp.corked, 0, 'uncorked on the next tick')
    conn.send('{}')
    assert.equal(tcp.corks, 2, 'a later tick corks again')
    await nextTick()
    assert.equal(tcp.corked, 0)
  })

  test('a socket without a TCP handle (a fake, or ws without one) still gets every frame', () => {
    const socket = new FakeSocket(undefined)
    const conn = new WsConnection(socket, { maxSubscriptions: 4, maxBufferedBytes: 1 << 20 })
    const id = conn.addSubscription(() => undefined)
    assert.equal(conn.notifyJson(id, 'null'), true)
    assert.equal(socket.sent.length, 1)
  })
})

// --- subscriptionHandlers over a bare chain-event emitter ----------------------------------------

interface ChainEvents {
  miniBlock: [MiniBlock, readonly unknown[]]
  block: [unknown]
}

function fakeBackend(): { backend: EthBackend; events: EventEmitter<ChainEvents>; pending: EventEmitter<{ tx: [Hex] }> } {
  const events = new EventEmitter<ChainEvents>()
  events.setMaxListeners(0)
  const pending = new EventEmitter<{ tx: [Hex] }>()
  pending.setMaxListeners(0)
  const chain = { events, latestMiniBlock: undefined, head: { miniBlocks: { first: 0n, count: 0 } } }
  // Only what subscriptions.ts reads of a backend; the rest of the interface is unused here.
  const backend = {
    chain,
    decode: () => {
      throw new Error('no transactions in these mini-blocks')
    },
    onPendingTransaction: (listener: (hash: Hex) => void) => {
      pending.on('tx', listener)
      return () => pending.off('tx', listener)
    },
  } as unknown as EthBackend
  return { backend, events, pending }
}

const ADDRESS = `0x${'ab'.repeat(20)}` as Hex

function miniBlock(number: bigint, receipts: TxReceipt[] = []): MiniBlock {
  const diff: AccountDiff = {
    account: { nonce: 1n, balance: 5n, codeHash: new Uint8Array(32) },
    storageCleared: false,
    storage: new Map([[`0x${'00'.repeat(31)}01` as Hex, Uint8Array.of(7)]]),
  }
  return {
    number,
    blockNumber: 1n,
    index: Number(number),
    timestampUs: 1_700_000_000_000_000n + number * 10_000n,
    blockTimestamp: 1_700_000_000n,
    baseFeePerGas: 1n,
    parentHash: new Uint8Array(32),
    transactions: [],
    receipts,
    gasUsed: 0n,
    stateDiff: { accounts: new Map([[ADDRESS, diff]]), codes: new Map() },
    hash: new Uint8Array(32),
    signature: new Uint8Array(65),
  }
}

function receiptWithLogs(logs: number): TxReceipt {
  return {
    transactionHash: `0x${'11'.repeat(32)}`,
    type: 2,
    status: 1,
    cumulativeGasUsed: 21_000n,
    gasUsed: 21_000n,
    effectiveGasPrice: 1n,
    logsBloom: new Uint8Array(256),
    logs: Array.from({ length: logs }, (_, i) => ({
      address: ADDRESS,
      topics: [`0x${'22'.repeat(32)}`],
      data: `0x0${i}` as Hex,
    })),
    from: ADDRESS,
    to: ADDRESS,
    contractAddress: null,
    blockNumber: 1n,
    transactionIndex: 0,
    logIndexStart: 0,
    miniBlockNumber: 1n,
  }
}

function wsContext(conn: WsConnection): RpcContext {
  return { transport: 'ws', connection: conn, signal: conn.signal, remoteAddress: '127.0.0.1' }
}

/** JSON.stringify calls made while `fn` runs. */
function countStringify(fn: () => void): number {
  const original = JSON.stringify
  let calls = 0
  JSON.stringify = ((...args: Parameters<typeof JSON.stringify>) => {
    calls++
    return original(...args)
  }) as typeof JSON.stringify
  try {
    fn()
  } finally {
    JSON.stringify = original
  }
  return calls
}

const CONNECTIONS = 5
const PER_CONNECTION = 20

describe('eth_subscribe fan-out', () => {
  const subscriptionTypes: Array<{ name: string; params: unknown[]; fire: (f: ReturnType<typeof fakeBackend>) => void }> = [
    { name: 'miniBlocks', params: ['miniBlocks'], fire: (f) => f.events.emit('miniBlock', miniBlock(1n), []) },
    { name: 'stateChanges', params: ['stateChanges', [ADDRESS]], fire: (f) => f.events.emit('miniBlock', miniBlock(1n), []) },
    {
      name: 'newPendingTransactions',
      params: ['newPendingTransactions'],
      fire: (f) => f.pending.emit('tx', `0x${'33'.repeat(32)}`),
    },
    {
      name: 'realtime logs (3 per event)',
      params: ['logs', { fromBlock: 'pending', toBlock: 'pending' }],
      fire: (f) => f.events.emit('miniBlock', miniBlock(1n, [receiptWithLogs(3)]), []),
    },
  ]
  for (const type of subscriptionTypes) {
    test(`${type.name}: ${CONNECTIONS * PER_CONNECTION} subscribers, each payload serialized once, every subscriber gets the same result`, async () => {
      const f = fakeBackend()
      const { eth_subscribe } = subscriptionHandlers(f.backend)
      const sockets = Array.from({ length: CONNECTIONS }, () => new FakeSocket())
      const ids = new Map<string, FakeSocket>()
      for (const socket of sockets) {
        const conn = new WsConnection(socket, { maxSubscriptions: PER_CONNECTION, maxBufferedBytes: 1 << 24 })
        for (let i = 0; i < PER_CONNECTION; i++) ids.set((await eth_subscribe!(type.params, wsContext(conn))) as string, socket)
      }
      const calls = countStringify(() => type.fire(f))
      const frames = sockets.flatMap((s) =>
        s.sent.map((text) => JSON.parse(text) as { params: { subscription: string; result: unknown } }),
      )
      const perSubscriber = frames.length / (CONNECTIONS * PER_CONNECTION)
      assert.ok(perSubscriber >= 1 && Number.isInteger(perSubscriber), `${frames.length} frames`)
      // Once per distinct payload (a log each for the logs stream), not once per subscriber.
      assert.ok(calls <= perSubscriber, `${calls} JSON.stringify calls for ${frames.length} frames`)
      for (const frame of frames) assert.equal(ids.has(frame.params.subscription), true)
      const results = new Set(frames.map((frame) => JSON.stringify(frame.params.result)))
      assert.equal(results.size, perSubscriber, 'every subscriber got the same results')
      // Each connection's frames of this event left under one cork.
      for (const socket of sockets) assert.equal(socket._socket!.corks, 1)
      await nextTick()
    })
  }

  test('connections that subscribe to everything and close leave no producer attached', async () => {
    const f = fakeBackend()
    const { eth_subscribe, eth_unsubscribe } = subscriptionHandlers(f.backend)
    const kinds: unknown[][] = [
      ['newHeads'],
      ['miniBlocks'],
      ['newPendingTransactions'],
      ['logs', {}],
      ['logs', { fromBlock: 'pending', toBlock: 'pending' }],
      ['stateChanges', [ADDRESS]],
    ]
    for (let round = 0; round < 3; round++) {
      const sockets = Array.from({ length: 10 }, () => new FakeSocket())
      for (const socket of sockets) {
        const conn = new WsConnection(socket, { maxSubscriptions: 128, maxBufferedBytes: 1 << 24 })
        for (let i = 0; i < 12; i++) {
          const id = await eth_subscribe!(kinds[i % kinds.length]!, wsContext(conn))
          // Some are unsubscribed first: that path must not detach twice or leave anything either.
          if (i % 5 === 0) assert.equal(await eth_unsubscribe!([id], wsContext(conn)), true)
        }
      }
      assert.ok(f.events.listenerCount('miniBlock') > 0)
      // Half close cleanly, half are dropped.
      sockets.forEach((s, i) => (i % 2 === 0 ? s.emitClose() : s.terminate()))
      assert.equal(f.events.listenerCount('miniBlock'), 0, 'miniBlock listeners left')
      assert.equal(f.events.listenerCount('block'), 0, 'block listeners left')
      assert.equal(f.pending.listenerCount('tx'), 0, 'pending-transaction listeners left')
    }
  })
})

describe('eth_subscribe with a hostile subscription type', () => {
  const nested = (depth: number): unknown => JSON.parse(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`)
  for (const [label, type, named] of [
    ['a 10,000-level nested object', nested(10_000), 'of type object'],
    ['a 600,000-element array', Array.from({ length: 600_000 }, () => 0), 'of type array'],
    ['a boolean', true, 'of type boolean'],
    ['a long string', 'x'.repeat(1000), JSON.stringify('x'.repeat(64))],
  ] as const) {
    test(`${label}: -32602 naming it by kind, not echoing it (a nested one overflowed the stack: -32603)`, () => {
      const { eth_subscribe } = subscriptionHandlers(fakeBackend().backend)
      const conn = new WsConnection(new FakeSocket(), { maxSubscriptions: 4, maxBufferedBytes: 1 << 20 })
      assert.throws(
        () => eth_subscribe!([type], wsContext(conn)),
        (err: unknown) => {
          const e = err as { code?: number; message?: string }
          assert.equal(e.code, -32602)
          assert.equal(
            e.message,
            `invalid argument 0: unsupported subscription type ${named}; supported: newHeads, logs, newPendingTransactions, miniBlocks, stateChanges`,
          )
          return true
        },
      )
      assert.equal(conn.subscriptionCount, 0)
    })
  }
})
