// Regression tests for what the hostile-peer campaign (test/resilience/hostile-peer.test.ts) found:
// rejected gossip never got its sender banned (gossipsub only graylisted it), a requester that stops
// reading held a served stream forever, oversized request frames cost nothing, and replays of old
// authentic gossip were accepted and forwarded. Real libp2p hosts over loopback; the misbehaving side
// is a raw libp2p node (test/helpers/rogue-peer.ts).
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { setTimeout as sleep } from 'node:timers/promises'
import { pino } from 'pino'
import { Registry } from 'prom-client'
import { createChainCommon, DEV_CHAIN_ID } from '../../src/chain/config.ts'
import { DEV_SEQUENCER_KEY } from '../../src/chain/dev.ts'
import { chainConfigFromGenesis, devGenesis } from '../../src/chain/genesis.ts'
import { encodeMiniBlock, sealMiniBlock, type UnsignedMiniBlock } from '../../src/chain/mini-block.ts'
import { privateKeyToAddress } from '../../src/crypto/native.ts'
import { P2pHost, topicName, type P2pOptions } from '../../src/p2p/index.ts'
import { PeerPenalties } from '../../src/p2p/penalties.ts'
import { emptyStateDiff, type Hex } from '../../src/primitives/state-diff.ts'
import { miniBlockSubscription } from '../../src/replica/gossip.ts'
import { SequencerAuthenticator } from '../../src/replica/sync-client.ts'
import { lengthPrefixed, RoguePeer } from '../helpers/rogue-peer.ts'
import { waitFor } from '../helpers/node-process.ts'
import { metricValue } from '../helpers/registry-metrics.ts'

const logger = pino({ level: 'silent' })
const TOPIC = topicName(DEV_CHAIN_ID, 'hostile')
const MiB = 1024 * 1024
const hosts: P2pHost[] = []
const rogues: RoguePeer[] = []

async function startHost(options: Partial<P2pOptions> = {}, registry?: Registry): Promise<P2pHost> {
  const host = await P2pHost.start(options, { logger, registry })
  hosts.push(host)
  return host
}

async function startRogue(): Promise<RoguePeer> {
  const rogue = await RoguePeer.start()
  rogues.push(rogue)
  return rogue
}

after(async () => {
  await Promise.all([...hosts.map((h) => h.stop()), ...rogues.map((r) => r.stop())])
})

test('a weighted penalty counts as that many: 3 + 3 reach a threshold of 5', () => {
  let now = 0
  const penalties = new PeerPenalties({ threshold: 5, windowMs: 1_000, banMs: 1_000 }, () => now)
  assert.equal(penalties.penalize('p', 3), false)
  assert.equal(penalties.active('p'), 3)
  assert.equal(penalties.penalize('p', 3), true)
  assert.ok(penalties.isBanned('p'))
  now += 1_001
  assert.ok(!penalties.isBanned('p'))
})

