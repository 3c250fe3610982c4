/**
 * Paired latency comparison for a shared, noisy machine: every configuration's server runs at the
 * same time, and eth_sendRawTransactionSync samples alternate between them (one call to each, in
 * rotating order, then the next), so all see the same load drift sample by sample. Idle, then with
 * each server under its own ~500 tx/s background at once. One server at a time (`npm run bench -- latency` with
 * `--node-args`) is closer to the `latency` scenario but at the mercy of the machine's other tenants.
 *
 *   node --import tsx bench/latency-paired.ts [--samples=300] [--rate=500] [--node-dir=PATH] [--no-anvil] \
 *     [--config="label:flags" ...]      (default: "default:" and "tick-only:--miniblock-eager-ms=10")
 */
import { loadavg } from 'node:os'
import { resolve } from 'node:path'
import { histogramDelta, scrape, type Samples } from './lib/metrics.ts'
import { RpcClient } from './lib/rpc.ts'
import { startServer, type Server, type ServerKind } from './lib/servers.ts'
import { sleep, summarize, type Summary } from './lib/stats.ts'
import { fundAccounts, sign, type SignedTx } from './load/fund.ts'
import { prepareBackground, startBackground } from './scenarios/background.ts'

interface Config {
  label: string
  kind: ServerKind
  flags: string[]
}

interface Lane {
  config: Config
  server: Server
  rpc: RpcClient
  txs: SignedTx[]
  next: number
  idle: number[]
  loaded: number[]
  /** /metrics at the start of idle, the start of loaded and the end (megaeth-node only). */
  scrapes: Samples[]
}

