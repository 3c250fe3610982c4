/**
 * The contract every resilience campaign (`test/resilience/*.test.ts`) follows, so one runner can run
 * them all in two forms and collect one report:
 * - the CI form runs in `npm test` (every campaign together under 5 minutes on 2 cores);
 * - the long form (`npm run resilience`, `RESILIENCE_LONG=1`) runs the same assertions with the long
 *   form's counts (≥ 100 kills, minutes of partitions, …) and each campaign writes its report to
 *   `bench/results/resilience/<campaign>.json`.
 * A campaign's report says what it tried and what was lost; `lost` must be 0, and the test asserts it
 * before writing, so a report on disk is a passing run.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { REPO_ROOT } from './node-process.ts'

/** True under `npm run resilience`: campaigns use their long-form counts and durations. */
export function isLongForm(): boolean {
  return process.env.RESILIENCE_LONG === '1'
}

/** Picks the CI or the long-form value of a campaign parameter. */
export function byForm<T>(ci: T, long: T): T {
  return isLongForm() ? long : ci
}

/** The seed of a randomized campaign: `RESILIENCE_SEED` replays a run; otherwise fixed in CI, fresh in the long form. */
export function campaignSeed(fixed: number): number {
  const given = process.env.RESILIENCE_SEED
  if (given !== undefined && given !== '') return Number(given) >>> 0
  return isLongForm() ? (Date.now() ^ process.pid) >>> 0 : fixed
}

export interface CampaignReport {
  /** The campaign's name, also its report's file name: `crash`, `disk`, `partition`, `hostile-rpc`, `hostile-peer`. */
  campaign: string
  /** The seed it ran with (replay with `RESILIENCE_SEED`). */
  seed: number
  /** What was tried, by kind: `kills`, `restarts`, `faults`, `inputs`, `messages`, … */
  tried: Record<string, number>
  /** What was checked afterwards, by kind: `receipts`, `blocks`, … */
  checked: Record<string, number>
  /** Acknowledged data missing or different afterwards (receipts, transactions, blocks): must be 0. */
  lost: number
  /** Bugs or notable behaviour the run found, one line each. */
  findings: string[]
  /** Measurements worth keeping (RSS before/after, catch-up times, …). */
  measured?: Record<string, number>
}

/** Writes a campaign's report in the long form (`bench/results/resilience/<campaign>.json`); the CI form writes none. */
export function writeCampaignReport(report: CampaignReport & { durationMs: number }): void {
  if (!isLongForm()) return
  const dir = join(REPO_ROOT, 'bench', 'results', 'resilience')
  mkdirSync(dir, { recursive: true })
  const body = { ...report, form: 'long', finishedAt: new Date().toISOString(), node: process.version }
  writeFileSync(join(dir, `${report.campaign}.json`), `${JSON.stringify(body, null, 2)}\n`)
}
