/**
 * The state-trie walker prune-state marks with (src/trie/state-trie-walker.ts): from a root it yields
 * exactly the stored nodes of that state (account trie and every storage trie), not the nodes older
 * roots left behind, and a missing node stops it with `MissingTrieNodeError`.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { KECCAK256_NULL, KECCAK256_RLP, bytesToHex, setLengthLeft } from '@ethereumjs/util'
import type { AccountDiff, Hex, StateDiff } from '../../src/primitives/state-diff.ts'
import { MissingTrieNodeError, StateTrie, type StateTrieAccount } from '../../src/trie/index.ts'
import { storedStateTrieNodes } from '../../src/trie/state-trie-walker.ts'
import { rng } from '../helpers/rng.ts'

/** A node store in a Map: every node ever committed, as the trie directory keeps them. */
class MapSource {
  readonly nodes = new Map<Hex, Uint8Array>()
  get(hash: Uint8Array): Uint8Array | undefined {
    return this.nodes.get(bytesToHex(hash) as Hex)
  }
  putAll(nodes: Array<[Uint8Array, Uint8Array]>): Set<Hex> {
    const keys = new Set<Hex>()
    for (const [hash, rlp] of nodes) {
      this.nodes.set(bytesToHex(hash) as Hex, rlp)
      keys.add(bytesToHex(hash) as Hex)
    }
    return keys
  }
}

const r = rng(7)
const slot = (i: number): Uint8Array => setLengthLeft(Uint8Array.of(i), 32)
const value = (i: number): Uint8Array => Uint8Array.of(1 + (i % 200))

function accounts(): StateTrieAccount[] {
  return Array.from({ length: 300 }, (_, i) => ({
    address: r.bytes(20),
    account: { nonce: BigInt(i), balance: BigInt(i) * 10n ** 18n, codeHash: KECCAK256_NULL },
    // Every tenth account has storage; accounts 0 and 10 the same (one storage trie, two accounts).
    storage: i % 10 === 0 ? Array.from({ length: i === 0 ? 40 : 40 + i }, (_, s) => [slot(s), value(i === 10 ? s : s + i)]) : [],
  }))
}

/** The hashes walked (storage tries of different accounts may share subtrees, so some come twice). */
function walk(root: Uint8Array, source: MapSource): Set<Hex> {
  return new Set([...storedStateTrieNodes(root, source)].map((node) => bytesToHex(node.hash) as Hex))
}

describe('storedStateTrieNodes', () => {
  test('yields every stored node of a state, account and storage tries; a storage trie two accounts share is walked once', () => {
    const genesis = accounts()
    genesis[10]!.storage = genesis[0]!.storage
    const trie = StateTrie.fromAccounts(genesis)
    const source = new MapSource()
    const written = source.putAll(trie.commit())
    const walked = walk(trie.root(), source)
    assert.deepEqual(walked, written)
    const sharedRoot = trie.storageRoot(genesis[0]!.address)
    assert.deepEqual(trie.storageRoot(genesis[10]!.address), sharedRoot)
    const visits = [...storedStateTrieNodes(trie.root(), source)]
    assert.equal(visits.filter((node) => bytesToHex(node.hash) === bytesToHex(sharedRoot)).length, 1)
    const kinds = [...storedStateTrieNodes(trie.root(), source)].map((node) => node.trie)
    assert.ok(kinds.includes('account') && kinds.includes('storage'))
  })

  test('after updates, walks the new root only: the replaced nodes are what is left over', () => {
    const genesis = accounts()
    const trie = StateTrie.fromAccounts(genesis)
    const source = new MapSource()
    source.putAll(trie.commit())
    const oldRoot = trie.root()
    const oldNodes = walk(oldRoot, source)
    for (let block = 0; block < 20; block++) {
      const diff: StateDiff = { accounts: new Map<Hex, AccountDiff>(), codes: new Map() }
      for (const i of [0, 10, 20, 150]) {
        diff.accounts.set(bytesToHex(genesis[i]!.address) as Hex, {
          account: { nonce: BigInt(block + 1000), balance: BigInt(block), codeHash: KECCAK256_NULL },
          storageCleared: false,
          storage: new Map([[bytesToHex(slot(block % 5)) as Hex, value(block)]]),
        })
      }
      trie.applyDiff(diff)
      source.putAll(trie.commit())
    }
    const live = walk(trie.root(), source)
    // The fresh trie built from the same state has exactly these nodes.
    const fresh = new MapSource()
    const rebuilt = StateTrie.fromAccounts(
      genesis.map((a) => ({ ...a, account: trie.account(a.address)!.account, storage: storageOf(trie, a) })),
    )
    assert.deepEqual(rebuilt.root(), trie.root())
    assert.deepEqual(live, fresh.putAll(rebuilt.commit()))
    assert.ok(source.nodes.size > live.size, 'the updates left garbage')
    // The old root is still whole in the store (nothing is deleted by updates).
    assert.deepEqual(walk(oldRoot, source), oldNodes)
  })

  test('a missing node ends the walk with MissingTrieNodeError; the empty state has no nodes', () => {
    const trie = StateTrie.fromAccounts(accounts())
    const source = new MapSource()
    source.putAll(trie.commit())
    const victim = [...walk(trie.root(), source)].at(-1)!
    source.nodes.delete(victim)
    assert.throws(
      () => walk(trie.root(), source),
      (error: unknown) => error instanceof MissingTrieNodeError && bytesToHex(error.data.hash) === victim,
    )
    assert.equal([...storedStateTrieNodes(KECCAK256_RLP, source)].length, 0)
  })
})

/** The storage of account `a` as `trie` now has it: the slots the test writes (0-4) and the genesis ones. */
function storageOf(trie: StateTrie, a: StateTrieAccount): Array<[Uint8Array, Uint8Array]> {
  const out: Array<[Uint8Array, Uint8Array]> = []
  for (let s = 0; s < 256; s++) {
    const v = trie.storageValue(a.address, slot(s))
    if (v.length > 0) out.push([slot(s), v])
  }
  return out
}