function parse(argv: string[]): { samples: number; rate: number; nodeDir: string | undefined; configs: Config[] } {
  let samples = 300
  let rate = 500
  let nodeDir: string | undefined
  let anvil = true
  const configs: Config[] = []
  for (const a of argv) {
    if (a.startsWith('--samples=')) samples = Number(a.slice(10))
    else if (a.startsWith('--rate=')) rate = Number(a.slice(7))
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
  if (!Number.isInteger(samples) || samples < 10) throw new Error('--samples must be an integer ≥ 10')
  if (configs.length === 0)
    configs.push(
      { label: 'default', kind: 'megaeth', flags: [] },
      { label: 'tick-only', kind: 'megaeth', flags: ['--miniblock-eager-ms=10'] },
    )
  if (anvil) configs.push({ label: 'anvil', kind: 'anvil', flags: [] })
  return { samples, rate, nodeDir, configs }
}

async function sample(lane: Lane, into: number[]): Promise<void> {
  const tx = lane.txs[lane.next++]!
  const t = performance.now()
  const rc = await lane.rpc.call<{ status: string } | null>('eth_sendRawTransactionSync', [tx.raw], 15_000)
  if (rc?.status !== '0x1') throw new Error(`${lane.config.label}: tx ${tx.hash} failed: ${JSON.stringify(rc)}`)
  into.push(performance.now() - t)
}

/** One call per lane, the starting lane rotating, `n` times. */
async function alternate(lanes: Lane[], n: number, phase: 'idle' | 'loaded'): Promise<void> {
  for (let i = 0; i < n; i++)
    for (let j = 0; j < lanes.length; j++) {
      const lane = lanes[(i + j) % lanes.length]!
      await sample(lane, lane[phase])
    }
}

const f2 = (n: number): string => n.toFixed(2)

async function scrapeAll(lanes: Lane[]): Promise<void> {
  for (const lane of lanes) if (lane.server.metricsUrl !== undefined) lane.scrapes.push(await scrape(lane.server.metricsUrl))
}

async function main(): Promise<void> {
  const { samples, rate, nodeDir, configs } = parse(process.argv.slice(2))
  const log = (line: string): void => console.log(line)
  const lanes: Lane[] = []
  const loadAt: number[] = [loadavg()[0]!]
  log(
    `paired latency: ${configs.map((c) => `${c.label}[${c.flags.join(' ')}]`).join(', ')}; ${samples} samples each per phase; load average ${loadAt[0]!.toFixed(2)}`,
  )
  try {
    for (const config of configs) {
      const server = await startServer(config.kind, `paired-${config.label}`, {
        ...(nodeDir === undefined ? {} : { nodeDir }),
        ...(config.flags.length === 0 ? {} : { extraArgs: config.flags }),
      })
      const rpc = new RpcClient(server.rpcUrl, 1)
      lanes.push({ config, server, rpc, txs: [], next: 0, idle: [], loaded: [], scrapes: [] })
      const lane = lanes.at(-1)!
      const [sender] = await fundAccounts(server, 'paired-fg', 1, 10n ** 18n)
      for (let n = 0; n < 2 * samples + 20; n++)
        lane.txs.push(
          sign(server, sender!, { nonce: n, gasLimit: 21_000n, to: sender!.address, value: 0n, data: new Uint8Array(0) }),
        )
    }
    const pools = []
    for (const lane of lanes)
      pools.push(await prepareBackground(lane.server, 'paired-bg', rate, Math.ceil(samples * lanes.length * 0.06 + 15)))
    const warm: number[] = []
    for (const lane of lanes) for (let i = 0; i < 20; i++) await sample(lane, warm)
    const phaseAt: number[] = [performance.now()]
    await scrapeAll(lanes)
    await alternate(lanes, samples, 'idle')
    await scrapeAll(lanes)
    phaseAt.push(performance.now())
    loadAt.push(loadavg()[0]!)
    const backgrounds = pools.map((p) => startBackground(p))
    await sleep(1_000)
    phaseAt.push(performance.now())
    await alternate(lanes, samples, 'loaded')
    const reports = await Promise.all(backgrounds.map((b) => b.stop()))
    await scrapeAll(lanes)
    phaseAt.push(performance.now())
    loadAt.push(loadavg()[0]!)
    log(`load average at start / after idle / after loaded: ${loadAt.map(f2).join(' / ')}`)
    log('| config | idle p50 | idle p99 | ~rate p50 | ~rate p99 | background tx/s |')
    log('|---|---:|---:|---:|---:|---:|')
    const rows = lanes.map((lane, i) => {
      const rep = reports[i]!
      const tps = Math.round(rep.accepted / ((rep.lastSubmitMs - rep.firstSubmitMs) / 1000))
      const idle: Summary = summarize(lane.idle)
      const loaded: Summary = summarize(lane.loaded)
      log(`| ${lane.config.label} | ${idle.p50} | ${idle.p99} | ${loaded.p50} | ${loaded.p99} | ${tps} |`)
      return [idle.p50, idle.p99, loaded.p50, loaded.p99]
    })
    log(
      'inside megaeth-node (/metrics): megaeth_sync_send_seconds p50 / p99 (ms, bucket-interpolated), mini-blocks per second, mean mini-block build (ms)',
    )
    for (const lane of lanes) {
      if (lane.scrapes.length < 3) continue
      const [a, b, c] = lane.scrapes as [Samples, Samples, Samples]
      const phase = (before: Samples, after: Samples, seconds: number): string => {
        const send = histogramDelta(before, after, 'megaeth_sync_send_seconds', 'decode="inline"')
        const build = histogramDelta(before, after, 'megaeth_miniblock_build_seconds')
        return `sync send ${f2(send.p50 * 1000)} / ${f2(send.p99 * 1000)} ms (${send.count} inline), ${(build.count / seconds).toFixed(0)} mini-blocks/s, build ${f2(build.mean * 1000)} ms`
      }
      log(
        `  ${lane.config.label}: idle ${phase(a, b, (phaseAt[1]! - phaseAt[0]!) / 1000)}; loaded ${phase(b, c, (phaseAt[3]! - phaseAt[1]!) / 1000)}`,
      )
    }
    log(`ratios to ${lanes[0]!.config.label} (median or percentile divided by its; > 1 = slower):`)
    rows.forEach((row, i) => log(`  ${lanes[i]!.config.label}: ${row.map((v, k) => f2(v / rows[0]![k]!)).join(', ')}`))
  } finally {
    for (const lane of lanes) {
      lane.rpc.close()
      await lane.server.stop()
    }
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error)
    process.exit(1)
  },
)
