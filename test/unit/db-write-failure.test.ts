/**
 * Regression (disk-fault campaign): a failed database write must never be retried-and-ignored. Before
 * the fix, a WAL fsync that failed once was followed by successful writes of later mini-blocks, whose
 * receipts were then published on top of a parent that was not on disk (PostgreSQL's "fsyncgate":
 * a retried fsync can report success for data the kernel already dropped). Now the first failure
 * poisons the handle: every later write rejects with the same error until the database is reopened.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'

// Armed before src is loaded: failpoints read MEGAETH_FAILPOINTS once, at import.
process.env.MEGAETH_FAILPOINTS = 'unit.fsync=error@2,unit.write=error@1'
const { NodeDb } = await import('../../src/storage/db.ts')
const { StorageWriteError } = await import('../../src/storage/errors.ts')

const key = (n: number): Uint8Array => Uint8Array.of(n)

describe('NodeDb after a failed write', () => {
  it('refuses every later write with the same error, even when the disk works again; a reopen recovers what was written', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'megaeth-dbfail-'))
    try {
      const db = await NodeDb.open(dir)
      await db.write([db.put('wal', key(1), key(1))], true, 'unit.fsync')
      // The second synced write fails after LevelDB wrote it: a failed fsync, its bytes of unknown fate.
      const first = await db.write([db.put('wal', key(2), key(2))], true, 'unit.fsync').then(
        () => undefined,
        (error: unknown) => error,
      )
      assert.ok(first instanceof StorageWriteError, 'the failed fsync surfaces as a StorageWriteError')
      assert.equal(first.code, 'STORAGE_WRITE_FAILED')
      assert.equal(first.data.errno, 'EIO')
      assert.equal(db.failure, first, 'the database remembers the failure')
      // A later write that the disk would take (no failpoint) is refused: nothing is acknowledged after a failure.
      await assert.rejects(db.write([db.put('wal', key(3), key(3))], true), (e: unknown) => e === first)
      await assert.rejects(db.write([db.put('pool', key(4), key(4))], false), (e: unknown) => e === first)
      assert.equal(await db.get('wal', key(3)), undefined, 'the refused write did not happen')
      assert.deepEqual(await db.get('wal', key(1)), key(1), 'reads still work')
      await db.close()
      // Reopened (a restart): writable again, everything that reached the log is there.
      const reopened = await NodeDb.open(dir)
      assert.equal(reopened.failure, undefined)
      assert.deepEqual(await reopened.get('wal', key(1)), key(1))
      await reopened.write([reopened.put('wal', key(5), key(5))], true)
      assert.deepEqual(await reopened.get('wal', key(5)), key(5))
      await reopened.close()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('an unsynced write fails before it reaches LevelDB (a failed write(2)): nothing of it is stored', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'megaeth-dbfail-'))
    try {
      const db = await NodeDb.open(dir)
      await assert.rejects(db.write([db.put('pool', key(1), key(1))], false, 'unit.write'), StorageWriteError)
      await db.close()
      const reopened = await NodeDb.open(dir)
      assert.equal(await reopened.get('pool', key(1)), undefined)
      await reopened.close()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
