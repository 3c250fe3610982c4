import { test } from 'node:test'
import assert from 'node:assert/strict'
import { formatDurationMs, parseDurationMs } from '../../src/util/duration.ts'

test('durations parse as geth takes them, and bare numbers as milliseconds', () => {
  assert.equal(parseDurationMs('5s'), 5_000)
  assert.equal(parseDurationMs('500ms'), 500)
  assert.equal(parseDurationMs('1m30s'), 90_000)
  assert.equal(parseDurationMs('1.5s'), 1_500)
  assert.equal(parseDurationMs('2h'), 7_200_000)
  assert.equal(parseDurationMs('1500us'), 2)
  assert.equal(parseDurationMs('250'), 250)
  assert.equal(parseDurationMs('0'), 0)
  for (const bad of ['', 's', '5 s', '-5s', '5sec', '1.s', 'ms5']) assert.equal(parseDurationMs(bad), undefined, bad)
})

test("durations print as Go's Duration.String(), which geth's timeout error carries", () => {
  const cases: Array<[number, string]> = [
    [0, '0s'],
    [300, '300ms'],
    [1_000, '1s'],
    [5_000, '5s'],
    [1_500, '1.5s'],
    [1_050, '1.05s'],
    [60_000, '1m0s'],
    [90_500, '1m30.5s'],
    [3_723_000, '1h2m3s'],
  ]
  for (const [ms, text] of cases) assert.equal(formatDurationMs(ms), text)
})
