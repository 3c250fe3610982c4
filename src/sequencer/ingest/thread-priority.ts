/**
 * Lets the main thread win the CPU over a decode worker when the cores are all busy.
 *
 * The main thread is the sequencer's one serial stage (RPC, pool, mini-blocks); decoding is spread
 * over as many workers as there are cores, so with equal priorities the OS preempts the main thread
 * for a worker about as often as not, and every request then waits on it. At niceness 5 a worker
 * gets a third of a contended core against the main thread's share and all of an idle one: +2–14 %
 * transfers/s on 2 cores, with smaller swings between runs (docs/DESIGN.md).
 */
import { readlinkSync } from 'node:fs'
import { setPriority } from 'node:os'

const DECODE_WORKER_NICENESS = 5

/**
 * Lowers the calling thread's scheduling priority. Linux only: there a thread's id is a valid
 * `setpriority` target, while elsewhere the same call would lower the whole process.
 */
export function yieldToMainThread(): void {
  if (process.platform !== 'linux') return
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').at(-1))
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, DECODE_WORKER_NICENESS)
  } catch {
    // No /proc, or a sandbox forbids it: the worker keeps the default priority, which is only slower.
  }
}
