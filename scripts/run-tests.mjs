// Runs node:test over test files found under the given folders (Node 20's --test takes no globs).
// Usage: node scripts/run-tests.mjs [folder or test file …]   (default: test/unit test/e2e test/resilience)
import { readdirSync, statSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'

function collect(dir) {
  if (!statSync(dir).isDirectory()) return [dir]
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name)
      if (statSync(path).isDirectory()) return collect(path)
      return name.endsWith('.test.ts') ? [path] : []
    })
}

const folders = process.argv.slice(2)
const files = (folders.length > 0 ? folders : ['test/unit', 'test/e2e', 'test/resilience']).flatMap(collect)
if (files.length === 0) {
  process.stderr.write('no test files found\n')
  process.exit(1)
}
// Polyfills first (libp2p needs Promise.withResolvers on Node 20), by URL so the cwd does not matter.
const polyfills = new URL('./polyfills.mjs', import.meta.url).href
// One file at a time: e2e suites start real nodes and anvil, and the machine has two cores.
const result = spawnSync(
  process.execPath,
  ['--import', polyfills, '--import', 'tsx', '--test', '--test-concurrency=1', ...files],
  {
    stdio: 'inherit',
  },
)
process.exit(result.status ?? 1)
