/**
 * Derivation speed: a `--dev` sequencer with its dev L1 takes a load of signed ETH transfers and posts
 * its blocks to L1 (calldata); once L1 holds them all (its `safe` head), a `--sync=l1` replica rebuilds
 * the chain from L1 alone. Reports the replica's L2 blocks/s and tx/s against the sequencer's
 * production (1 block/s, and the transfers/s it sustained), the issue's target being ≥ 2×.
 *
 * Three clocks on the replica: the total from its spawn (start-up included), the rebuild from its RPC
 * answering to the safe head, and the loaded blocks alone (from its head reaching the block before the
 * first block with transfers to its head reaching the last one, polled every 20 ms): the tx/s ratio is
 * taken over that last window, since the empty blocks around the load are not transfers rebuilt.
 *
 *   node --import tsx bench/derive.ts [--txs=4000] [--warmup-txs=4000] [--profile=DIR]      (part of: npm run bench -- da)
 *
 * `--profile=DIR` writes the replica's main-thread CPU profile to DIR (`bench/lib/cpu-profile-preload.mjs`).
 */
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { privateKeyToAccount } from 'viem/accounts'
import {
  DEV_CHAIN_ID,
  DEV_KEYS,
  freePort,
  makeTempDir,
  postRaw,
  removeTempDir,
  rpc,
  startNode,
  waitFor,
} from '../test/helpers/node-process.ts'

export interface DeriveBenchResult {
  l2Txs: number
  /** Transfers sequenced and derived before the measured ones (`DEFAULT_WARMUP_TXS`), not counted. */
  warmupTxs: number
  /** Blocks the replica rebuilt (genesis excluded): the loaded ones and the idle ones around them. */
  l2Blocks: number
  productionSeconds: number
  productionTps: number
  /** From the replica's spawn to the sequencer's safe head (its start-up included). */
  deriveSeconds: number
  /** From the replica's spawn to its RPC answering (datadir, genesis, L1 client, derivation set up). */
  startupSeconds: number
  /** From the replica's RPC answering to the safe head: the rebuild itself. */
  rebuildSeconds: number
  /** The blocks holding the transfers (`loadedFirst`–`loadedLast`) and how long the replica took over them. */
  loadedFirst: number
  loadedLast: number
  loadedSeconds: number
  /** All blocks over the rebuild time. */
  derivedBlocksPerSecond: number
  /** The transfers over the loaded blocks' rebuild time. */
  derivedTps: number
  /** The transfers over the total time, start-up and empty blocks included (the old figure). */
  derivedTpsTotal: number
  /** Derived blocks/s (rebuild) over the sequencer's 1 block/s. */
  blocksRatio: number
  /** Derived tx/s (loaded blocks) over the sequencer's sustained tx/s. */
  txRatio: number
  /** Derived tx/s over the total time (start-up included) over the sequencer's sustained tx/s. */
  txRatioTotal: number
  /** Seconds the replica's derivation loop spent per stage over the whole rebuild (`megaeth_derive_stage_seconds_total`). */
  stages: Record<string, number>
  /** The same stages over the loaded blocks alone (the warm-up's and the idle blocks' left out). */
  loadedStages: Record<string, number>
  /** Channels the replica's reader reached decoded ahead (`hit`) or not (`miss`), `megaeth_derive_channel_prefetch_total`. */
  channelPrefetch: Record<string, number>
  /** The machine's 1-minute load average when the rebuild ended (2 shared cores: the figures move with it). */
  loadAverage: number
  /**
   * CPU seconds the replica used over the loaded blocks' window (Linux `/proc`; every thread, its main thread,
   * and the busiest other threads: the trie thread, the decode workers, LevelDB's): the work done, which the
   * machine's load does not inflate as it does wall-clock time.
   */
  loadedCpu?: { total: number; main: number; others: number[] }
  /** The same over the whole rebuild (RPC answering to the safe head): work moved ahead of the loaded window stays in. */
  rebuildCpu?: { total: number; main: number; others: number[] }
}

/** Clock ticks per second of `/proc`'s CPU times (`getconf CLK_TCK`: 100 on Linux). */
const CLOCK_TICKS = 100

/** CPU seconds (user + system) of each thread of process `pid`, by thread id; empty where `/proc` is not readable. */
function threadCpuSeconds(pid: number): Map<number, number> {
  const out = new Map<number, number>()
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
      // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      out.set(Number(tid), (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS)
    }
  } catch {
    // Not Linux, or the process is gone: no CPU figures.
  }
  return out
}

