import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bytesToHex, KECCAK256_NULL } from '@ethereumjs/util'
import { keccak256 } from '../../src/crypto/native.ts'
import { emptyStateDiff, mergeStateDiff, type AccountDiff, type Hex, type StateDiff } from '../../src/primitives/state-diff.ts'
import { DiskFlatState } from '../../src/state/disk-flat-state.ts'
import { FlatState } from '../../src/state/flat-state.ts'
import type { StateReader } from '../../src/state/state-reader.ts'
import { StateHistory } from '../../src/state/state-history.ts'
import { NodeDb } from '../../src/storage/db.ts'
import { StateStore } from '../../src/storage/state-store.ts'
import { rng, type Rng } from '../helpers/rng.ts'

const ADDRESSES = Array.from({ length: 200 }, (_, i) => `0x${(i + 1).toString(16).padStart(40, '0')}` as Hex)
const SLOTS = Array.from({ length: 4 }, (_, i) => `0x${i.toString(16).padStart(64, '0')}` as Hex)
const CODES = Array.from({ length: 6 }, (_, i) => Uint8Array.of(0x60, i, 0x00))
const CODE_HASHES = CODES.map((code) => bytesToHex(keccak256(code)) as Hex)

function randomDiff(r: Rng): StateDiff {
  const diff = emptyStateDiff()
  for (let n = 1 + r.int(12); n > 0; n--) {
    const address = r.pick(ADDRESSES)
    const roll = r.next()
    const storage = new Map<Hex, Uint8Array>()
    for (const slot of SLOTS)
      if (r.next() < 0.3) storage.set(slot, r.next() < 0.3 ? new Uint8Array(0) : Uint8Array.of(1 + r.int(200)))
    let change: AccountDiff
    if (roll < 0.08) change = { account: null, storageCleared: true, storage: new Map() }
    else {
      const withCode = r.next() < 0.2 ? r.int(CODES.length) : -1
      if (withCode >= 0) diff.codes.set(CODE_HASHES[withCode]!, CODES[withCode]!)
      change = {
        account: {
          nonce: BigInt(r.int(10)),
          balance: BigInt(r.int(1e9)),
          codeHash: withCode >= 0 ? keccak256(CODES[withCode]!) : KECCAK256_NULL,
        },
        storageCleared: roll < 0.12,
        storage,
      }
    }
    diff.accounts.set(address, change)
  }
  return diff
}

function readAll(state: StateReader): string {
  const out: string[] = []
  for (const address of ADDRESSES) {
    const a = state.getAccount(address)
    out.push(
      `${address}:${a === undefined ? '-' : `${a.nonce}/${a.balance}/${bytesToHex(a.codeHash)}`}:${state.hasStorage(address)}`,
    )
    for (const slot of SLOTS) out.push(bytesToHex(state.getStorage(address, slot)))
  }
  for (const hash of CODE_HASHES) out.push(`${hash}=${state.getCode(hash)?.length ?? '-'}`)
  return out.join(',')
}

async function withStore(fn: (db: NodeDb, store: StateStore) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'megaeth-disk-state-'))
  const db = await NodeDb.open(dir)
  try {
    await fn(db, new StateStore(db))
  } finally {
    await db.close()
    await rm(dir, { recursive: true, force: true })
  }
}

test('a disk-backed live state reads as the whole in-memory one while blocks seal behind it (random differential, a cache that evicts)', async () => {
  for (let seed = 1; seed <= 12; seed++) {
    await withStore(async (db, store) => {
      const r = rng(seed)
      const memory = new FlatState()
      // A cache far smaller than the state: most reads of sealed accounts go to LevelDB.
      const disk = new DiskFlatState(store, new Map(), 4096)
      const memoryHistory = new StateHistory(memory, 0n, 8)
      const diskHistory = new StateHistory(disk, 0n, 8)
      const merged = new Map<bigint, StateDiff>()
      let sealed = 0n
      const seal = async (block: bigint): Promise<void> => {
        // As the sequencer's sealer: the block's merged diff in one write, then the view learns it is durable.
        await db.write(await store.diffOps(merged.get(block)!), false)
        diskHistory.durable(block)
        merged.delete(block)
        sealed = block
      }
      for (let block = 1n; block <= 40n; block++) {
        const blockDiff = emptyStateDiff()
        merged.set(block, blockDiff)
        for (let m = 1 + r.int(4); m > 0; m--) {
          const diff = randomDiff(r)
          mergeStateDiff(blockDiff, diff)
          memoryHistory.apply(block, diff)
          diskHistory.apply(block, diff)
          // Sealing lags execution by a block or two, as it does behind the mini-block loop.
          if (sealed < block - 2n || (sealed < block - 1n && r.next() < 0.5)) await seal(sealed + 1n)
          assert.equal(readAll(disk), readAll(memory), `seed ${seed}, block ${block}: live state`)
        }
        for (let back = 1n; back <= 3n && back < block; back++)
          assert.equal(
            readAll(diskHistory.at(block - back)),
            readAll(memoryHistory.at(block - back)),
            `seed ${seed}: block ${block - back}`,
          )
      }
      while (sealed < 40n) await seal(sealed + 1n)
      assert.equal(disk.dirtyEntries, 0, 'every write is durable after the last seal: nothing stays pinned')
      assert.ok(disk.missed.accounts > 0, 'the small cache sent reads to the store')
      // A restart: a fresh disk-backed state over the same store reads the same.
      const reopened = new DiskFlatState(store, await store.loadStorage(), 4096)
      assert.equal(readAll(reopened), readAll(memory), `seed ${seed}: reopened`)
      assert.equal(readAll(await store.load()), readAll(memory), `seed ${seed}: the store itself`)
    })
  }
})

test('a write is never evicted before its block is durable: the store still holds the older value', async () => {
  await withStore(async (db, store) => {
    const address = ADDRESSES[0]!
    const write = (balance: bigint): StateDiff => ({
      accounts: new Map([
        [address, { account: { nonce: 0n, balance, codeHash: KECCAK256_NULL }, storageCleared: false, storage: new Map() }],
      ]),
      codes: new Map(),
    })
    await db.write(await store.diffOps(write(1n)), false)
    const disk = new DiskFlatState(store, new Map(), 0)
    disk.apply(write(2n), 5n)
    // Churn the (minimal) cache with thousands of other reads.
    for (let i = 0; i < 5000; i++) disk.getAccount(`0x${(i + 1000).toString(16).padStart(40, '0')}` as Hex)
    assert.equal(disk.getAccount(address)?.balance, 2n, 'the dirty value, not the stored one')
    disk.durable(4n)
    assert.equal(disk.getAccount(address)?.balance, 2n, 'an earlier block being durable does not release it')
    assert.equal(disk.dirtyEntries, 1)
    await db.write(await store.diffOps(write(2n)), false)
    disk.durable(5n)
    assert.equal(disk.dirtyEntries, 0)
    for (let i = 0; i < 5000; i++) disk.getAccount(`0x${(i + 9000).toString(16).padStart(40, '0')}` as Hex)
    assert.equal(disk.getAccount(address)?.balance, 2n, 'evicted, then read back from the store')
  })
})
