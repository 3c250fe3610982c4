/**
 * Persisted trie nodes (storage/trie-node-store.ts): a state trie written to the store as it is
 * updated and opened again from its root on a fresh store instance must be indistinguishable from
 * the wholly in-memory trie it is differentially checked against (roots, reads, proofs, proofs at
 * past roots); and nodes written for a root that was never sealed must not disturb the old root.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { KECCAK256_NULL, bytesToHex, hexToBytes, setLengthLeft } from '@ethereumjs/util'
import { keccak256 } from '../../src/crypto/native.ts'
import type { AccountDiff, AccountState, Hex, StateDiff } from '../../src/primitives/state-diff.ts'
import { TrieNodeStore } from '../../src/storage/trie-node-store.ts'
import { StateTrie, TrieHistory, type StateTrieAccount } from '../../src/trie/index.ts'
import { rng, type Rng } from '../helpers/rng.ts'

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'megaeth-trie-store-'))
  try {
    await fn(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** What the diffs have written so far, to know which slots to read back. */
type Model = Map<Hex, Set<Hex>>

function randomAccount(r: Rng): AccountState {
  return {
    nonce: BigInt(r.int(1000)),
    balance: r.int(5) === 0 ? 0n : BigInt(bytesToHex(r.bytes(1 + r.int(14)))),
    codeHash: r.int(3) === 0 ? keccak256(r.bytes(10)) : KECCAK256_NULL,
  }
}

function randomValue(r: Rng): Uint8Array {
  const v = r.bytes(1 + r.int(32))
  if (v[0] === 0) v[0] = 1
  return v
}

/** Slots mostly from a small set, so later diffs overwrite and zero them (deletions fold branches). */
function randomSlot(r: Rng): Hex {
  return r.int(3) === 0 ? bytesToHex(r.bytes(32)) : bytesToHex(setLengthLeft(Uint8Array.of(r.int(24)), 32))
}

function randomDiff(r: Rng, pool: Hex[], model: Model): StateDiff {
  const accounts = new Map<Hex, AccountDiff>()
  for (let i = 1 + r.int(12); i > 0; i--) {
    const address = r.pick(pool)
    const roll = r.int(12)
    if (model.has(address) && roll === 0) {
      accounts.set(address, { account: null, storageCleared: true, storage: new Map() })
      model.delete(address)
      continue
    }
    const storageCleared = model.has(address) && roll === 1
    const storage = new Map<Hex, Uint8Array>()
    for (let j = r.int(2) === 0 ? 0 : 1 + r.int(8); j > 0; j--) {
      storage.set(randomSlot(r), r.int(4) === 0 ? new Uint8Array(0) : randomValue(r))
    }
    const slots = storageCleared ? new Set<Hex>() : (model.get(address) ?? new Set<Hex>())
    for (const slot of storage.keys()) slots.add(slot)
    model.set(address, slots)
    accounts.set(address, { account: randomAccount(r), storageCleared, storage })
  }
  return { accounts, codes: new Map() }
}

function genesisAccounts(r: Rng, pool: Hex[], model: Model): StateTrieAccount[] {
  return pool.slice(0, pool.length / 2).map((address) => {
    const storage: Array<[Uint8Array, Uint8Array]> = []
    const slots = new Set<Hex>()
    if (r.int(3) === 0) {
      for (let i = 1 + r.int(20); i > 0; i--) {
        const slot = randomSlot(r)
        slots.add(slot)
        storage.push([hexToBytes(slot), randomValue(r)])
      }
    }
    model.set(address, slots)
    return { address: hexToBytes(address), account: randomAccount(r), storage }
  })
}

/** Every read and proof the node serves, compared between the two tries. */
function assertSameState(actual: StateTrie, expected: StateTrie, pool: Hex[], model: Model, label: string): void {
  assert.deepEqual(actual.root(), expected.root(), `${label}: root`)
  for (const address of pool) {
    const bytes = hexToBytes(address)
    assert.deepEqual(actual.account(bytes), expected.account(bytes), `${label}: account ${address}`)
    const slots = [...(model.get(address) ?? [])].map((s) => hexToBytes(s))
    slots.push(hexToBytes(randomSlotFor(address)))
    for (const slot of slots) assert.deepEqual(actual.storageValue(bytes, slot), expected.storageValue(bytes, slot))
    assert.deepEqual(actual.storageRoot(bytes), expected.storageRoot(bytes), `${label}: storage root ${address}`)
    assert.deepEqual(actual.getProof(bytes, slots), expected.getProof(bytes, slots), `${label}: proof ${address}`)
  }
}

/** A slot no diff writes (an absent key's proof). */
function randomSlotFor(address: Hex): Hex {
  return bytesToHex(keccak256(hexToBytes(address)))
}

