/**
 * Which contracts' transactions conflict with each other, learnt from validation.
 *
 * Two calls to one AMM pair, or to one counter, in the same round nearly always conflict: the later
 * one read the reserves the earlier one wrote. Run on different lanes, the later one is executed
 * twice (speculatively on a worker, then again on the main thread), and on two cores the wasted
 * execution is paid for by everything else. Calls to one ERC-20 token, by contrast, touch
 * different balances and rarely conflict. Which case a contract is cannot be told from its address,
 * so the coordinator learns it per code hash (every pair deployed from one factory shares it):
 * every worker transaction whose target an earlier transaction of the round called from another
 * lane is a sample, and the share of those samples that failed validation decides.
 *
 * The coordinator keeps a contended contract's calls of one round on one lane (see `assign`), so
 * no new samples arrive for it; the verdict expires after `EXPIRE_ROUNDS` rounds and is learnt
 * again, in case the workload changed.
 */
import type { Hex } from '../../primitives/state-diff.ts'

/** Samples before a verdict: a contract is contended once this many cross-lane calls were checked. */
const MIN_SAMPLES = 5
/** Share of cross-lane calls that failed validation above which a contract counts as contended. */
const CONTENDED_RATE = 0.5
/** Rounds a "contended" verdict lasts before it is learnt again. */
const EXPIRE_ROUNDS = 256
/** Tallies are halved at this many samples, so old behaviour fades and a changed contract is re-judged. */
const HALVE_AT = 64
/** Contracts tracked at most (the ones not found contended are forgotten first). */
const MAX_TRACKED = 10_000

interface Tally {
  samples: number
  conflicts: number
  /** Round the contract was found contended in, or -1. */
  contendedSince: number
}

export class ContentionForecast {
  private readonly tallies = new Map<Hex, Tally>()
  private round = 0

  /** Starts a round (verdicts expire by rounds). */
  nextRound(): void {
    this.round++
  }

  /** Whether calls to code `codeHash` should stay on one lane within a round. */
  isContended(codeHash: Hex): boolean {
    const tally = this.tallies.get(codeHash)
    if (tally === undefined || tally.contendedSince < 0) return false
    if (this.round - tally.contendedSince < EXPIRE_ROUNDS) return true
    this.tallies.delete(codeHash)
    return false
  }

  /** A worker transaction called `codeHash` after another lane's transaction of the round did. */
  observe(codeHash: Hex, conflicted: boolean): void {
    let tally = this.tallies.get(codeHash)
    if (tally === undefined) {
      if (this.tallies.size >= MAX_TRACKED) this.forgetUncontended()
      tally = { samples: 0, conflicts: 0, contendedSince: -1 }
      this.tallies.set(codeHash, tally)
    }
    if (tally.samples >= HALVE_AT) {
      tally.samples /= 2
      tally.conflicts /= 2
    }
    tally.samples++
    if (conflicted) tally.conflicts++
    if (tally.samples >= MIN_SAMPLES && tally.contendedSince < 0 && tally.conflicts > tally.samples * CONTENDED_RATE)
      tally.contendedSince = this.round
  }

  private forgetUncontended(): void {
    for (const [hash, tally] of this.tallies) if (tally.contendedSince < 0) this.tallies.delete(hash)
  }

  /** Contracts currently judged contended (for tests and metrics). */
  contended(): Hex[] {
    return [...this.tallies].filter(([, t]) => t.contendedSince >= 0).map(([hash]) => hash)
  }
}
