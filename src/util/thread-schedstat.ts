/**
 * The calling thread's scheduler counters from Linux's `/proc/thread-self/schedstat`: CPU time and
 * run-queue wait (time runnable without a core). Execution workers read it around every chunk, so
 * the file is opened once per thread and re-read at offset 0 (~1 µs; opening it each time ~8 µs).
 * The descriptor stays open until the process exits: one per thread that asks, and the threads that
 * ask (execution workers, a bench's main thread) live as long as the process.
 */
import { openSync, readSync } from 'node:fs'

export interface ThreadSchedstat {
  cpuNs: number
  waitNs: number
}

/** Module state is per thread: `thread-self` resolves when opened, so the descriptor stays this thread's. */
let fd: number | null | undefined
const buf = Buffer.alloc(64)

/** This thread's CPU time and run-queue wait in ns; zeros where the OS does not say. */
export function threadSchedstat(): ThreadSchedstat {
  if (fd === undefined) {
    try {
      fd = openSync('/proc/thread-self/schedstat', 'r')
    } catch {
      fd = null
    }
  }
  if (fd === null) return { cpuNs: 0, waitNs: 0 }
  const [cpu, wait] = buf.toString('latin1', 0, readSync(fd, buf, 0, buf.length, 0)).split(' ')
  return { cpuNs: Number(cpu), waitNs: Number(wait) }
}