/** The CPU each thread used between two `threadCpuSeconds` snapshots of process `pid`. */
function cpuBetween(pid: number, before: Map<number, number>, after: Map<number, number>): DeriveBenchResult['loadedCpu'] {
  if (after.size === 0) return undefined
  const used = [...after].map(([tid, seconds]) => ({ tid, seconds: seconds - (before.get(tid) ?? 0) }))
  const total = used.reduce((sum, t) => sum + t.seconds, 0)
  const main = used.find((t) => t.tid === pid)?.seconds ?? 0
  const others = used
    .filter((t) => t.tid !== pid && t.seconds > 0)
    .map((t) => t.seconds)
    .sort((a, b) => b - a)
    .slice(0, 6)
  return { total, main, others }
}

/** A labelled counter of the replica's metrics (`name{label="…"} value`), by label value. */
function counterByLabel(text: string, name: string, label: string): Record<string, number> {
  const out: Record<string, number> = {}
  for (const match of text.matchAll(new RegExp(`^${name}\\{${label}="([a-z0-9_]+)"[^}]*\\} ([0-9.e+-]+)$`, 'gm')))
    out[match[1]!] = Number(match[2])
  return out
}

const PROFILE_PRELOAD = fileURLToPath(new URL('./lib/cpu-profile-preload.mjs', import.meta.url))

const SENDERS = 16
/** The chain the replica rebuilds is at least this long (blocks). */
const MIN_BLOCKS = 60n
/**
 * Transfers sent (and included, and followed by a block of their own) before the measured ones: a
 * freshly started process spends its first seconds of a new workload compiling (V8's optimizing
 * compiler and the GC helpers took most of the replica's other threads' CPU in a `perf` profile of a
 * 4,000-transfer rebuild), which is not the steady state a replica catching up runs in. 0: none.
 */
const DEFAULT_WARMUP_TXS = 4000
/** Empty blocks before the transfers are sent. */
const PRELOAD_BLOCKS = 40n

