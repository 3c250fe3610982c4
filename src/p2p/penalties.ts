/**
 * Application-level peer penalties and bans: what the layers above report through `penalize()` (a
 * malformed or wrong response, say), as opposed to gossipsub's own scoring of gossip traffic.
 * A penalty counts for `windowMs`; `threshold` of them get the peer banned for `banMs`.
 * Time is injected so tests need no clock games.
 */
export interface PenaltyLimits {
  threshold: number
  windowMs: number
  banMs: number
}

export class PeerPenalties {
  /** Per peer, the times of its penalties still within the window (oldest first). */
  private readonly penalties = new Map<string, number[]>()
  private readonly bans = new Map<string, number>()

  constructor(
    private readonly limits: PenaltyLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Records a penalty worth `weight` ordinary ones (a positive integer); true if it gets the peer
   * banned (from now on `isBanned`).
   */
  penalize(peer: string, weight = 1): boolean {
    const now = this.now()
    this.expire(now)
    const times = this.penalties.get(peer) ?? []
    for (let i = 0; i < weight; i++) times.push(now)
    if (times.length < this.limits.threshold) {
      this.penalties.set(peer, times)
      return false
    }
    this.penalties.delete(peer)
    this.bans.set(peer, now + this.limits.banMs)
    return true
  }

  /** Penalties of `peer` still within the window. */
  active(peer: string): number {
    const since = this.now() - this.limits.windowMs
    return this.penalties.get(peer)?.filter((t) => t > since).length ?? 0
  }

  isBanned(peer: string): boolean {
    const until = this.bans.get(peer)
    if (until === undefined) return false
    if (until > this.now()) return true
    this.bans.delete(peer)
    return false
  }

  /** Drops expired penalties and bans of every peer, so peers that never come back do not accumulate. */
  private expire(now: number): void {
    const since = now - this.limits.windowMs
    for (const [peer, times] of this.penalties) {
      const kept = times.filter((t) => t > since)
      if (kept.length === 0) this.penalties.delete(peer)
      else this.penalties.set(peer, kept)
    }
    for (const [peer, until] of this.bans) if (until <= now) this.bans.delete(peer)
  }
}
