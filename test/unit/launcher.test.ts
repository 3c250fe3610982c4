import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { launcherNodeFlags } from '../../bench/lib/procs.ts'

const LAUNCHER = fileURLToPath(new URL('../../bin/megaeth-node', import.meta.url))

test('bin/megaeth-node runs as a command, with the node flags on its shebang line', () => {
  // How operators and `npm start` run it: executed directly, so the kernel reads the shebang. A
  // preloaded one-liner reports the node flags the process really got.
  // (NODE_OPTIONS takes quotes and backslashes as its own syntax, hence String.fromCharCode.)
  const printExecArgv = 'data:text/javascript,process.stderr.write(JSON.stringify(process.execArgv)+String.fromCharCode(10))'
  const run = spawnSync(LAUNCHER, ['--version'], {
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: `--import=${printExecArgv}` },
  })
  assert.equal(run.status, 0, run.stderr)
  assert.match(run.stdout, /^megaeth-node \d+\.\d+\.\d+/)
  const execArgv = JSON.parse(run.stderr.trim().split('\n')[0]!) as string[]
  assert.ok(execArgv.includes('--max-semi-space-size=32'), `execArgv: ${JSON.stringify(execArgv)}`)
  // The benchmark starts the node with the same flags (it adds its own, so it cannot exec the file).
  assert.deepEqual(
    launcherNodeFlags(LAUNCHER),
    execArgv.filter((flag) => !flag.startsWith('--import')),
  )
})
