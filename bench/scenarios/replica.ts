/**
 * `replica`: a sequencer at its max sustained load of ETH transfers, over a 100,000-account state,
 * followed over libp2p on loopback by one full replica and one validator-mode node, all on this
 * machine. Three phases:
 *
 *  A. live: the generator floods the sequencer (pre-signed transfers, as in `transfers`) while both
 *     followers verify every block from its witness; sequencer head and the followers' verified
 *     blocks are sampled every 100 ms (lag in EVM blocks), /metrics and CPU are read around it.
 *  A2. paced: open-loop load at half the live max rate, both followers verifying: the lag when the
 *     machine is not saturated.
 *  B. backlog: both followers are stopped (SIGTERM; the replica's datadir is measured) and a second
 *     load is produced by the sequencer alone: its max rate with the machine to itself, the
 *     reference the verification capacity is compared with.
 *  C. catch-up: the full replica restarts on its datadir and syncs + verifies that backlog with the
 *     sequencer idle: the verification capacity, measured directly.
 *
 * Then the witnesses of the loaded blocks are read back (debug_executionWitness) for bytes per tx.
 *
 * The genesis is the dev chain's (chain id 6342, gas limit, base fee, the 20 test-mnemonic accounts
 * and the predeploys) plus 100,000 funded bench accounts: 2,000 senders and 98,000 others; every
 * transfer goes to a distinct, pre-existing account, so both ends of each transfer are leaves of a
 * realistically deep account trie.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RLP } from '@ethereumjs/rlp'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { DEV_SEQUENCER_KEY } from '../../src/chain/dev.ts'
import { chainConfigFromGenesis, devGenesis } from '../../src/chain/genesis.ts'
import { privateKeyToAddress } from '../../src/crypto/native.ts'
import { loadOrCreateIdentity } from '../../src/p2p/identity.ts'
import { defaultVerifyWorkers } from '../../src/replica/options.ts'
import verifyTask from '../../src/replica/verify-worker.ts'
import { encodeWitness } from '../../src/stateless/witness.ts'
import { freePort } from '../../test/helpers/ports.ts'
import { CORES, CpuMeter, type CpuWindow } from '../lib/cpu.ts'
import { counterDelta, histogramDelta, scrape, type Samples } from '../lib/metrics.ts'
import { writeBigGenesis } from '../lib/genesis.ts'
import { diskUsage, startNode, type NodeProcess } from '../lib/nodes.ts'
import { barChartSvg, writeText } from '../lib/report.ts'
import { hexNum, toHex } from '../lib/rpc.ts'
import { CHAIN_ID, FEES } from '../lib/servers.ts'
import { sleep, summarize, type Summary } from '../lib/stats.ts'
import { BlockWatcher, type BlockSeen } from '../lib/watch.ts'
import { GeneratorPool, type CombinedReport } from '../load/pool.ts'
import type { LoadSpec } from '../load/protocol.ts'
import { fmt, round, type BenchContext } from './context.ts'
import { summarizeNodeMetrics, type NodeMetricsSummary } from './throughput.ts'

export interface ReplicaParams {
  /** Bench accounts in the genesis (senders included); the dev accounts and predeploys come on top. */
  accounts: number
  senders: number
  /** Transfers per sender in the live phase and in the backlog. */
  liveRounds: number
  backlogRounds: number
  /** Seconds of the paced phase (half the live max rate, both followers). */
  pacedSeconds: number
}

export function replicaParams(quick: boolean): ReplicaParams {
  return {
    accounts: 100_000,
    senders: 2_000,
    liveRounds: quick ? 6 : 15,
    backlogRounds: quick ? 4 : 8,
    pacedSeconds: quick ? 8 : 15,
  }
}

interface LagStats extends Summary {
  /** share of samples at each lag (blocks) */
  distribution: Record<string, number>
}

export interface FollowerLive {
  /** Sealed → verified by this follower (first 100 ms sample that shows it), per loaded block. */
  sealToVerifiedMs: Summary
  lagBlocks: LagStats
  /** first submit → this follower verified the block holding the last tx */
  verifiedTps: number
  /** between the verifications of the first and the last loaded block */
  steadyVerifiedTps: number
  verifiedBlocksPerSec: number
  /** verifiedTps / the sequencer's sustainedTps */
  ratioToProduction: number
  /** seconds from the last loaded block's seal until this follower had verified it */
  tailSeconds: number
  cpuSeconds: number
  cpuUsPerTx: number
  cores: number
  /** in-worker verification (megaeth_replica_verify_seconds) over the window */
  verifySeconds: { blocks: number; sum: number; meanMs: number; p50Ms: number; p99Ms: number }
  /** per loaded block, from the follower's debug log ("block verified statelessly") */
  perBlockVerifyMs: Summary
  verifyUsPerTx: number
  /** txs one worker verifies per second of its own time, × the worker count: the capacity if workers are the bottleneck */
  workerCapacityTps: number
  workerCapacityRatio: number
  /** in-worker verification time / block interval, per loaded block (mean): < 1 keeps up with 1 worker */
  verifyTimePerBlockInterval: number
  verifiedTxs: number
  peakRssMb: number
  rssMbAtEnd: number
  failures: number
}

export interface PacedFollower {
  lagBlocks: LagStats
  sealToVerifiedMs: Summary
  perBlockVerifyMs: Summary
  verifiedTps: number
  tailSeconds: number
}

export interface WitnessStats {
  blocks: number
  txs: number
  /** sum over the loaded blocks of the witness contents (state nodes + codes + keys + headers) / their txs */
  bytesPerTx: number
  /** the same with the RLP framing (what the node stores and sends: megaeth_witness_bytes) */
  encodedBytesPerTx: number
  stateNodesPerTx: number
  breakdownBytesPerTx: { stateNodes: number; codes: number; keys: number; headers: number }
  /** blocks with ≥ 50 % of the fullest block's txs */
  fullBlocks: { blocks: number; txsPerBlock: number; bytesPerTx: number; bytesPerBlock: number }
  perBlock: Array<{ number: number; txs: number; stateNodes: number; bytes: number; encodedBytes: number }>
}

/** One loaded block verified in the bench process by the verify worker's own code, timed by CPU. */
export interface VerifyCpu {
  block: number
  txs: number
  witnessBytes: number
  runs: number
  wallMs: number
  cpuMs: number
  cpuUsPerTx: number
  /** txs one core verifies per second (1e6 / cpuUsPerTx) */
  txPerCoreSecond: number
  /** × verify workers, / the live production rate */
  ratioToProduction: number
  /** × verify workers, / the sequencer's max rate alone (phase B) */
  ratioToSequencerAlone: number
}

