/**
 * megaeth-node benchmarks, side by side with anvil.
 *
 *   npm run bench [-- [scenario…] [--quick] [--servers=megaeth,anvil] [--generators=N] [--concurrency=N]]
 *
 * Scenarios: transfers, erc20, latency, miniblock, merkle, executor, replica, da (default: all). Before them, two short
 * calibrations run: how fast the generator can sign (4 methods) and how fast it can submit to a
 * server that does nothing (its ceiling). Each scenario starts a fresh server per kind, measures,
 * stops it by pid, then starts the other: only one server is alive at a time.
 *
 * Writes bench/results/<scenario>.json, summary.json, summary.md, transfers.svg, latency.svg, replica.svg.
 */
import { readFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runDaBench } from './da.ts'
import { runDeriveBench } from './derive.ts'
import { writeDisputeResults } from './dispute.ts'
import { runExecutorBench } from './executor.ts'
import { runMerkleBench, type MerkleBenchResult } from './merkle.ts'
import { runSoak, type SoakOptions } from './soak.ts'
import { runScale, type ScaleOptions } from './scenarios/scale.ts'
import { isInterrupted } from './lib/procs.ts'
import { barChartSvg, environment, writeJson, writeText, type Environment } from './lib/report.ts'
import { LOG_DIR, SERVER_KINDS, SERVER_LABEL, type ServerKind } from './lib/servers.ts'
import { runCeiling, type CeilingPoint } from './load/ceiling.ts'
import { runSignBench, type SignBenchResult } from './load/sign-bench.ts'
import { fmt, round, type BenchContext } from './scenarios/context.ts'
import { runLatency, type LatencyResult } from './scenarios/latency.ts'
import { runMiniblock, type MiniBlockResult } from './scenarios/miniblock.ts'
import { replicaParams, runReplica, type ReplicaResult } from './scenarios/replica.ts'
import { runThroughput, type ThroughputResult } from './scenarios/throughput.ts'

const ALL = ['transfers', 'erc20', 'latency', 'miniblock', 'merkle', 'executor', 'replica', 'da', 'dispute'] as const
type Scenario = (typeof ALL)[number]
/** Run only when named (not part of "all"): the 30-minute soak (bench/soak.ts), the big-state restarts (scale). */
const OPT_IN = ['soak', 'scale'] as const

const HELP = `usage: npm run bench -- [scenario…] [--quick] [--servers=megaeth,anvil] [--generators=N] [--concurrency=N] [--skip-calibration] [--node-dir=PATH]
--node-dir: run bin/megaeth-node from another checkout (e.g. a \`git archive\` snapshot of a commit)
--node-args: extra megaeth-node flags, e.g. --node-args="--executor=sequential"
soak [--soak-minutes=30] [--rate=N] [--sample-seconds=10] [--warmup-minutes=5] [--heap-snapshots=DIR]: a sequencer at half its capacity (or --rate tx/s) for 30 minutes
scale [--scale-sizes=100000,1000000] [--scale-before-dir=PATH]: first start and restarts of a sequencer with that many genesis accounts (--scale-before-dir: a checkout from before persisted tries, for its restart time)
scenarios: ${ALL.join(', ')} (default: all), ${OPT_IN.join(', ')}`

