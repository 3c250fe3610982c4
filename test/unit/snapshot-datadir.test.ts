/**
 * Snapshot sync's two ends without the network: `StateSnapshots` serving a real datadir's sealed state
 * page by page (through the wire codec and the client's shape checks), and `SnapshotDatadir` turning
 * the pages into a new datadir that `openChain` opens at the pivot. A forged balance or a missing
 * contract code is refused and leaves no chain behind.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RLP } from '@ethereumjs/rlp'
import { bigIntToUnpaddedBytes, bytesToBigInt } from '@ethereumjs/util'
import { createChainCommon } from '../../src/chain/config.ts'
import { chainConfigFromGenesis, devGenesis, type GenesisFile } from '../../src/chain/genesis.ts'
import { openChain, type OpenedChain } from '../../src/node/bootstrap.ts'
import { SnapshotDatadir } from '../../src/node/snapshot-datadir.ts'
import { decodeStateRange, encodeStateRange, type BlockBundle } from '../../src/p2p/index.ts'
import { emptyStateDiff, type Hex } from '../../src/primitives/state-diff.ts'
import { SnapshotStateMismatchError, SnapshotSyncError } from '../../src/replica/snapshot-sync.ts'
import { NodeDb } from '../../src/storage/db.ts'
import { checkRawStateEntry } from '../../src/storage/state-store.ts'
import { u64 } from '../../src/primitives/u64.ts'
import { StateSnapshots, DEFAULT_STATE_SNAPSHOT_OPTIONS } from '../../src/storage/state-snapshots.ts'

/** The dev genesis and a contract with storage: slots come in their own run of the snapshot, after all accounts. */
const STORAGE_HOLDER = '0x00000000000000000000000000000000005107ed'
const genesis: GenesisFile = (() => {
  const dev = devGenesis()
  return {
    ...dev,
    alloc: {
      ...dev.alloc,
      [STORAGE_HOLDER]: { balance: '0x0', code: '0x6001' as const, storage: { '0x01': '0x2a', '0x02': '0x07' } },
    },
  }
})()
const config = chainConfigFromGenesis(genesis, 'test')
const common = createChainCommon(config)
const FUNDED: Hex = '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266'

async function withDirs(fn: (source: string, target: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'megaeth-snapshot-'))
  try {
    await fn(join(root, 'source'), join(root, 'target'))
  } finally {
    await rm(root, { recursive: true, force: true })
  }
}

/** Every page of the pivot's state, `perPage` entries at a time, through the wire codec and the client's checks. */
async function fetchAll(snapshots: StateSnapshots, pivot: bigint, perPage: number): Promise<Array<[Uint8Array, Uint8Array]>> {
  const all: Array<[Uint8Array, Uint8Array]> = []
  let after: Uint8Array = new Uint8Array(0)
  for (;;) {
    const served = await snapshots.range(pivot, after.length === 0 ? undefined : after, perPage)
    const page = decodeStateRange(encodeStateRange(served), after)
    for (const [k, v] of page.entries) checkRawStateEntry(k, v)
    all.push(...page.entries)
    const last = page.entries.at(-1)
    if (!page.more || last === undefined) return all
    after = last[0]
  }
}

function bundleOf(opened: OpenedChain): BlockBundle {
  const head = opened.chain.head
  return {
    announcement: { header: head.header, miniBlocks: head.miniBlocks, signature: new Uint8Array(65) },
    transactions: head.transactions,
    receipts: head.receipts,
    diff: emptyStateDiff(),
  }
}

async function sinkAt(target: string): Promise<SnapshotDatadir> {
  const sink = await SnapshotDatadir.open(target, genesis, config, common)
  assert.ok(sink !== undefined, 'a new datadir must take a snapshot')
  return sink
}

test('a datadir filled from snapshot pages opens at the pivot with the source state', async () => {
  await withDirs(async (source, target) => {
    const opened = await openChain(source, genesis, config, common)
    const snapshots = new StateSnapshots(opened.db, opened.blocks, opened.stateStore)
    try {
      const pivot = (await snapshots.pin()).header.number
      assert.equal(pivot, opened.chain.head.header.number)
      const entries = await fetchAll(snapshots, pivot, 7)
      assert.ok(entries.length > 20, `only ${entries.length} entries`)
      assert.ok(
        entries.some(([k]) => k[0] === 0x63),
        'no contract code in the dev genesis state',
      )

      const sink = await sinkAt(target)
      await sink.reset()
      for (let i = 0; i < entries.length; i += 5) await sink.write(entries.slice(i, i + 5))
      await sink.finish(bundleOf(opened))
      await sink.close()
      assert.equal(await SnapshotDatadir.open(target, genesis, config, common), undefined, 'a synced datadir is a chain')

      const synced = await openChain(target, genesis, config, common, { stateCacheBytes: 1 << 20 })
      try {
        assert.equal(synced.chain.head.hash, opened.chain.head.hash)
        assert.equal(synced.trie.source, 'persisted')
        assert.deepEqual(await synced.merkleizer.root(), opened.chain.head.header.stateRoot)
        assert.deepEqual(synced.chain.latestState().getAccount(FUNDED), opened.chain.latestState().getAccount(FUNDED))
        assert.equal(await synced.artifacts.verifiedHead(), pivot)
      } finally {
        await synced.close()
      }
    } finally {
      await snapshots.close()
      await opened.close()
    }
  })
})

