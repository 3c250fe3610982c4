/**
 * `npm run bench -- soak [--soak-minutes=30] [--rate=N] [--sample-seconds=10]`: one sequencer held at
 * half its sustained capacity for a long time, to see whether anything drifts: resident memory,
 * heap, open file descriptors, event-loop lag, and the send→receipt latency of a probe client.
 *
 * The capacity is measured first with the `transfers` throughput scenario (a short run, its own
 * server) unless `--rate` gives the load directly. The soak server then gets an open-loop transfer
 * load at that rate from pre-signed chunks (one minute each, signed in a generator process while the
 * previous chunk is sent, so the bench process's own signing never limits the rate), plus one probe
 * sender calling `eth_sendRawTransactionSync` back to back. Every `--sample-seconds` the sampler
 * reads /proc/<pid> (RSS, fds) and the node's /metrics (event-loop lag, heap, included txs).
 *
 * Writes bench/results/soak.json (every sample, the verdict per series, the load average) and
 * bench/results/soak.svg (one panel per series over time).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { scrape } from './lib/metrics.ts'
import { isInterrupted } from './lib/procs.ts'
import { writeJson, writeText, type Environment } from './lib/report.ts'
import { RpcCallError, RpcClient } from './lib/rpc.ts'
import { NodeInspector } from '../test/helpers/node-inspector.ts'
import { readStatusKb, startServer } from './lib/servers.ts'
import { percentile, sleep } from './lib/stats.ts'
import { fundAccounts, sign } from './load/fund.ts'
import { GeneratorPool } from './load/pool.ts'
import type { BenchContext } from './scenarios/context.ts'
import { runThroughput } from './scenarios/throughput.ts'

export interface SoakOptions {
  minutes: number
  /** Minutes at the start left out of the verdicts (see `WARM_UP`). */
  warmUpMinutes: number
  /** Load in tx/s; undefined: half the capacity measured first. */
  rate: number | undefined
  sampleSeconds: number
  /**
   * A folder for two heap snapshots of the node's main thread, at the end of the warm-up and at the
   * end of the soak (`bench/heap-diff.ts` compares them); undefined: none. Each costs the node a pause
   * of seconds and a file of several hundred MB, so it is for leak hunts, not the published run.
   */
  heapSnapshotDir: string | undefined
}

/** One sample: the state at `t` seconds into the soak and the probe latencies of the interval before it. */
export interface SoakSample {
  t: number
  rssMb: number
  /**
   * The anonymous share of RSS (/proc RssAnon): the process's own memory. The rest is file-backed
   * (RssFile): LevelDB maps its table files on 64-bit Linux, so pages of a growing datadir it has
   * read count toward RSS although the kernel can drop them at will.
   */
  rssAnonMb: number
  rssFileMb: number
  heapUsedMb: number
  /** V8's external memory (ArrayBuffers, Buffers), outside heapUsed. */
  externalMb: number
  /**
   * The main thread's heap right after two forced full collections (MiB; through the node's
   * inspector, every `LIVE_HEAP_EVERY` samples, NaN between): what structures really hold. Heap used
   * between collections swings with V8's lazy old-space collection; this is the leak detector.
   */
  liveHeapMb: number
  fds: number
  /** The node's own event-loop lag (prom-client's monitorEventLoopDelay), p99 over its window, ms. */
  eventLoopLagP99Ms: number
  /** Transactions included per second over the interval (the load actually carried). */
  includedTps: number
  probeCalls: number
  probeP50Ms: number
  probeP99Ms: number
  loadavg1: number
}

export interface SeriesVerdict {
  /** Least-squares slope after the warm-up, in the series' unit per hour. */
  slopePerHour: number
  /** Mean of the last third of the samples over the mean of the first third. */
  lastOverFirstThird: number
  /** Whether the series stayed within its threshold (see `THRESHOLDS`). */
  flat: boolean
  threshold: string
}