export interface ReplicaResult {
  server: string
  commands: { sequencer: string; replica: string; validator: string }
  verifyWorkers: number
  genesis: {
    accounts: number
    devAndPredeploys: number
    senders: number
    recipientsUsed: number
    sequencerStartSeconds: number
    replicaStartSeconds: number
  }
  live: {
    txs: number
    included: number
    complete: boolean
    sustainedTps: number
    steadyTps: number
    blocksPerSec: number
    loadedBlocks: number
    txsPerBlock: Summary
    secondsToLastBlock: number
    submitTps: number
    errors: Record<string, number>
    sequencer: { cpuSeconds: number; cpuUsPerTx: number; cores: number; peakRssMb: number; metrics?: NodeMetricsSummary }
    generatorCores: number
    otherCores: number
    cpu: CpuWindow
    replica: FollowerLive
    validator: FollowerLive
    samples: number
    samplesSkipped: number
  }
  /** A2: open-loop at half the live max rate, both followers verifying: lag when the machine is not saturated */
  paced: {
    rate: number
    txs: number
    sustainedTps: number
    machineCores: number
    otherCores: number
    replica: PacedFollower
    validator: PacedFollower
  }
  backlog: {
    txs: number
    /** the backlog's production: the sequencer at max load with no follower (phase B) */
    sequencerAloneTps: number
    sequencerAloneSteadyTps: number
    sequencerAloneCpuUsPerTx: number
    sequencerAloneMachineCores: number
    /** cores other processes (not the sequencer, the generator or the replica) kept busy during phase B / during the catch-up */
    sequencerAloneOtherCores: number
    catchUpOtherCores: number
    blocks: number
    blocksWithTxs: number
    backlogTxs: number
    replicaStartSeconds: number
    /** replica RPC up (its catch-up starts) → last backlog block verified */
    catchUpSeconds: number
    verifiedBlocksPerSec: number
    verifiedTps: number
    /** verifiedTps / the live phase's sustainedTps */
    ratioToProduction: number
    /** verifiedTps / the sequencer's max rate alone (phase B): the capacity ratio that does not depend on the followers slowing the sequencer */
    ratioToSequencerAlone: number
    /** between the verifications of the first and the last loaded backlog block (excludes sync start-up and the worker's warm-up) */
    steadyVerifiedTps: number
    steadyRatioToSequencerAlone: number
    /** replica RPC up → first loaded backlog block verified */
    firstVerifiedSeconds: number
    verifySeconds: { blocks: number; sum: number; meanMs: number }
    perBlockVerifyMs: Summary
    workerCapacityTps: number
    replicaCpuSeconds: number
    replicaCores: number
    peakRssMb: number
  }
  witness: WitnessStats
  verifyCpu: VerifyCpu | undefined
  /** RSS before the load (caught up, idle), peak (VmHWM) over the run, and after the live phase */
  memory: {
    sequencerIdleRssMb: number
    sequencerPeakRssMb: number
    replicaIdleRssMb: number
    replicaPeakRssMb: number
    replicaRssMb: number
    validatorIdleRssMb: number
    validatorPeakRssMb: number
    validatorRssMb: number
  }
  disk: {
    replicaDatadirMb: number
    replicaDatadirApparentMb: number
    replicaDatadirFiles: number
    replicaDatadirAfterCatchUpMb: number
    sequencerDatadirMb: number
    validatorMb: number
    validatorNote: string
  }
  /** the live phase every 500 ms: [seconds since first submit, sequencer head, replica verified, validator verified, RSS MB of sequencer, replica, validator] */
  timeline: Array<[number, number, number | null, number | null, number, number, number]>
  setupSeconds: number
  totalSeconds: number
}

interface NodeInfo {
  head?: { block: string }
  verified?: { block: string; failures: number; failure?: unknown }
}

interface Sample {
  t: number
  seq: number
  replica: number | undefined
  validator: number | undefined
  /** VmRSS in KiB: sequencer, replica, validator */
  rssKb: [number, number, number]
}

/** Polls the sequencer's head and both followers' verified blocks every `intervalMs`, in parallel. */
class LagSampler {
  readonly samples: Sample[] = []
  skipped = 0
  failures = { replica: 0, validator: 0 }
  private timer: NodeJS.Timeout | undefined
  private busy = false

  constructor(
    private readonly seq: NodeProcess,
    readonly followers: { replica: NodeProcess | undefined; validator: NodeProcess | undefined },
  ) {}

  start(intervalMs = 100): void {
    this.timer = setInterval(() => void this.poll(), intervalMs)
  }

  stop(): void {
    clearInterval(this.timer)
  }

  private async info(n: NodeProcess | undefined): Promise<NodeInfo | undefined> {
    if (n === undefined || n.exited()) return undefined
    try {
      return await n.rpc.call<NodeInfo>('mega_nodeInfo', [], 2_000)
    } catch {
      return undefined
    }
  }

  private async poll(): Promise<void> {
    if (this.busy) {
      this.skipped++
      return
    }
    this.busy = true
    try {
      const t0 = Date.now()
      const [head, r, v] = await Promise.all([
        this.seq.rpc.call<string>('eth_blockNumber', [], 2_000).catch(() => undefined),
        this.info(this.followers.replica),
        this.info(this.followers.validator),
      ])
      if (head === undefined) return
      const num = (i: NodeInfo | undefined): number | undefined =>
        i?.verified === undefined ? undefined : hexNum(i.verified.block)
      this.failures.replica = Math.max(this.failures.replica, r?.verified?.failures ?? 0)
      this.failures.validator = Math.max(this.failures.validator, v?.verified?.failures ?? 0)
      const rss = (n: NodeProcess | undefined): number => (n === undefined || n.exited() ? 0 : n.rssKb())
      this.samples.push({
        t: (t0 + Date.now()) / 2,
        seq: hexNum(head),
        replica: num(r),
        validator: num(v),
        rssKb: [rss(this.seq), rss(this.followers.replica), rss(this.followers.validator)],
      })
    } finally {
      this.busy = false
    }
  }

  /** Epoch ms of the first sample at or after `from` where `who` had verified block `n`. */
  verifiedAt(who: 'replica' | 'validator', n: number, from = 0): number | undefined {
    return this.samples.find((s) => s.t >= from && (s[who] ?? -1) >= n)?.t
  }
}

/** Waits until `node` reports block `n` verified (mega_nodeInfo), polling every `pollMs`; returns epoch ms. */
async function waitVerified(node: NodeProcess, n: number, timeoutMs: number, pollMs = 50): Promise<number> {
  const deadline = Date.now() + timeoutMs
  let last = -1
  for (;;) {
    try {
      const info = await node.rpc.call<NodeInfo>('mega_nodeInfo', [], 2_000)
      if ((info.verified?.failures ?? 0) > 0)
        throw new Error(`${node.name} refused a block: ${JSON.stringify(info.verified?.failure)}`)
      last = info.verified === undefined ? -1 : hexNum(info.verified.block)
      if (last >= n) return Date.now()
    } catch (error) {
      if (error instanceof Error && error.message.includes('refused a block')) throw error
    }
    if (Date.now() > deadline)
      throw new Error(`${node.name} verified only up to block ${last} of ${n} after ${timeoutMs} ms; log: ${node.logFile}`)
    await sleep(pollMs)
  }
}

/** The follower's per-block debug lines ("block verified statelessly"): block → { txs, in-worker ms, epoch ms logged }. */
function verifiedFromLog(logFile: string): Map<number, { txs: number; ms: number; time: number }> {
  const out = new Map<number, { txs: number; ms: number; time: number }>()
  let text = ''
  try {
    text = readFileSync(logFile, 'utf8')
  } catch {
    return out
  }
  for (const line of text.split('\n')) {
    if (!line.includes('block verified statelessly')) continue
    try {
      const j = JSON.parse(line) as { block: string; txs: number; ms: number; time: number }
      out.set(Number(j.block), { txs: j.txs, ms: j.ms, time: j.time })
    } catch {
      /* not a JSON line */
    }
  }
  return out
}

