/**
 * Every process the benchmark starts is registered here and ended by pid on exit, error or
 * SIGINT/SIGTERM: no orphaned node or anvil keeps a port or a core after the run.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, readFileSync } from 'node:fs'

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

/**
 * Starts a server process with stdout and stderr appended to `logFile`, tracked for cleanup, and
 * without the parent's NODE_OPTIONS (the benchmark's own loader flags are not the server's).
 */
export function spawnServer(
  command: string,
  args: readonly string[],
  cwd: string,
  logFile: string,
  name: string,
): ChildProcess & { pid: number } {
  const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } })
  track(child, name)
  const log = createWriteStream(logFile)
  // Both streams feed one file: it is closed once the process and both pipes are done.
  child.stdout?.pipe(log, { end: false })
  child.stderr?.pipe(log, { end: false })
  child.once('close', () => log.end())
  if (child.pid === undefined) throw new Error(`${name} did not start`)
  return child as ChildProcess & { pid: number }
}

/**
 * The node flags on `bin/megaeth-node`'s `#!/usr/bin/env -S node …` line (none on older checkouts): the benchmark starts the
 * launcher as `node <flags> <launcher>` (to add its own flags, such as --cpu-prof) and must run it
 * with the flags operators get.
 */
export function launcherNodeFlags(launcher: string): string[] {
  const shebang = readFileSync(launcher, 'utf8').split('\n', 1)[0] ?? ''
  const m = /^#!\/usr\/bin\/env (?:-S )?node((?: +\S+)*)\s*$/.exec(shebang)
  if (m === null)
    throw new Error(`${launcher}: expected a "#!/usr/bin/env [-S] node [flags]" line, found ${JSON.stringify(shebang)}`)
  return m[1]!.split(' ').filter((f) => f !== '')
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