/**
 * What "flat" means for each series, judged on the samples after the warm-up (`--warmup-minutes`,
 * default 5): the last third's mean at most this many times the first third's. The warm-up is left
 * out because the node's bounded windows fill with the chain during it (state history, the L1
 * finality lag's unconfirmed batches, V8 sizing its old space), which is growth by design; a
 * leak proportional to the work done keeps growing after it. Resources (RSS, heap, fds) get 1.25;
 * the heap after a full collection is the sharpest of them, since RSS also holds pages V8 and the
 * allocator freed but kept. Latency-like series get 1.5: they are noisy on a shared 2-core machine
 * (other processes take the CPU for seconds at a time), and a real regression (a structure scanned
 * per request that grows with the chain) shows as a steady climb, not 50 %. A ratio is used rather
 * than the slope because it is unit-free; the slope is reported for the record.
 */
const THRESHOLDS: Record<string, number> = {
  rssMb: 1.25,
  heapUsedMb: 1.25,
  liveHeapMb: 1.25,
  fds: 1.25,
  eventLoopLagP99Ms: 1.5,
  probeP50Ms: 1.5,
  probeP99Ms: 1.5,
}

/** A full collection every this many samples (5 min at the default 10 s): rare enough not to move the latency series. */
const LIVE_HEAP_EVERY = 30

/** Senders of the background load; the probe has its own account. */
const SENDERS = 1_000
const CHUNK_SECONDS = 60

