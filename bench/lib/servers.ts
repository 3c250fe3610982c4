/**
 * Starting and stopping the two servers under test, one at a time: megaeth-node (--dev) and
 * anvil (--block-time 0.01). Each start gets fresh ports and a fresh chain.
 */
import { mkdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from '../../test/helpers/ports.ts'
import { RpcClient } from './rpc.ts'
import { launcherNodeFlags, spawnServer, stopProcess } from './procs.ts'

export type ServerKind = 'megaeth' | 'anvil'
export const SERVER_KINDS: readonly ServerKind[] = ['megaeth', 'anvil']
export const SERVER_LABEL: Record<ServerKind, string> = { megaeth: 'megaeth-node', anvil: 'anvil' }

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const ANVIL_BIN = join(ROOT, 'node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil')
export const LOG_DIR = join(tmpdir(), 'megaeth-bench-logs')

/** Known before start, so generators can pre-sign while the server boots. */
export const CHAIN_ID: Record<ServerKind, bigint> = { megaeth: 6342n, anvil: 31337n }
export const FEES: Record<ServerKind, FeeParams> = {
  // megaeth-node's base fee floor is 0.001 gwei; maxFee ≥ 1 gwei with a zero tip.
  megaeth: { maxFeePerGas: 2_000_000_000n, maxPriorityFeePerGas: 0n },
  // anvil starts at 1 gwei and lowers it while blocks are under half full; it accepts a zero tip.
  anvil: { maxFeePerGas: 50_000_000_000n, maxPriorityFeePerGas: 0n },
}

export interface ServerOptions {
  /** Checkout whose bin/megaeth-node is started (default: this repository). */
  nodeDir?: string
  miniBlockMs?: number
  blockMs?: number
  /** Extra megaeth-node flags (e.g. --datadir=/dev/shm/x). */
  extraArgs?: string[]
  /** Extra node flags for megaeth-node (e.g. --cpu-prof). */
  nodeArgs?: string[]
  /** anvil --block-time in seconds (default 0.01). */
  anvilBlockTime?: number
}

export interface FeeParams {
  maxFeePerGas: bigint
  maxPriorityFeePerGas: bigint
}

export interface Server {
  kind: ServerKind
  label: string
  pid: number
  rpcUrl: string
  wsUrl: string
  metricsUrl: string | undefined
  chainId: bigint
  fees: FeeParams
  command: string
  logFile: string
  rpc: RpcClient
  /** Peak resident set (VmHWM) so far, in KiB. */
  peakRssKb(): number
  /** User + system CPU seconds the server process has used so far. */
  cpuSeconds(): number
  stop(): Promise<void>
}

export function readStatusKb(pid: number, field: 'VmHWM' | 'VmRSS' | 'RssAnon' | 'RssFile'): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m === null ? 0 : Number(m[1])
  } catch {
    return 0
  }
}

export function readCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // fields[0] is state (field 3): utime is field 14, stime field 15.
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return 0
  }
}

let startCount = 0

export async function startServer(kind: ServerKind, tag: string, opts: ServerOptions = {}): Promise<Server> {
  const port = await freePort()
  mkdirSync(LOG_DIR, { recursive: true })
  const logFile = join(LOG_DIR, `${String(++startCount).padStart(2, '0')}-${tag}-${kind}.log`)
  let args: string[]
  let metricsUrl: string | undefined
  let bin: string
  if (kind === 'megaeth') {
    const metricsPort = await freePort()
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`
    bin = process.execPath
    const launcher = join(opts.nodeDir ?? ROOT, 'bin/megaeth-node')
    args = [
      ...launcherNodeFlags(launcher),
      ...(opts.nodeArgs ?? []),
      launcher,
      '--dev',
      `--rpc.port=${port}`,
      `--metrics.port=${metricsPort}`,
      `--miniblock-ms=${opts.miniBlockMs ?? 10}`,
      `--block-ms=${opts.blockMs ?? 1000}`,
      '--log.level=warn',
      ...(opts.extraArgs ?? []),
    ]
  } else {
    bin = ANVIL_BIN
    args = ['--port', String(port), '--accounts', '20', '--block-time', String(opts.anvilBlockTime ?? 0.01), '--silent']
  }
  // Started without `--import tsx` in its execArgv: bin/megaeth-node registers tsx itself.
  const child = spawnServer(bin, args, opts.nodeDir ?? ROOT, logFile, kind)
  const pid = child.pid
  const dirs = [ROOT, `${opts.nodeDir ?? ROOT}/`.replace(/\/+$/, '/')]
  const rel = (a: string): string => dirs.reduce((x, d) => (x.startsWith(d) ? x.slice(d.length) : x), a)
  const command = `${kind === 'megaeth' ? 'node' : 'anvil'} ${args.map(rel).join(' ')}`

  const rpcUrl = `http://127.0.0.1:${port}`
  const rpc = new RpcClient(rpcUrl, 16)
  const stop = async (): Promise<void> => {
    rpc.close()
    await stopProcess(child, 15_000)
  }
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code, signal) =>
      reject(new Error(`${kind} exited during startup (code ${code}, signal ${signal}); log: ${logFile}`)),
    ),
  )
  exited.catch(() => undefined)
  const deadline = Date.now() + 60_000
  let chainId: bigint | undefined
  while (chainId === undefined) {
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`${kind} did not answer eth_chainId within 60 s; log: ${logFile}`)
    }
    try {
      chainId = BigInt(await Promise.race([rpc.call<string>('eth_chainId', [], 1_000), exited]))
    } catch (error) {
      if (child.exitCode !== null || child.signalCode !== null) throw error
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  if (chainId !== CHAIN_ID[kind]) {
    await stop()
    throw new Error(`${kind}: chain id ${chainId}, expected ${CHAIN_ID[kind]}`)
  }
  const fees = FEES[kind]
  return {
    kind,
    label: SERVER_LABEL[kind],
    pid,
    rpcUrl,
    wsUrl: rpcUrl.replace('http', 'ws'),
    metricsUrl,
    chainId,
    fees,
    command,
    logFile,
    rpc,
    peakRssKb: () => readStatusKb(pid, 'VmHWM'),
    cpuSeconds: () => readCpuSeconds(pid),
    stop,
  }
}
