/**
 * megaeth-node processes in any role (sequencer, full replica, validator) with arbitrary flags, for
 * scenarios that run several nodes at once (bench/scenarios/replica.ts). Each gets fresh RPC and
 * metrics ports, a log file under LOG_DIR, and is tracked so it is stopped by pid on exit.
 */
import { lstatSync, mkdirSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { launcherNodeFlags, spawnServer, stopProcess } from './procs.ts'
import { RpcClient } from './rpc.ts'
import { freePort } from '../../test/helpers/ports.ts'
import { LOG_DIR, readCpuSeconds, readStatusKb } from './servers.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

export interface NodeProcess {
  name: string
  pid: number
  rpcUrl: string
  metricsUrl: string
  rpc: RpcClient
  /** `node bin/megaeth-node …` as started (ports included). */
  command: string
  logFile: string
  /** Epoch ms of the spawn and of the first RPC answer. */
  spawnedMs: number
  readyMs: number
  /** Peak resident set (VmHWM) so far, in KiB; 0 once exited. */
  peakRssKb(): number
  /** Current resident set (VmRSS), in KiB. */
  rssKb(): number
  /** User + system CPU seconds (all threads) so far. */
  cpuSeconds(): number
  exited(): boolean
  /** SIGTERM (graceful: a node seals/flushes and closes its database), SIGKILL after 20 s. */
  stop(): Promise<void>
}

let starts = 0

/**
 * Spawns `node <launcher flags> bin/megaeth-node --log.level=warn --log.format=json <args> --rpc.port --metrics.port` (flags
 * apply in order, so `args` may override the log level) and waits until it answers eth_chainId.
 */
export async function startNode(
  name: string,
  args: string[],
  opts: { nodeDir?: string; timeoutMs?: number; port?: number } = {},
): Promise<NodeProcess> {
  const port = opts.port ?? (await freePort())
  const metricsPort = await freePort()
  mkdirSync(LOG_DIR, { recursive: true })
  const logFile = join(LOG_DIR, `${String(++starts).padStart(2, '0')}-replica-bench-${name}.log`)
  const dir = opts.nodeDir ?? ROOT
  const launcher = join(dir, 'bin/megaeth-node')
  const full = [
    ...launcherNodeFlags(launcher),
    launcher,
    '--log.level=warn',
    '--log.format=json',
    ...args,
    `--rpc.port=${port}`,
    `--metrics.port=${metricsPort}`,
  ]
  const spawnedMs = Date.now()
  const child = spawnServer(process.execPath, full, dir, logFile, name)
  const pid = child.pid
  const rpcUrl = `http://127.0.0.1:${port}`
  const rpc = new RpcClient(rpcUrl, 8)
  const stop = async (): Promise<void> => {
    rpc.close()
    await stopProcess(child, 20_000)
  }
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000)
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${name} exited during startup (code ${child.exitCode}, signal ${child.signalCode}); log: ${logFile}`)
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`${name} did not answer eth_chainId within ${opts.timeoutMs ?? 120_000} ms; log: ${logFile}`)
    }
    try {
      await rpc.call<string>('eth_chainId', [], 1_000)
      break
    } catch {
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  const readyMs = Date.now()
  const rel = (a: string): string => (a.startsWith(dir) ? a.slice(dir.length).replace(/^\//, '') : a)
  return {
    name,
    pid,
    rpcUrl,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    rpc,
    command: `node ${full.map(rel).join(' ')}`,
    logFile,
    spawnedMs,
    readyMs,
    peakRssKb: () => readStatusKb(pid, 'VmHWM'),
    rssKb: () => readStatusKb(pid, 'VmRSS'),
    cpuSeconds: () => readCpuSeconds(pid),
    exited: () => child.exitCode !== null || child.signalCode !== null,
    stop,
  }
}

/** Bytes under `dir`: apparent (file sizes) and allocated on disk (st_blocks × 512, what `du` shows). */
export function diskUsage(dir: string): { files: number; apparentBytes: number; allocatedBytes: number } {
  let files = 0
  let apparentBytes = 0
  let allocatedBytes = 0
  const walk = (d: string): void => {
    let entries: string[]
    try {
      entries = readdirSync(d)
    } catch {
      return
    }
    for (const e of entries) {
      const p = join(d, e)
      let st
      try {
        st = lstatSync(p)
      } catch {
        continue
      }
      if (st.isDirectory()) walk(p)
      else {
        files++
        apparentBytes += st.size
        allocatedBytes += st.blocks * 512
      }
    }
  }
  walk(dir)
  return { files, apparentBytes, allocatedBytes }
}
