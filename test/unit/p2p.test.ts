// run-tests: alone — real libp2p hosts with gossip deadlines
// The P2P transport layer on real libp2p hosts over loopback (no mocks). Needs scripts/polyfills.mjs
// imported first on Node 20 (scripts/run-tests.mjs does).
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import { Uint8ArrayList } from 'uint8arraylist'
import {
  P2pDialError,
  P2pHost,
  P2pKeyFileError,
  P2pMessageTooLargeError,
  P2pProtocolError,
  P2pRequestError,
  P2pResponseTooLargeError,
  P2pTimeoutError,
  resolveP2pOptions,
  topicName,
  type GossipValidationResult,
  type P2pOptions,
} from '../../src/p2p/index.ts'
import { FrameKind, readResponse } from '../../src/p2p/frames.ts'

const MiB = 1024 * 1024
const logger = pino({ level: 'silent' })
const TOPIC = topicName(6342n, 'test')
const hosts: P2pHost[] = []

async function startHost(options: Partial<P2pOptions> = {}, registry?: Registry): Promise<P2pHost> {
  const host = await P2pHost.start(options, { logger, registry })
  hosts.push(host)
  return host
}

after(async () => {
  await Promise.all(hosts.map((host) => host.stop()))
})

/** Polls `condition` every 20 ms; fails after `timeoutMs`. */
async function waitFor(what: string, condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)
const text = (data: Uint8Array): string => new TextDecoder().decode(data)
const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex')

/** A subscriber that rejects messages starting with 0xff and records what it saw. */
function recorder(host: P2pHost, topic = TOPIC) {
  const validated: string[] = []
  const delivered: string[] = []
  host.subscribe(topic, {
    validate(data): GossipValidationResult {
      validated.push(text(data))
      return data[0] === 0xff ? 'reject' : 'accept'
    },
    onMessage(data) {
      delivered.push(text(data))
    },
  })
  return { validated, delivered }
}

test('topicName and option validation', () => {
  assert.equal(topicName(6342n, 'mini-blocks'), '/megaeth/6342/mini-blocks/1')
  assert.throws(() => topicName(1n, 'a/b'), RangeError)
  assert.throws(() => resolveP2pOptions({ bootnodes: ['/ip4/127.0.0.1/tcp/1'] }), /must end in \/p2p/)
  assert.throws(() => resolveP2pOptions({ listen: ['not-an-addr'] }), /listen entry/)
  assert.throws(() => resolveP2pOptions({ maxResponseBytes: 0 }), RangeError)
})

describe('gossip', () => {
  // Chain topology A ↔ B ↔ C: what reaches C from A was forwarded by B.
  let a: P2pHost, b: P2pHost, c: P2pHost
  let atB: ReturnType<typeof recorder>, atC: ReturnType<typeof recorder>

  before(async () => {
    a = await startHost()
    b = await startHost({ bootnodes: [a.multiaddrs()[0]!] })
    c = await startHost({ bootnodes: [b.multiaddrs()[0]!] })
    recorder(a)
    atB = recorder(b)
    atC = recorder(c)
    await waitFor('gossip mesh A-B-C', () => {
      const bMesh = b.meshPeers(TOPIC)
      return (
        a.meshPeers(TOPIC).includes(b.peerId) &&
        bMesh.includes(a.peerId) &&
        bMesh.includes(c.peerId) &&
        c.meshPeers(TOPIC).includes(b.peerId)
      )
    })
    assert.ok(!a.connectedPeers().includes(c.peerId), 'A and C must only be linked through B')
  })

  test('a message published by A reaches B and C (forwarded by B)', async () => {
    const { recipients } = await a.publish(TOPIC, bytes('hello'))
    assert.equal(recipients, 1)
    await waitFor('delivery at B and C', () => atB.delivered.includes('hello') && atC.delivered.includes('hello'))
  })

  test('a rejected message is neither delivered nor forwarded, and lowers the sender score', async () => {
    assert.equal(b.peerScore(a.peerId) >= 0, true)
    const invalid = '\u00ffbad'
    await a.publish(TOPIC, Uint8Array.of(0xff, ...bytes('bad')))
    await waitFor('B to validate the invalid message', () => atB.validated.some((m) => m.endsWith('bad')))
    // A valid message sent after it, once seen at C, shows the invalid one had its chance to arrive.
    await a.publish(TOPIC, bytes('after-bad'))
    await waitFor('the next valid message at C', () => atC.delivered.includes('after-bad'))
    assert.ok(!atB.delivered.some((m) => m.endsWith('bad') && m !== 'after-bad'), 'B delivered a rejected message')
    assert.ok(!atC.validated.some((m) => m.endsWith('bad') && m !== 'after-bad'), 'B forwarded a rejected message')
    assert.ok(!atB.delivered.includes(invalid))
    // gossipsub caches scores for up to one heartbeat (1 s).
    await waitFor('A score at B below 0', () => b.peerScore(a.peerId) < 0, 3_000)
  })

  test('publishing alone on a topic does not throw', async () => {
    assert.deepEqual(await a.publish(topicName(6342n, 'nobody-listens'), bytes('x')), { recipients: 0 })
  })

  test('size cap: refused on publish, rejected (with penalty) on receipt', async () => {
    await assert.rejects(a.publish(TOPIC, new Uint8Array(resolveP2pOptions().maxMessageBytes + 1)), P2pMessageTooLargeError)

    const topic = topicName(6342n, 'capped')
    const big = await startHost({ maxMessageBytes: 64 * 1024 })
    const small = await startHost({ maxMessageBytes: 1024, bootnodes: [big.multiaddrs()[0]!] })
    recorder(big, topic)
    const atSmall = recorder(small, topic)
    await waitFor('big to see small in its mesh', () => big.meshPeers(topic).includes(small.peerId))
    await big.publish(topic, bytes('x'.repeat(2048)))
    await big.publish(topic, bytes('fits'))
    await waitFor('the small message', () => atSmall.delivered.includes('fits'))
    assert.deepEqual(atSmall.validated, ['fits'], 'the oversized message must be rejected before the validator')
    await waitFor('big score at small below 0', () => small.peerScore(big.peerId) < 0, 3_000)
  })
})

