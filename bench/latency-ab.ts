/**
 * Interleaved A/B of the `latency` scenario: megaeth-node with several flag sets and anvil, in rotating
 * order over several rounds, so that a shared machine's load drifts over all of them alike. Reports
 * each run with the load average at its start, then medians and ratios to the first configuration.
 *
 *   node --import tsx bench/latency-ab.ts [--rounds=3] [--full] [--node-dir=PATH] \
 *     [--config="eager:" --config="tick:--miniblock-eager-ms=10" ...] [--no-anvil]
 *
 * A `--config` is `label:flags` (flags space-separated, may be empty). Default: the node's defaults
 * ("default") against `--miniblock-eager-ms=10` ("tick-only", one mini-block per 10 ms tick).
 */
import { loadavg } from 'node:os'
import { resolve } from 'node:path'
import { runLatency, type LatencyResult } from './scenarios/latency.ts'
import type { BenchContext } from './scenarios/context.ts'
import type { ServerKind } from './lib/servers.ts'

interface Config {
  label: string
  kind: ServerKind
  flags: string[]
}

interface Run {
  config: string
  round: number
  load: number
  result: LatencyResult | undefined
  error: string | undefined
}

function parse(argv: string[]): { rounds: number; quick: boolean; nodeDir: string | undefined; configs: Config[] } {
  let rounds = 3
  let quick = true
  let nodeDir: string | undefined
  let anvil = true
  const configs: Config[] = []
  for (const a of argv) {
    if (a.startsWith('--rounds=')) rounds = Number(a.slice(9))
    else if (a === '--full') quick = false
    else if (a === '--no-anvil') anvil = false
    else if (a.startsWith('--node-dir=')) nodeDir = resolve(a.slice(11))
    else if (a.startsWith('--config=')) {
      const spec = a.slice(9)
      const colon = spec.indexOf(':')
      if (colon < 1) throw new Error(`--config=${spec}: expected label:flags`)
      configs.push({
        label: spec.slice(0, colon),
        kind: 'megaeth',
        flags: spec
          .slice(colon + 1)
          .split(' ')
          .filter(Boolean),
      })
    } else throw new Error(`unknown argument ${a}`)
  }
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds must be ≥ 1')
  if (configs.length === 0)
    configs.push(
      { label: 'default', kind: 'megaeth', flags: [] },
      { label: 'tick-only', kind: 'megaeth', flags: ['--miniblock-eager-ms=10'] },
    )
  if (anvil) configs.push({ label: 'anvil', kind: 'anvil', flags: [] })
  return { rounds, quick, nodeDir, configs }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? Number.NaN : s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}
const f2 = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : 'n/a')

async function main(): Promise<void> {
  const { rounds, quick, nodeDir, configs } = parse(process.argv.slice(2))
  const log = (line: string): void => console.log(line)
  const runs: Run[] = []
  log(
    `latency A/B: ${rounds} round(s) × ${configs.map((c) => `${c.label}[${c.flags.join(' ')}]`).join(', ')}${quick ? ' (quick sizes)' : ''}`,
  )
  for (let round = 0; round < rounds; round++) {
    // Rotate the order each round: no configuration always runs first (cold caches) or last.
    const order = configs.map((_, i) => configs[(i + round) % configs.length]!)
    for (const config of order) {
      const ctx: BenchContext = {
        quick,
        servers: [config.kind],
        generators: 1,
        concurrency: 32,
        batchSize: 100,
        serverOpts: {
          ...(nodeDir === undefined ? {} : { nodeDir }),
          ...(config.flags.length === 0 ? {} : { extraArgs: config.flags }),
        },
        log: (line) => log(`  ${line}`),
      }
      const load = loadavg()[0]!
      log(`round ${round + 1} ${config.label} (load average ${load.toFixed(2)})`)
      try {
        runs.push({ config: config.label, round, load, result: await runLatency(ctx, config.kind), error: undefined })
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error)
        log(`  FAILED: ${message}`)
        runs.push({ config: config.label, round, load, result: undefined, error: message })
      }
    }
  }
  log('')
  log('| config | runs | load avg (1 min) | idle p50 | idle p99 | ~500 tx/s p50 | ~500 tx/s p99 | background tx/s |')
  log('|---|---:|---:|---:|---:|---:|---:|---:|')
  const medians = new Map<string, number[]>()
  for (const config of configs) {
    const ok = runs.filter((r) => r.config === config.label && r.result !== undefined).map((r) => ({ ...r, result: r.result! }))
    const row = [
      median(ok.map((r) => r.result.idleMs.p50)),
      median(ok.map((r) => r.result.idleMs.p99)),
      median(ok.map((r) => r.result.loadedMs.p50)),
      median(ok.map((r) => r.result.loadedMs.p99)),
    ]
    medians.set(config.label, row)
    log(
      `| ${config.label} | ${ok.length} | ${ok.map((r) => r.load.toFixed(1)).join(', ')} | ${row.map(f2).join(' | ')} | ${ok.map((r) => r.result.backgroundTps).join(', ')} |`,
    )
  }
  log('')
  log('per run (idle p50/p99, loaded p50/p99 ms):')
  for (const r of runs)
    log(
      `  round ${r.round + 1} ${r.config} load ${r.load.toFixed(2)}: ${r.result === undefined ? `failed (${r.error})` : `${r.result.idleMs.p50}/${r.result.idleMs.p99}, ${r.result.loadedMs.p50}/${r.result.loadedMs.p99} (bg ${r.result.backgroundTps} tx/s)`}`,
    )
  const base = medians.get(configs[0]!.label)!
  log('')
  log(
    `ratios of medians to ${configs[0]!.label} (idle p50, idle p99, loaded p50, loaded p99: each median divided by the first configuration's, > 1 = slower than it):`,
  )
  for (const [label, row] of medians) log(`  ${label}: ${row.map((v, i) => f2(v / base[i]!)).join(', ')}`)
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error)
    process.exit(1)
  },
)
