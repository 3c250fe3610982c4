/**
 * Sustained throughput (the `transfers` and `erc20` scenarios): N funded senders each send
 * `rounds` pre-signed txs as fast as the server accepts them.
 *
 *   sustained TPS = txs / (first submit → the block holding the last of them is visible over RPC)
 *
 * "Block" = a sealed 1 s EVM block for megaeth-node, a mined block for anvil. megaeth-node also
 * gets a preconfirmed TPS: to the moment /metrics counts every tx included in a mini-block.
 */
import { hexToBytes } from '@ethereumjs/util'
import { keccak256 } from '../../src/crypto/native.ts'
import { CORES, CpuMeter, type CpuWindow } from '../lib/cpu.ts'
import { counterDelta, histogramDelta, scrape, type HistogramDelta, type Samples } from '../lib/metrics.ts'
import { CHAIN_ID, FEES, startServer, type Server, type ServerKind } from '../lib/servers.ts'
import { sleep } from '../lib/stats.ts'
import { BlockWatcher } from '../lib/watch.ts'
import { compileBenchToken } from '../contracts/compile.ts'
import { fundAccounts, nonceOf, sign, submitAll, waitBlock, waitReceipts, type SignedTx } from '../load/fund.ts'
import { devAccounts } from '../load/keys.ts'
import { GeneratorPool, type CombinedReport } from '../load/pool.ts'
import type { LoadSpec } from '../load/protocol.ts'
import { fmt, round, type BenchContext } from './context.ts'

export interface ThroughputParams {
  kind: 'transfer' | 'erc20'
  senders: number
  rounds: number
  /**
   * senders (default): sender i's round-r tx goes to sender i+r+1, so most txs of a mini-block touch
   * an account another tx of it also touches (worst case for a parallel executor).
   * disjoint: recipients are a separate set of accounts that never send (no shared state between txs
   * of a round apart from the token contract's code).
   */
  recipients?: 'senders' | 'disjoint'
  /** The bench key set disjoint recipients come from (default `<tag>-recipients`: fresh accounts). */
  recipientSet?: string
}

export interface NodeMetricsSummary {
  txsIncluded: number
  dropped: number
  miniBlocks: number
  miniBlockBuildMs: { mean: number; p50: number; p99: number }
  miniBlockIntervalMs: { mean: number; p50: number; p99: number }
  seals: number
  sealMerkleizeMs: { mean: number; p99: number; max: number }
  sealTotalMs: { mean: number; p99: number }
  accountsPerSealMean: number
  /** mini-block build time as a share of wall time: how busy the 10 ms loop was */
  buildBusyShare: number
  /** parallel executor counters over the run (megaeth_executor_*_total), when the node exports them */
  executor: Record<string, number>
  /** Live-state reads that went to the store over the run (megaeth_state_cache_misses_total), by kind */
  stateCacheMisses: { account: number; code: number }
}

export interface ThroughputResult {
  server: string
  command: string
  txs: number
  included: number
  complete: boolean
  sustainedTps: number
  preconfirmedTps: number | null
  submitTps: number
  /** HTTP round trip of one batch request */
  requestMs: { p50: number; p99: number }
  secondsToLastBlock: number
  secondsToLastSubmit: number
  prepSeconds: number
  blocksUsed: number
  errors: Record<string, number>
  retried: number
  failed: number
  peakRssMb: number
  serverCpuSeconds: number
  /** server CPU time per included tx: less sensitive than TPS to other load on the machine */
  serverCpuUsPerTx: number
  serverCores: number
  generatorCores: number
  /** cores busy with processes other than the server and the generators (the machine is shared) */
  otherCores: number
  cpu: CpuWindow
  nodeMetrics?: NodeMetricsSummary
  /** tx count per second since the first submit, from block visibility times */
  timeline: number[]
  setupSeconds: number
  /** receipts of each sender's last tx, checked after the run */
  lastTxReceipts: { checked: number; success: number }
  /** CLOCK_MONOTONIC µs of the measured window (to cut CPU profiles to it) */
  monotonicWindowUs: [number, number]
}

/** Receipt status of each sender's last tx (all earlier ones are implied by its nonce). */
async function checkReceipts(server: Server, hashes: string[]): Promise<{ checked: number; success: number }> {
  let success = 0
  for (let i = 0; i < hashes.length; i += 200) {
    const res = await server.rpc.batch<{ status: string } | null>(
      hashes.slice(i, i + 200).map((h) => ['eth_getTransactionReceipt', [h]]),
    )
    for (const r of res) if (r.result?.status === '0x1') success++
  }
  return { checked: hashes.length, success }
}