function lagStats(values: number[]): LagStats {
  const distribution: Record<string, number> = {}
  for (const v of values) distribution[String(v)] = (distribution[String(v)] ?? 0) + 1
  for (const k of Object.keys(distribution)) distribution[k] = round(distribution[k]! / values.length, 4)
  return { ...summarize(values), distribution }
}

const mb = (bytes: number): number => round(bytes / 2 ** 20, 1)
const kbToMb = (kb: number): number => round(kb / 1024, 1)

async function witnessStats(
  seq: NodeProcess,
  blocks: BlockSeen[],
): Promise<WitnessStats & { fullest?: { number: number; witness: Uint8Array } }> {
  let fullest: { number: number; txs: number; witness: Uint8Array } | undefined
  const perBlock: WitnessStats['perBlock'] = []
  const sums = { stateNodes: 0, state: 0, codes: 0, keys: 0, headers: 0, encoded: 0, txs: 0 }
  const len = (items: string[]): number => items.reduce((a, h) => a + (h.length - 2) / 2, 0)
  for (const b of blocks) {
    const w = await seq.rpc.call<{ state: string[]; codes: string[]; keys: string[]; headers: string[] }>(
      'debug_executionWitness',
      [toHex(b.number)],
      60_000,
    )
    const state = len(w.state)
    const codes = len(w.codes)
    const keys = len(w.keys)
    const headers = len(w.headers)
    const toBytes = (items: string[]): Uint8Array[] => items.map((h) => hexToBytes(h as `0x${string}`))
    const encodedBytes = encodeWitness({
      state: toBytes(w.state),
      codes: toBytes(w.codes),
      keys: toBytes(w.keys),
      headers: toBytes(w.headers),
    })
    const encoded = encodedBytes.length
    if (fullest === undefined || b.txs > fullest.txs) fullest = { number: b.number, txs: b.txs, witness: encodedBytes }
    sums.stateNodes += w.state.length
    sums.state += state
    sums.codes += codes
    sums.keys += keys
    sums.headers += headers
    sums.encoded += encoded
    sums.txs += b.txs
    perBlock.push({
      number: b.number,
      txs: b.txs,
      stateNodes: w.state.length,
      bytes: state + codes + keys + headers,
      encodedBytes: encoded,
    })
  }
  const total = sums.state + sums.codes + sums.keys + sums.headers
  const maxTxs = Math.max(0, ...perBlock.map((b) => b.txs))
  const full = perBlock.filter((b) => b.txs >= maxTxs / 2)
  const fullTxs = full.reduce((a, b) => a + b.txs, 0)
  const fullBytes = full.reduce((a, b) => a + b.bytes, 0)
  const per = (x: number): number => (sums.txs === 0 ? 0 : Math.round(x / sums.txs))
  return {
    blocks: perBlock.length,
    txs: sums.txs,
    bytesPerTx: per(total),
    encodedBytesPerTx: per(sums.encoded),
    stateNodesPerTx: sums.txs === 0 ? 0 : round(sums.stateNodes / sums.txs),
    breakdownBytesPerTx: {
      stateNodes: per(sums.state),
      codes: per(sums.codes),
      keys: per(sums.keys),
      headers: per(sums.headers),
    },
    fullBlocks: {
      blocks: full.length,
      txsPerBlock: full.length === 0 ? 0 : Math.round(fullTxs / full.length),
      bytesPerTx: fullTxs === 0 ? 0 : Math.round(fullBytes / fullTxs),
      bytesPerBlock: full.length === 0 ? 0 : Math.round(fullBytes / full.length),
    },
    perBlock,
    ...(fullest === undefined ? {} : { fullest: { number: fullest.number, witness: fullest.witness } }),
  }
}

/**
 * Verifies block `number` (body from debug_getRawBlock, the witness given) with the verify worker's
 * task function in this process, `runs` times after a warm-up: CPU time per tx, which other
 * processes on the machine inflate far less than the in-worker wall time the nodes report.
 */
async function verifyCpu(
  seq: NodeProcess,
  number: number,
  witness: Uint8Array,
  runs: number,
): Promise<Omit<VerifyCpu, 'ratioToProduction' | 'ratioToSequencerAlone'>> {
  const raw = await seq.rpc.call<string>('debug_getRawBlock', [toHex(number)], 60_000)
  const [header, transactions] = RLP.decode(hexToBytes(raw as `0x${string}`)) as unknown as [Uint8Array[], Uint8Array[]]
  const task = { config: chainConfigFromGenesis(devGenesis(), 'megaeth'), header: RLP.encode(header), transactions, witness }
  const check = await verifyTask(task)
  if (!check.ok) throw new Error(`in-process verification of block ${number} failed: ${check.error.code}: ${check.error.message}`)
  const wall: number[] = []
  const cpu: number[] = []
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage()
    const t = performance.now()
    await verifyTask(task)
    wall.push(performance.now() - t)
    const c = process.cpuUsage(c0)
    cpu.push((c.user + c.system) / 1000)
  }
  const cpuMs = summarize(cpu).p50
  const cpuUsPerTx = Math.round((cpuMs * 1000) / Math.max(1, transactions.length))
  return {
    block: number,
    txs: transactions.length,
    witnessBytes: witness.length,
    runs,
    wallMs: summarize(wall, 1).p50,
    cpuMs: round(cpuMs, 1),
    cpuUsPerTx,
    txPerCoreSecond: Math.round(1e6 / Math.max(1, cpuUsPerTx)),
  }
}

function spec(
  url: string,
  p: ReplicaParams,
  rounds: number,
  startNonce: number,
  recipientsFrom: number,
  concurrency: number,
  batchSize: number,
): LoadSpec {
  return {
    url,
    chainId: CHAIN_ID.megaeth.toString(),
    maxFeePerGas: FEES.megaeth.maxFeePerGas.toString(),
    maxPriorityFeePerGas: FEES.megaeth.maxPriorityFeePerGas.toString(),
    gasLimit: 21_000,
    kind: 'transfer',
    senders: { set: SENDERS, from: 0, count: p.senders },
    // A set other than the senders': every tx gets its own recipient, recipients[from + r × senders + i].
    recipients: { set: RECIPIENTS, from: recipientsFrom, count: p.senders * rounds },
    rounds,
    startNonce,
    batchSize,
    mode: 'max',
    concurrency,
    retryDeadlineMs: 60_000,
  }
}

const SENDERS = 'replica-senders'
const RECIPIENTS = 'replica-recipients'