function parseArgs(argv: string[]): {
  scenarios: Scenario[]
  quick: boolean
  servers: ServerKind[]
  generators: number
  concurrency: number
  calibrate: boolean
  nodeDir: string | undefined
  nodeArgs: string[]
  soak: SoakOptions | undefined
  scale: ScaleOptions | undefined
} {
  let scale: ScaleOptions | undefined
  const scaleOpts: ScaleOptions = { sizes: [100_000, 1_000_000], beforeDir: undefined }
  let soak: SoakOptions | undefined
  const soakOpts: SoakOptions = { minutes: 30, warmUpMinutes: 5, rate: undefined, sampleSeconds: 10, heapSnapshotDir: undefined }
  let nodeDir: string | undefined
  let nodeArgs: string[] = []
  let quick = false
  let servers: ServerKind[] = [...SERVER_KINDS]
  let generators = 1
  let concurrency = 32
  let calibrate = true
  const scenarios: Scenario[] = []
  for (const a of argv) {
    if (a === '--quick') quick = true
    else if (a === '--skip-calibration') calibrate = false
    else if (a === 'soak') soak = soakOpts
    else if (a === 'scale') scale = scaleOpts
    else if (a.startsWith('--scale-sizes=')) scaleOpts.sizes = a.slice(14).split(',').map(Number)
    else if (a.startsWith('--scale-before-dir=')) scaleOpts.beforeDir = resolve(a.slice(19))
    else if (a.startsWith('--soak-minutes=')) soakOpts.minutes = Number(a.slice(15))
    else if (a.startsWith('--rate=')) soakOpts.rate = Number(a.slice(7))
    else if (a.startsWith('--sample-seconds=')) soakOpts.sampleSeconds = Number(a.slice(17))
    else if (a.startsWith('--warmup-minutes=')) soakOpts.warmUpMinutes = Number(a.slice(17))
    else if (a.startsWith('--heap-snapshots=')) soakOpts.heapSnapshotDir = a.slice(17)
    else if (a.startsWith('--servers='))
      servers = a
        .slice(10)
        .split(',')
        .map((s) => s.trim()) as ServerKind[]
    else if (a.startsWith('--generators=')) generators = Number(a.slice(13))
    else if (a.startsWith('--concurrency=')) concurrency = Number(a.slice(14))
    else if (a.startsWith('--node-dir=')) nodeDir = resolve(a.slice(11))
    else if (a.startsWith('--node-args='))
      nodeArgs = a
        .slice(12)
        .split(/\s+/)
        .filter((x) => x !== '')
    else if (a === '--help' || a === '-h') {
      console.log(HELP)
      process.exit(0)
    } else if ((ALL as readonly string[]).includes(a)) scenarios.push(a as Scenario)
    else {
      console.error(`unknown argument ${a}\n${HELP}`)
      process.exit(2)
    }
  }
  for (const s of servers) if (!SERVER_KINDS.includes(s)) throw new Error(`unknown server ${s}`)
  if (!Number.isInteger(generators) || generators < 1) throw new Error('--generators must be ≥ 1')
  return {
    scenarios: scenarios.length === 0 ? [...ALL] : scenarios,
    quick,
    servers,
    generators,
    concurrency,
    calibrate,
    nodeDir,
    nodeArgs,
    soak,
    scale,
  }
}

type PerServer<T> = Partial<Record<ServerKind, T | { error: string }>>

interface ScenarioFile<T> extends Environment {
  scenario: string
  parameters: Record<string, unknown>
  results: PerServer<T>
  ratio?: number | null
  notes: string[]
}

