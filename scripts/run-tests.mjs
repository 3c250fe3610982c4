// Runs node:test over test files found under the given folders (Node 20's --test takes no globs).
// Usage: node scripts/run-tests.mjs [folder or test file …]   (default: test/unit test/e2e test/resilience)
//
// Files under a `unit` folder run two at a time (pure in-process tests: the machine's two cores both work), except
// those that say `// run-tests: alone` on a line of their own (they assert on wall-clock time or timer cadence, which
// a neighbour's load would skew). Then the files that say `// run-tests: pair` run two at a time: e2e suites whose
// time is spent waiting on L1 (anvil's 1 s blocks, played dispute games, batcher and proposer rounds) with a node or
// two mostly idle, and light ones (a node or anvil answering a few calls, no load, no assertion on time) whose time
// is mostly process start-up, one core's work; two of them share the two cores without either waiting on CPU for
// long. Every other file (e2e suites that load the node, assert on time, race a timer, or start many processes at
// once) runs one at a time, last.
// MEGAETH_TEST_CONCURRENCY=1 runs everything one at a time.
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { join, sep } from 'node:path'

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

const ALONE = /^\/\/ run-tests: alone\b/m
const PAIR = /^\/\/ run-tests: pair\b/m
const concurrency = Number(process.env.MEGAETH_TEST_CONCURRENCY ?? 2)

/** Whether a file may share the machine with another test file. */
function concurrent(file) {
  return join(file).split(sep).includes('unit') && !ALONE.test(readFileSync(file, 'utf8'))
}

/** Whether a (non-unit) file says it mostly waits on L1 and may share the machine with one other such file. */
function pairable(file) {
  return !join(file).split(sep).includes('unit') && PAIR.test(readFileSync(file, 'utf8'))
}

const folders = process.argv.slice(2)
const files = (folders.length > 0 ? folders : ['test/unit', 'test/e2e', 'test/resilience']).flatMap(collect)
if (files.length === 0) {
  process.stderr.write('no test files found\n')
  process.exit(1)
}
// Polyfills first (libp2p needs Promise.withResolvers on Node 20), by URL so the cwd does not matter.
const polyfills = new URL('./polyfills.mjs', import.meta.url).href
const shared = concurrency > 1 ? files.filter(concurrent) : []
const paired = concurrency > 1 ? files.filter(pairable) : []
const alone = files.filter((file) => !shared.includes(file) && !paired.includes(file))
let status = 0
for (const [batch, n] of [
  [shared, concurrency],
  [paired, Math.min(concurrency, 2)],
  [alone, 1],
]) {
  if (batch.length === 0) continue
  const result = spawnSync(
    process.execPath,
    // --test-force-exit: a file whose tests are done ends even if a child it started still holds a handle (a set-up
    // that failed half-way); node-process.ts's exit hook then kills the child. Without it one such file hangs CI.
    ['--import', polyfills, '--import', 'tsx', '--test', '--test-force-exit', `--test-concurrency=${n}`, ...batch],
    { stdio: 'inherit' },
  )
  // Both batches run even if the first fails: a CI run reports every failure at once.
  if ((result.status ?? 1) !== 0) status = result.status ?? 1
}
process.exit(status)
