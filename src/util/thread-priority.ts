/**
 * Lets the main thread win the CPU over background threads when the cores are all busy.
 *
 * The main thread is the node's one serial stage (RPC, pool, mini-blocks). The decode workers (one
 * per core) and the merkleizer thread (a second of state and receipts once per EVM block) do
 * work nothing waits on within the next mini-block, yet with equal priorities the OS preempts the
 * main thread for them about as often as not, and every request then waits. At niceness 5 such a
 * thread gets a third of a contended core against the main thread's share and all of an idle one:
 * on 2 cores, +2–14 % transfers/s for the decoders and +3 % more for the merkleizer, with smaller
 * swings between runs (docs/DESIGN.md). Threads the main thread awaits (parallel execution) keep
 * the default priority.
 */
import { readlinkSync } from 'node:fs'
import { setPriority } from 'node:os'

const BACKGROUND_NICENESS = 5

/**
 * Lowers the calling thread's scheduling priority. Linux only: there a thread's id is a valid
 * `setpriority` target, while elsewhere the same call would lower the whole process.
 */
export function yieldToMainThread(): void {
  if (process.platform !== 'linux') return
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').at(-1))
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, BACKGROUND_NICENESS)
  } catch {
    // No /proc, or a sandbox forbids it: the thread keeps the default priority, which is only slower.
  }
}
