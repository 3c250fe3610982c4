/**
 * A LevelDB already open elsewhere (a running node's datadir) is refused with a `DatabaseLockedError`
 * (`STORAGE_LOCKED`, an operator error: exit 2) that says the database is in use, for the chain
 * database and the trie store alike; that is what keeps `prune-state` off a running node's datadir.
 * LevelDB's lock is per process and per instance, so a second instance in this process stands in
 * for the other process.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isNodeError } from '../../src/primitives/errors.ts'
import { NodeDb } from '../../src/storage/db.ts'
import { TrieNodeStore } from '../../src/storage/trie-node-store.ts'

describe('opening a locked database', () => {
  test('NodeDb and TrieNodeStore throw DatabaseLockedError while another instance holds the lock', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'megaeth-level-lock-'))
    try {
      const db = await NodeDb.open(join(dir, 'chaindata'))
      const store = await TrieNodeStore.open(join(dir, 'trie'))
      await assert.rejects(NodeDb.open(join(dir, 'chaindata')), (error: unknown) => {
        assert.ok(isNodeError(error, 'STORAGE_LOCKED'))
        assert.match(error.message, /chaindata is in use by another process/)
        return true
      })
      await assert.rejects(TrieNodeStore.open(join(dir, 'trie')), (error: unknown) => isNodeError(error, 'STORAGE_LOCKED'))
      await db.close()
      await store.close()
      // Released: it opens again.
      await (await NodeDb.open(join(dir, 'chaindata'))).close()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