test('a pinned snapshot keeps serving its pivot state while the store moves on, and expires when dropped', async () => {
  await withDirs(async (source) => {
    const opened = await openChain(source, genesis, config, common)
    const snapshots = new StateSnapshots(opened.db, opened.blocks, opened.stateStore, {
      ...DEFAULT_STATE_SNAPSHOT_OPTIONS,
      maxOpen: 1,
      shareBlocks: 0,
    })
    try {
      const pivot = (await snapshots.pin()).header.number
      const before = await fetchAll(snapshots, pivot, 1000)
      const diff = emptyStateDiff()
      const account = opened.chain.latestState().getAccount(FUNDED)!
      diff.accounts.set(FUNDED, { account: { ...account, balance: 1n }, storageCleared: false, storage: new Map() })
      await opened.db.write(await opened.stateStore.diffOps(diff), true)
      assert.deepEqual(await fetchAll(snapshots, pivot, 1000), before, 'the snapshot saw a later write')
      // Same head, so the same pivot: the held snapshot (still the old state) is shared, not replaced.
      assert.equal((await snapshots.pin()).header.number, pivot)
      await assert.rejects(snapshots.range(pivot + 1n, undefined, 10), /no state snapshot at block/)
    } finally {
      await snapshots.close()
      await opened.close()
    }
  })
})

test('a forged balance or a missing code is refused, and leaves a datadir that syncs again', async () => {
  await withDirs(async (source, target) => {
    const opened = await openChain(source, genesis, config, common)
    const snapshots = new StateSnapshots(opened.db, opened.blocks, opened.stateStore)
    try {
      const entries = await fetchAll(snapshots, (await snapshots.pin()).header.number, 64)
      const forged = entries.map(([k, v]): [Uint8Array, Uint8Array] => [k, v])
      const index = forged.findIndex(([k]) => k[0] === 0x61)
      const [nonce, balance, codeHash] = RLP.decode(forged[index]![1]) as Uint8Array[]
      forged[index]![1] = RLP.encode([nonce!, bigIntToUnpaddedBytes(bytesToBigInt(balance!) + 1n), codeHash!])

      const sink = await sinkAt(target)
      await sink.reset()
      await sink.write(forged)
      await assert.rejects(sink.finish(bundleOf(opened)), (e: unknown) => e instanceof SnapshotStateMismatchError)
      await sink.reset()
      await sink.write(entries.filter(([k]) => k[0] !== 0x63))
      await assert.rejects(
        sink.finish(bundleOf(opened)),
        (e: unknown) => e instanceof SnapshotSyncError && /did not send/.test(e.message),
      )
      // Slots whose account is missing: their storage root would have no leaf to go to.
      const holder = Buffer.from(STORAGE_HOLDER.slice(2), 'hex')
      await sink.reset()
      await sink.write(entries.filter(([k]) => !(k[0] === 0x61 && holder.equals(k.subarray(1)))))
      await assert.rejects(
        sink.finish(bundleOf(opened)),
        (e: unknown) => e instanceof SnapshotSyncError && /storage was added for 1 accounts that were not/.test(e.message),
      )
      // Still not a chain: the honest pages make it one.
      await sink.reset()
      await sink.write(entries)
      await sink.finish(bundleOf(opened))
      await sink.close()
      const synced = await openChain(target, genesis, config, common)
      assert.equal(synced.chain.head.hash, opened.chain.head.hash)
      await synced.close()
    } finally {
      await snapshots.close()
      await opened.close()
    }
  })
})

test('entriesAfter fills its limit across LevelDB batches and stops only at the end', async () => {
  await withDirs(async (dir) => {
    const db = await NodeDb.open(dir)
    try {
      // 40 KB of values: more than classic-level hands out per `nextv` call (its 16 KiB byte budget).
      const ops = Array.from({ length: 5000 }, (_, i) => db.put('state', u64(BigInt(i)), new Uint8Array(8).fill(i & 0xff)))
      await db.write(ops, false)
      const first = await db.entriesAfter('state', undefined, 4096)
      assert.equal(first.length, 4096)
      const rest = await db.entriesAfter('state', first.at(-1)![0], 4096)
      assert.equal(rest.length, 5000 - 4096)
      assert.deepEqual(Uint8Array.from(rest[0]![0]), u64(4096n))
    } finally {
      await db.close()
    }
  })
})