const ok = <T>(r: T | { error: string } | undefined): T | undefined =>
  r === undefined || (typeof r === 'object' && r !== null && 'error' in r) ? undefined : (r as T)

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2))
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
  const command = process.argv.length > 2 ? `npm run bench -- ${process.argv.slice(2).join(' ')}` : 'npm run bench'
  const env = environment(command, pkg.version, args.nodeDir ?? fileURLToPath(new URL('../', import.meta.url)))
  const started = performance.now()
  const log = (line: string): void => console.log(line)
  const ctx: BenchContext = {
    quick: args.quick,
    servers: args.servers,
    generators: args.generators,
    concurrency: args.concurrency,
    batchSize: 100,
    serverOpts: {
      ...(args.nodeDir === undefined ? {} : { nodeDir: args.nodeDir }),
      ...(args.nodeArgs.length === 0 ? {} : { extraArgs: args.nodeArgs }),
    },
    log,
  }
  log(
    `megaeth-node bench — ${env.date}, node ${env.node}, ${env.machine.cores} cores (${env.machine.cpuModel}), load average ${env.machine.loadavgAtStart.join(' ')}`,
  )
  log(
    `megaeth-node source: ${env.source.dir} at ${env.source.commit}${env.source.dirtySrcFiles > 0 ? ` + ${env.source.dirtySrcFiles} uncommitted file(s) under src/ bin/` : ''}`,
  )
  log(
    `scenarios: ${args.scenarios.join(', ')}; servers: ${args.servers.join(', ')}${args.quick ? '; --quick' : ''}; server logs in ${LOG_DIR}`,
  )
  if (env.machine.loadavgAtStart[0]! > env.machine.cores)
    log(
      `WARNING: load average ${env.machine.loadavgAtStart[0]} exceeds the ${env.machine.cores} cores: other processes compete with the servers and the numbers will be lower and noisier.`,
    )

  if (args.soak !== undefined) {
    await runSoak(ctx, env, args.soak)
    return
  }
  if (args.scale !== undefined) {
    await runScale(ctx, env, args.scale)
    return
  }

  const summary: Record<string, unknown> = { ...env, quick: args.quick }
  const failures: string[] = []

  // Calibration: signing methods and the generator's submit ceiling.
  let signing: SignBenchResult | undefined
  let ceiling: CeilingPoint[] | undefined
  if (
    args.calibrate &&
    args.scenarios.some((s) => s !== 'merkle' && s !== 'executor' && s !== 'replica' && s !== 'da' && s !== 'dispute')
  ) {
    log('\n== calibration: signing (4 methods) ==')
    signing = await runSignBench(args.quick ? 1_000 : 2_000)
    log(
      `  µs per tx: ${Object.entries(signing.usPerTx)
        .map(([k, v]) => `${k} ${v}`)
        .join(
          ', ',
        )} → using ${signing.chosen}${signing.identicalBytes ? ' (all four produce identical bytes)' : ' (WARNING: outputs differ)'}`,
    )
    log('\n== calibration: generator ceiling against a do-nothing server ==')
    ceiling = await runCeiling({
      txs: args.quick ? 50_000 : 100_000,
      generatorCounts: args.quick ? [1] : [1, 2],
      concurrency: args.concurrency,
      batchSize: 100,
      log,
    })
    writeJson('calibration.json', { ...env, scenario: 'calibration', signing, generatorCeiling: ceiling })
    summary.signing = signing
    summary.generatorCeiling = ceiling
  }

  const perServer = async <T>(name: string, fn: (kind: ServerKind) => Promise<T>): Promise<PerServer<T>> => {
    const out: PerServer<T> = {}
    for (const kind of args.servers) {
      if (isInterrupted()) break
      try {
        out[kind] = await fn(kind)
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error)
        log(`  [${kind}] ${name} FAILED: ${message}`)
        failures.push(`${name}/${kind}: ${message}`)
        out[kind] = { error: message }
      }
    }
    return out
  }

  const results: Partial<Record<Scenario, ScenarioFile<unknown> | MerkleBenchResult | { error: string }>> = {}
  for (const scenario of args.scenarios) {
    if (isInterrupted()) break
    const t = performance.now()
    log(`\n== ${scenario} ==`)
    if (scenario === 'transfers' || scenario === 'erc20') {
      const params =
        scenario === 'transfers'
          ? { kind: 'transfer' as const, senders: args.quick ? 1_000 : 2_000, rounds: args.quick ? 10 : 30 }
          : { kind: 'erc20' as const, senders: args.quick ? 1_000 : 2_000, rounds: args.quick ? 5 : 10 }
      const res = await perServer(scenario, (kind) => runThroughput(ctx, kind, scenario, params))
      const a = ok<ThroughputResult>(res.megaeth)
      const b = ok<ThroughputResult>(res.anvil)
      const file: ScenarioFile<ThroughputResult> = {
        ...env,
        scenario,
        parameters: {
          ...params,
          txs: params.senders * params.rounds,
          recipients: 'senders (sender i, round r → sender i+r+1)',
          batchSize: ctx.batchSize,
          generators: ctx.generators,
          concurrency: ctx.concurrency,
          serverOptions: {
            megaeth: ['--dev --miniblock-ms=10 --block-ms=1000', ...args.nodeArgs].join(' '),
            anvil: '--block-time 0.01 --accounts 20',
          },
        },
        results: res,
        ratio: a !== undefined && b !== undefined ? round(a.sustainedTps / b.sustainedTps) : null,
        notes: [
          'sustainedTps = included txs / (first submit → first RPC sight of the block holding the last one); blocks are polled every 20 ms',
          'megaeth-node blocks are sealed 1 s EVM blocks; anvil blocks are mined every 10 ms',
          'preconfirmedTps (megaeth-node) = txs / (first submit → /metrics megaeth_transactions_included_total reaches them), polled every 100 ms',
          'txs are pre-signed and pre-serialized (JSON-RPC batches of eth_sendRawTransaction) before the clock starts',
        ],
      }
      results[scenario] = file
      writeJson(`${scenario}.json`, file)
    } else if (scenario === 'latency') {
      const res = await perServer(scenario, (kind) => runLatency(ctx, kind))
      const file: ScenarioFile<LatencyResult> = {
        ...env,
        scenario,
        parameters: {
          idleCalls: args.quick ? 100 : 200,
          loadedCalls: args.quick ? 200 : 500,
          backgroundRate: 500,
          backgroundBatch: 2,
        },
        results: res,
        notes: [
          'one call at a time from one sender; round trip measured at the client over a keep-alive HTTP connection',
          'background: open-loop eth_sendRawTransaction from 500 other senders, 2 txs per request every 4 ms',
        ],
      }
      results.latency = file
      writeJson('latency.json', file)
    } else if (scenario === 'miniblock') {
      const res = await perServer(scenario, (kind) => runMiniblock(ctx, kind))
      const file: ScenarioFile<MiniBlockResult> = {
        ...env,
        scenario,
        parameters: { idleSeconds: args.quick ? 3 : 5, loadedSeconds: args.quick ? 5 : 10, backgroundRate: 500 },
        results: res,
        notes: [
          'interval = time between consecutive mini-blocks (megaeth-node, server µs timestamps) or blocks (anvil, client arrival of newHeads)',
          'anvil has no mini-blocks; its rows are the 10 ms block cadence seen through newHeads, whose notifications arrive in bursts (p50 can be ~0), so compare the means',
        ],
      }
      results.miniblock = file
      writeJson('miniblock.json', file)
    } else if (scenario === 'merkle') {
      try {
        const r = await runMerkleBench({
          accounts: args.quick ? 20_000 : 100_000,
          diffs: args.quick ? 5 : 20,
          log: (l) => log(`  ${l}`),
        })
        results.merkle = r
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error)
        log(`  merkle FAILED: ${message}`)
        failures.push(`merkle: ${message}`)
        results.merkle = { error: message }
      }
    } else if (scenario === 'replica') {
      // megaeth-node only (anvil has no replicas): sequencer + full replica + validator on this machine.
      if (!args.servers.includes('megaeth')) {
        log('  skipped: megaeth-node is not among --servers')
        continue
      }
      const params = replicaParams(args.quick)
      let r: ReplicaResult | { error: string }
      try {
        r = await runReplica(ctx, params)
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error)
        log(`  replica FAILED: ${message}`)
        failures.push(`replica: ${message}`)
        r = { error: message }
      }
      const file: ScenarioFile<ReplicaResult> = {
        ...env,
        scenario,
        parameters: {
          ...params,
          liveTxs: params.senders * params.liveRounds,
          backlogTxs: params.senders * params.backlogRounds,
          recipients: 'a distinct pre-existing genesis account per tx',
          batchSize: ctx.batchSize,
          concurrency: ctx.concurrency,
          lagSampleMs: 100,
          nodes:
            'sequencer --genesis --datadir --sequencer.key-file --miniblock-ms=10 --block-ms=1000 --ingest-workers=1; full replica --role=replica --datadir; validator --role=replica --replica.mode=validator (default --replica.verify-workers)',
        },
        results: { megaeth: r },
        notes: [
          'production: sustainedTps = included txs / (first submit → first RPC sight of the block holding the last one), as in `transfers`; steadyTps counts the txs sealed between the first and the last loaded block',
          'live verification: verifiedTps = the same txs / (first submit → the follower reports the last loaded block verified, mega_nodeInfo.verified.block); its ratio to production is ~1 when it keeps up, so capacity is measured separately:',
          "capacity: (1) backlog: both followers are stopped, the sequencer alone produces more blocks at max load (sequencerAloneTps: the reference rate), then the full replica restarts on its datadir and syncs + verifies them with the sequencer idle (replica RPC up → last block verified); (2) verifyCpu: the fullest loaded block verified in the bench process by the verify worker's code, CPU time per tx → tx/s per core × workers; (3) workerCapacityTps: verified txs / in-worker verification seconds (wall, inflated by contention) × workers",
          'lag = sequencer eth_blockNumber − follower verified block, sampled every 100 ms (a poll still in flight skips the next tick) from first submit to the last loaded block sealed; sealToVerifiedMs = first RPC sight of the sealed block (20 ms polls) → the follower\'s "block verified statelessly" log line',
          'paced (A2): open-loop submission at half the live sustained rate, both followers verifying: the lag when the 2 cores are not saturated',
          'witness bytes: debug_executionWitness of every loaded block (live, paced and backlog): state nodes + codes + keys + headers; encoded = RLP as stored and sent over p2p',
          'RSS: VmHWM/VmRSS from /proc (all threads, verification workers included); disk: allocated bytes of the datadir (du), measured after a graceful stop',
        ],
      }
      results.replica = file
      writeJson('replica.json', file)
    } else if (scenario === 'executor') {
      // Sequential vs parallel executor on the same pre-generated blocks: in-process, no servers;
      // it writes bench/results/executor.json itself and stays out of the server summary table.
      try {
        await runExecutorBench({ blocks: args.quick ? 4 : 10, reps: args.quick ? 1 : 3, log: (l) => log(`  ${l}`) })
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error)
        log(`  executor FAILED: ${message}`)
        failures.push(`executor: ${message}`)
      }
    } else if (scenario === 'da') {
      // The batcher posting transfers to anvil as calldata and as blobs (in-process), then a --sync=l1 replica
      // rebuilding a loaded dev chain from its L1 (processes): writes bench/results/da.json.
      try {
        const rows = await runDaBench({ txs: args.quick ? 1000 : 5000, blocks: args.quick ? 10 : 20 }, (l) => log(`  ${l}`))
        const derivation = await runDeriveBench({ txs: args.quick ? 1000 : 4000 }, (l) => log(`  ${l}`))
        writeJson('da.json', { ...env, scenario, posting: rows, derivation })
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error)
        log(`  da FAILED: ${message}`)
        failures.push(`da: ${message}`)
      }
    } else if (scenario === 'dispute') {
      // L1 gas of proposals, moves, resolution, credits and withdrawals on the dev dispute deployment (bench/dispute.ts).
      try {
        await writeDisputeResults({ ...env }, (l) => log(`  ${l}`))
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error)
        log(`  dispute FAILED: ${message}`)
        failures.push(`dispute: ${message}`)
      }
    }
    log(`  (${scenario}: ${((performance.now() - t) / 1000).toFixed(1)} s)`)
  }

  summary.scenarios = results
  summary.failures = failures
  summary.totalSeconds = round((performance.now() - started) / 1000, 1)
  summary.loadavgAtEnd = loadavg().map((x) => round(x))
  // Scenarios outside the megaeth-vs-anvil table (executor, replica, da) write only their own files: run
  // alone, they must not replace the summary of the last full run with an empty table.
  const tableRun = args.scenarios.some((s) => s !== 'executor' && s !== 'replica' && s !== 'da' && s !== 'dispute')
  if (tableRun) {
    writeJson('summary.json', summary)
    const md = markdown(env, args.quick, results, ceiling, signing, args.nodeArgs)
    writeText('summary.md', md)
    writeCharts(results)
    log(`\n${md}`)
  }
  log(
    `wrote bench/results/ (${Object.keys(results).join(', ')}${tableRun ? ', summary.json, summary.md, svg charts' : ''}) in ${summary.totalSeconds} s`,
  )
  if (failures.length > 0) {
    log(`${failures.length} failure(s):\n  ${failures.join('\n  ')}`)
    process.exitCode = 1
  }
  if (isInterrupted()) process.exitCode = 130
}