export async function runSoak(ctx: BenchContext, env: Environment, options: SoakOptions): Promise<void> {
  const { log } = ctx
  let capacity: number | undefined
  let rate = options.rate
  if (rate === undefined) {
    log('  measuring the sustained capacity (transfers, short run)')
    const r = await runThroughput(ctx, 'megaeth', 'soak-capacity', { kind: 'transfer', senders: 1_000, rounds: 10 })
    capacity = r.sustainedTps
    rate = Math.max(50, Math.floor(capacity / 2))
    log(`  capacity ${capacity} tx/s: soaking at ${rate} tx/s`)
  }
  const loadStart = loadavg().map((x) => Number(x.toFixed(2)))
  // The inspector (loopback, an ephemeral port) is only used to force the collections of `liveHeapMb`.
  const server = await startServer('megaeth', 'soak', {
    ...ctx.serverOpts,
    nodeArgs: [...(ctx.serverOpts.nodeArgs ?? []), '--inspect=127.0.0.1:0'],
  })
  const inspector = await NodeInspector.attachToLog(readFileSync(server.logFile, 'utf8'))
  const samples: SoakSample[] = []
  const load = { chunks: 0, sent: 0, accepted: 0, rejected: 0, errors: {} as Record<string, number> }
  const probe = { calls: 0, timeouts: 0, failures: 0 }
  let stopping = false
  try {
    log(`  server pid ${server.pid}; funding ${SENDERS} senders`)
    const [prober] = await fundAccounts(server, 'soak-probe', 1, 10n ** 20n)
    await fundAccounts(server, 'soak', SENDERS, 10n ** 20n)
    const roundsPerChunk = Math.max(1, Math.ceil((rate * CHUNK_SECONDS) / SENDERS))
    // Each chunk is marked handled at once: if it fails (Ctrl-C kills its generator) while the previous chunk
    // runs, the rejection is seen at its await, not first by solc-js's unhandledRejection hook, which rethrows.
    const prepare = (chunk: number): Promise<GeneratorPool> => handled(prepareChunk(chunk))
    const prepareChunk = (chunk: number): Promise<GeneratorPool> =>
      GeneratorPool.prepare(
        {
          url: server.rpcUrl,
          chainId: server.chainId.toString(),
          maxFeePerGas: server.fees.maxFeePerGas.toString(),
          maxPriorityFeePerGas: server.fees.maxPriorityFeePerGas.toString(),
          gasLimit: 21_000,
          kind: 'transfer',
          senders: { set: 'soak', from: 0, count: SENDERS },
          recipients: { set: 'soak', from: 0, count: SENDERS },
          rounds: roundsPerChunk,
          startNonce: chunk * roundsPerChunk,
          batchSize: Math.max(1, Math.round(rate / 250)),
          mode: 'rate',
          rate,
          concurrency: 1,
          retryDeadlineMs: 0,
        },
        1,
      )

    // The background load: chunk k+1 is signed while chunk k is sent.
    const loadLoop = (async () => {
      let next = prepare(0)
      for (let chunk = 0; !stopping; chunk++) {
        const pool = await next
        if (stopping) {
          await pool.close()
          break
        }
        pool.go()
        next = prepare(chunk + 1)
        const rep = await pool.finished()
        await pool.close()
        load.chunks++
        load.sent += rep.txs
        load.accepted += rep.accepted
        for (const [k, v] of Object.entries(rep.errors)) {
          load.errors[k] = (load.errors[k] ?? 0) + v
          load.rejected += v
        }
      }
      await (await next.catch(() => undefined))?.close()
    })()

    // The probe: one sync send at a time, its latencies collected per interval.
    let latencies: number[] = []
    const probeRpc = new RpcClient(server.rpcUrl, 1)
    const probeLoop = (async () => {
      for (let nonce = 0; !stopping; nonce++) {
        const tx = sign(server, prober!, { nonce, gasLimit: 21_000n, to: prober!.address, value: 0n, data: new Uint8Array(0) })
        const t = performance.now()
        try {
          const rc = await probeRpc.call<{ status: string } | null>('eth_sendRawTransactionSync', [tx.raw], 15_000)
          if (rc?.status !== '0x1') throw new Error(`probe tx ${tx.hash}: ${JSON.stringify(rc)}`)
          latencies.push(performance.now() - t)
          probe.calls++
        } catch (error) {
          // Code 4: the node's sync wait timed out; the transaction is pooled and its nonce used.
          if (error instanceof RpcCallError && error.code === 4) probe.timeouts++
          else {
            probe.failures++
            log(`    probe failed: ${error instanceof Error ? error.message : String(error)}`)
            await sleep(1_000)
            nonce = Number(BigInt(await server.rpc.call<string>('eth_getTransactionCount', [prober!.addressHex, 'pending']))) - 1
          }
        }
        // ~20 calls/s: a latency sample, not a second load.
        await sleep(50)
      }
      probeRpc.close()
    })()

    let warmUpSnapshotTaken = false
    const snapshot = async (label: string): Promise<void> => {
      const path = join(options.heapSnapshotDir!, `soak-${label}.heapsnapshot`)
      await inspector.writeHeapSnapshot(path)
      log(`    heap snapshot ${path}`)
    }
    const started = performance.now()
    const endAt = started + options.minutes * 60_000
    let before = await scrape(server.metricsUrl!)
    log(`  soaking for ${options.minutes} min, sampling every ${options.sampleSeconds} s`)
    while (performance.now() < endAt && !isInterrupted()) {
      const tick = performance.now()
      await sleep(options.sampleSeconds * 1000)
      const after = await scrape(server.metricsUrl!)
      const seconds = (performance.now() - tick) / 1000
      const interval = latencies
      latencies = []
      const liveHeapMb =
        samples.length % LIVE_HEAP_EVERY === LIVE_HEAP_EVERY - 1 ? round1((await inspector.heapAfterGc()).usedMb) : Number.NaN
      const sample: SoakSample = {
        t: Math.round((performance.now() - started) / 1000),
        rssMb: round1(readStatusKb(server.pid, 'VmRSS') / 1024),
        rssAnonMb: round1(readStatusKb(server.pid, 'RssAnon') / 1024),
        rssFileMb: round1(readStatusKb(server.pid, 'RssFile') / 1024),
        heapUsedMb: round1((after.get('megaeth_nodejs_heap_size_used_bytes') ?? Number.NaN) / 2 ** 20),
        externalMb: round1((after.get('megaeth_nodejs_external_memory_bytes') ?? Number.NaN) / 2 ** 20),
        liveHeapMb,
        fds: countFds(server.pid),
        eventLoopLagP99Ms: round1((after.get('megaeth_nodejs_eventloop_lag_p99_seconds') ?? Number.NaN) * 1000),
        includedTps: Math.round(
          ((after.get('megaeth_transactions_included_total') ?? 0) - (before.get('megaeth_transactions_included_total') ?? 0)) /
            seconds,
        ),
        probeCalls: interval.length,
        probeP50Ms: round1(interval.length === 0 ? Number.NaN : percentile(interval, 50)),
        probeP99Ms: round1(interval.length === 0 ? Number.NaN : percentile(interval, 99)),
        loadavg1: Number(loadavg()[0]!.toFixed(2)),
      }
      before = after
      samples.push(sample)
      if (options.heapSnapshotDir !== undefined && !warmUpSnapshotTaken && sample.t >= options.warmUpMinutes * 60) {
        warmUpSnapshotTaken = true
        await snapshot(`warm-up-${sample.t}s`)
      }
      log(
        `    t=${sample.t}s rss ${sample.rssMb} MB (anon ${sample.rssAnonMb}, file ${sample.rssFileMb}) external ${sample.externalMb} MB heap ${sample.heapUsedMb} MB${Number.isNaN(liveHeapMb) ? '' : ` (after GC ${liveHeapMb})`} fds ${sample.fds} lag p99 ${sample.eventLoopLagP99Ms} ms ` +
          `included ${sample.includedTps} tx/s probe p50 ${sample.probeP50Ms} p99 ${sample.probeP99Ms} ms load ${sample.loadavg1}`,
      )
    }
    if (options.heapSnapshotDir !== undefined) await snapshot(`end-${Math.round((performance.now() - started) / 1000)}s`)
    stopping = true
    await Promise.all([loadLoop, probeLoop])
  } finally {
    stopping = true
    inspector.close()
    await server.stop()
  }

  const steady = samples.filter((s) => s.t >= options.warmUpMinutes * 60)
  const verdicts: Record<string, SeriesVerdict> = {}
  for (const [series, limit] of Object.entries(THRESHOLDS)) verdicts[series] = verdict(steady, series as keyof SoakSample, limit)
  const body = {
    ...env,
    scenario: 'soak',
    parameters: {
      minutes: options.minutes,
      warmUpMinutes: options.warmUpMinutes,
      sampleSeconds: options.sampleSeconds,
      rate,
      measuredCapacityTps: capacity ?? null,
      senders: SENDERS,
      probe: 'one sender, eth_sendRawTransactionSync back to back with 50 ms pauses',
      server: server.command,
    },
    loadavg: { atStart: loadStart, atEnd: loadavg().map((x) => Number(x.toFixed(2))) },
    load,
    probe,
    verdicts,
    allFlat: Object.values(verdicts).every((v) => v.flat),
    samples,
  }
  writeJson('soak.json', body)
  writeText('soak.svg', soakChartSvg(samples, verdicts))
  log(
    `  verdicts: ${Object.entries(verdicts)
      .map(([k, v]) => `${k} ${v.flat ? 'flat' : 'NOT flat'} (×${v.lastOverFirstThird})`)
      .join(', ')}`,
  )
  log('  wrote bench/results/soak.json, bench/results/soak.svg')
}

