/**
 * Where does megaeth-node spend its time at maximum load? Runs the `transfers` load against a node
 * started with `--cpu-prof`, then prints the functions with the most self time (main thread; the
 * ingest worker writes its own profile too).
 *
 *   [NODE_DIR=<checkout>] [NODE_ARGS='--trace-gc …'] node --import tsx bench/profile.ts [transfer|erc20] [senders] [rounds]
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runThroughput } from './scenarios/throughput.ts'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  hitCount?: number
}
interface Profile {
  startTime: number
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

/** Self time per function, only for samples inside `window` (CLOCK_MONOTONIC µs) when given. */
export function topSelfTime(
  profile: Profile,
  n = 25,
  window?: [number, number],
): Array<{ fn: string; ms: number; share: number }> {
  const byId = new Map(profile.nodes.map((x) => [x.id, x]))
  const self = new Map<string, number>()
  let total = 0
  let t = profile.startTime
  profile.samples.forEach((id, i) => {
    const dt = (profile.timeDeltas[i] ?? 0) / 1000
    t += profile.timeDeltas[i] ?? 0
    if (window !== undefined && (t < window[0] || t > window[1])) return
    total += dt
    const node = byId.get(id)
    if (node === undefined) return
    const f = node.callFrame
    const file = f.url.replace(/^.*\/(node_modules\/|src\/)/, '$1')
    const key = `${f.functionName === '' ? '(anonymous)' : f.functionName} ${file}:${f.lineNumber + 1}`
    self.set(key, (self.get(key) ?? 0) + dt)
  })
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([fn, ms]) => ({ fn, ms: Math.round(ms), share: Number(((ms / total) * 100).toFixed(1)) }))
}

/** Phases of the main thread, by the first matching frame on each sample's stack (inclusive time). */
const PHASES: Array<[phase: string, frame: RegExp]> = [
  [
    'EVM block sealing: merkleize, roots, block write (sealer.sealNow)',
    /^sealNow src\/sequencer\/sealer|src\/trie\/|src\/execution\/merkleizer\/|src\/storage\/block-store/,
  ],
  ['mini-block: hash + sign (sealMiniBlock)', /^sealMiniBlock src\/chain\/mini-block/],
  ['mini-block: WAL encode + write (wal.append)', /^append src\/storage\/wal/],
  [
    'EVM execution (executor, @ethereumjs/vm+evm, state)',
    /^applyTx src\/execution\/executor|node_modules\/@ethereumjs\/(vm|evm)\/|src\/state\//,
  ],
  ['mini-block: rest of produceMiniBlock', /^produceMiniBlock src\/sequencer\/block-producer/],
  ['ingest hand-off to workers (ingest/pool.ts, piscina)', /src\/sequencer\/ingest\/|node_modules\/piscina\//],
  [
    'RPC + txpool (rpc/, fastify, txpool)',
    /src\/rpc\/|node_modules\/(fastify|@fastify|light-my-request|find-my-way)\/|src\/sequencer\/txpool\//,
  ],
  ['level DB writes (other)', /node_modules\/(classic-level|abstract-level)\//],
  ['subscriptions / chain view', /src\/(storage\/chain-view|rpc\/eth\/subscriptions)/],
]

export function phaseBreakdown(profile: Profile, window?: [number, number]): Array<{ phase: string; ms: number; share: number }> {
  const parent = new Map<number, number>()
  for (const node of profile.nodes as Array<ProfileNode & { children?: number[] }>)
    for (const c of node.children ?? []) parent.set(c, node.id)
  const byId = new Map(profile.nodes.map((x) => [x.id, x]))
  const totals = new Map<string, number>()
  let total = 0
  let t = profile.startTime
  profile.samples.forEach((id, i) => {
    t += profile.timeDeltas[i] ?? 0
    if (window !== undefined && (t < window[0] || t > window[1])) return
    const dt = (profile.timeDeltas[i] ?? 0) / 1000
    total += dt
    const frames: string[] = []
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)!.callFrame
      frames.push(
        `${f.functionName === '' ? '(anonymous)' : f.functionName} ${f.url.replace(/^.*\/(node_modules\/|src\/)/, '$1')}`,
      )
    }
    const leaf = frames[0] ?? ''
    let phase = leaf.startsWith('(idle)') ? 'idle' : leaf.startsWith('(garbage collector)') ? 'garbage collection' : undefined
    if (phase === undefined) {
      // Outermost match wins, so e.g. execution inside produceMiniBlock counts as execution.
      for (const [name, re] of PHASES)
        if (frames.some((fr) => re.test(fr))) {
          phase = name
          break
        }
    }
    phase ??= 'other'
    totals.set(phase, (totals.get(phase) ?? 0) + dt)
  })
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([phase, ms]) => ({ phase, ms: Math.round(ms), share: Number(((ms / total) * 100).toFixed(1)) }))
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = mkdtempSync(join(tmpdir(), 'megaeth-prof-'))
  const kind = process.argv[2] === 'erc20' ? 'erc20' : 'transfer'
  const senders = Number(process.argv[3] ?? 2000)
  const rounds = Number(process.argv[4] ?? 10)
  const result = await runThroughput(
    {
      quick: false,
      servers: ['megaeth'],
      generators: 1,
      concurrency: 32,
      batchSize: 100,
      serverOpts: {
        nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`, ...(process.env.NODE_ARGS?.split(' ').filter((a) => a !== '') ?? [])],
        ...(process.env.NODE_DIR === undefined ? {} : { nodeDir: process.env.NODE_DIR }),
      },
      log: console.log,
    },
    'megaeth',
    'profile',
    { kind, senders, rounds },
  )
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.cpuprofile'))) {
    const prof = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Profile
    const totalMs = prof.timeDeltas.reduce((a, b) => a + b, 0) / 1000
    const w = result.monotonicWindowUs
    console.log(
      `\n${f} (${(totalMs / 1000).toFixed(1)} s sampled; below: the ${((w[1] - w[0]) / 1e6).toFixed(1)} s load window only)`,
    )
    console.log('phases:')
    for (const r of phaseBreakdown(prof, w))
      console.log(`${String(r.share).padStart(5)}%  ${String(r.ms).padStart(6)} ms  ${r.phase}`)
    console.log('top self time:')
    for (const r of topSelfTime(prof, 25, w))
      console.log(`${String(r.share).padStart(5)}%  ${String(r.ms).padStart(6)} ms  ${r.fn}`)
  }
  console.log(`\nprofiles in ${dir}; load window (CLOCK_MONOTONIC µs) ${result.monotonicWindowUs.join(',')}`)
  process.exit(0)
}
