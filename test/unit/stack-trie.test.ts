import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { KECCAK256_NULL, KECCAK256_RLP, bytesToHex } from '@ethereumjs/util'
import { keccak256 } from '../../src/crypto/native.ts'
import { MerkleTrie, StateTrie } from '../../src/trie/index.ts'
import type { StateTrieAccount } from '../../src/trie/index.ts'
import { StateRootBuilder } from '../../src/trie/state-root-builder.ts'
import { StackTrie } from '../../src/trie/stack-trie.ts'
import { rng } from '../helpers/rng.ts'
import type { Rng } from '../helpers/rng.ts'

type Entries = Map<string, [key: Uint8Array, value: Uint8Array]>

/** Nodes by hash hex → rlp hex; asserts every node is keyed by its own hash. */
function nodeMap(nodes: Iterable<[Uint8Array, Uint8Array]>): Map<string, string> {
  const out = new Map<string, string>()
  for (const [hash, rlp] of nodes) {
    assert.equal(bytesToHex(hash), bytesToHex(keccak256(rlp)), 'node keyed by keccak256(rlp)')
    out.set(bytesToHex(hash), bytesToHex(rlp))
  }
  return out
}

function sortedEntries(entries: Entries): Array<[Uint8Array, Uint8Array]> {
  return [...entries.values()].sort((a, b) => Buffer.compare(a[0], b[0]))
}

/** Builds `entries` both ways and checks the roots and the persisted node sets agree. */
function assertSameAsMerkleTrie(entries: Entries, label: string): void {
  const reference = new MerkleTrie()
  // Insertion order does not matter to MerkleTrie; use the map's (random) order.
  for (const [key, value] of entries.values()) reference.put(key, value)
  const expectedRoot = bytesToHex(reference.root())
  const expectedNodes = nodeMap(reference.commit())

  const reported: Array<[Uint8Array, Uint8Array]> = []
  const stack = new StackTrie((hash, rlp) => reported.push([hash, rlp]))
  for (const [key, value] of sortedEntries(entries)) stack.update(key, value)
  const root = bytesToHex(stack.root())
  assert.equal(root, expectedRoot, `${label}: root`)
  const nodes = nodeMap(reported)
  assert.deepEqual(nodes, expectedNodes, `${label}: persisted nodes`)
  assertChildrenFirst(reported)
  if (entries.size > 0) {
    // The root is reported last, after every node it references.
    assert.equal(bytesToHex(reported.at(-1)![0]), root, `${label}: root reported last`)
  } else {
    assert.equal(reported.length, 0, `${label}: the empty trie persists nothing`)
  }
}

function randomEntries(r: Rng, count: number, makeKey: () => Uint8Array, valueLength: () => number): Entries {
  const entries: Entries = new Map()
  while (entries.size < count) {
    const key = makeKey()
    const value = r.bytes(valueLength())
    if (value.length === 0) continue
    entries.set(bytesToHex(key), [key, value])
  }
  return entries
}

describe('StackTrie', () => {
  test('the empty trie has the empty root', () => {
    const trie = new StackTrie(() => assert.fail('no nodes for an empty trie'))
    assert.equal(bytesToHex(trie.root()), bytesToHex(KECCAK256_RLP))
    assert.equal(bytesToHex(trie.root()), bytesToHex(KECCAK256_RLP), 'root() is repeatable')
  })

  test('one and two keys, short and long values (embedded and hashed nodes, short roots)', () => {
    const r = rng(1)
    for (const keyLength of [1, 2, 3, 20, 32]) {
      for (const valueLength of [1, 2, 5, 31, 32, 40, 100]) {
        for (const count of [1, 2, 3]) {
          const entries = randomEntries(
            r,
            count,
            () => r.bytes(keyLength),
            () => valueLength,
          )
          assertSameAsMerkleTrie(entries, `keys of ${keyLength} B, values of ${valueLength} B, ${count} keys`)
        }
      }
    }
  })

  test('random 32-byte keys, many keys', () => {
    for (const seed of [2, 3, 4]) {
      const r = rng(seed)
      const entries = randomEntries(
        r,
        1 + r.int(3000),
        () => r.bytes(32),
        () => 1 + r.int(60),
      )
      assertSameAsMerkleTrie(entries, `seed ${seed}`)
    }
  })

  test('shared prefixes and keys differing only in the last nibble', () => {
    for (const seed of [5, 6, 7, 8]) {
      const r = rng(seed)
      // Few distinct nibbles per position: long shared prefixes, extensions, splits at every depth.
      const prefixes = Array.from({ length: 4 }, () => r.bytes(32))
      const entries = randomEntries(
        r,
        400,
        () => {
          const key = r.pick(prefixes).slice()
          const from = r.pick([0, 8, 16, 24, 30, 31])
          for (let i = from; i < 32; i++) if (r.int(3) === 0) key[i] = r.int(4) * 0x11
          // Keys that differ in the last nibble only.
          key[31] = (key[31] & 0xf0) | r.int(16)
          return key
        },
        () => 1 + r.int(r.pick([3, 40])),
      )
      assertSameAsMerkleTrie(entries, `seed ${seed}`)
    }
  })

  test('short keys with tiny values: subtrees embedded in their parents', () => {
    for (const seed of [9, 10]) {
      const r = rng(seed)
      const entries = randomEntries(
        r,
        200,
        () => r.bytes(2),
        () => 1,
      )
      assertSameAsMerkleTrie(entries, `seed ${seed}`)
    }
  })

  test('rejects keys out of order, repeated, of another length, and empty values', () => {
    const trie = new StackTrie()
    trie.update(Uint8Array.of(1, 2), Uint8Array.of(1))
    assert.throws(() => trie.update(Uint8Array.of(1, 1), Uint8Array.of(1)), /0x0101 is not greater than the previous key 0x0102/)
    assert.throws(() => trie.update(Uint8Array.of(1, 2), Uint8Array.of(1)), /not greater than the previous key/)
    assert.throws(() => trie.update(Uint8Array.of(2), Uint8Array.of(1)), /equal length/)
    assert.throws(() => trie.update(Uint8Array.of(2, 0), new Uint8Array(0)), /empty value/)
    trie.update(Uint8Array.of(2, 0), Uint8Array.of(2))
    const root = bytesToHex(trie.root())
    assert.throws(() => trie.update(Uint8Array.of(3, 0), Uint8Array.of(1)), /finalized/)
    assert.equal(bytesToHex(trie.root()), root)
  })
})