function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined)
  return promise
}

function round1(n: number): number {
  return Number.isFinite(n) ? Number(n.toFixed(1)) : Number.NaN
}

function countFds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length
  } catch {
    return Number.NaN
  }
}

/** Least-squares slope (per hour) and last-third / first-third ratio of one series; NaN samples are skipped. */
export function verdict(samples: readonly SoakSample[], series: keyof SoakSample, limit: number): SeriesVerdict {
  const points = samples.map((s) => [s.t, s[series]] as const).filter(([, y]) => Number.isFinite(y))
  const n = points.length
  const threshold = `last third ≤ ${limit} × first third`
  if (n < 3) return { slopePerHour: Number.NaN, lastOverFirstThird: Number.NaN, flat: false, threshold }
  const mx = points.reduce((a, [x]) => a + x, 0) / n
  const my = points.reduce((a, [, y]) => a + y, 0) / n
  let sxy = 0
  let sxx = 0
  for (const [x, y] of points) {
    sxy += (x - mx) * (y - my)
    sxx += (x - mx) ** 2
  }
  const third = Math.floor(n / 3)
  const mean = (xs: ReadonlyArray<readonly [number, number]>): number => xs.reduce((a, [, y]) => a + y, 0) / xs.length
  const first = mean(points.slice(0, third))
  const last = mean(points.slice(n - third))
  const ratio = first === 0 ? (last === 0 ? 1 : Number.POSITIVE_INFINITY) : last / first
  return {
    slopePerHour: Number(((sxx === 0 ? 0 : sxy / sxx) * 3600).toFixed(3)),
    lastOverFirstThird: Number(ratio.toFixed(3)),
    flat: ratio <= limit,
    threshold,
  }
}