describe('request/response', () => {
  let server: P2pHost, client: P2pHost, cappedClient: P2pHost
  const big = randomBytes(20 * MiB)
  const registry = new Registry()

  before(async () => {
    server = await startHost({}, registry)
    client = await startHost({ bootnodes: [server.multiaddrs()[0]!] })
    cappedClient = await startHost({ bootnodes: [server.multiaddrs()[0]!], maxResponseBytes: 1 * MiB })
    await server.handle('/test/echo/1', async (request, from) => bytes(`${from}:${text(request)}`))
    await server.handle('/test/big/1', async () =>
      (async function* () {
        // Parts larger and smaller than a frame: the host must re-chunk both.
        for (let offset = 0; offset < big.length; offset += 3 * MiB + 7) yield big.subarray(offset, offset + 3 * MiB + 7)
      })(),
    )
    await server.handle('/test/fail/1', async () => {
      throw new Error('no such block 42')
    })
    await server.handle('/test/slow/1', async () => {
      await sleep(1_000)
      return bytes('late')
    })
    await waitFor('clients connected', () => server.connectedPeers().length === 2)
  })

  test('round trip', async () => {
    const response = await client.request(server.peerId, '/test/echo/1', bytes('ping'))
    assert.equal(text(response), `${client.peerId}:ping`)
  })

  test('a 20 MiB response is streamed and reassembled intact', async () => {
    const response = await client.request(server.peerId, '/test/big/1', new Uint8Array(0))
    assert.equal(response.length, big.length)
    assert.equal(sha256(response), sha256(big))
  })

  test('a throwing handler → P2pRequestError with its message', async () => {
    await assert.rejects(client.request(server.peerId, '/test/fail/1', bytes('?')), (err) => {
      assert.ok(err instanceof P2pRequestError)
      assert.equal(err.code, 'P2P_REQUEST_FAILED')
      assert.equal(err.data.remoteMessage, 'no such block 42')
      return true
    })
  })

  test('timeout → P2pTimeoutError', async () => {
    await assert.rejects(client.request(server.peerId, '/test/slow/1', bytes('?'), { timeoutMs: 200 }), P2pTimeoutError)
  })

  test('response over maxResponseBytes → P2pResponseTooLargeError; the server keeps serving', async () => {
    await assert.rejects(cappedClient.request(server.peerId, '/test/big/1', new Uint8Array(0)), P2pResponseTooLargeError)
    assert.equal(text(await cappedClient.request(server.peerId, '/test/echo/1', bytes('again'))), `${cappedClient.peerId}:again`)
  })

  test('a protocol the peer does not serve → P2pProtocolError', async () => {
    await assert.rejects(client.request(server.peerId, '/test/none/1', bytes('?')), P2pProtocolError)
  })

  test('unknown or stopped peer → P2pDialError', async () => {
    const stranger = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    await assert.rejects(client.request(stranger, '/test/echo/1', bytes('?')), P2pDialError)

    const gone = await startHost({ bootnodes: [client.multiaddrs()[0]!] })
    await gone.handle('/test/echo/1', async () => bytes('here'))
    await waitFor('client to see the peer', () => client.connectedPeers().includes(gone.peerId))
    assert.equal(text(await client.request(gone.peerId, '/test/echo/1', bytes('?'))), 'here')
    await gone.stop()
    await assert.rejects(client.request(gone.peerId, '/test/echo/1', bytes('?')), P2pDialError)
  })

  test('served requests are counted by protocol and outcome', async () => {
    const metrics = await registry.metrics()
    assert.match(metrics, /megaeth_p2p_requests_total\{protocol="\/test\/echo\/1",side="inbound",outcome="ok"\} 2\n/)
    assert.match(
      metrics,
      /megaeth_p2p_requests_total\{protocol="\/test\/fail\/1",side="inbound",outcome="P2P_REQUEST_FAILED"\} 1\n/,
    )
    assert.match(metrics, /megaeth_p2p_connected_peers 2\n/)
  })
})

