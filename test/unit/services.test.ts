/**
 * A role's services stop in the reverse of their start order (RPC first, the database last), every
 * one of them even when one fails to stop, and only once however often `stop()` is called.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Services, type Service } from '../../src/node/services.ts'

function recorder(log: string[], name: string, failStop = false): Service {
  return {
    start: () => void log.push(`start ${name}`),
    stop: async () => {
      log.push(`stop ${name}`)
      if (failStop) throw new Error(`${name} failed to stop`)
    },
  }
}

test('services stop in the reverse of their start order, opened resources included', async () => {
  const log: string[] = []
  const services = new Services()
  const db = await services.open(
    'database',
    async () => ({ name: 'db' }),
    (opened) => void log.push(`close ${opened.name}`),
  )
  assert.equal(db.name, 'db')
  await services.start('sequencer', recorder(log, 'sequencer'))
  await services.start('RPC', recorder(log, 'RPC'))
  assert.deepEqual(services.stopOrder(), ['RPC', 'sequencer', 'database'])
  await services.stop()
  assert.deepEqual(log, ['start sequencer', 'start RPC', 'stop RPC', 'stop sequencer', 'close db'])
})

test('a service that fails to stop does not keep the ones started before it running', async () => {
  const log: string[] = []
  const services = new Services()
  await services.start('database', recorder(log, 'database'))
  await services.start('RPC', recorder(log, 'RPC', true))
  await assert.rejects(services.stop(), /RPC failed to stop/)
  assert.deepEqual(log, ['start database', 'start RPC', 'stop RPC', 'stop database'])
  // Stopping again is the same stop, not a second one.
  await assert.rejects(services.stop(), /RPC failed to stop/)
  assert.equal(log.filter((l) => l === 'stop database').length, 1)
})

test('a service whose start fails is not stopped; those started before it are', async () => {
  const log: string[] = []
  const services = new Services()
  await services.start('database', recorder(log, 'database'))
  const failing: Service = { start: () => Promise.reject(new Error('port in use')), stop: () => void log.push('stop RPC') }
  await assert.rejects(services.start('RPC', failing), /port in use/)
  await services.stop()
  assert.deepEqual(log, ['start database', 'stop database'])
})
