/**
 * Regression (hostile-rpc campaign): slow-loris HTTP clients are cut off by `requestTimeoutMs`.
 * Before the fix, a request whose headers were complete and whose body trickled in a byte at a time
 * held its socket forever (fastify left Node's `headersTimeout` at 60 s above the request timeout,
 * and Node's connection checker then never expired the request). Each kind of slow client below must
 * be closed within a few request timeouts, and an honest request is answered meanwhile.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import { pino } from 'pino'
import { MethodRegistry, RpcServer } from '../../src/rpc/index.ts'

const TIMEOUT_MS = 1_000

interface Slow {
  name: string
  socket: Socket
  closedAfterMs: number | undefined
  timer: NodeJS.Timeout | undefined
}

/** Opens a raw socket that writes `first` and then `drip()` every 100 ms, recording when the server closes it. */
function slowClient(port: number, name: string, first: string, drip: (() => string) | undefined): Promise<Slow> {
  return new Promise((resolve) => {
    const started = performance.now()
    const socket = connect(port, '127.0.0.1', () => {
      if (first !== '') socket.write(first)
      if (drip !== undefined) {
        slow.timer = setInterval(() => {
          if (!socket.destroyed && socket.writable) socket.write(drip())
        }, 100)
      }
      resolve(slow)
    })
    const slow: Slow = { name, socket, closedAfterMs: undefined, timer: undefined }
    socket.on('error', () => undefined)
    // Read what the server sends (its 408, then its FIN): a paused socket would never see the close.
    socket.resume()
    socket.on('close', () => {
      slow.closedAfterMs = performance.now() - started
      clearInterval(slow.timer)
    })
  })
}

test('slow-loris clients (headers a byte at a time, a body that never ends, an idle socket) are closed after the request timeout', async () => {
  const registry = new MethodRegistry().register('ping', () => 'pong')
  const server = new RpcServer({ port: 0, requestTimeoutMs: TIMEOUT_MS }, registry, { logger: pino({ level: 'silent' }) })
  const { port } = await server.start()
  const slows: Slow[] = []
  try {
    const header = 'POST / HTTP/1.1\r\nHost: x\r\nX-Slow: '
    let at = 0
    slows.push(
      await slowClient(port, 'headers trickled', '', () => (at < header.length ? header[at++]! : 'a')),
      await slowClient(port, 'body that never ends', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n{', () => ' '),
      await slowClient(port, 'idle socket', '', undefined),
    )
    // An honest client is served while they hang on.
    const res = await fetch(`http://127.0.0.1:${port}/`, {
      method: 'POST',
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: [] }),
    })
    assert.deepEqual(await res.json(), { jsonrpc: '2.0', id: 1, result: 'pong' })
    const deadline = performance.now() + 5 * TIMEOUT_MS
    while (slows.some((s) => s.closedAfterMs === undefined) && performance.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50))
    for (const s of slows) {
      assert.ok(
        s.closedAfterMs !== undefined,
        `${s.name}: still open ${5 * TIMEOUT_MS} ms later (request timeout ${TIMEOUT_MS} ms)`,
      )
      assert.ok(
        s.closedAfterMs >= TIMEOUT_MS * 0.9,
        `${s.name}: closed after ${Math.round(s.closedAfterMs)} ms, before the timeout`,
      )
    }
  } finally {
    for (const s of slows) {
      clearInterval(s.timer)
      s.socket.destroy()
    }
    await server.stop()
  }
})