await main().then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    console.error(error)
    process.exit(1)
  },
)

type Results = Partial<Record<Scenario, ScenarioFile<unknown> | MerkleBenchResult | { error: string }>>

function res<T>(results: Results, s: Scenario, kind: ServerKind): T | undefined {
  const f = results[s] as ScenarioFile<T> | undefined
  return f === undefined || !('results' in f) ? undefined : ok<T>(f.results[kind])
}

function markdown(
  env: Environment,
  quick: boolean,
  results: Results,
  ceiling: CeilingPoint[] | undefined,
  signing: SignBenchResult | undefined,
  nodeArgs: string[],
): string {
  const args = { nodeArgs }
  const rows: string[][] = []
  const ratio = (a: number | undefined, b: number | undefined, higherIsBetter = true): string =>
    a === undefined || b === undefined || b === 0 ? '' : `${(higherIsBetter ? a / b : b / a).toFixed(2)}×`
  const cell = (v: number | undefined, digits = 0): string => (v === undefined ? 'n/a' : fmt(v, digits))
  for (const s of ['transfers', 'erc20'] as const) {
    const a = res<ThroughputResult>(results, s, 'megaeth')
    const b = res<ThroughputResult>(results, s, 'anvil')
    if (a === undefined && b === undefined) continue
    const txs = (a ?? b)!.txs
    const label = s === 'transfers' ? 'ETH transfers' : 'ERC-20 transfers'
    rows.push([
      `${label}: sustained TPS (${fmt(txs)} txs, to last block)`,
      cell(a?.sustainedTps) + (a?.complete === false ? ' (incomplete)' : ''),
      cell(b?.sustainedTps) + (b?.complete === false ? ' (incomplete)' : ''),
      ratio(a?.sustainedTps, b?.sustainedTps),
    ])
    if (a?.preconfirmedTps !== null && a?.preconfirmedTps !== undefined)
      rows.push([`${label}: TPS to preconfirmation (mini-block)`, cell(a.preconfirmedTps), '—', ''])
    rows.push([
      `${label}: server CPU per tx (µs)`,
      cell(a?.serverCpuUsPerTx),
      cell(b?.serverCpuUsPerTx),
      ratio(a?.serverCpuUsPerTx, b?.serverCpuUsPerTx, false),
    ])
    rows.push([`${label}: server peak RSS (MB)`, cell(a?.peakRssMb), cell(b?.peakRssMb), ''])
  }
  const la = res<LatencyResult>(results, 'latency', 'megaeth')
  const lb = res<LatencyResult>(results, 'latency', 'anvil')
  if (la !== undefined || lb !== undefined) {
    rows.push([
      '`eth_sendRawTransactionSync` p50 / p99, idle (ms)',
      la === undefined ? 'n/a' : `${la.idleMs.p50} / ${la.idleMs.p99}`,
      lb === undefined ? 'n/a' : `${lb.idleMs.p50} / ${lb.idleMs.p99}`,
      ratio(la?.idleMs.p50, lb?.idleMs.p50, false),
    ])
    rows.push([
      '`eth_sendRawTransactionSync` p50 / p99 at ~500 tx/s (ms)',
      la === undefined ? 'n/a' : `${la.loadedMs.p50} / ${la.loadedMs.p99}`,
      lb === undefined ? 'n/a' : `${lb.loadedMs.p50} / ${lb.loadedMs.p99}`,
      ratio(la?.loadedMs.p50, lb?.loadedMs.p50, false),
    ])
  }
  const ma = res<MiniBlockResult>(results, 'miniblock', 'megaeth')
  const mb = res<MiniBlockResult>(results, 'miniblock', 'anvil')
  if (ma !== undefined || mb !== undefined) {
    const iv = (p: MiniBlockResult['idle'] | undefined): string => {
      if (p === undefined) return 'n/a'
      const s = p.intervalMs ?? p.arrivalIntervalMs
      return Number.isNaN(s.p50)
        ? `${p.blocks} in ${p.seconds} s`
        : `${s.p50} / ${s.p99} (mean ${fmt((p.seconds * 1000) / Math.max(1, p.blocks), 1)})`
    }
    rows.push(['Mini-block (anvil: block) interval p50 / p99 (mean), idle (ms)', iv(ma?.idle), iv(mb?.idle), ''])
    rows.push(['Mini-block (anvil: block) interval p50 / p99 (mean) at ~500 tx/s (ms)', iv(ma?.loaded), iv(mb?.loaded), ''])
  }
  const rss = (kind: ServerKind): number | undefined => {
    const vals: number[] = []
    for (const s of ['transfers', 'erc20', 'latency', 'miniblock'] as const) {
      const r = res<{ peakRssMb: number }>(results, s, kind)
      if (r !== undefined) vals.push(r.peakRssMb)
    }
    return vals.length === 0 ? undefined : Math.max(...vals)
  }
  if (rss('megaeth') !== undefined || rss('anvil') !== undefined)
    rows.push(['Server peak RSS, highest over the scenarios (MB, VmHWM)', cell(rss('megaeth')), cell(rss('anvil')), ''])
  const mk = results.merkle as MerkleBenchResult | { error: string } | undefined
  if (mk !== undefined && !('error' in mk))
    rows.push([
      `Merkleization: account updates/s (${fmt(mk.accounts)} accounts; vs @ethereumjs/mpt)`,
      fmt(mk.updatesPerSec.ours),
      `${fmt(mk.updatesPerSec.ethereumjs)} (ethereumjs)`,
      `${mk.ratio}×`,
    ])

  const lines: string[] = []
  lines.push(`| Benchmark | megaeth-node | anvil 1.7.1 | megaeth-node vs anvil |`)
  lines.push(`|---|---:|---:|---:|`)
  for (const r of rows) lines.push(`| ${r.join(' | ')} |`)
  lines.push('')
  const others: number[] = []
  for (const s of ['transfers', 'erc20'] as const)
    for (const k of SERVER_KINDS) {
      const r = res<ThroughputResult>(results, s, k)
      if (r !== undefined) others.push(r.otherCores)
    }
  const c1 = ceiling?.find((c) => c.generators === 1)
  lines.push(
    `${env.date.slice(0, 10)}, megaeth-node ${env.source.commit}${env.source.dirtySrcFiles > 0 ? '+uncommitted changes' : ''}, Node ${env.node}, ${env.machine.cores} cores (${env.machine.cpuModel}), load average at start ${env.machine.loadavgAtStart[0]}${quick ? ', `--quick`' : ''}.` +
      (others.length === 0
        ? ''
        : ` The machine is shared: during the throughput runs other processes kept ${Math.min(...others).toFixed(1)}–${Math.max(...others).toFixed(1)} of the ${env.machine.cores} cores busy, so compare the servers within a run, and see CPU µs per tx.`) +
      ` megaeth-node \`--dev --miniblock-ms=10 --block-ms=1000${args.nodeArgs.length === 0 ? '' : ` ${args.nodeArgs.join(' ')}`}\` (other flags at their defaults); anvil \`--block-time 0.01\`. One server process at a time, same pre-signed load for both.` +
      (c1 === undefined
        ? ''
        : ` Load generator ceiling (do-nothing server, batches of 100): ${fmt(c1.tps)} tx/s from one process${signing === undefined ? '' : `; txs pre-signed with native secp256k1 (${signing.usPerTx.native} µs/tx)`}.`) +
      ` Generated by \`${env.command}\`; details in \`bench/results/*.json\`.`,
  )
  return `${lines.join('\n')}\n`
}