const ms = (h: HistogramDelta): { mean: number; p50: number; p99: number } => ({
  mean: round(h.mean * 1000),
  p50: round(h.p50 * 1000),
  p99: round(h.p99 * 1000),
})

export function summarizeNodeMetrics(before: Samples, after: Samples, wallSeconds: number): NodeMetricsSummary {
  const build = histogramDelta(before, after, 'megaeth_miniblock_build_seconds')
  const interval = histogramDelta(before, after, 'megaeth_miniblock_interval_seconds')
  const merk = histogramDelta(before, after, 'megaeth_seal_seconds', 'phase="merkleize"')
  const total = histogramDelta(before, after, 'megaeth_seal_seconds', 'phase="total"')
  const accounts = histogramDelta(before, after, 'megaeth_seal_accounts')
  const maxBucket = merk.buckets.filter(([, c], i, arr) => c > (arr[i - 1]?.[1] ?? 0)).at(-1)?.[0] ?? 0
  let dropped = 0
  for (const [k] of after) if (k.startsWith('megaeth_transactions_dropped_total')) dropped += counterDelta(before, after, k)
  const executor: Record<string, number> = {}
  for (const [k] of after) {
    if (!k.startsWith('megaeth_executor_') || !/_total(\{|$)/.test(k)) continue
    const d = counterDelta(before, after, k)
    if (d !== 0) executor[k.replace('megaeth_executor_', '')] = round(d, 3)
  }
  return {
    txsIncluded: counterDelta(before, after, 'megaeth_transactions_included_total'),
    dropped,
    miniBlocks: build.count,
    miniBlockBuildMs: ms(build),
    miniBlockIntervalMs: ms(interval),
    seals: merk.count,
    sealMerkleizeMs: { mean: round(merk.mean * 1000), p99: round(merk.p99 * 1000), max: maxBucket * 1000 },
    sealTotalMs: { mean: round(total.mean * 1000), p99: round(total.p99 * 1000) },
    accountsPerSealMean: round(accounts.mean, 0),
    buildBusyShare: round(build.sum / wallSeconds, 3),
    executor,
    stateCacheMisses: {
      account: counterDelta(before, after, 'megaeth_state_cache_misses_total{kind="account"}'),
      code: counterDelta(before, after, 'megaeth_state_cache_misses_total{kind="code"}'),
    },
  }
}

async function deployToken(server: Server, holders: Uint8Array[], log: (s: string) => void): Promise<string> {
  const token = compileBenchToken()
  log(`    compiled BenchToken (solc ${token.solcVersion.split('+')[0]}, ${token.compileMs} ms)`)
  const deployer = devAccounts()[0]!
  let nonce = await nonceOf(server.rpc, deployer.addressHex)
  const supply = (10n ** 30n).toString(16).padStart(64, '0')
  const deploy = sign(server, deployer, {
    nonce: nonce++,
    gasLimit: 3_000_000n,
    to: new Uint8Array(0),
    value: 0n,
    data: hexToBytes(`${token.bytecode}${supply}` as `0x${string}`),
  })
  await submitAll(server.rpc, [deploy])
  const [rc] = await waitReceipts(server.rpc, [deploy.hash])
  const address = rc!.contractAddress
  if (address === null || address === undefined) throw new Error('token deployment has no contract address')
  // airdrop(address[],uint256) to 200 holders per tx
  const airdrops: SignedTx[] = []
  for (let i = 0; i < holders.length; i += 200) {
    const chunk = holders.slice(i, i + 200)
    const data = new Uint8Array(4 + 32 * 3 + 32 * chunk.length)
    data.set(hexToBytes(`0x${sigHash('airdrop(address[],uint256)')}`), 0)
    data[4 + 31] = 0x40 // offset of the array
    data.set(hexToBytes(`0x${(10n ** 21n).toString(16).padStart(64, '0')}`), 4 + 32) // value: 1000 tokens
    data.set(hexToBytes(`0x${chunk.length.toString(16).padStart(64, '0')}`), 4 + 64)
    chunk.forEach((a, k) => data.set(a, 4 + 96 + 32 * k + 12))
    airdrops.push(
      sign(server, deployer, { nonce: nonce++, gasLimit: 8_000_000n, to: hexToBytes(address as `0x${string}`), value: 0n, data }),
    )
  }
  await submitAll(server.rpc, airdrops, 10)
  const receipts = await waitReceipts(
    server.rpc,
    airdrops.map((a) => a.hash),
  )
  await waitBlock(server.rpc, Math.max(...receipts.map((r) => r.blockNumber)))
  log(`    deployed token ${address}, airdropped to ${holders.length} holders in ${airdrops.length} txs`)
  return address
}

function sigHash(signature: string): string {
  return Buffer.from(keccak256(new TextEncoder().encode(signature)).subarray(0, 4)).toString('hex')
}

export async function runThroughput(
  ctx: BenchContext,
  kind: ServerKind,
  tag: string,
  params: ThroughputParams,
): Promise<ThroughputResult> {
  const { log } = ctx
  const set = `${tag}-senders`
  const txs = params.senders * params.rounds
  const t0 = performance.now()
  log(`  [${kind}] starting server; signing ${fmt(txs)} ${params.kind} txs in ${ctx.generators} generator process(es) meanwhile`)
  // Pre-signing runs in the generator processes while the server boots and the senders are funded.
  const specBase: Omit<LoadSpec, 'url' | 'token'> = {
    chainId: CHAIN_ID[kind].toString(),
    maxFeePerGas: FEES[kind].maxFeePerGas.toString(),
    maxPriorityFeePerGas: FEES[kind].maxPriorityFeePerGas.toString(),
    gasLimit: params.kind === 'erc20' ? 80_000 : 21_000,
    kind: params.kind,
    senders: { set, from: 0, count: params.senders },
    recipients:
      params.recipients === 'disjoint'
        ? { set: params.recipientSet ?? `${tag}-recipients`, from: 0, count: params.senders * params.rounds }
        : { set, from: 0, count: params.senders },
    rounds: params.rounds,
    startNonce: 0,
    batchSize: ctx.batchSize,
    mode: 'max',
    concurrency: ctx.concurrency,
    retryDeadlineMs: 60_000,
  }
  const server = await startServer(kind, tag, ctx.serverOpts)
  let pool: GeneratorPool | undefined
  let watcher: BlockWatcher | undefined
  try {
    let token: string | undefined
    const accounts = await fundAccounts(server, set, params.senders, 10n ** 18n)
    log(`    funded ${fmt(params.senders)} senders with 1 ETH each`)
    if (params.kind === 'erc20')
      token = await deployToken(
        server,
        accounts.map((a) => a.address),
        log,
      )
    pool = await GeneratorPool.prepare(
      { ...specBase, url: server.rpcUrl, ...(token === undefined ? {} : { token }) },
      ctx.generators,
    )
    const setupSeconds = (performance.now() - t0) / 1000
    log(`    ready after ${setupSeconds.toFixed(1)} s (signing ${(pool.prepMs / 1000).toFixed(1)} s); submitting…`)

    await sleep(300)
    watcher = await BlockWatcher.start(server.rpc, 20)
    const before = server.metricsUrl === undefined ? undefined : await scrape(server.metricsUrl)
    const baseIncluded = before?.get('megaeth_transactions_included_total') ?? 0
    const cpu0 = server.cpuSeconds()
    const meter = new CpuMeter()
    const mono0 = Number(process.hrtime.bigint() / 1000n)
    pool.go()
    // Preconfirmation (megaeth-node only): poll the included-txs counter every 100 ms.
    let preconfMs: number | undefined
    let polling = server.metricsUrl !== undefined
    const preconf = (async () => {
      while (polling) {
        const s = await scrape(server.metricsUrl!).catch(() => undefined)
        if (s !== undefined && (s.get('megaeth_transactions_included_total') ?? 0) - baseIncluded >= txs) {
          preconfMs = performance.timeOrigin + performance.now()
          return
        }
        await sleep(100)
      }
    })()
    const rep: CombinedReport = await pool.finished()
    log(
      `    submitted ${fmt(rep.accepted)}/${fmt(txs)} in ${((rep.lastResponseMs - rep.firstSubmitMs) / 1000).toFixed(2)} s (${fmt(rep.submitTps)} tx/s accepted, batch round trip p50 ${rep.requestMsP50} ms p99 ${rep.requestMsP99} ms${rep.retried > 0 ? `, ${fmt(rep.retried)} resubmitted` : ''}${rep.failed > 0 ? `, ${fmt(rep.failed)} FAILED` : ''})`,
    )
    if (Object.keys(rep.errors).length > 0) log(`    rejections: ${JSON.stringify(rep.errors)}`)
    let complete = true
    const timeoutMs = Math.max(60_000, (txs / 500) * 1000)
    let last
    try {
      last = await watcher.waitFor(rep.accepted, timeoutMs)
    } catch (error) {
      complete = false
      log(`    WARNING: ${error instanceof Error ? error.message : String(error)}`)
    }
    const endMs = last?.seenMs ?? performance.timeOrigin + performance.now()
    const mono1 = Number(process.hrtime.bigint() / 1000n)
    polling = false
    await preconf
    watcher.stop()
    const cpu = meter.finish()
    const serverCpu = server.cpuSeconds() - cpu0
    const after = server.metricsUrl === undefined ? undefined : await scrape(server.metricsUrl)
    const included = Math.min(watcher.included, rep.accepted)
    const seconds = (endMs - rep.firstSubmitMs) / 1000
    const timeline: number[] = []
    for (const b of watcher.blocks) {
      const sec = Math.floor((b.seenMs - rep.firstSubmitMs) / 1000)
      if (sec < 0) continue
      while (timeline.length <= sec) timeline.push(0)
      timeline[sec]! += b.txs
    }
    const lastTxReceipts = await checkReceipts(server, rep.lastHashes)
    if (lastTxReceipts.success !== lastTxReceipts.checked)
      log(`    WARNING: only ${lastTxReceipts.success} of ${lastTxReceipts.checked} last-tx receipts are successful`)
    const result: ThroughputResult = {
      server: server.label,
      command: server.command,
      txs,
      included,
      complete,
      sustainedTps: Math.round(included / seconds),
      preconfirmedTps: preconfMs === undefined ? null : Math.round(txs / ((preconfMs - rep.firstSubmitMs) / 1000)),
      submitTps: rep.submitTps,
      requestMs: { p50: rep.requestMsP50, p99: rep.requestMsP99 },
      secondsToLastBlock: round(seconds, 3),
      secondsToLastSubmit: round((rep.lastResponseMs - rep.firstSubmitMs) / 1000, 3),
      prepSeconds: round(pool.prepMs / 1000),
      blocksUsed: watcher.blocks.filter((b) => b.txs > 0).length,
      errors: rep.errors,
      retried: rep.retried,
      failed: rep.failed,
      peakRssMb: round(server.peakRssKb() / 1024, 1),
      serverCpuSeconds: round(serverCpu),
      serverCpuUsPerTx: Math.round((serverCpu / Math.max(1, included)) * 1e6),
      serverCores: round(serverCpu / seconds),
      generatorCores: round(rep.generatorCpuSeconds / seconds),
      otherCores: round(Math.max(0, cpu.machineCores - serverCpu / cpu.wallSeconds - rep.generatorCpuSeconds / cpu.wallSeconds)),
      cpu,
      ...(before !== undefined && after !== undefined ? { nodeMetrics: summarizeNodeMetrics(before, after, seconds) } : {}),
      timeline,
      setupSeconds: round(setupSeconds, 1),
      lastTxReceipts,
      monotonicWindowUs: [mono0, mono1],
    }
    log(
      `    ${server.label}: ${fmt(result.sustainedTps)} tx/s sustained (${fmt(included)} txs to last block in ${seconds.toFixed(2)} s)` +
        (result.preconfirmedTps === null ? '' : `, ${fmt(result.preconfirmedTps)} tx/s to mini-block`) +
        `; server ${fmt(result.serverCpuUsPerTx)} µs CPU/tx, ${result.serverCores} cores, generator ${result.generatorCores} cores, machine ${cpu.machineCores}/${CORES} busy (other processes ${result.otherCores}); peak RSS ${fmt(result.peakRssMb)} MB`,
    )
    if (result.nodeMetrics !== undefined) {
      const m = result.nodeMetrics
      log(
        `    /metrics: ${fmt(m.miniBlocks)} mini-blocks, build p50 ${m.miniBlockBuildMs.p50} ms p99 ${m.miniBlockBuildMs.p99} ms (busy ${(m.buildBusyShare * 100).toFixed(0)}% of wall); ${m.seals} seals, merkleize mean ${m.sealMerkleizeMs.mean} ms, seal total mean ${m.sealTotalMs.mean} ms, ${fmt(m.accountsPerSealMean)} accounts/seal; dropped ${m.dropped}`,
      )
      if (Object.keys(m.executor).length > 0)
        log(
          `    executor: ${Object.entries(m.executor)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}`,
        )
    }
    return result
  } finally {
    watcher?.stop()
    await pool?.close()
    await server.stop()
  }
}