const PANELS: Array<{ key: keyof SoakSample; label: string }> = [
  { key: 'rssMb', label: 'RSS (MB)' },
  { key: 'rssAnonMb', label: 'RSS, anonymous (MB)' },
  { key: 'heapUsedMb', label: 'heap used (MB)' },
  { key: 'liveHeapMb', label: 'heap after full GC (MB)' },
  { key: 'fds', label: 'open fds' },
  { key: 'eventLoopLagP99Ms', label: 'event-loop lag p99 (ms)' },
  { key: 'probeP50Ms', label: 'send→receipt p50 (ms)' },
  { key: 'probeP99Ms', label: 'send→receipt p99 (ms)' },
  { key: 'includedTps', label: 'included tx/s' },
  { key: 'loadavg1', label: 'machine load (1 min)' },
]

/** One small line chart per series, stacked in two columns, time on the x axis. */
export function soakChartSvg(samples: readonly SoakSample[], verdicts: Record<string, SeriesVerdict>): string {
  const w = 420
  const h = 160
  const pad = { l: 50, r: 10, t: 24, b: 24 }
  const cols = 2
  const rows = Math.ceil(PANELS.length / cols)
  const tMax = Math.max(1, ...samples.map((s) => s.t))
  const parts: string[] = []
  PANELS.forEach(({ key, label }, i) => {
    const ox = (i % cols) * w
    const oy = Math.floor(i / cols) * h
    const ys = samples.map((s) => s[key]).filter((y) => Number.isFinite(y))
    const yMax = Math.max(1e-9, ...ys) * 1.1
    const x = (t: number): number => ox + pad.l + (t / tMax) * (w - pad.l - pad.r)
    const y = (v: number): number => oy + h - pad.b - (v / yMax) * (h - pad.t - pad.b)
    const path = samples
      .filter((s) => Number.isFinite(s[key]))
      .map((s, k) => `${k === 0 ? 'M' : 'L'}${x(s.t).toFixed(1)},${y(s[key]).toFixed(1)}`)
      .join(' ')
    const v = verdicts[key]
    const title =
      v === undefined ? label : `${label} — ${v.flat ? 'flat' : 'NOT flat'} (last/first third ×${v.lastOverFirstThird})`
    parts.push(
      `<rect x="${ox + pad.l}" y="${oy + pad.t}" width="${w - pad.l - pad.r}" height="${h - pad.t - pad.b}" fill="none" stroke="#ccc"/>`,
      `<text x="${ox + pad.l}" y="${oy + 16}" font-size="11">${escapeXml(title)}</text>`,
      `<text x="${ox + pad.l - 4}" y="${y(yMax / 1.1) + 4}" font-size="9" text-anchor="end">${fmtAxis(yMax / 1.1)}</text>`,
      `<text x="${ox + pad.l - 4}" y="${y(0) + 3}" font-size="9" text-anchor="end">0</text>`,
      `<text x="${x(tMax)}" y="${oy + h - 8}" font-size="9" text-anchor="end">${Math.round(tMax / 60)} min</text>`,
      `<path d="${path}" fill="none" stroke="${v !== undefined && !v.flat ? '#c0392b' : '#2c6fbb'}" stroke-width="1.5"/>`,
    )
  })
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${cols * w}" height="${rows * h}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${parts.join('\n')}\n</svg>\n`
}

function fmtAxis(v: number): string {
  return v >= 100 ? String(Math.round(v)) : v.toFixed(1)
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}