export async function runReplica(ctx: BenchContext, p: ReplicaParams): Promise<ReplicaResult> {
  const { log } = ctx
  const t0 = performance.now()
  const work = mkdtempSync(join(tmpdir(), 'megaeth-bench-replica-'))
  const nodeDir = ctx.serverOpts.nodeDir === undefined ? {} : { nodeDir: ctx.serverOpts.nodeDir }
  const nodes: NodeProcess[] = []
  const pools: GeneratorPool[] = []
  let sampler: LagSampler | undefined
  let watcher: BlockWatcher | undefined
  try {
    // --- genesis: dev chain + 100,000 funded accounts -------------------------------------------
    const liveTxs = p.senders * p.liveRounds
    const backlogTxs = p.senders * p.backlogRounds
    // Paced phase: at most ~2,000 tx/s × pacedSeconds (its rate is half the live one, known later).
    const maxPacedTxs = p.senders * Math.ceil((2_000 * p.pacedSeconds) / p.senders)
    const recipientsUsed = liveTxs + maxPacedTxs + backlogTxs
    if (p.senders + recipientsUsed > p.accounts)
      throw new Error(`${p.senders} senders + ${recipientsUsed} recipients exceed the ${p.accounts} genesis accounts`)
    const t = performance.now()
    const genesisFile = join(work, 'genesis.json')
    const g = writeBigGenesis(genesisFile, [
      { set: SENDERS, count: p.senders, balanceWei: 10n ** 18n },
      { set: RECIPIENTS, count: p.accounts - p.senders, balanceWei: 10n ** 16n },
    ])
    log(
      `  genesis: dev chain + ${fmt(g.accounts)} funded accounts (${fmt(p.senders)} senders; ${fmt(g.devAccounts)} dev accounts and predeploys on top) in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    )
    const keyFile = join(work, 'sequencer.key')
    writeFileSync(keyFile, `${DEV_SEQUENCER_KEY}\n`, { mode: 0o600 })
    const sequencerAddress = bytesToHex(privateKeyToAddress(hexToBytes(DEV_SEQUENCER_KEY)))
    const seqDir = join(work, 'sequencer')
    const repDir = join(work, 'replica')

    // Signing runs in the generator processes while the nodes start.
    const seqPort = await freePort()
    const seqUrl = `http://127.0.0.1:${seqPort}`
    const preparing = GeneratorPool.prepare(spec(seqUrl, p, p.liveRounds, 0, 0, ctx.concurrency, ctx.batchSize), 1)
    preparing.then(
      (pool) => pools.push(pool),
      () => undefined,
    )
    // The sequencer's p2p identity and port are fixed up front, so the followers can start with it
    // (they keep dialling until it is up): the three nodes' start-ups (genesis state of 100,000
    // accounts each) overlap.
    const p2pKeyFile = join(work, 'sequencer-p2p.key')
    const peerId = peerIdFromPrivateKey(await loadOrCreateIdentity(p2pKeyFile)).toString()
    const bootnode = `/ip4/127.0.0.1/tcp/${await freePort()}/p2p/${peerId}`
    const seqArgs = [
      `--genesis=${genesisFile}`,
      `--datadir=${seqDir}`,
      `--sequencer.key-file=${keyFile}`,
      `--p2p.port=${bootnode.split('/')[4]}`,
      `--p2p.key-file=${p2pKeyFile}`,
      '--miniblock-ms=10',
      '--block-ms=1000',
      '--ingest-workers=1',
      ...(ctx.serverOpts.extraArgs ?? []),
    ]
    const replicaArgs = [
      '--role=replica',
      `--genesis=${genesisFile}`,
      `--datadir=${repDir}`,
      `--sequencer.address=${sequencerAddress}`,
      '--p2p.port=0',
      `--p2p.bootnodes=${bootnode}`,
      '--log.level=debug',
    ]
    // --dev only because config validation demands --datadir of every non-dev node, which validator mode refuses;
    // with --genesis it runs this genesis (--dev implies the dev sequencer's address, which signs here).
    const validatorArgs = [
      '--dev',
      '--role=replica',
      '--replica.mode=validator',
      `--genesis=${genesisFile}`,
      `--p2p.bootnodes=${bootnode}`,
      '--log.level=debug',
    ]
    const started = await Promise.allSettled([
      startNode('sequencer', seqArgs, { ...nodeDir, port: seqPort }),
      startNode('replica', replicaArgs, nodeDir),
      startNode('validator', validatorArgs, nodeDir),
    ])
    for (const r of started) if (r.status === 'fulfilled') nodes.push(r.value)
    for (const r of started) if (r.status === 'rejected') throw r.reason
    const [seq, replica, validator] = nodes as [NodeProcess, NodeProcess, NodeProcess]
    const sequencerStartSeconds = (seq.readyMs - seq.spawnedMs) / 1000
    const replicaStartSeconds = (replica.readyMs - replica.spawnedMs) / 1000
    const info = await seq.rpc.call<{ p2pAddrs: string[]; chainId: string }>('mega_nodeInfo')
    if (BigInt(info.chainId) !== CHAIN_ID.megaeth)
      throw new Error(`sequencer chain id ${info.chainId}, expected ${CHAIN_ID.megaeth}`)
    if (!info.p2pAddrs.includes(bootnode)) throw new Error(`sequencer listens on ${info.p2pAddrs.join(', ')}, not ${bootnode}`)
    // Both followers connected and verifying before the load starts: a block sealed after they came up is verified by both.
    let head0 = hexNum(await seq.rpc.call<string>('eth_blockNumber'))
    const target0 = head0 + 2
    while (head0 < target0) {
      await sleep(100)
      head0 = hexNum(await seq.rpc.call<string>('eth_blockNumber'))
    }
    await Promise.all([waitVerified(replica, head0, 120_000), waitVerified(validator, head0, 120_000)])
    const workers = await verifyWorkers(replica)
    const idleRss = { seq: seq.rssKb(), rep: replica.rssKb(), val: validator.rssKb() }
    const poolA = await preparing
    log(
      `  nodes up (started together): sequencer in ${sequencerStartSeconds.toFixed(1)} s, full replica in ${replicaStartSeconds.toFixed(1)} s, validator in ${((validator.readyMs - validator.spawnedMs) / 1000).toFixed(1)} s; both followers verified block ${head0}; ${workers} verify worker(s) each; ${fmt(liveTxs)} live txs signed in ${(poolA.prepMs / 1000).toFixed(1)} s`,
    )
    const setupSeconds = (performance.now() - t0) / 1000

    // --- A. live: max load, both followers verifying --------------------------------------------
    log(`  A. live: ${fmt(liveTxs)} transfers at max rate; sampling lag every 100 ms`)
    await sleep(500)
    sampler = new LagSampler(seq, { replica, validator })
    sampler.start(100)
    watcher = await BlockWatcher.start(seq.rpc, 20)
    const [sBefore, rBefore, vBefore] = await Promise.all([
      scrape(seq.metricsUrl),
      scrape(replica.metricsUrl),
      scrape(validator.metricsUrl),
    ])
    const cpu0 = { seq: seq.cpuSeconds(), rep: replica.cpuSeconds(), val: validator.cpuSeconds() }
    const meter = new CpuMeter()
    const goMs = Date.now()
    poolA.go()
    const rep: CombinedReport = await poolA.finished()
    log(
      `    submitted ${fmt(rep.accepted)}/${fmt(liveTxs)} in ${((rep.lastResponseMs - rep.firstSubmitMs) / 1000).toFixed(1)} s (${fmt(rep.submitTps)} tx/s accepted${rep.retried > 0 ? `, ${fmt(rep.retried)} resubmitted` : ''}${rep.failed > 0 ? `, ${fmt(rep.failed)} FAILED` : ''})`,
    )
    let complete = true
    let last: BlockSeen | undefined
    try {
      last = await watcher.waitFor(rep.accepted, Math.max(120_000, (liveTxs / 100) * 1000))
    } catch (error) {
      complete = false
      log(`    WARNING: ${error instanceof Error ? error.message : String(error)}`)
      last = watcher.blocks.filter((b) => b.txs > 0).at(-1)
    }
    const endMs = last?.seenMs ?? Date.now()
    const cpuWindow = meter.finish()
    const cpuAtSeal = {
      seq: seq.cpuSeconds() - cpu0.seq,
      rep: replica.cpuSeconds() - cpu0.rep,
      val: validator.cpuSeconds() - cpu0.val,
    }
    const lastBlock = last?.number ?? hexNum(await seq.rpc.call<string>('eth_blockNumber'))
    const [repDone, valDone] = await Promise.all([
      waitVerified(replica, lastBlock, 120_000),
      waitVerified(validator, lastBlock, 120_000),
    ])
    await sleep(300)
    sampler.stop()
    const [sAfter, rAfter, vAfter] = await Promise.all([
      scrape(seq.metricsUrl),
      scrape(replica.metricsUrl),
      scrape(validator.metricsUrl),
    ])
    const cpuFollow = { rep: replica.cpuSeconds() - cpu0.rep, val: validator.cpuSeconds() - cpu0.val }
    watcher.stop()
    const loaded = watcher.blocks.filter((b) => b.txs > 0 && b.number <= lastBlock)
    const included = Math.min(watcher.included, rep.accepted)
    const seconds = (endMs - rep.firstSubmitMs) / 1000
    const sustainedTps = Math.round(included / seconds)
    const firstLoaded = loaded[0]
    const steady = (from: number | undefined, to: number | undefined): number => {
      if (firstLoaded === undefined || from === undefined || to === undefined || to <= from) return 0
      const txs = loaded.filter((b) => b.number > firstLoaded.number).reduce((a, b) => a + b.txs, 0)
      return Math.round(txs / ((to - from) / 1000))
    }
    const steadyTps = steady(firstLoaded?.seenMs, last?.seenMs)
    const blocksPerSec =
      firstLoaded !== undefined && last !== undefined && last.seenMs > firstLoaded.seenMs
        ? round((last.number - firstLoaded.number) / ((last.seenMs - firstLoaded.seenMs) / 1000), 3)
        : 0
    const seqMetrics = summarizeNodeMetrics(sBefore, sAfter, seconds)
    const otherCores = round(
      Math.max(
        0,
        cpuWindow.machineCores -
          (cpuAtSeal.seq + cpuAtSeal.rep + cpuAtSeal.val + rep.generatorCpuSeconds) / cpuWindow.wallSeconds,
      ),
    )
    log(
      `    sequencer: ${fmt(sustainedTps)} tx/s sustained (${fmt(included)} txs in ${loaded.length} blocks, ${seconds.toFixed(1)} s to the last one), ${fmt(steadyTps)} tx/s between the first and last loaded seals, ${blocksPerSec} blocks/s; ` +
        `${fmt((cpuAtSeal.seq / Math.max(1, included)) * 1e6)} µs CPU/tx, ${round(cpuAtSeal.seq / cpuWindow.wallSeconds)} cores; machine ${cpuWindow.machineCores}/${CORES} busy (other processes ${otherCores})`,
    )

    const follower = (
      who: 'replica' | 'validator',
      node: NodeProcess,
      before: Samples,
      after: Samples,
      cpuSeconds: number,
      doneMs: number,
    ): FollowerLive => {
      const windowSamples = sampler!.samples.filter((s) => s.t >= goMs && s.t <= endMs && s[who] !== undefined)
      const lags = windowSamples.map((s) => Math.max(0, s.seq - s[who]!))
      const perBlock = verifiedFromLog(node.logFile)
      // Sealed (first RPC sight, 20 ms polls) → verified (the follower's log line, ms).
      const latencies: number[] = []
      for (const b of loaded) {
        const v = perBlock.get(b.number)?.time ?? sampler!.verifiedAt(who, b.number, goMs)
        if (v !== undefined) latencies.push(Math.max(0, v - b.seenMs))
      }
      const verifiedAtFirst = firstLoaded === undefined ? undefined : sampler!.verifiedAt(who, firstLoaded.number, goMs)
      const vs = histogramDelta(before, after, 'megaeth_replica_verify_seconds')
      const verifiedTxs = counterDelta(before, after, 'megaeth_replica_verified_transactions_total')
      const loadedMs = loaded.map((b) => perBlock.get(b.number)?.ms).filter((x): x is number => x !== undefined)
      const loadedVerifyMsSum = loadedMs.reduce((a, b) => a + b, 0)
      const workerTps = vs.sum > 0 ? verifiedTxs / vs.sum : 0
      const verifiedTps = Math.round(included / ((doneMs - rep.firstSubmitMs) / 1000))
      const blockIntervalMs = blocksPerSec > 0 ? 1000 / blocksPerSec : 1000
      return {
        sealToVerifiedMs: summarize(latencies, 0),
        lagBlocks: lagStats(lags),
        verifiedTps,
        steadyVerifiedTps: steady(verifiedAtFirst, sampler!.verifiedAt(who, lastBlock, goMs)),
        verifiedBlocksPerSec:
          verifiedAtFirst === undefined || doneMs <= verifiedAtFirst || firstLoaded === undefined
            ? 0
            : round((lastBlock - firstLoaded.number) / ((doneMs - verifiedAtFirst) / 1000), 3),
        ratioToProduction: round(verifiedTps / Math.max(1, sustainedTps)),
        tailSeconds: round((doneMs - endMs) / 1000),
        cpuSeconds: round(cpuSeconds),
        cpuUsPerTx: Math.round((cpuSeconds / Math.max(1, included)) * 1e6),
        cores: round(cpuSeconds / ((doneMs - goMs) / 1000)),
        verifySeconds: {
          blocks: vs.count,
          sum: round(vs.sum, 3),
          meanMs: round(vs.mean * 1000, 1),
          p50Ms: round(vs.p50 * 1000, 1),
          p99Ms: round(vs.p99 * 1000, 1),
        },
        perBlockVerifyMs: summarize(loadedMs, 0),
        verifyUsPerTx:
          loadedMs.length === 0
            ? 0
            : Math.round(
                (loadedVerifyMsSum * 1000) /
                  Math.max(
                    1,
                    loaded.filter((b) => perBlock.has(b.number)).reduce((a, b) => a + b.txs, 0),
                  ),
              ),
        workerCapacityTps: Math.round(workerTps * workers),
        workerCapacityRatio: round((workerTps * workers) / Math.max(1, sustainedTps)),
        verifyTimePerBlockInterval: loadedMs.length === 0 ? 0 : round(loadedVerifyMsSum / loadedMs.length / blockIntervalMs, 3),
        verifiedTxs,
        peakRssMb: kbToMb(node.peakRssKb()),
        rssMbAtEnd: kbToMb(node.rssKb()),
        failures: sampler!.failures[who],
      }
    }
    const liveReplica = follower('replica', replica, rBefore, rAfter, cpuFollow.rep, repDone)
    const liveValidator = follower('validator', validator, vBefore, vAfter, cpuFollow.val, valDone)
    for (const [name, f] of [
      ['full replica', liveReplica],
      ['validator', liveValidator],
    ] as const) {
      log(
        `    ${name}: verified ${fmt(f.verifiedTps)} tx/s (${f.ratioToProduction}× production; steady ${fmt(f.steadyVerifiedTps)} tx/s, ${f.verifiedBlocksPerSec} blocks/s), lag p50 ${f.lagBlocks.p50} p99 ${f.lagBlocks.p99} max ${f.lagBlocks.max} blocks, seal→verified p50 ${fmt(f.sealToVerifiedMs.p50)} ms p99 ${fmt(f.sealToVerifiedMs.p99)} ms; ` +
          `in-worker verify ${fmt(f.perBlockVerifyMs.mean)} ms/block mean (${f.verifyUsPerTx} µs/tx → worker capacity ${fmt(f.workerCapacityTps)} tx/s = ${f.workerCapacityRatio}×); CPU ${f.cpuUsPerTx} µs/tx (${f.cores} cores); RSS peak ${fmt(f.peakRssMb)} MB`,
      )
    }
    const replicaPeakLive = replica.peakRssKb()
    const replicaRssLive = replica.rssKb()

    // --- A2. paced: half the live max rate, open loop, both followers -----------------------------
    const pacedRate = Math.max(50, Math.round(sustainedTps / 2))
    const pacedRounds = Math.max(1, Math.ceil((pacedRate * p.pacedSeconds) / p.senders))
    const pacedTxs = pacedRounds * p.senders
    const poolPaced = await GeneratorPool.prepare(
      {
        ...spec(seqUrl, p, pacedRounds, p.liveRounds, liveTxs, 1, Math.max(1, Math.round(pacedRate / 100))),
        mode: 'rate',
        rate: pacedRate,
        retryDeadlineMs: 0,
      },
      1,
    )
    pools.push(poolPaced)
    log(
      `  A2. paced: ${fmt(pacedTxs)} transfers open-loop at ${fmt(pacedRate)} tx/s (half the live max), both followers verifying`,
    )
    await sleep(1_500)
    sampler.start(100)
    watcher = await BlockWatcher.start(seq.rpc, 20)
    const meterP = new CpuMeter()
    const cpuP0 = { seq: seq.cpuSeconds(), rep: replica.cpuSeconds(), val: validator.cpuSeconds() }
    const goP = Date.now()
    poolPaced.go()
    const repP = await poolPaced.finished()
    const lastP = await watcher.waitFor(repP.accepted, Math.max(120_000, (pacedTxs / 50) * 1000))
    const cpuWindowP = meterP.finish()
    const cpuP = seq.cpuSeconds() - cpuP0.seq + replica.cpuSeconds() - cpuP0.rep + validator.cpuSeconds() - cpuP0.val
    watcher.stop()
    const [repDoneP, valDoneP] = await Promise.all([
      waitVerified(replica, lastP.number, 120_000),
      waitVerified(validator, lastP.number, 120_000),
    ])
    await sleep(300)
    sampler.stop()
    const pacedLoaded = watcher.blocks.filter((b) => b.txs > 0 && b.number <= lastP.number)
    const pacedFollower = (who: 'replica' | 'validator', node: NodeProcess, doneMs: number): PacedFollower => {
      const perBlock = verifiedFromLog(node.logFile)
      const lags = sampler!.samples
        .filter((x) => x.t >= goP && x.t <= lastP.seenMs && x[who] !== undefined)
        .map((x) => Math.max(0, x.seq - x[who]!))
      const latencies = pacedLoaded
        .map((b) => (perBlock.get(b.number)?.time ?? Number.NaN) - b.seenMs)
        .filter((x) => Number.isFinite(x))
        .map((x) => Math.max(0, x))
      return {
        lagBlocks: lagStats(lags),
        sealToVerifiedMs: summarize(latencies, 0),
        perBlockVerifyMs: summarize(
          pacedLoaded.map((b) => perBlock.get(b.number)?.ms).filter((x): x is number => x !== undefined),
          0,
        ),
        verifiedTps: Math.round(repP.accepted / ((doneMs - repP.firstSubmitMs) / 1000)),
        tailSeconds: round((doneMs - lastP.seenMs) / 1000),
      }
    }
    const paced: ReplicaResult['paced'] = {
      rate: pacedRate,
      txs: pacedTxs,
      sustainedTps: Math.round(Math.min(watcher.included, repP.accepted) / ((lastP.seenMs - repP.firstSubmitMs) / 1000)),
      machineCores: cpuWindowP.machineCores,
      otherCores: round(Math.max(0, cpuWindowP.machineCores - (cpuP + repP.generatorCpuSeconds) / cpuWindowP.wallSeconds)),
      replica: pacedFollower('replica', replica, repDoneP),
      validator: pacedFollower('validator', validator, valDoneP),
    }
    for (const [name, f] of [
      ['full replica', paced.replica],
      ['validator', paced.validator],
    ] as const) {
      log(
        `    ${name}: lag p50 ${f.lagBlocks.p50} p99 ${f.lagBlocks.p99} max ${f.lagBlocks.max} blocks, seal→verified p50 ${fmt(f.sealToVerifiedMs.p50)} ms p99 ${fmt(f.sealToVerifiedMs.p99)} ms, in-worker ${fmt(f.perBlockVerifyMs.mean)} ms/block; verified ${fmt(f.verifiedTps)} tx/s (sequencer ${fmt(paced.sustainedTps)} tx/s; machine ${paced.machineCores}/${CORES} busy, other processes ${paced.otherCores})`,
      )
    }

    // --- B. backlog: followers down, the sequencer alone at max load ----------------------------
    const verifiedAtStop = hexNum((await replica.rpc.call<NodeInfo>('mega_nodeInfo')).verified!.block)
    const validatorMemory = { peak: validator.peakRssKb(), rss: validator.rssKb() }
    await Promise.all([replica.stop(), validator.stop()])
    const du = diskUsage(repDir)
    log(
      `  B. backlog: followers stopped (full replica at verified block ${verifiedAtStop}, datadir ${fmt(mb(du.allocatedBytes), 1)} MB on disk); ${fmt(backlogTxs)} more transfers at max rate, the sequencer alone`,
    )
    const poolB = await GeneratorPool.prepare(
      spec(seqUrl, p, p.backlogRounds, p.liveRounds + pacedRounds, liveTxs + pacedTxs, ctx.concurrency, ctx.batchSize),
      1,
    )
    pools.push(poolB)
    await sleep(500)
    watcher = await BlockWatcher.start(seq.rpc, 20)
    const cpuB0 = seq.cpuSeconds()
    const meterB = new CpuMeter()
    poolB.go()
    const repB = await poolB.finished()
    const lastB = await watcher.waitFor(repB.accepted, Math.max(120_000, (backlogTxs / 100) * 1000))
    const cpuB = seq.cpuSeconds() - cpuB0
    const cpuWindowB = meterB.finish()
    watcher.stop()
    const backlogLoaded = watcher.blocks.filter((b) => b.txs > 0 && b.number <= lastB.number)
    const includedB = Math.min(watcher.included, repB.accepted)
    const tpsB = Math.round(includedB / ((lastB.seenMs - repB.firstSubmitMs) / 1000))
    const firstB = backlogLoaded[0]
    const steadyB =
      firstB !== undefined && lastB.seenMs > firstB.seenMs
        ? Math.round(
            backlogLoaded.filter((b) => b.number > firstB.number).reduce((a, b) => a + b.txs, 0) /
              ((lastB.seenMs - firstB.seenMs) / 1000),
          )
        : 0
    log(
      `    sequencer alone: ${fmt(tpsB)} tx/s sustained (${fmt(steadyB)} tx/s between the first and last loaded seals), ${fmt((cpuB / Math.max(1, includedB)) * 1e6)} µs CPU/tx, ${round(cpuB / cpuWindowB.wallSeconds)} cores; machine ${cpuWindowB.machineCores}/${CORES} busy`,
    )

    // --- C. catch-up: the replica restarts and verifies the backlog ------------------------------
    await sleep(1_200)
    const target = hexNum(await seq.rpc.call<string>('eth_blockNumber'))
    const backlogBlocks = target - verifiedAtStop
    const backlogTxsInBlocks = backlogLoaded.reduce((a, b) => a + b.txs, 0)
    log(
      `  C. catch-up: restarting the full replica: ${backlogBlocks} blocks (${backlogLoaded.length} with ${fmt(backlogTxsInBlocks)} txs) to sync and verify`,
    )
    const replica2 = await startNode('replica-restart', replicaArgs, nodeDir)
    nodes.push(replica2)
    const rC0 = await scrape(replica2.metricsUrl)
    const cpuC0 = replica2.cpuSeconds()
    const seqCpuC0 = seq.cpuSeconds()
    const meterC = new CpuMeter()
    const doneC = await waitVerified(replica2, target, 300_000, 20)
    const cpuWindowC = meterC.finish()
    const seqCpuC = seq.cpuSeconds() - seqCpuC0
    const rC1 = await scrape(replica2.metricsUrl)
    const catchUpSeconds = (doneC - replica2.readyMs) / 1000
    const cpuC = replica2.cpuSeconds() - cpuC0
    const vsC = histogramDelta(rC0, rC1, 'megaeth_replica_verify_seconds')
    const txsC = counterDelta(rC0, rC1, 'megaeth_replica_verified_transactions_total')
    const perBlockC = verifiedFromLog(replica2.logFile)
    const loadedMsC = backlogLoaded.map((b) => perBlockC.get(b.number)?.ms).filter((x): x is number => x !== undefined)
    const verifiedTpsC = Math.round(backlogTxsInBlocks / catchUpSeconds)
    // Steady: between the verifications of the first and the last loaded block (the first one also
    // pays for the restarted worker's warm-up: module loading, JIT).
    const firstC = backlogLoaded[0] === undefined ? undefined : perBlockC.get(backlogLoaded[0].number)?.time
    const lastC = backlogLoaded.at(-1) === undefined ? undefined : perBlockC.get(backlogLoaded.at(-1)!.number)?.time
    const steadyTxsC = backlogLoaded.slice(1).reduce((a, b) => a + b.txs, 0)
    const steadyTpsC =
      firstC !== undefined && lastC !== undefined && lastC > firstC ? Math.round(steadyTxsC / ((lastC - firstC) / 1000)) : 0
    const backlog: ReplicaResult['backlog'] = {
      txs: backlogTxs,
      sequencerAloneTps: tpsB,
      sequencerAloneSteadyTps: steadyB,
      sequencerAloneCpuUsPerTx: Math.round((cpuB / Math.max(1, includedB)) * 1e6),
      sequencerAloneMachineCores: cpuWindowB.machineCores,
      sequencerAloneOtherCores: round(
        Math.max(0, cpuWindowB.machineCores - (cpuB + repB.generatorCpuSeconds) / cpuWindowB.wallSeconds),
      ),
      catchUpOtherCores: round(Math.max(0, cpuWindowC.machineCores - (cpuC + seqCpuC) / cpuWindowC.wallSeconds)),
      blocks: backlogBlocks,
      blocksWithTxs: backlogLoaded.length,
      backlogTxs: backlogTxsInBlocks,
      replicaStartSeconds: round((replica2.readyMs - replica2.spawnedMs) / 1000),
      catchUpSeconds: round(catchUpSeconds, 3),
      verifiedBlocksPerSec: round(backlogBlocks / catchUpSeconds),
      verifiedTps: verifiedTpsC,
      ratioToProduction: round(verifiedTpsC / Math.max(1, sustainedTps)),
      ratioToSequencerAlone: round(verifiedTpsC / Math.max(1, tpsB)),
      steadyVerifiedTps: steadyTpsC,
      steadyRatioToSequencerAlone: round(steadyTpsC / Math.max(1, tpsB)),
      firstVerifiedSeconds: firstC === undefined ? 0 : round((firstC - replica2.readyMs) / 1000),
      verifySeconds: { blocks: vsC.count, sum: round(vsC.sum, 3), meanMs: round(vsC.mean * 1000, 1) },
      perBlockVerifyMs: summarize(loadedMsC, 0),
      workerCapacityTps: vsC.sum > 0 ? Math.round((txsC / vsC.sum) * workers) : 0,
      replicaCpuSeconds: round(cpuC),
      replicaCores: round(cpuC / catchUpSeconds),
      peakRssMb: kbToMb(replica2.peakRssKb()),
    }
    log(
      `    replica up in ${backlog.replicaStartSeconds} s, then synced and verified ${backlogBlocks} blocks / ${fmt(backlogTxsInBlocks)} txs in ${catchUpSeconds.toFixed(2)} s: ${fmt(verifiedTpsC)} tx/s, ${backlog.verifiedBlocksPerSec} blocks/s = ${backlog.ratioToSequencerAlone}× the sequencer alone, ${backlog.ratioToProduction}× the live production rate; steady ${fmt(steadyTpsC)} tx/s = ${backlog.steadyRatioToSequencerAlone}× alone (first loaded block verified after ${backlog.firstVerifiedSeconds} s); ` +
        `in-worker ${fmt(backlog.perBlockVerifyMs.mean)} ms per loaded block (worker capacity ${fmt(backlog.workerCapacityTps)} tx/s); replica ${backlog.replicaCores} cores, other processes ${backlog.catchUpOtherCores}`,
    )
    const duAfter = diskUsage(repDir)

    // --- witnesses of the loaded blocks ----------------------------------------------------------
    log(
      `  witnesses: reading debug_executionWitness of ${loaded.length + pacedLoaded.length + backlogLoaded.length} loaded blocks`,
    )
    const { fullest, ...witness } = await witnessStats(seq, [...loaded, ...pacedLoaded, ...backlogLoaded])
    log(
      `    ${fmt(witness.bytesPerTx)} bytes per transfer (${fmt(witness.encodedBytesPerTx)} RLP-encoded; state nodes ${fmt(witness.breakdownBytesPerTx.stateNodes)}, keys ${witness.breakdownBytesPerTx.keys}, codes ${witness.breakdownBytesPerTx.codes}, headers ${witness.breakdownBytesPerTx.headers}; ${witness.stateNodesPerTx} nodes/tx); ` +
        `full blocks: ${fmt(witness.fullBlocks.txsPerBlock)} txs, ${fmt(witness.fullBlocks.bytesPerTx)} bytes/tx, ${fmt(mb(witness.fullBlocks.bytesPerBlock), 1)} MB/block`,
    )
    let cpuCheck: VerifyCpu | undefined
    if (fullest !== undefined) {
      const v = await verifyCpu(seq, fullest.number, fullest.witness, 3)
      cpuCheck = {
        ...v,
        ratioToProduction: round((v.txPerCoreSecond * workers) / Math.max(1, sustainedTps)),
        ratioToSequencerAlone: round((v.txPerCoreSecond * workers) / Math.max(1, tpsB)),
      }
      log(
        `  verification CPU (block ${v.block}, ${fmt(v.txs)} txs, verified ${v.runs}× in the bench process by the verify worker's code): ${fmt(v.cpuMs)} ms CPU (${fmt(v.wallMs)} ms wall) = ${v.cpuUsPerTx} µs/tx → ${fmt(v.txPerCoreSecond)} tx/s per core; ` +
          `× ${workers} worker = ${cpuCheck.ratioToSequencerAlone}× the sequencer alone, ${cpuCheck.ratioToProduction}× the live production rate`,
      )
    }
    const seqDisk = diskUsage(seqDir)
    const result: ReplicaResult = {
      server: 'megaeth-node',
      commands: { sequencer: seq.command, replica: replica.command, validator: validator.command },
      verifyWorkers: workers,
      genesis: {
        accounts: g.accounts,
        devAndPredeploys: g.devAccounts,
        senders: p.senders,
        recipientsUsed,
        sequencerStartSeconds: round(sequencerStartSeconds, 1),
        replicaStartSeconds: round(replicaStartSeconds, 1),
      },
      live: {
        txs: liveTxs,
        included,
        complete,
        sustainedTps,
        steadyTps,
        blocksPerSec,
        loadedBlocks: loaded.length,
        txsPerBlock: summarize(
          loaded.map((b) => b.txs),
          0,
        ),
        secondsToLastBlock: round(seconds, 3),
        submitTps: rep.submitTps,
        errors: rep.errors,
        sequencer: {
          cpuSeconds: round(cpuAtSeal.seq),
          cpuUsPerTx: Math.round((cpuAtSeal.seq / Math.max(1, included)) * 1e6),
          cores: round(cpuAtSeal.seq / cpuWindow.wallSeconds),
          peakRssMb: kbToMb(seq.peakRssKb()),
          metrics: seqMetrics,
        },
        generatorCores: round(rep.generatorCpuSeconds / cpuWindow.wallSeconds),
        otherCores,
        cpu: cpuWindow,
        replica: liveReplica,
        validator: liveValidator,
        samples: sampler.samples.filter((s) => s.t >= goMs && s.t <= endMs).length,
        samplesSkipped: sampler.skipped,
      },
      paced,
      backlog,
      witness,
      verifyCpu: cpuCheck,
      memory: {
        sequencerIdleRssMb: kbToMb(idleRss.seq),
        sequencerPeakRssMb: kbToMb(seq.peakRssKb()),
        replicaIdleRssMb: kbToMb(idleRss.rep),
        validatorIdleRssMb: kbToMb(idleRss.val),
        replicaPeakRssMb: kbToMb(Math.max(replicaPeakLive, replica2.peakRssKb())),
        replicaRssMb: kbToMb(replicaRssLive),
        validatorPeakRssMb: kbToMb(validatorMemory.peak),
        validatorRssMb: kbToMb(validatorMemory.rss),
      },
      disk: {
        replicaDatadirMb: mb(du.allocatedBytes),
        replicaDatadirApparentMb: mb(du.apparentBytes),
        replicaDatadirFiles: du.files,
        replicaDatadirAfterCatchUpMb: mb(duAfter.allocatedBytes),
        sequencerDatadirMb: mb(seqDisk.allocatedBytes),
        validatorMb: 0,
        validatorNote:
          'validator mode has no datadir and writes nothing; its p2p identity is in memory (with --p2p.key-file: one ~140-byte key file)',
      },
      timeline: sampler.samples
        .filter((s, i) => s.t >= goMs - 1_000 && s.t <= Math.max(repDone, valDone) + 500 && i % 5 === 0)
        .map((s) => [
          round((s.t - rep.firstSubmitMs) / 1000, 2),
          s.seq,
          s.replica ?? null,
          s.validator ?? null,
          kbToMb(s.rssKb[0]),
          kbToMb(s.rssKb[1]),
          kbToMb(s.rssKb[2]),
        ]),
      setupSeconds: round(setupSeconds, 1),
      totalSeconds: round((performance.now() - t0) / 1000, 1),
    }
    log(
      `  memory (RSS idle → peak): sequencer ${fmt(result.memory.sequencerIdleRssMb)} → ${fmt(result.memory.sequencerPeakRssMb)} MB, full replica ${fmt(result.memory.replicaIdleRssMb)} → ${fmt(result.memory.replicaPeakRssMb)} MB (${fmt(result.memory.replicaRssMb)} MB after the live phase), validator ${fmt(result.memory.validatorIdleRssMb)} → ${fmt(result.memory.validatorPeakRssMb)} MB; ` +
        `disk: replica datadir ${fmt(result.disk.replicaDatadirMb, 1)} MB (${fmt(result.disk.replicaDatadirAfterCatchUpMb, 1)} MB after catch-up), sequencer ${fmt(result.disk.sequencerDatadirMb, 1)} MB, validator 0`,
    )
    writeChart(result)
    return result
  } finally {
    sampler?.stop()
    watcher?.stop()
    for (const pool of pools) await pool.close()
    for (const n of nodes.reverse()) await n.stop()
    rmSync(work, { recursive: true, force: true })
  }
}

/** The replica's verification worker count: the node's default (one per core), unless overridden. */
async function verifyWorkers(replica: NodeProcess): Promise<number> {
  const m = /--replica\.verify-workers=(\d+)/.exec(replica.command)
  if (m !== null) return Number(m[1])
  return defaultVerifyWorkers()
}

/** bench/results/replica.svg from a result (also: regenerate it from replica.json). */
export function writeChart(r: ReplicaResult): void {
  writeText(
    'replica.svg',
    barChartSvg({
      title: 'Replica verification vs sequencer production (ETH transfers, 100,000 accounts)',
      subtitle: `produced (live: followers on the same 2 cores; alone: none) vs verified (live; catch-up; CPU: 1 core × ${r.verifyWorkers} worker)`,
      unit: 'tx/s',
      width: 920,
      series: ['megaeth-node'],
      groups: [
        { label: 'sequencer, live', bars: [{ series: 'megaeth-node', value: r.live.sustainedTps }] },
        { label: 'sequencer alone', bars: [{ series: 'megaeth-node', value: r.backlog.sequencerAloneTps }] },
        { label: 'replica, live', bars: [{ series: 'megaeth-node', value: r.live.replica.verifiedTps }] },
        { label: 'validator, live', bars: [{ series: 'megaeth-node', value: r.live.validator.verifiedTps }] },
        {
          label: 'replica catch-up',
          bars: [{ series: 'megaeth-node', value: r.backlog.verifiedTps, note: `${r.backlog.ratioToSequencerAlone}× alone` }],
        },
        {
          label: 'catch-up, steady',
          bars: [
            {
              series: 'megaeth-node',
              value: r.backlog.steadyVerifiedTps,
              note: `${r.backlog.steadyRatioToSequencerAlone}× alone`,
            },
          ],
        },
        ...(r.verifyCpu === undefined
          ? []
          : [
              {
                label: `CPU, ${r.verifyWorkers} worker`,
                bars: [
                  {
                    series: 'megaeth-node',
                    value: r.verifyCpu.txPerCoreSecond * r.verifyWorkers,
                    note: `${r.verifyCpu.ratioToSequencerAlone}× alone`,
                  },
                ],
              },
            ]),
      ],
    }),
  )
}
