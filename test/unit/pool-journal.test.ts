import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { NodeDb } from '../../src/storage/db.ts'
import { PoolJournal } from '../../src/storage/pool-journal.ts'

const tx = (n: number): Uint8Array => Uint8Array.of(2, n, n, n)

async function withDb(fn: (open: () => Promise<NodeDb>) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'pool-journal-'))
  try {
    await fn(() => NodeDb.open(join(dir, 'db')))
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

test('journaled transactions survive reopening, in arrival order', async () => {
  await withDb(async (open) => {
    let db = await open()
    const journal = new PoolJournal(db)
    await Promise.all([journal.add(tx(1)), journal.add(tx(2))])
    await journal.add(tx(3))
    await db.close()
    db = await open()
    assert.deepEqual(await new PoolJournal(db).load(), [tx(1), tx(2), tx(3)])
    await db.close()
  })
})

test('rotation keeps what the pool holds and what arrives after it; appends continue after a reload', async () => {
  await withDb(async (open) => {
    let db = await open()
    const journal = new PoolJournal(db)
    await Promise.all([1, 2, 3, 4].map((n) => journal.add(tx(n))))
    const late = journal.add(tx(5))
    // The snapshot is taken after pending appends land, so tx 5 (pooled before it) is in the pool's view.
    await journal.rotate(() => [tx(2), tx(5)])
    await late
    await journal.add(tx(6))
    await db.close()
    db = await open()
    const reloaded = new PoolJournal(db)
    const raws = await reloaded.load()
    assert.deepEqual(new Set(raws.map((r) => r[1])), new Set([2, 5, 6]))
    await reloaded.add(tx(7))
    assert.deepEqual((await reloaded.load()).at(-1), tx(7), 'appends after a reload sort after the loaded entries')
    await reloaded.rotate(() => [])
    assert.deepEqual(await reloaded.load(), [])
    await db.close()
  })
})