export async function runDeriveBench(
  options: { txs?: number; warmupTxs?: number; profileDir?: string } = {},
  log: (line: string) => void = console.log,
): Promise<DeriveBenchResult> {
  const perSender = Math.ceil((options.txs ?? 4000) / SENDERS)
  const txCount = perSender * SENDERS
  const warmupPerSender = Math.ceil((options.warmupTxs ?? DEFAULT_WARMUP_TXS) / SENDERS)
  const dir = await makeTempDir('megaeth-bench-derive-')
  const sequencer = await startNode({
    l1: true,
    datadir: join(dir, 'sequencer'),
    args: ['--batcher.data-availability-type=calldata'],
  })
  try {
    // Nonce-major: one batch holds a few nonces of every sender (the pool refuses nonces more than 64
    // ahead of a sender's pending ones, and a batch's transactions are admitted in parallel).
    const signed: string[] = []
    for (let nonce = 0; nonce < warmupPerSender + perSender; nonce++) {
      for (let s = 0; s < SENDERS; s++) {
        const account = privateKeyToAccount(DEV_KEYS[2 + s]!)
        signed.push(
          await account.signTransaction({
            chainId: DEV_CHAIN_ID,
            type: 'eip1559',
            nonce,
            to: `0x${(s * perSender + nonce + 1).toString(16).padStart(40, '0')}`,
            value: 1n,
            gas: 21_000n,
            maxFeePerGas: 10_000_000_000n,
            maxPriorityFeePerGas: 1n,
          }),
        )
      }
    }
    // Empty blocks before the load: the replica derives while it starts (its RPC answers after ~5 s
    // idle, ~20 s on a loaded machine), and the loaded window must begin after it answers.
    await waitFor(
      `the sequencer at block ${PRELOAD_BLOCKS}`,
      async () => BigInt(await rpc<string>(sequencer.rpcUrl, 'eth_blockNumber')) >= PRELOAD_BLOCKS,
      300_000,
      200,
    )
    const send = async (txs: string[]): Promise<void> => {
      for (let i = 0; i < txs.length; i += 200) {
        const batch = txs
          .slice(i, i + 200)
          .map((raw, j) => ({ jsonrpc: '2.0', id: i + j, method: 'eth_sendRawTransaction', params: [raw] }))
        const answers = JSON.parse((await postRaw(sequencer.rpcUrl, JSON.stringify(batch))).text) as Array<{
          error?: { message: string }
        }>
        const refused = answers.find((a) => a.error !== undefined)
        if (refused !== undefined) throw new Error(`the sequencer refused a transfer: ${refused.error!.message}`)
      }
    }
    const includedUpTo = (nonce: number): Promise<true> =>
      waitFor(
        `every transfer below nonce ${nonce} included`,
        async () => {
          for (let s = 0; s < SENDERS; s++) {
            const address = privateKeyToAccount(DEV_KEYS[2 + s]!).address
            if (BigInt(await rpc<string>(sequencer.rpcUrl, 'eth_getTransactionCount', [address, 'latest'])) < BigInt(nonce))
              return false
          }
          return true
        },
        300_000,
        50,
      )
    const blockNumber = async (): Promise<bigint> => BigInt(await rpc<string>(sequencer.rpcUrl, 'eth_blockNumber'))
    const safeHead = async (): Promise<bigint> =>
      BigInt((await rpc<{ safe_l2: { number: number } }>(sequencer.rpcUrl, 'optimism_syncStatus')).safe_l2.number)
    // The warm-up load: the same kind of transfers first, in blocks of their own, so that both the sequencer
    // and the replica (which derives them on its way) run the measured ones with their code optimized.
    let warmupLast = 0n
    if (warmupPerSender > 0) {
      await send(signed.slice(0, warmupPerSender * SENDERS))
      await includedUpTo(warmupPerSender)
      warmupLast = await blockNumber()
      // Batched and derived back by the sequencer itself before the measured load, so that its production is
      // measured without that work beside it (as in the run without a warm-up).
      await waitFor('the warm-up safe', async () => (await safeHead()) >= warmupLast, 300_000, 200)
    }
    const started = performance.now()
    await send(signed.slice(warmupPerSender * SENDERS))
    await includedUpTo(warmupPerSender + perSender)
    const productionSeconds = (performance.now() - started) / 1000
    // At least a minute of chain: the replica's start-up (counted in) is then a small share.
    let head = BigInt(await rpc<string>(sequencer.rpcUrl, 'eth_blockNumber'))
    if (head < MIN_BLOCKS) head = MIN_BLOCKS
    await waitFor('the safe head at the loaded blocks', async () => (await safeHead()) >= head, 300_000, 200)
    // The blocks holding the transfers: the window the tx/s is measured over.
    let loadedFirst = 0
    let loadedLast = 0
    for (let n = warmupLast + 1n; n <= head; n++) {
      const count = Number(
        BigInt(await rpc<string>(sequencer.rpcUrl, 'eth_getBlockTransactionCountByNumber', [`0x${n.toString(16)}`])),
      )
      // Every block has its L1-attributes deposit: more than one transaction means transfers.
      if (count > 1) {
        if (loadedFirst === 0) loadedFirst = Number(n)
        loadedLast = Number(n)
      }
    }
    const info = await rpc<{ l1: { rpc: string } }>(sequencer.rpcUrl, 'mega_nodeInfo')
    const metricsPort = await freePort()
    const spawned = performance.now()
    const replica = await startNode({
      datadir: join(dir, 'replica'),
      args: [
        '--role=replica',
        '--sync=l1',
        `--l1.rpc=${info.l1.rpc}`,
        `--rollup.config=${join(dir, 'sequencer', 'rollup.json')}`,
        '--l1.confirmations=0',
        `--metrics.port=${metricsPort}`,
      ],
      ...(options.profileDir === undefined
        ? {}
        : { env: { NODE_OPTIONS: `--import=${PROFILE_PRELOAD}`, CPU_PROFILE_DIR: options.profileDir } }),
    })
    try {
      const ready = performance.now()
      const cpuAtReady = threadCpuSeconds(replica.pid)
      let loadStart: number | undefined
      let loadEnd: number | undefined
      let startedInside = false
      let cpuAtStart = new Map<number, number>()
      let cpuAtEnd = new Map<number, number>()
      const stagesNow = async (): Promise<Record<string, number>> =>
        counterByLabel(
          await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text(),
          'megaeth_derive_stage_seconds_total',
          'stage',
        )
      let stagesAtStart: Record<string, number> = {}
      let stagesAtEnd: Record<string, number> = {}
      await waitFor(
        'the replica at the safe head',
        async () => {
          const at = Number(BigInt(await rpc<string>(replica.rpcUrl, 'eth_blockNumber')))
          const now = performance.now()
          if (loadStart === undefined && at >= loadedFirst - 1) {
            loadStart = now
            startedInside = at >= loadedFirst
            cpuAtStart = threadCpuSeconds(replica.pid)
            stagesAtStart = await stagesNow()
          }
          if (loadEnd === undefined && at >= loadedLast) {
            loadEnd = now
            cpuAtEnd = threadCpuSeconds(replica.pid)
            stagesAtEnd = await stagesNow()
          }
          return at >= Number(head)
        },
        600_000,
        // Every poll is an RPC the replica answers on its main thread: at 5 ms they cost it ~7 % of
        // that thread during the rebuild (profiled), for a resolution the multi-second window does not need.
        20,
      )
      const done = performance.now()
      const rebuildCpu = cpuBetween(replica.pid, cpuAtReady, threadCpuSeconds(replica.pid))
      const metricsText = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text()
      const stages = counterByLabel(metricsText, 'megaeth_derive_stage_seconds_total', 'stage')
      const channelPrefetch = counterByLabel(metricsText, 'megaeth_derive_channel_prefetch_total', 'outcome')
      const loadAverage = loadavg()[0]!
      const loadedCpu = cpuBetween(replica.pid, cpuAtStart, cpuAtEnd)
      if (startedInside) log('  (the replica was inside the loaded blocks before its RPC answered: the loaded window is short)')
      const deriveSeconds = (done - spawned) / 1000
      const rebuildSeconds = (done - ready) / 1000
      const loadedSeconds = ((loadEnd ?? done) - (loadStart ?? ready)) / 1000
      const l2Blocks = Number(head)
      const productionTps = txCount / productionSeconds
      const result: DeriveBenchResult = {
        l2Txs: txCount,
        warmupTxs: warmupPerSender * SENDERS,
        l2Blocks,
        productionSeconds,
        productionTps,
        deriveSeconds,
        startupSeconds: (ready - spawned) / 1000,
        rebuildSeconds,
        loadedFirst,
        loadedLast,
        loadedSeconds,
        derivedBlocksPerSecond: l2Blocks / rebuildSeconds,
        derivedTps: txCount / loadedSeconds,
        derivedTpsTotal: txCount / deriveSeconds,
        blocksRatio: l2Blocks / rebuildSeconds,
        txRatio: txCount / loadedSeconds / productionTps,
        txRatioTotal: txCount / deriveSeconds / productionTps,
        stages,
        loadedStages: Object.fromEntries(
          Object.entries(stagesAtEnd).map(([stage, seconds]) => [stage, seconds - (stagesAtStart[stage] ?? 0)]),
        ),
        channelPrefetch,
        loadAverage,
        ...(loadedCpu === undefined ? {} : { loadedCpu }),
        ...(rebuildCpu === undefined ? {} : { rebuildCpu }),
      }
      log(
        `derivation from L1: ${l2Blocks} L2 blocks (${txCount} transfers in blocks ${loadedFirst}–${loadedLast}) rebuilt in ${rebuildSeconds.toFixed(2)} s after a ${result.startupSeconds.toFixed(2)} s start-up = ${result.derivedBlocksPerSecond.toFixed(1)} blocks/s (${result.blocksRatio.toFixed(1)}× the sequencer's 1 block/s); the loaded blocks in ${loadedSeconds.toFixed(2)} s = ${result.derivedTps.toFixed(0)} tx/s (${result.txRatio.toFixed(2)}× the ${productionTps.toFixed(0)} tx/s it sequenced them at); from spawn ${deriveSeconds.toFixed(1)} s = ${result.derivedTpsTotal.toFixed(0)} tx/s (${result.txRatioTotal.toFixed(2)}×)`,
      )
      log(
        `  replica stages (s, whole rebuild): ${Object.entries(stages)
          .map(([stage, seconds]) => `${stage} ${seconds.toFixed(2)}`)
          .join(
            ', ',
          )}; channels decoded ahead: ${channelPrefetch.hit ?? 0} hit, ${channelPrefetch.miss ?? 0} missed; load average ${loadAverage.toFixed(1)}`,
      )
      log(
        `  replica stages (s, loaded blocks): ${Object.entries(result.loadedStages)
          .map(([stage, seconds]) => `${stage} ${seconds.toFixed(2)}`)
          .join(', ')}`,
      )
      for (const [window, cpu] of [
        ['the loaded blocks', loadedCpu],
        ['the whole rebuild', rebuildCpu],
      ] as const)
        if (cpu !== undefined)
          log(
            `  replica CPU over ${window}: ${cpu.total.toFixed(2)} s (${((cpu.total / txCount) * 1e6).toFixed(0)} µs/tx): main thread ${cpu.main.toFixed(2)} s, busiest others ${cpu.others.map((s) => s.toFixed(2)).join(', ')}`,
          )
      return result
    } finally {
      await replica.stop()
    }
  } finally {
    await sequencer.stop()
    await removeTempDir(dir)
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1]
  const profileDir = arg('profile')
  const result = await runDeriveBench({
    txs: Number(arg('txs') ?? 4000),
    warmupTxs: Number(arg('warmup-txs') ?? DEFAULT_WARMUP_TXS),
    ...(profileDir === undefined ? {} : { profileDir }),
  })
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true })
  writeFileSync(new URL('./results/derive.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`)
}
