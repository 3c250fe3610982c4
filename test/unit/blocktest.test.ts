import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { collectFixtureFiles, runBlockTestFile, type BlockTestResult } from '../../src/blocktest/runner.ts'

const FIXTURES = fileURLToPath(new URL('../fixtures/ethereum-tests/BlockchainTests/ValidBlocks', import.meta.url))
const INVALID_FIXTURES = fileURLToPath(new URL('../fixtures/ethereum-tests/BlockchainTests/InvalidBlocks', import.meta.url))
const REPO = fileURLToPath(new URL('../..', import.meta.url))

test('every Cancun ValidBlocks fixture reproduces its state roots, receipts roots and post-state', async () => {
  const results: BlockTestResult[] = []
  for (const file of await collectFixtureFiles([FIXTURES])) results.push(...(await runBlockTestFile(file)))
  const failed = results.filter((r) => r.status !== 'passed')
  assert.ok(results.length >= 400, `expected the full fixture set, found ${results.length} tests`)
  assert.deepEqual(
    failed.map((r) => `${r.name}: ${r.reason}`),
    [],
  )
})

test('the stateless verifier, fed witnesses recorded from each pre-state, reproduces every ValidBlocks fixture', async () => {
  const results: BlockTestResult[] = []
  for (const file of await collectFixtureFiles([FIXTURES])) results.push(...(await runBlockTestFile(file, { stateless: true })))
  assert.ok(results.length >= 400, `expected the full fixture set, found ${results.length} tests`)
  assert.deepEqual(
    results.filter((r) => r.status !== 'passed').map((r) => `${r.name}: ${r.reason}`),
    [],
  )
})

test('every Cancun InvalidBlocks fixture: each invalid block is refused and the chain of valid ones reaches the expected post-state', async () => {
  // Header rules (number, gas limit bounds, base fee), body commitments (transactions and
  // withdrawals roots) and the logs bloom are among the reasons: each has fixtures only it refuses.
  const results: BlockTestResult[] = []
  for (const file of await collectFixtureFiles([INVALID_FIXTURES])) results.push(...(await runBlockTestFile(file)))
  assert.ok(results.length >= 120, `expected the full fixture set, found ${results.length} tests`)
  assert.deepEqual(
    results.filter((r) => r.status !== 'passed').map((r) => `${r.name}: ${r.reason}`),
    [],
  )
})

test('`megaeth-node blocktest` prints one summary line and exits 0 when all pass', () => {
  const run = spawnSync(process.execPath, ['bin/megaeth-node', 'blocktest', `${FIXTURES}/bcExample`], {
    cwd: REPO,
    encoding: 'utf8',
  })
  assert.equal(run.status, 0, run.stderr)
  assert.match(run.stdout.trim().split('\n').at(-1)!, /^\d+ passed, 0 failed, 0 skipped$/)
})

test('`megaeth-node blocktest` fails loudly on a fixture whose root it cannot reproduce', async () => {
  const { mkdtemp, readFile, writeFile } = await import('node:fs/promises')
  const { tmpdir } = await import('node:os')
  const dir = await mkdtemp(`${tmpdir()}/blocktest-`)
  const fixture = JSON.parse(await readFile(`${FIXTURES}/bcExample/basefeeExample.json`, 'utf8')) as Record<
    string,
    { postState: Record<string, { balance: string }> }
  >
  const [name] = Object.keys(fixture)
  const post = fixture[name!]!.postState
  const someAccount = Object.keys(post)[0]!
  post[someAccount]!.balance = '0x1234'
  await writeFile(`${dir}/tampered.json`, JSON.stringify(fixture))
  const run = spawnSync(process.execPath, ['bin/megaeth-node', 'blocktest', dir], { cwd: REPO, encoding: 'utf8' })
  assert.equal(run.status, 1)
  assert.match(run.stdout, /FAIL .*balance/)
  assert.match(run.stdout.trim().split('\n').at(-1)!, /^0 passed, 1 failed, 0 skipped$/)
})
