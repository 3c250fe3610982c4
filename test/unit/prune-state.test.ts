/**
 * `pruneState` (src/node/prune-state.ts) on a datadir made in process: a trie store holding a state
 * and the nodes 30 blocks of updates replaced, and a chain database whose head header names the
 * last root. The prune deletes exactly what the head's state does not reach (up to Bloom false
 * positives), the head's state stays whole and reopens, a second prune finds nothing, and a datadir
 * whose trie lacks the head's root is refused untouched. (The CLI, the lock against a running node
 * and a prune killed mid-sweep: test/e2e/prune-state.test.ts.)
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RLP } from '@ethereumjs/rlp'
import { KECCAK256_NULL, bytesToHex, setLengthLeft } from '@ethereumjs/util'
import { pino } from 'pino'
import { pruneState } from '../../src/node/prune-state.ts'
import { isNodeError } from '../../src/primitives/errors.ts'
import type { AccountDiff, Hex, StateDiff } from '../../src/primitives/state-diff.ts'
import { u64 } from '../../src/primitives/u64.ts'
import { NodeDb } from '../../src/storage/db.ts'
import { TrieNodeStore } from '../../src/storage/trie-node-store.ts'
import { StateTrie } from '../../src/trie/index.ts'
import { storedStateTrieNodes } from '../../src/trie/state-trie-walker.ts'
import { rng } from '../helpers/rng.ts'

const silent = pino({ level: 'silent' })
const HEAD = 30n

/** A datadir whose head (block 30) has state root `root`: the head pointer and a header with that root. */
async function writeHead(datadir: string, root: Uint8Array): Promise<void> {
  const db = await NodeDb.open(join(datadir, 'chaindata'))
  const header = RLP.encode([new Uint8Array(32), new Uint8Array(32), new Uint8Array(20), root, new Uint8Array(32)])
  await db.write(
    [
      db.put('meta', new TextEncoder().encode('head'), Uint8Array.from([...u64(HEAD), ...new Uint8Array(32)])),
      db.put('headers', u64(HEAD), header),
    ],
    true,
  )
  await db.close()
}

/** The trie of 200 accounts (every fifth with storage) after 30 blocks of updates, every version stored. */
async function writeTrie(datadir: string): Promise<Uint8Array> {
  const r = rng(11)
  const addresses = Array.from({ length: 200 }, () => r.bytes(20))
  const slot = (i: number): Uint8Array => setLengthLeft(Uint8Array.of(i), 32)
  const trie = StateTrie.fromAccounts(
    addresses.map((address, i) => ({
      address,
      account: { nonce: 0n, balance: 1n, codeHash: KECCAK256_NULL },
      storage: i % 5 === 0 ? Array.from({ length: 20 }, (_, s): [Uint8Array, Uint8Array] => [slot(s), r.bytes(8)]) : [],
    })),
  )
  const store = await TrieNodeStore.open(join(datadir, 'trie'))
  await store.putNodes(trie.commit(), false)
  for (let block = 1n; block <= HEAD; block++) {
    const accounts = new Map<Hex, AccountDiff>()
    for (let k = 0; k < 10; k++) {
      const i = r.int(addresses.length)
      accounts.set(bytesToHex(addresses[i]!) as Hex, {
        account: { nonce: block, balance: block, codeHash: KECCAK256_NULL },
        storageCleared: false,
        storage: i % 5 === 0 ? new Map([[bytesToHex(slot(r.int(20))) as Hex, r.bytes(8)]]) : new Map(),
      })
    }
    trie.applyDiff({ accounts, codes: new Map() } satisfies StateDiff)
    await store.putNodes(trie.commit(), block === HEAD)
  }
  await store.close()
  return trie.root()
}

async function storeState(datadir: string, root: Uint8Array): Promise<{ stored: number; live: number }> {
  const store = await TrieNodeStore.open(join(datadir, 'trie'))
  try {
    let stored = 0
    for await (const chunk of store.scan(1000)) stored += chunk.length
    const live = new Set([...storedStateTrieNodes(root, store)].map((node) => bytesToHex(node.hash))).size
    // The head's state reopens and reads: a fresh trie over the pruned store answers every account.
    const reopened = new StateTrie({ open: { root, source: store } })
    assert.deepEqual(reopened.root(), root)
    return { stored, live }
  } finally {
    await store.close()
  }
}

async function withDatadir(fn: (datadir: string) => Promise<void>): Promise<void> {
  const datadir = await mkdtemp(join(tmpdir(), 'megaeth-prune-'))
  try {
    await fn(datadir)
  } finally {
    await rm(datadir, { recursive: true, force: true })
  }
}

describe('pruneState', () => {
  test('deletes what the head state does not reach, in batches; the head state stays whole; a second run deletes nothing', async () => {
    await withDatadir(async (datadir) => {
      const root = await writeTrie(datadir)
      await writeHead(datadir, root)
      const before = await storeState(datadir, root)
      assert.ok(before.stored - before.live > 500, `${before.stored} stored, ${before.live} live: the updates left garbage`)

      const report = await pruneState({ datadir, batchNodes: 100 }, silent)
      assert.equal(report.head.number, HEAD)
      assert.equal(report.head.stateRoot, bytesToHex(root))
      assert.equal(report.nodesBefore, before.stored)
      assert.equal(report.verified, report.marked)
      const after = await storeState(datadir, root)
      assert.equal(after.live, before.live)
      assert.equal(after.stored, before.stored - report.deleted)
      // 0.1% false positives over ~1,000 garbage nodes: a handful at most.
      assert.ok(after.stored - after.live <= 5, `${after.stored - after.live} garbage nodes kept`)

      const again = await pruneState({ datadir, verify: false }, silent)
      assert.equal(again.deleted, 0)
      assert.equal(again.verified, undefined)
    })
  })

  test('refuses a datadir whose trie lacks the head root, deleting nothing', async () => {
    await withDatadir(async (datadir) => {
      const root = await writeTrie(datadir)
      await writeHead(datadir, new Uint8Array(32).fill(7))
      const before = await storeState(datadir, root)
      await assert.rejects(pruneState({ datadir }, silent), (error: unknown) => {
        assert.ok(isNodeError(error, 'DATADIR_INVALID'))
        assert.match(error.message, /does not hold the head's state root/)
        return true
      })
      assert.deepEqual(await storeState(datadir, root), before)
    })
  })
})
