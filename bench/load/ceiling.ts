/**
 * The load generator's own ceiling: the same pre-serialized batches of 100, submitted to a trivial
 * server (trivial-server.ts) that does no work, with 1…N generator processes. On this 2-core
 * machine the generator, the trivial server (and later the real server) share the cores, so the
 * report carries each side's CPU use.
 */
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { readCpuSeconds } from '../lib/servers.ts'
import { stopProcess, track } from '../lib/procs.ts'
import { GeneratorPool } from './pool.ts'

export interface CeilingPoint {
  generators: number
  concurrency: number
  txs: number
  tps: number
  generatorCpuPerTxUs: number
  /** generator CPU-seconds / wall seconds (1.0 = one core busy) */
  generatorCores: number
  serverCores: number
}

export async function runCeiling(opts: {
  txs: number
  generatorCounts: number[]
  concurrency: number
  batchSize: number
  log: (s: string) => void
}): Promise<CeilingPoint[]> {
  const child = fork(fileURLToPath(new URL('./trivial-server.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, NODE_OPTIONS: '' },
  })
  track(child, 'trivial-server')
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port))
    child.once('exit', () => reject(new Error('trivial server exited')))
  })
  const points: CeilingPoint[] = []
  try {
    for (const generators of opts.generatorCounts) {
      const senders = 1000
      const pool = await GeneratorPool.prepare(
        {
          url: `http://127.0.0.1:${port}`,
          chainId: '1',
          maxFeePerGas: '1',
          maxPriorityFeePerGas: '0',
          gasLimit: 21000,
          kind: 'transfer',
          senders: { set: 'ceiling', from: 0, count: senders },
          recipients: { set: 'ceiling', from: 0, count: senders },
          rounds: Math.ceil(opts.txs / senders),
          startNonce: 0,
          batchSize: opts.batchSize,
          mode: 'max',
          concurrency: opts.concurrency * generators,
          retryDeadlineMs: 0,
          dummy: true,
        },
        generators,
      )
      const cpu0 = readCpuSeconds(child.pid!)
      pool.go()
      const rep = await pool.finished()
      const serverCpu = readCpuSeconds(child.pid!) - cpu0
      await pool.close()
      const wall = (rep.lastResponseMs - rep.firstSubmitMs) / 1000
      const point: CeilingPoint = {
        generators,
        concurrency: opts.concurrency * generators,
        txs: rep.accepted,
        tps: rep.submitTps,
        generatorCpuPerTxUs: Number(((rep.generatorCpuSeconds / rep.accepted) * 1e6).toFixed(2)),
        generatorCores: Number((rep.generatorCpuSeconds / wall).toFixed(2)),
        serverCores: Number((serverCpu / wall).toFixed(2)),
      }
      opts.log(
        `  ceiling: ${generators} generator(s) → ${point.tps.toLocaleString('en-US')} tx/s (generator ${point.generatorCores} cores, ${point.generatorCpuPerTxUs} µs CPU/tx; trivial server ${point.serverCores} cores)`,
      )
      points.push(point)
    }
  } finally {
    child.disconnect()
    await stopProcess(child, 3_000)
  }
  return points
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await runCeiling({ txs: 100_000, generatorCounts: [1, 2, 3], concurrency: 4, batchSize: 100, log: console.log }))
}