function writeCharts(results: Results): void {
  const groups = (['transfers', 'erc20'] as const)
    .map((s) => ({ s, a: res<ThroughputResult>(results, s, 'megaeth'), b: res<ThroughputResult>(results, s, 'anvil') }))
    .filter((g) => g.a !== undefined || g.b !== undefined)
  if (groups.length > 0) {
    writeText(
      'transfers.svg',
      barChartSvg({
        title: 'Sustained throughput: megaeth-node vs anvil',
        subtitle: 'txs / (first submit → last tx in a sealed block); higher is better',
        unit: 'tx/s',
        series: [SERVER_LABEL.megaeth, SERVER_LABEL.anvil],
        groups: groups.map(({ s, a, b }) => ({
          label: s === 'transfers' ? `ETH transfers (${fmt((a ?? b)!.txs)} txs)` : `ERC-20 transfers (${fmt((a ?? b)!.txs)} txs)`,
          bars: [
            { series: SERVER_LABEL.megaeth, value: a?.sustainedTps ?? null },
            { series: SERVER_LABEL.anvil, value: b?.sustainedTps ?? null },
          ],
        })),
      }),
    )
  }
  const la = res<LatencyResult>(results, 'latency', 'megaeth')
  const lb = res<LatencyResult>(results, 'latency', 'anvil')
  if (la !== undefined || lb !== undefined) {
    writeText(
      'latency.svg',
      barChartSvg({
        title: 'eth_sendRawTransactionSync round trip',
        subtitle: 'one call at a time; lower is better',
        unit: 'ms',
        series: [SERVER_LABEL.megaeth, SERVER_LABEL.anvil],
        groups: [
          {
            label: 'p50 idle',
            bars: [
              { series: SERVER_LABEL.megaeth, value: la?.idleMs.p50 ?? null },
              { series: SERVER_LABEL.anvil, value: lb?.idleMs.p50 ?? null },
            ],
          },
          {
            label: 'p99 idle',
            bars: [
              { series: SERVER_LABEL.megaeth, value: la?.idleMs.p99 ?? null },
              { series: SERVER_LABEL.anvil, value: lb?.idleMs.p99 ?? null },
            ],
          },
          {
            label: 'p50 @ ~500 tx/s',
            bars: [
              { series: SERVER_LABEL.megaeth, value: la?.loadedMs.p50 ?? null },
              { series: SERVER_LABEL.anvil, value: lb?.loadedMs.p50 ?? null },
            ],
          },
          {
            label: 'p99 @ ~500 tx/s',
            bars: [
              { series: SERVER_LABEL.megaeth, value: la?.loadedMs.p99 ?? null },
              { series: SERVER_LABEL.anvil, value: lb?.loadedMs.p99 ?? null },
            ],
          },
        ],
      }),
    )
  }
}