describe('response frames', () => {
  const frames = (...list: number[][]) =>
    (async function* () {
      for (const frame of list) yield new Uint8ArrayList(Uint8Array.from(frame))
    })()

  test('malformed or truncated responses → P2pProtocolError', async () => {
    assert.deepEqual(
      await readResponse(frames([FrameKind.Chunk, 1, 2], [FrameKind.Chunk, 3], [FrameKind.End]), '/p', 10),
      Uint8Array.of(1, 2, 3),
    )
    await assert.rejects(readResponse(frames([FrameKind.Chunk, 1]), '/p', 10), /without an END frame/)
    await assert.rejects(readResponse(frames([7, 1]), '/p', 10), P2pProtocolError)
    await assert.rejects(readResponse(frames([]), '/p', 10), P2pProtocolError)
    await assert.rejects(readResponse(frames([FrameKind.End, 0]), '/p', 10), P2pProtocolError)
    await assert.rejects(readResponse(frames([FrameKind.Chunk, 1, 2, 3]), '/p', 2), P2pResponseTooLargeError)
  })
})

describe('peers', () => {
  let dir: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'megaeth-p2p-'))
  })
  after(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  test('identity persists in the key file; a corrupt file is refused, not replaced', async () => {
    const keyFile = join(dir, 'keys', 'node.key')
    const first = await startHost({ keyFile })
    await first.stop()
    const second = await startHost({ keyFile })
    assert.equal(second.peerId, first.peerId)
    assert.match(await readFile(keyFile, 'utf8'), /^[0-9a-f]+\n$/)
    const corrupt = join(dir, 'corrupt.key')
    await writeFile(corrupt, 'zz\n')
    await assert.rejects(P2pHost.start({ keyFile: corrupt }, { logger }), P2pKeyFileError)
    assert.equal(await readFile(corrupt, 'utf8'), 'zz\n')
  })

  test('a bootnode that is down at start, then restarts on the same port, is (re)connected', async () => {
    const keyFile = join(dir, 'bootnode.key')
    const initial = await startHost({ keyFile })
    const addr = initial.multiaddrs()[0]!
    const port = addr.split('/')[4]
    await initial.stop()

    const follower = await startHost({ bootnodes: [addr], redialIntervalMs: 200 })
    const connected: string[] = []
    follower.onPeerConnected((peer) => connected.push(peer))

    const up = await startHost({ keyFile, listen: [`/ip4/127.0.0.1/tcp/${port}`] })
    assert.equal(up.peerId, initial.peerId)
    await waitFor('connection to the bootnode once it is up', () => follower.connectedPeers().includes(up.peerId))
    await up.stop()
    await waitFor('disconnection', () => !follower.connectedPeers().includes(up.peerId))

    const restarted = await startHost({ keyFile, listen: [`/ip4/127.0.0.1/tcp/${port}`] })
    await waitFor('reconnection after the restart', () => follower.connectedPeers().includes(restarted.peerId))
    assert.deepEqual(connected, [up.peerId, up.peerId])
  })

  test('penalties past the threshold disconnect and ban the peer', async () => {
    const judge = await startHost({ penaltyThreshold: 2 })
    await judge.handle('/test/echo/1', async () => bytes('ok'))
    const culprit = await startHost({ bootnodes: [judge.multiaddrs()[0]!], redialIntervalMs: 100 })
    await waitFor('connection', () => judge.connectedPeers().includes(culprit.peerId))

    judge.penalize(culprit.peerId, 'bad response')
    assert.ok(judge.connectedPeers().includes(culprit.peerId), 'one penalty must not disconnect')
    judge.penalize(culprit.peerId, 'bad response')
    await waitFor('disconnection', () => !judge.connectedPeers().includes(culprit.peerId))
    await assert.rejects(judge.request(culprit.peerId, '/test/echo/1', bytes('?')), P2pDialError)
    await assert.rejects(culprit.request(judge.peerId, '/test/echo/1', bytes('?')), P2pDialError)
    assert.ok(!judge.connectedPeers().includes(culprit.peerId), 'the banned peer got back in')
  })
})