describe('gossip', () => {
  test('a peer sending rejected gossip is disconnected and refused at its second message', async () => {
    const registry = new Registry()
    const judge = await startHost({}, registry)
    judge.subscribe(TOPIC, { validate: () => 'reject', onMessage() {} })
    const rogue = await startRogue()
    await rogue.dial(judge.multiaddrs()[0]!)
    await waitFor('the subscription', () => rogue.seesSubscriber(TOPIC, judge.peerId))

    await rogue.publish(TOPIC, Uint8Array.of(1))
    await sleep(300)
    assert.ok(rogue.isConnected(judge.peerId), 'one rejected message must not ban')
    await rogue.publish(TOPIC, Uint8Array.of(2))
    await waitFor('the ban', () => !rogue.isConnected(judge.peerId))
    assert.equal(await metricValue(registry, 'megaeth_p2p_peer_bans_total'), 1)
    await rogue.dial(judge.multiaddrs()[0]!).catch(() => undefined)
    await sleep(300)
    assert.ok(!rogue.isConnected(judge.peerId), 'the banned peer got back in')
  })

  test('replica gossip: authentic but stale mini-blocks are ignored (not forwarded, not penalized), forged ones rejected', () => {
    const config = chainConfigFromGenesis(devGenesis(), 'megaeth-dev')
    const sequencerKey = hexToBytes(DEV_SEQUENCER_KEY)
    const auth = new SequencerAuthenticator(
      config,
      createChainCommon(config),
      bytesToHex(privateKeyToAddress(sequencerKey)) as Hex,
    )
    const block = (number: bigint): UnsignedMiniBlock => ({
      number,
      blockNumber: 1n,
      index: 0,
      timestampUs: 1n,
      blockTimestamp: 1n,
      baseFeePerGas: 1n,
      parentHash: new Uint8Array(32),
      transactions: [],
      receipts: [],
      gasUsed: 0n,
      stateDiff: emptyStateDiff(),
    })
    const delivered: bigint[] = []
    const subscription = miniBlockSubscription(
      auth,
      () => 10n,
      (b) => delivered.push(b.number),
    )
    const signed = (n: bigint) => encodeMiniBlock(sealMiniBlock(block(n), config.chainId, sequencerKey))
    assert.equal(subscription.validate(signed(9n), 'peer'), 'ignore')
    assert.equal(subscription.validate(signed(10n), 'peer'), 'accept')
    assert.equal(subscription.validate(signed(11n), 'peer'), 'accept')
    const forged = encodeMiniBlock(sealMiniBlock(block(12n), config.chainId, new Uint8Array(32).fill(7)))
    assert.equal(subscription.validate(forged, 'peer'), 'reject')
  })
})

describe('request/response', () => {
  test('a requester that never reads the response has the stream reset at the deadline', async () => {
    const registry = new Registry()
    const server = await startHost({ requestTimeoutMs: 1_000 }, registry)
    // 8 MiB: far more than yamux's window, so the server blocks writing until the reader reads.
    await server.handle('/test/big/1', async () => new Uint8Array(8 * MiB))
    const rogue = await startRogue()
    await rogue.dial(server.multiaddrs()[0]!)
    const stream = await rogue.openStream(server.peerId, '/test/big/1')
    await stream.sink([lengthPrefixed(Uint8Array.of(1))])
    // Never reads: the server must give up on its own.
    await waitFor(
      'the server to time the exchange out',
      () => stream.status !== 'open' || stream.readStatus !== 'ready',
      10_000,
    ).catch(() => undefined)
    const deadline = Date.now() + 10_000
    while ((await metricValue(registry, 'megaeth_p2p_requests_total', { outcome: 'P2P_TIMEOUT', side: 'inbound' })) === 0) {
      if (Date.now() > deadline) assert.fail('the served exchange never timed out: the stalled stream is held forever')
      await sleep(50)
    }
    stream.abort(new Error('done'))
  })

  test('an oversized request frame is a penalty (bans at the threshold)', async () => {
    const registry = new Registry()
    const server = await startHost({ maxRequestBytes: 1024, penaltyThreshold: 2 }, registry)
    await server.handle('/test/echo/1', async (request) => request)
    const rogue = await startRogue()
    await rogue.dial(server.multiaddrs()[0]!)
    for (let i = 0; i < 2 && rogue.isConnected(server.peerId); i++) {
      await rogue
        .rawExchange(server.peerId, '/test/echo/1', lengthPrefixed(new Uint8Array(2048)), { deadlineMs: 5_000 })
        .catch(() => undefined)
    }
    await waitFor('the ban', () => !rogue.isConnected(server.peerId))
    assert.equal(await metricValue(registry, 'megaeth_p2p_peer_bans_total'), 1)
    assert.equal(await metricValue(registry, 'megaeth_p2p_requests_total', { outcome: 'P2P_BAD_REQUEST', side: 'inbound' }), 2)
  })
})
