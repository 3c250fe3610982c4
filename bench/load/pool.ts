/**
 * Orchestrator side of the load generators: fork N children, split the senders between them,
 * prepare (sign + serialize) in parallel, start them together, gather their reports.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { stopProcess, track } from '../lib/procs.ts'
import type { FromChild, LoadReport, LoadSpec, ToChild } from './protocol.ts'

const ENTRY = fileURLToPath(new URL('./generator.ts', import.meta.url))

export interface CombinedReport {
  generators: number
  txs: number
  accepted: number
  failed: number
  retried: number
  errors: Record<string, number>
  firstSubmitMs: number
  lastSubmitMs: number
  lastResponseMs: number
  requests: number
  requestMsP50: number
  requestMsP99: number
  generatorCpuSeconds: number
  /** accepted / (last response − first submit) */
  submitTps: number
  lastHashes: string[]
  perGenerator: LoadReport[]
}

export class GeneratorPool {
  private readonly children: ChildProcess[] = []
  private pendingDone: Array<Promise<LoadReport>> = []
  prepMs = 0

  private constructor() {}

  /** Forks `count` generators, each owning a contiguous slice of `spec.senders`. */
  static async prepare(spec: LoadSpec, count: number): Promise<GeneratorPool> {
    const pool = new GeneratorPool()
    const n = Math.max(1, Math.min(count, spec.senders.count))
    const per = Math.floor(spec.senders.count / n)
    const t = performance.now()
    const ready: Array<Promise<void>> = []
    for (let c = 0; c < n; c++) {
      const from = spec.senders.from + c * per
      const cnt = c === n - 1 ? spec.senders.count - c * per : per
      const childSpec: LoadSpec = {
        ...spec,
        senders: { ...spec.senders, from, count: cnt },
        rate: spec.rate === undefined ? undefined : spec.rate / n,
        concurrency: Math.max(1, Math.round(spec.concurrency / n)),
      }
      const child = fork(ENTRY, [], {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        env: { ...process.env, NODE_OPTIONS: '' },
      })
      track(child, `generator-${c}`)
      pool.children.push(child)
      ready.push(
        new Promise<void>((resolve, reject) => {
          const onMsg = (msg: FromChild): void => {
            if (msg.type === 'ready') {
              child.off('message', onMsg)
              resolve()
            } else if (msg.type === 'error') reject(new Error(`generator ${c}: ${msg.message}`))
          }
          child.on('message', onMsg)
          child.once('exit', (code) => reject(new Error(`generator ${c} exited (${code}) while preparing`)))
        }),
      )
      child.send({ type: 'prepare', spec: childSpec } satisfies ToChild)
    }
    try {
      await Promise.all(ready)
    } catch (error) {
      await pool.close()
      throw error
    }
    pool.prepMs = performance.now() - t
    return pool
  }

  /** Starts every generator; `finished()` resolves with the combined report. */
  go(): void {
    this.pendingDone = this.children.map(
      (child, c) =>
        new Promise<LoadReport>((resolve, reject) => {
          const onMsg = (msg: FromChild): void => {
            if (msg.type === 'done') resolve(msg.report)
            else if (msg.type === 'error') reject(new Error(`generator ${c}: ${msg.message}`))
          }
          child.on('message', onMsg)
          child.once('exit', (code) => reject(new Error(`generator ${c} exited (${code})`)))
        }),
    )
    for (const child of this.children) child.send({ type: 'go' } satisfies ToChild)
  }

  stop(): void {
    for (const child of this.children) if (child.connected) child.send({ type: 'stop' } satisfies ToChild)
  }

  async finished(): Promise<CombinedReport> {
    const reports = await Promise.all(this.pendingDone)
    return combine(reports)
  }

  async close(): Promise<void> {
    await Promise.all(
      this.children.map(async (child) => {
        if (child.connected) child.disconnect()
        await stopProcess(child, 3_000)
      }),
    )
  }
}

export function combine(reports: LoadReport[]): CombinedReport {
  const errors: Record<string, number> = {}
  for (const r of reports) for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v
  const first = Math.min(...reports.map((r) => r.firstSubmitMs))
  const lastResp = Math.max(...reports.map((r) => r.lastResponseMs))
  const accepted = reports.reduce((a, r) => a + r.accepted, 0)
  const requests = reports.reduce((a, r) => a + r.requests, 0)
  return {
    generators: reports.length,
    txs: reports.reduce((a, r) => a + r.txs, 0),
    accepted,
    failed: reports.reduce((a, r) => a + r.failed, 0),
    retried: reports.reduce((a, r) => a + r.retried, 0),
    errors,
    firstSubmitMs: first,
    lastSubmitMs: Math.max(...reports.map((r) => r.lastSubmitMs)),
    lastResponseMs: lastResp,
    requests,
    requestMsP50: Math.max(...reports.map((r) => r.requestMs.p50)),
    requestMsP99: Math.max(...reports.map((r) => r.requestMs.p99)),
    generatorCpuSeconds: Number(reports.reduce((a, r) => a + r.cpuSeconds, 0).toFixed(3)),
    submitTps: Math.round(accepted / ((lastResp - first) / 1000)),
    lastHashes: reports.flatMap((r) => r.lastHashes),
    perGenerator: reports,
  }
}
