// Preloaded into a node process (NODE_OPTIONS=--import=…) to profile its main thread: node 20 refuses
// `--cpu-prof` in NODE_OPTIONS, and the launcher spawns the node with its own flags. The profile is
// written to $CPU_PROFILE_DIR/main-<pid>.cpuprofile when the process is asked to stop (SIGTERM) or after
// $CPU_PROFILE_MS (default 120 s), whichever comes first; sampling every 500 µs.
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector'
import { isMainThread } from 'node:worker_threads'

if (isMainThread && process.env.CPU_PROFILE_DIR !== undefined) {
  const dir = process.env.CPU_PROFILE_DIR
  const session = new Session()
  session.connect()
  session.post('Profiler.enable', () =>
    session.post('Profiler.setSamplingInterval', { interval: 500 }, () => session.post('Profiler.start')),
  )
  let written = false
  const write = () => {
    if (written) return
    written = true
    session.post('Profiler.stop', (err, result) => {
      if (err === null) writeFileSync(`${dir}/main-${process.pid}.cpuprofile`, JSON.stringify(result.profile))
    })
  }
  setTimeout(write, Number(process.env.CPU_PROFILE_MS ?? 120_000)).unref()
  // Profiler.stop answers synchronously on the main thread, before the node's own SIGTERM handler runs.
  process.prependListener('SIGTERM', write)
}
