/**
 * The parallel executor's per-contract contention forecast: a verdict needs enough samples, follows
 * the conflict rate, fades with new behaviour and expires.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { Hex } from '../../src/primitives/state-diff.ts'
import { ContentionForecast } from '../../src/execution/parallel/contention-forecast.ts'

const PAIR = '0x01' as Hex
const TOKEN = '0x02' as Hex

test('a contract whose cross-lane calls mostly conflict is contended; one whose calls rarely do is not', () => {
  const forecast = new ContentionForecast()
  for (let i = 0; i < 4; i++) forecast.observe(PAIR, true)
  assert.equal(forecast.isContended(PAIR), false, 'four samples are not enough for a verdict')
  forecast.observe(PAIR, true)
  assert.equal(forecast.isContended(PAIR), true)
  for (let i = 0; i < 200; i++) forecast.observe(TOKEN, i % 10 === 0)
  assert.equal(forecast.isContended(TOKEN), false)
  assert.deepEqual(forecast.contended(), [PAIR])
})

test('old samples fade: a contract that starts conflicting is judged contended again', () => {
  const forecast = new ContentionForecast()
  for (let i = 0; i < 1000; i++) forecast.observe(TOKEN, false)
  let observed = 0
  while (!forecast.isContended(TOKEN)) {
    forecast.observe(TOKEN, true)
    observed++
    assert.ok(observed < 200, 'a thousand clean samples must not outvote a run of conflicts for long')
  }
})

test('a contended verdict expires after enough rounds and is learnt again', () => {
  const forecast = new ContentionForecast()
  for (let i = 0; i < 5; i++) forecast.observe(PAIR, true)
  for (let round = 0; round < 255; round++) forecast.nextRound()
  assert.equal(forecast.isContended(PAIR), true)
  forecast.nextRound()
  assert.equal(forecast.isContended(PAIR), false)
  for (let i = 0; i < 4; i++) forecast.observe(PAIR, true)
  assert.equal(forecast.isContended(PAIR), false, 'the old tally is gone: the verdict needs new samples')
})
