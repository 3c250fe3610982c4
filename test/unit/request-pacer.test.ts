/**
 * The requesting side's pacing against the serving side's limiter, on one injected clock: a node that
 * sends as fast as its pacer lets it is never refused by a peer with default limits, however many
 * requests it queues at once (a replica catching up hundreds of blocks); without the pacer the same
 * burst is refused and, kept up, banned.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { defaultP2pOptions } from '../../src/p2p/index.ts'
import { RequestPacer, RequestRateLimiter, type RateLimits } from '../../src/p2p/rate-limit.ts'

const served: RateLimits = { perSecond: defaultP2pOptions.requestRatePerSecond, burst: defaultP2pOptions.requestBurst }

/** `count` requests queued at t = 0, each sent when the pacer says; the server's verdicts. */
function run(count: number, pacer: RequestPacer | undefined, clock: { t: number }): string[] {
  const limiter = new RequestRateLimiter(served, () => clock.t)
  const sendAt = Array.from({ length: count }, () => pacer?.take() ?? 0)
  return sendAt.map((at) => {
    clock.t = at
    return limiter.take('replica')
  })
}

test('paced at 80% of the default rate and burst, 1,000 requests at once are all served', () => {
  const clock = { t: 0 }
  const pacer = new RequestPacer({ perSecond: served.perSecond * 0.8, burst: Math.floor(served.burst * 0.8) }, () => 0)
  const verdicts = run(1000, pacer, clock)
  assert.deepEqual(new Set(verdicts), new Set(['serve']))
  // The last one waits for its token: (1000 − 160) requests at 16 a second.
  assert.ok(Math.abs(clock.t - ((1000 - 160) * 1000) / 16) < 1, `last sent at ${clock.t} ms`)
})

test('unpaced, the same burst is refused past the bucket and banned once the debt reaches the burst', () => {
  const verdicts = run(1000, undefined, { t: 0 })
  assert.equal(verdicts.indexOf('refuse'), served.burst)
  assert.equal(verdicts.indexOf('ban'), 2 * served.burst - 1)
})

test('a pacer refills at its rate: after an idle second the next requests go at once', () => {
  let now = 0
  const pacer = new RequestPacer({ perSecond: 10, burst: 5 }, () => now)
  for (let i = 0; i < 5; i++) assert.equal(pacer.take(), 0)
  assert.equal(pacer.take(), 100)
  now = 2000
  assert.equal(pacer.take(), 0)
})
