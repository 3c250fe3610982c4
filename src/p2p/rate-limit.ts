/**
 * Per-peer rate limit of inbound requests: a token bucket per peer (`burst` tokens, refilled at
 * `perSecond`), one token per request.
 *
 * A request without a token is refused (answered with an ERROR frame, the handler never runs), and
 * still takes a token: the bucket goes into debt, down to −`burst`. A peer that reaches that floor
 * sent a whole burst more while being refused, faster than the refill forgives it: that is no honest
 * requester (ours back off after an error: 250 ms and up for a witness, 500 ms for a catch-up), so
 * the verdict is `ban`. One that slows down works its debt off at the refill rate and is served again.
 *
 * Time is injected so tests need no clock games.
 */
export interface RateLimits {
  /** Sustained requests per second per peer. */
  perSecond: number
  /** Requests a peer may send at once (the bucket's size), and the debt that gets it banned. */
  burst: number
}

export type RateVerdict = 'serve' | 'refuse' | 'ban'

interface Bucket {
  tokens: number
  at: number
}

/** How often idle buckets are dropped, so identities that came and went (a Sybil) do not accumulate. */
const SWEEP_INTERVAL_MS = 10_000

export class RequestRateLimiter {
  private readonly buckets = new Map<string, Bucket>()
  private lastSweep: number

  constructor(
    private readonly limits: RateLimits,
    private readonly now: () => number = Date.now,
  ) {
    this.lastSweep = now()
  }

  /** Counts one request of `peer` and says what to do with it. */
  take(peer: string): RateVerdict {
    const now = this.now()
    this.sweep(now)
    const bucket = this.refilled(this.buckets.get(peer), now)
    bucket.tokens -= 1
    if (bucket.tokens <= -this.limits.burst) {
      this.buckets.delete(peer)
      return 'ban'
    }
    this.buckets.set(peer, bucket)
    return bucket.tokens >= 0 ? 'serve' : 'refuse'
  }

  /** Peers with a bucket (tests: bounded under identity rotation). */
  get tracked(): number {
    return this.buckets.size
  }

  private refilled(bucket: Bucket | undefined, now: number): Bucket {
    if (bucket === undefined) return { tokens: this.limits.burst, at: now }
    const tokens = Math.min(this.limits.burst, bucket.tokens + ((now - bucket.at) * this.limits.perSecond) / 1000)
    return { tokens, at: now }
  }

  /** Drops buckets that would be full again: such a peer is indistinguishable from a new one. */
  private sweep(now: number): void {
    if (now - this.lastSweep < SWEEP_INTERVAL_MS) return
    this.lastSweep = now
    for (const [peer, bucket] of this.buckets)
      if (this.refilled(bucket, now).tokens >= this.limits.burst) this.buckets.delete(peer)
  }
}

/**
 * The requesting side's bucket: paces a node's own requests to a peer under the rate that peer serves,
 * so that catching up hundreds of blocks (a bundle request per 16 blocks, a witness per block) waits
 * for tokens instead of drawing refusals — which a serving `RequestRateLimiter` counts towards a ban.
 * A request beyond the burst waits its turn: the bucket goes into debt and each waiter sleeps until
 * its token would have been refilled.
 */
export class RequestPacer {
  private tokens: number
  private at: number

  constructor(
    private readonly limits: RateLimits,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = limits.burst
    this.at = now()
  }

  /** How long the caller must wait (ms) before sending the request it takes a token for; 0 while tokens last. */
  take(): number {
    const now = this.now()
    this.tokens = Math.min(this.limits.burst, this.tokens + ((now - this.at) * this.limits.perSecond) / 1000)
    this.at = now
    this.tokens -= 1
    return this.tokens >= 0 ? 0 : (-this.tokens * 1000) / this.limits.perSecond
  }
}
