/** The partition campaign's TCP proxy (test/helpers/tcp-proxy.ts) against a local echo server: each mode does what it says. */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { TcpProxy } from '../helpers/tcp-proxy.ts'

function open(port: number): Promise<{ socket: Socket; received: () => string; closed: () => boolean }> {
  return new Promise((resolve, reject) => {
    let text = ''
    let closed = false
    const socket = connect({ host: '127.0.0.1', port }, () => resolve({ socket, received: () => text, closed: () => closed }))
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()))
    socket.on('close', () => (closed = true))
    socket.on('error', () => (closed = true))
    socket.once('error', reject)
  })
}

describe('tcp proxy', () => {
  let echo: Server
  let proxy: TcpProxy
  before(async () => {
    // A reset reaches the echo server as ECONNRESET: expected here.
    echo = createServer((s) => s.on('error', () => undefined).pipe(s))
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve))
    const address = echo.address()
    assert.ok(address !== null && typeof address !== 'string')
    proxy = await TcpProxy.start({ targetPort: address.port })
  })
  after(async () => {
    await proxy.stop()
    await new Promise<void>((resolve) => echo.close(() => resolve()))
  })

  it('passes, black-holes, heals dead or reset, delays in order and resets', async () => {
    const a = await open(proxy.port)
    a.socket.write('one')
    await sleep(100)
    assert.equal(a.received(), 'one')

    proxy.setMode('drop')
    a.socket.write('lost')
    await sleep(100)
    assert.equal(a.received(), 'one', 'a black hole forwards nothing')
    assert.equal(a.closed(), false, 'and closes nothing')
    assert.ok(proxy.stats.dropped >= 4)

    proxy.heal('dead')
    a.socket.write('still lost')
    const b = await open(proxy.port)
    b.socket.write('two')
    await sleep(100)
    assert.equal(a.received(), 'one', 'a connection that lost bytes stays dead')
    assert.equal(b.received(), 'two', 'a new connection passes')

    proxy.setMode('delay', 150)
    b.socket.write('x')
    b.socket.write('y')
    await sleep(60)
    assert.equal(b.received(), 'two', 'delayed')
    proxy.setMode('pass')
    b.socket.write('z')
    await sleep(400)
    assert.equal(b.received(), 'twoxyz', 'in order, even when the delay ends with chunks in flight')

    proxy.setMode('reset')
    await sleep(100)
    assert.equal(b.closed(), true, 'reset closes open connections')
    const c = await open(proxy.port).catch(() => undefined)
    await sleep(100)
    assert.ok(c === undefined || c.closed(), 'and refuses new ones')
    proxy.heal('reset')
    const d = await open(proxy.port)
    d.socket.write('three')
    await sleep(100)
    assert.equal(d.received(), 'three')
    for (const s of [a, b, d]) s.socket.destroy()
  })
})
