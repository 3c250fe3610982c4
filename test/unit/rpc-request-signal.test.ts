/**
 * Issue 22, item 6: every HTTP request used to derive its signal with
 * `AbortSignal.any([clientGone, shutdown])`; on Node 20 the long-lived shutdown signal keeps a WeakRef
 * to every signal derived from it (nodejs/node#55351), ~178,000 after ~200,000 requests. The server
 * now wires a per-request controller to the shutdown signal by hand and unhooks it when the request
 * ends, so finished requests leave nothing on the shutdown signal.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { getEventListeners } from 'node:events'
import { pino } from 'pino'
import { MethodRegistry, RpcServer } from '../../src/rpc/index.ts'

/** What a signal retains for signals derived from it with `AbortSignal.any` (Node's internal set of WeakRefs). */
function dependantSignals(signal: AbortSignal): number {
  const symbol = Object.getOwnPropertySymbols(signal).find((s) => s.description === 'kDependantSignals')
  const set = symbol === undefined ? undefined : (signal as unknown as Record<symbol, Set<unknown> | undefined>)[symbol]
  return set?.size ?? 0
}

/** The server's shutdown signal: private, read here because what it retains is exactly what the leak was. */
function shutdownSignal(server: RpcServer): AbortSignal {
  return (server as unknown as { shutdown: AbortController }).shutdown.signal
}

test('finished HTTP requests leave no listener or derived signal on the shutdown signal', async () => {
  const registry = new MethodRegistry()
  let seenDuringRequest = -1
  let server: RpcServer | undefined
  registry.register('probe', (_params, ctx) => {
    seenDuringRequest = getEventListeners(shutdownSignal(server!), 'abort').length + dependantSignals(shutdownSignal(server!))
    return ctx.signal.aborted
  })
  server = new RpcServer({ host: '127.0.0.1', port: 0 }, registry, { logger: pino({ level: 'silent' }) })
  const { port } = await server.start()
  try {
    const requests = 300
    for (let i = 0; i < requests; i += 30) {
      await Promise.all(
        Array.from({ length: 30 }, async (_, j) => {
          const res = await fetch(`http://127.0.0.1:${port}/`, {
            method: 'POST',
            body: JSON.stringify({ jsonrpc: '2.0', id: i + j, method: 'probe' }),
          })
          assert.deepEqual(await res.json(), { jsonrpc: '2.0', id: i + j, result: false })
        }),
      )
    }
    assert.ok(seenDuringRequest >= 1, 'a request in flight is hooked to the shutdown signal')
    const signal = shutdownSignal(server)
    assert.equal(dependantSignals(signal), 0, `signals derived from the shutdown signal after ${requests} requests`)
    assert.equal(
      getEventListeners(signal, 'abort').length,
      0,
      `abort listeners left on the shutdown signal after ${requests} requests`,
    )
  } finally {
    await server.stop()
  }
})