describe('persisted state trie', () => {
  test('reopened from its root on a fresh store after random diffs: the same roots, reads, proofs and past proofs as in memory', async () => {
    await withDir(async (dir) => {
      const r = rng(23)
      const pool = Array.from({ length: 120 }, () => bytesToHex(r.bytes(20)))
      const model: Model = new Map()
      const accounts = genesisAccounts(r, pool, model)
      const memoryHistory = new TrieHistory(4)
      const memory = StateTrie.fromAccounts(accounts, { history: memoryHistory })

      // Built in memory, persisted, then reopened from the root: what openChain does on a new datadir.
      let store = await TrieNodeStore.open(join(dir, 'trie'))
      const built = StateTrie.fromAccounts(accounts)
      await store.putNodes(built.commit(), true)
      let root = built.root()
      assert.deepEqual(root, memory.root())
      let persisted = new StateTrie({ open: { root, source: store }, history: new TrieHistory(4) })
      const roots: Uint8Array[] = [root]
      try {
        for (let block = 1; block <= 44; block++) {
          const diff = randomDiff(r, pool, model)
          const expected = memory.applyDiff(diff)
          root = persisted.applyDiff(diff)
          assert.deepEqual(root, expected, `block ${block}: root`)
          await store.putNodes(persisted.commit(), true)
          roots.push(root)
          // The memory bound: all but the top levels forgotten, loaded again from the store when walked.
          if (block % 3 === 0) {
            const loaded = persisted.loadedNodes()
            persisted.trim(2)
            assert.ok(persisted.loadedNodes() <= loaded)
          }
          if (block % 10 === 0) {
            // A restart: a fresh store instance on the same directory, the state opened from the root alone.
            await store.close()
            store = await TrieNodeStore.open(join(dir, 'trie'))
            persisted = new StateTrie({ open: { root, source: store }, history: new TrieHistory(4) })
            assertSameState(persisted, memory, pool, model, `after block ${block}`)
          }
        }
        assert.ok(store.stats().dbReads > 0, 'the reopened trie read nodes from the store')

        // Proofs at the roots before the last blocks: the reopened trie's history records only what it
        // applied since the restart after block 40; old nodes those blocks did not walk (storage tries
        // it never loaded among them) come from the store.
        for (const past of roots.slice(-4, -1)) {
          for (const address of pool.slice(0, 30)) {
            const bytes = hexToBytes(address)
            const slots = [...(model.get(address) ?? [])].slice(0, 3).map((s) => hexToBytes(s))
            assert.deepEqual(
              persisted.getProofAt(past, bytes, slots),
              memory.getProofAt(past, bytes, slots),
              `proof at a past root for ${address}`,
            )
          }
        }
      } finally {
        await store.close()
      }
    })
  })

  test('nodes written for a root that was never sealed leave the previous root intact', async () => {
    await withDir(async (dir) => {
      const r = rng(7)
      const pool = Array.from({ length: 60 }, () => bytesToHex(r.bytes(20)))
      const model: Model = new Map()
      const accounts = genesisAccounts(r, pool, model)
      const store = await TrieNodeStore.open(join(dir, 'trie'))
      try {
        const live = StateTrie.fromAccounts(accounts)
        await store.putNodes(live.commit(), true)
        const sealedRoot = live.root()
        const memory = StateTrie.fromAccounts(accounts)
        const sealedModel: Model = new Map([...model].map(([a, s]) => [a, new Set(s)]))

        // The next block's nodes reach the store; the seal that would record its root never happens.
        const next = randomDiff(r, pool, model)
        const unsealedRoot = live.applyDiff(next)
        await store.putNodes(live.commit(), true)
        assert.notDeepEqual(unsealedRoot, sealedRoot)
        assert.ok(store.has(unsealedRoot))

        const reopened = new StateTrie({ open: { root: sealedRoot, source: store } })
        assertSameState(reopened, memory, pool, sealedModel, 'the sealed root')
        // And the replay of the lost block from there lands on the same root again.
        assert.deepEqual(reopened.applyDiff(next), unsealedRoot)
        // A root whose write never happened is absent: openChain then rebuilds from the flat state.
        assert.equal(store.has(keccak256(Uint8Array.of(1, 2, 3))), false)
      } finally {
        await store.close()
      }
    })
  })

  test('commit lists every node after the nodes it references, the account root last', async () => {
    const r = rng(11)
    const pool = Array.from({ length: 40 }, () => bytesToHex(r.bytes(20)))
    const model: Model = new Map()
    const state = StateTrie.fromAccounts(genesisAccounts(r, pool, model))
    const nodes = state.commit()
    const position = new Map(nodes.map(([hash], i) => [bytesToHex(hash), i]))
    assert.equal(bytesToHex(nodes.at(-1)![0]), bytesToHex(state.root()))
    // Every 32-byte reference inside a node points to one listed earlier (or to no stored node at all: a value).
    for (const [i, [, rlp]] of nodes.entries()) {
      for (let at = 0; at + 33 <= rlp.length; at++) {
        if (rlp[at] !== 0xa0) continue
        const ref = position.get(bytesToHex(rlp.subarray(at + 1, at + 33)))
        if (ref !== undefined) assert.ok(ref < i, `node ${i} references node ${ref}, listed after it`)
      }
    }
    // A second commit without changes has nothing new.
    assert.equal(state.commit().length, 0)
  })
})
