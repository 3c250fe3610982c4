/**
 * `miniblock`: the production cadence, idle and under ~500 tx/s.
 *  megaeth-node: deltas of `mini_block_timestamp` (µs, stamped by the sequencer) between
 *    consecutive notifications of a WebSocket `miniBlocks` subscription, plus the
 *    megaeth_miniblock_interval_seconds / _build_seconds histograms over the same window.
 *  anvil (no mini-blocks): deltas between arrivals of `newHeads` notifications at the client, the
 *    closest equivalent (its blocks carry second-resolution timestamps only).
 */
import { histogramDelta, scrape } from '../lib/metrics.ts'
import { startServer, type ServerKind } from '../lib/servers.ts'
import { sleep, summarize, type Summary } from '../lib/stats.ts'
import { WsRpc, type Notification } from '../lib/ws.ts'
import { prepareBackground, startBackground } from './background.ts'
import { fmt, round, type BenchContext } from './context.ts'

export interface CadencePhase {
  seconds: number
  blocks: number
  /** from server timestamps (megaeth-node) */
  intervalMs: Summary | null
  /** from client arrival times */
  arrivalIntervalMs: Summary
  /** megaeth-node only (newHeads carries no txs) */
  txsPerBlock: number | null
  metricsIntervalMs?: { p50: number; p99: number; mean: number; count: number }
  metricsBuildMs?: { p50: number; p99: number; mean: number }
}

export interface MiniBlockResult {
  server: string
  command: string
  source: string
  idle: CadencePhase
  loaded: CadencePhase
  backgroundTps: number
  peakRssMb: number
}

interface Seen {
  serverUs: number | null
  arrivedMs: number
  txs: number
}

export async function runMiniblock(ctx: BenchContext, kind: ServerKind): Promise<MiniBlockResult> {
  const { log } = ctx
  const idleSeconds = ctx.quick ? 3 : 5
  const loadedSeconds = ctx.quick ? 5 : 10
  const rate = 500
  log(`  [${kind}] starting server`)
  const server = await startServer(kind, 'miniblock', ctx.serverOpts)
  let ws: WsRpc | undefined
  try {
    const bgPool = await prepareBackground(server, 'miniblock-bg', rate, loadedSeconds + 10)
    ws = await WsRpc.connect(server.wsUrl)
    let seen: Seen[] = []
    const onNote = (n: Notification): void => {
      if (kind === 'megaeth') {
        const r = n.result as { mini_block_timestamp: string; transactions: unknown[] }
        seen.push({ serverUs: Number(r.mini_block_timestamp), arrivedMs: n.at, txs: r.transactions.length })
      } else {
        seen.push({ serverUs: null, arrivedMs: n.at, txs: 0 })
      }
    }
    await ws.subscribe([kind === 'megaeth' ? 'miniBlocks' : 'newHeads'], onNote)

    const phase = async (seconds: number): Promise<CadencePhase> => {
      seen = []
      const before = server.metricsUrl === undefined ? undefined : await scrape(server.metricsUrl)
      await sleep(seconds * 1000)
      const after = server.metricsUrl === undefined ? undefined : await scrape(server.metricsUrl)
      const got = seen
      const deltas = (xs: number[]): number[] => xs.slice(1).map((x, i) => x - xs[i]!)
      const serverTs = got.every((s) => s.serverUs !== null) && got.length > 1 ? deltas(got.map((s) => s.serverUs! / 1000)) : null
      const p: CadencePhase = {
        seconds,
        blocks: got.length,
        intervalMs: serverTs === null ? null : summarize(serverTs),
        arrivalIntervalMs: summarize(deltas(got.map((s) => s.arrivedMs))),
        txsPerBlock: kind === 'megaeth' ? round(got.reduce((a, s) => a + s.txs, 0) / Math.max(1, got.length), 1) : null,
      }
      if (before !== undefined && after !== undefined) {
        const iv = histogramDelta(before, after, 'megaeth_miniblock_interval_seconds')
        const b = histogramDelta(before, after, 'megaeth_miniblock_build_seconds')
        p.metricsIntervalMs = {
          p50: round(iv.p50 * 1000),
          p99: round(iv.p99 * 1000),
          mean: round(iv.mean * 1000),
          count: iv.count,
        }
        p.metricsBuildMs = { p50: round(b.p50 * 1000), p99: round(b.p99 * 1000), mean: round(b.mean * 1000) }
      }
      return p
    }
    const describe = (p: CadencePhase): string => {
      const iv = p.intervalMs ?? p.arrivalIntervalMs
      return (
        `${fmt(p.blocks)} ${kind === 'megaeth' ? 'mini-blocks' : 'blocks'} in ${p.seconds} s, interval p50 ${iv.p50} ms p99 ${iv.p99} ms` +
        (p.metricsBuildMs === undefined ? '' : ` (build p50 ${p.metricsBuildMs.p50} ms p99 ${p.metricsBuildMs.p99} ms)`)
      )
    }
    await sleep(500)
    const idle = await phase(idleSeconds)
    log(`    idle: ${describe(idle)}`)
    const bg = startBackground(bgPool)
    await sleep(1000)
    const loaded = await phase(loadedSeconds)
    const bgRep = await bg.stop()
    const bgTps = Math.round(bgRep.accepted / ((bgRep.lastSubmitMs - bgRep.firstSubmitMs) / 1000))
    log(
      `    at ~${rate} tx/s (${fmt(bgTps)} achieved): ${describe(loaded)}${loaded.txsPerBlock === null ? '' : `, ${loaded.txsPerBlock} txs each`}`,
    )
    return {
      server: server.label,
      command: server.command,
      source:
        kind === 'megaeth'
          ? 'WS miniBlocks: mini_block_timestamp deltas; /metrics histograms'
          : 'WS newHeads: client arrival deltas (anvil has no mini-blocks)',
      idle,
      loaded,
      backgroundTps: bgTps,
      peakRssMb: round(server.peakRssKb() / 1024, 1),
    }
  } finally {
    ws?.close()
    await server.stop()
  }
}
