/**
 * Derivation's heads survive a restart: the record round-trips through the database, a restarted
 * sequencer resumes from it only while its chain still holds the recorded block, a derived-only chain
 * resumes at its head without claiming more finality than recorded, and the recorder writes only
 * what changed, the newest heads last.
 */
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import pino from 'pino'
import type { SealedBlock } from '../../src/chain/block.ts'
import { derivationStart, L1HeadsRecorder } from '../../src/derive/l1-heads.ts'
import type { SafeBlockRef } from '../../src/derive/safe-chain.ts'
import type { Hex } from '../../src/primitives/state-diff.ts'
import { NodeDb } from '../../src/storage/db.ts'
import { L1HeadsStore } from '../../src/storage/l1-heads-store.ts'

const hashOf = (n: bigint, fork = 0): Hex => `0x${(n * 1000n + BigInt(fork)).toString(16).padStart(64, '0')}` as Hex

/** The two things `derivationStart` reads of a chain: its head and its blocks by number. */
function chainOf(head: bigint, fork = 0) {
  const block = (n: bigint) => ({ hash: hashOf(n, fork), header: { number: n } }) as unknown as SealedBlock
  return {
    head: block(head),
    blockByNumber: async (n: bigint) => (n <= head ? block(n) : undefined),
  }
}

async function withStore<T>(fn: (store: L1HeadsStore, db: NodeDb) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'megaeth-l1heads-'))
  const db = await NodeDb.open(dir)
  try {
    return await fn(new L1HeadsStore(db), db)
  } finally {
    await db.close()
    await rm(dir, { recursive: true, force: true })
  }
}

describe('L1 heads record', () => {
  it('round-trips and never records finalized above safe', async () => {
    await withStore(async (store) => {
      assert.equal(await store.load(), undefined)
      await store.save({ safe: { number: 41n, hash: hashOf(41n) }, finalized: 30n })
      assert.deepEqual(await store.load(), { safe: { number: 41n, hash: hashOf(41n) }, finalized: 30n })
      await store.save({ safe: { number: 12n, hash: hashOf(12n) }, finalized: 30n })
      assert.deepEqual(await store.load(), { safe: { number: 12n, hash: hashOf(12n) }, finalized: 12n })
    })
  })

  it('a sequencer resumes from the recorded safe head only if its chain still holds that block', async () => {
    const record = { safe: { number: 40n, hash: hashOf(40n) }, finalized: 25n }
    assert.deepEqual(await derivationStart('recorded', chainOf(90n), record), { safe: 40n, finalized: 25n })
    // No record (a datadir from before it existed): from genesis, as before.
    assert.deepEqual(await derivationStart('recorded', chainOf(90n), undefined), { safe: 0n, finalized: 0n })
    // The chain was rewound and rebuilt after the record was written (a crash before the next record).
    assert.deepEqual(await derivationStart('recorded', chainOf(90n, 1), record), { safe: 0n, finalized: 0n })
    // The chain was rewound below the recorded block.
    assert.deepEqual(await derivationStart('recorded', chainOf(30n), record), { safe: 0n, finalized: 0n })
  })

  it('a derived-only chain resumes at its head, final only as far as recorded', async () => {
    assert.deepEqual(await derivationStart('head', chainOf(90n), { safe: { number: 88n, hash: hashOf(88n) }, finalized: 60n }), {
      safe: 90n,
      finalized: 60n,
    })
    assert.deepEqual(await derivationStart('head', chainOf(50n), { safe: { number: 88n, hash: hashOf(88n) }, finalized: 60n }), {
      safe: 50n,
      finalized: 50n,
    })
    assert.deepEqual(await derivationStart('head', chainOf(90n), undefined), { safe: 90n, finalized: 0n })
  })

  it('the recorder writes changes only, one at a time, the newest last', async () => {
    await withStore(async (store, db) => {
      let writes = 0
      const counting = new L1HeadsStore(db)
      const save = counting.save.bind(counting)
      counting.save = async (r) => {
        writes++
        await save(r)
      }
      const ref = async (n: bigint): Promise<SafeBlockRef> => ({
        number: n,
        hash: hashOf(n),
        timestamp: 0n,
        l1Origin: { number: 0n, hash: hashOf(0n) },
        sequenceNumber: 0n,
      })
      const recorder = new L1HeadsRecorder(counting, ref, pino({ level: 'silent' }))
      recorder.record({ safe: 5n, finalized: 1n })
      recorder.record({ safe: 6n, finalized: 1n })
      recorder.record({ safe: 7n, finalized: 2n })
      recorder.record({ safe: 7n, finalized: 2n })
      await recorder.flushed()
      assert.deepEqual(await store.load(), { safe: { number: 7n, hash: hashOf(7n) }, finalized: 2n })
      assert.equal(writes, 2, 'the first heads, then the newest of those that came while it was written')
      recorder.record({ safe: 7n, finalized: 2n })
      await recorder.flushed()
      assert.equal(writes, 2, 'unchanged heads are not written again')
    })
  })
})
