/**
 * Every process the benchmark starts is registered here and ended by pid on exit, error or
 * SIGINT/SIGTERM: no orphaned node or anvil keeps a port or a core after the run.
 */
import type { ChildProcess } from 'node:child_process'

const live = new Map<number, { child: ChildProcess; name: string }>()
let installed = false
let interrupted = false

export function track(child: ChildProcess, name: string): void {
  installHandlers()
  if (child.pid === undefined) return
  const pid = child.pid
  live.set(pid, { child, name })
  child.once('exit', () => live.delete(pid))
}

export function isInterrupted(): boolean {
  return interrupted
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
export function stopProcess(child: ChildProcess, graceMs = 10_000): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
      resolve()
      return
    }
    const pid = child.pid
    const timer = setTimeout(() => {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        /* already gone */
      }
    }, graceMs)
    child.once('exit', () => {
      clearTimeout(timer)
      live.delete(pid)
      resolve()
    })
    try {
      process.kill(pid, 'SIGTERM')
    } catch {
      clearTimeout(timer)
      resolve()
    }
  })
}

function killAllSync(): void {
  for (const [pid] of live) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      /* already gone */
    }
  }
  live.clear()
}

function installHandlers(): void {
  if (installed) return
  installed = true
  process.once('exit', killAllSync)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (interrupted) {
        killAllSync()
        process.exit(130)
      }
      interrupted = true
      process.stderr.write(`\n${signal}: stopping ${live.size} child process(es)…\n`)
      Promise.all([...live.values()].map(({ child }) => stopProcess(child, 3_000))).finally(() => process.exit(130))
    })
  }
}
