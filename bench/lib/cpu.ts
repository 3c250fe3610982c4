/**
 * CPU accounting for a measurement window: the server's and the generators' CPU time, and what
 * everything else on the (shared, 2-core) machine used meanwhile, from /proc/stat.
 */
import { readFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'

function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!
  const f = line.trim().split(/\s+/).slice(1).map(Number)
  // user nice system idle iowait irq softirq steal
  const busy = f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!
  return busy / 100
}

export interface CpuWindow {
  wallSeconds: number
  /** All cores busy, in cores (0…cores). */
  machineCores: number
  loadavg1: number
}

export class CpuMeter {
  private readonly t0 = performance.now()
  private readonly busy0 = machineBusySeconds()

  finish(): CpuWindow {
    const wall = (performance.now() - this.t0) / 1000
    return {
      wallSeconds: Number(wall.toFixed(3)),
      machineCores: Number(((machineBusySeconds() - this.busy0) / wall).toFixed(2)),
      loadavg1: Number(loadavg()[0]!.toFixed(2)),
    }
  }
}

export const CORES = cpus().length
