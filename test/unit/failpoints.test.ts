import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { describe, it } from 'node:test'
import { parseFailpoints } from '../../src/util/failpoints.ts'

/** Runs `failpoint('a.b')` three times in a fresh process armed with `spec`; returns how it ended. */
function runArmed(spec: string): { status: number | null; signal: NodeJS.Signals | null; stdout: string } {
  const script = `
    const { failpoint } = await import(${JSON.stringify(new URL('../../src/util/failpoints.ts', import.meta.url).href)})
    for (let i = 1; i <= 3; i++) {
      try { failpoint('a.b'); console.log('pass', i) } catch (e) { console.log('throw', i, e.code) }
    }`
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, MEGAETH_FAILPOINTS: spec },
    encoding: 'utf8',
  })
  return { status: r.status, signal: r.signal, stdout: r.stdout.trim() }
}

describe('failpoints', () => {
  it('parses names, actions and hit counts, and refuses what it cannot parse', () => {
    const armed = parseFailpoints('seal.after-write=kill@3, wal.fsync=error')
    assert.deepEqual(armed.get('seal.after-write'), { action: 'kill', at: 3, hits: 0 })
    assert.deepEqual(armed.get('wal.fsync'), { action: 'error', at: 1, hits: 0 })
    assert.equal(parseFailpoints('').size, 0)
    assert.throws(() => parseFailpoints('x=explode'), /cannot parse "x=explode"/)
    assert.throws(() => parseFailpoints('x=kill@0'), /counts from 1/)
  })

  it('error fires once on the n-th hit, error-always from it on, kill ends the process there', () => {
    assert.equal(runArmed('a.b=error@2').stdout, 'pass 1\nthrow 2 EIO\npass 3')
    assert.equal(runArmed('a.b=error-always@2').stdout, 'pass 1\nthrow 2 EIO\nthrow 3 EIO')
    const killed = runArmed('a.b=kill@2')
    assert.equal(killed.signal, 'SIGKILL')
    assert.equal(killed.stdout, 'pass 1')
    assert.equal(runArmed('other=kill').stdout, 'pass 1\npass 2\npass 3')
  })
})