// ---------------------------------------------------------------------------------------------
// Account tries

function randomAccounts(r: Rng, count: number): StateTrieAccount[] {
  const sharedStorage: Array<[Uint8Array, Uint8Array]> = [[Uint8Array.of(1), Uint8Array.of(0x2a)]]
  return Array.from({ length: count }, (_, i): StateTrieAccount => {
    const storage: Array<[Uint8Array, Uint8Array]> = []
    const kind = r.int(5)
    if (kind === 1) {
      for (let s = r.int(50); s > 0; s--) storage.push([r.bytes(32), r.bytes(1 + r.int(32))])
    } else if (kind === 2) {
      // Small slots written short and padded, zero values (absent slots) and a rewritten slot: later writes win.
      storage.push([Uint8Array.of(r.int(4)), Uint8Array.of(0, 5)])
      storage.push([new Uint8Array(32), new Uint8Array(3)])
      const slot = r.bytes(32)
      storage.push([slot, Uint8Array.of(7)], [slot.subarray(r.int(2)), Uint8Array.of(r.int(2))])
    } else if (kind === 3) {
      // The same storage as other accounts: identical storage tries share their nodes.
      storage.push(...sharedStorage)
    } else if (kind === 4) {
      storage.push([r.bytes(32), new Uint8Array(1)])
    }
    return {
      address: r.bytes(20),
      account: {
        nonce: BigInt(r.int(3) === 0 ? 0 : r.int(1000)),
        balance: r.int(4) === 0 ? 0n : BigInt(`0x${bytesToHex(r.bytes(1 + r.int(32))).slice(2)}`),
        codeHash: r.int(3) === 0 ? keccak256(r.bytes(10)).slice() : KECCAK256_NULL,
      },
      storage: i % 7 === 0 ? [] : storage,
    }
  })
}

/** Every node is reported after the nodes it references by hash (a store can write them in that order). */
function assertChildrenFirst(reported: Array<[Uint8Array, Uint8Array]>): void {
  const all = new Set(reported.map(([hash]) => bytesToHex(hash)))
  const seen = new Set<string>()
  for (const [hash, rlp] of reported) {
    // A hash reference (an account's storage root too) is the RLP string 0xa0 + 32 bytes.
    for (let i = 0; i + 33 <= rlp.length; i++) {
      if (rlp[i] !== 0xa0) continue
      const ref = bytesToHex(rlp.subarray(i + 1, i + 33))
      if (all.has(ref)) assert.ok(seen.has(ref), `${ref} reported after a node referencing it`)
    }
    seen.add(bytesToHex(hash))
  }
}

describe('StateRootBuilder', () => {
  test('state root and persisted nodes equal StateTrie.fromAccounts, accounts in any order', () => {
    for (const [seed, count] of [
      [11, 0],
      [12, 1],
      [13, 2],
      [14, 300],
    ] as const) {
      const accounts = randomAccounts(rng(seed), count)
      const state = StateTrie.fromAccounts(accounts)
      const expectedRoot = bytesToHex(state.root())
      const expectedNodes = nodeMap(state.commit())
      const reported: Array<[Uint8Array, Uint8Array]> = []
      const builder = new StateRootBuilder((hash, rlp) => reported.push([hash, rlp]), 64)
      for (const account of accounts) builder.add(account)
      let yields = 0
      const steps = builder.finish()
      let step = steps.next()
      for (; step.done !== true; step = steps.next()) yields++
      assert.equal(bytesToHex(step.value), expectedRoot, `seed ${seed}: root`)
      assert.deepEqual(nodeMap(reported), expectedNodes, `seed ${seed}: persisted nodes`)
      assertChildrenFirst(reported)
      assert.equal(yields, Math.floor(count / 64), `seed ${seed}: yields to an asynchronous writer`)
    }
  })

  test('root() without a node sink equals the streamed root', () => {
    const accounts = randomAccounts(rng(15), 50)
    const builder = new StateRootBuilder()
    for (const account of [...accounts].reverse()) builder.add(account)
    assert.equal(bytesToHex(builder.root()), bytesToHex(StateTrie.fromAccounts(accounts).root()))
  })

  test('an address added twice is rejected', () => {
    const [account] = randomAccounts(rng(16), 1)
    const builder = new StateRootBuilder()
    builder.add(account!)
    builder.add(account!)
    assert.throws(() => builder.root(), /added twice/)
  })
})
