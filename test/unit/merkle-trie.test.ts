import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createMPT, createMerkleProof, verifyMerkleProof } from '@ethereumjs/mpt'
import type { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { bytesToHex, hexToBytes, utf8ToBytes } from '@ethereumjs/util'
import { keccak256 } from '../../src/crypto/native.ts'
import { InvalidTrieNodeError, MerkleTrie, MissingTrieNodeError } from '../../src/trie/index.ts'
import type { TrieNodeSource } from '../../src/trie/index.ts'
import { rng } from '../helpers/rng.ts'

const FIXTURES = new URL('../fixtures/ethereum-tests/TrieTests/', import.meta.url)
const EMPTY_ROOT = '0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421'

// ---------------------------------------------------------------------------------------------
// Helpers

type FixtureInput = Array<[string, string | null]> | Record<string, string | null>
interface TrieFixture {
  in: FixtureInput
  root: string
}

function fixtureBytes(s: string): Uint8Array {
  return s.startsWith('0x') ? hexToBytes(s as `0x${string}`) : utf8ToBytes(s)
}

function loadFixtures(file: string): Record<string, TrieFixture> {
  return JSON.parse(readFileSync(new URL(file, FIXTURES), 'utf8')) as Record<string, TrieFixture>
}

type Rng = ReturnType<typeof rng>

/** ethereumjs includes embedded (< 32-byte) nodes in its proofs; geth and we do not. */
function withoutEmbedded(proof: Uint8Array[]): Uint8Array[] {
  return proof.filter((node, i) => i === 0 || node.length >= 32)
}

function hexList(nodes: Uint8Array[]): string[] {
  return nodes.map((n) => bytesToHex(n))
}

class MapSource implements TrieNodeSource {
  readonly nodes = new Map<string, Uint8Array>()
  get(hash: Uint8Array): Uint8Array | undefined {
    return this.nodes.get(bytesToHex(hash))
  }
  add(rlp: Uint8Array): void {
    this.nodes.set(bytesToHex(keccak256(rlp)), rlp)
  }
  addCommitted(entries: Array<[Uint8Array, Uint8Array]>): void {
    for (const [hash, rlp] of entries) {
      assert.equal(bytesToHex(hash), bytesToHex(keccak256(rlp)), 'committed node keyed by its hash')
      this.nodes.set(bytesToHex(hash), rlp)
    }
  }
}

async function ethTrie(secure: boolean): Promise<MerklePatriciaTrie> {
  return createMPT({ useKeyHashing: secure, useKeyHashingFunction: keccak256 })
}

/**
 * @ethereumjs/mpt 10.1.3 computes wrong roots when deleting from tries whose keys are prefixes of
 * one another (`BranchMPTNode.value(null)` is a no-op, ethereumjs-monorepo #2347, fixed by PR
 * #4346). Insert-only builds are right, so variable-length-key cases compare against a rebuild.
 */
async function ethTrieFrom(space: KeySpace, entries: Map<string, Uint8Array>): Promise<MerklePatriciaTrie> {
  const trie = await ethTrie(space.secure)
  for (const [k, v] of entries) await trie.put(hexToBytes(k as `0x${string}`), v)
  return trie
}

function ourTrieFrom(space: KeySpace, entries: Map<string, Uint8Array>): MerkleTrie {
  const trie = new MerkleTrie()
  for (const [k, v] of entries) trie.put(ourKey(space, hexToBytes(k as `0x${string}`)), v)
  return trie
}

/**
 * Key shapes that stress the structure: raw keys drawn from a small alphabet share prefixes, are
 * prefixes of one another (values in branches) and with short values give embedded nodes; secure
 * keys are 32-byte hashes like the state tries use.
 */
interface KeySpace {
  secure: boolean
  key(r: Rng): Uint8Array
}
const RAW_ALPHABET = [0x00, 0x01, 0x10, 0x11, 0x12, 0x21, 0xab, 0xff]
function rawKeySpace(minLength: number, maxLength: number): KeySpace {
  return {
    secure: false,
    key: (r) => Uint8Array.from({ length: minLength + r.int(maxLength - minLength + 1) }, () => r.pick(RAW_ALPHABET)),
  }
}
/** Same-length raw keys: shared prefixes and embedded nodes, but no key is a prefix of another. */
const rawFixedKeys = rawKeySpace(3, 3)
/** Keys that are prefixes of one another, so branches carry values. */
const rawVariableKeys = rawKeySpace(1, 4)
const secureKeys: KeySpace = { secure: true, key: (r) => r.bytes(1 + r.int(3)) }

function randomValue(r: Rng): Uint8Array {
  // Mostly short values, so that leaves and even branches end up embedded in their parents.
  return r.bytes(r.int(4) === 0 ? 20 + r.int(60) : 1 + r.int(6))
}

/** A put (or, with value null, a delete) of a caller-level key; secure tries hash it themselves. */
interface Op {
  key: Uint8Array
  value: Uint8Array | null
  /** Delete through `put(key, empty)` rather than `del(key)`. */
  viaEmptyPut: boolean
}

/** Random ops biased towards existing keys (overwrites, deletions that collapse branches); keeps `entries` in step. */
function randomOps(r: Rng, space: KeySpace, entries: Map<string, Uint8Array>, count: number, deleteShare = 4): Op[] {
  const ops: Op[] = []
  for (let i = 0; i < count; i++) {
    const existing = [...entries.keys()]
    const roll = r.int(10)
    let op: Op
    if (roll < deleteShare && existing.length > 0) {
      op = { key: hexToBytes(r.pick(existing) as `0x${string}`), value: null, viaEmptyPut: r.int(2) === 0 }
    } else if (roll === 9) {
      op = { key: space.key(r), value: null, viaEmptyPut: false }
    } else {
      const reuse = roll < deleteShare + 2 && existing.length > 0
      op = {
        key: reuse ? hexToBytes(r.pick(existing) as `0x${string}`) : space.key(r),
        value: randomValue(r),
        viaEmptyPut: false,
      }
    }
    if (op.value === null) entries.delete(bytesToHex(op.key))
    else entries.set(bytesToHex(op.key), op.value)
    ops.push(op)
  }
  return ops
}

function ourKey(space: KeySpace, key: Uint8Array): Uint8Array {
  return space.secure ? keccak256(key) : key
}

function applyOurs(trie: MerkleTrie, space: KeySpace, op: Op): void {
  const key = ourKey(space, op.key)
  if (op.value !== null) trie.put(key, op.value)
  else if (op.viaEmptyPut) trie.put(key, new Uint8Array(0))
  else trie.del(key)
}

async function applyTheirs(trie: MerklePatriciaTrie, op: Op): Promise<void> {
  if (op.value === null) await trie.del(op.key)
  else await trie.put(op.key, op.value)
}

function assertHolds(trie: MerkleTrie, space: KeySpace, entries: Map<string, Uint8Array>): void {
  for (const [k, v] of entries) assert.deepEqual(trie.get(ourKey(space, hexToBytes(k as `0x${string}`))), v, `value of ${k}`)
}

// ---------------------------------------------------------------------------------------------

describe('MerkleTrie: ethereum/tests TrieTests', () => {
  const files: Array<[file: string, secure: boolean]> = [
    ['trietest.json', false],
    ['trieanyorder.json', false],
    ['trietest_secureTrie.json', true],
    ['trieanyorder_secureTrie.json', true],
    ['hex_encoded_securetrie_test.json', true],
  ]
  for (const [file, secure] of files) {
    for (const [name, fixture] of Object.entries(loadFixtures(file))) {
      test(`${file} ${name}`, () => {
        const trie = new MerkleTrie()
        const pairs = Array.isArray(fixture.in) ? fixture.in : Object.entries(fixture.in)
        for (const [k, v] of pairs) {
          const key = secure ? keccak256(fixtureBytes(k)) : fixtureBytes(k)
          if (v === null) trie.del(key)
          else trie.put(key, fixtureBytes(v))
        }
        assert.equal(bytesToHex(trie.root()), fixture.root)
      })
    }
  }
})

describe('MerkleTrie: basics', () => {
  test('empty trie has the empty root and an empty proof', () => {
    const trie = new MerkleTrie()
    assert.equal(bytesToHex(trie.root()), EMPTY_ROOT)
    assert.equal(trie.isEmpty(), true)
    assert.deepEqual(trie.proof(utf8ToBytes('x')), [])
    assert.deepEqual(trie.commit(), [])
    assert.equal(trie.get(utf8ToBytes('x')), undefined)
  })

  test('deleting everything returns to the empty root', () => {
    const trie = new MerkleTrie()
    const keys = ['do', 'dog', 'doge', 'horse', 'a', ''].map(utf8ToBytes)
    for (const k of keys) trie.put(k, utf8ToBytes(`v-${bytesToHex(k)}`))
    assert.notEqual(bytesToHex(trie.root()), EMPTY_ROOT)
    for (const k of keys) trie.del(k)
    assert.equal(bytesToHex(trie.root()), EMPTY_ROOT)
    assert.equal(trie.isEmpty(), true)
  })

  test('get returns values, including values stored in branches', () => {
    const trie = new MerkleTrie()
    trie.put(utf8ToBytes('do'), utf8ToBytes('verb'))
    trie.put(utf8ToBytes('dog'), utf8ToBytes('puppy'))
    trie.put(utf8ToBytes('doge'), utf8ToBytes('coin'))
    assert.deepEqual(trie.get(utf8ToBytes('do')), utf8ToBytes('verb'))
    assert.deepEqual(trie.get(utf8ToBytes('dog')), utf8ToBytes('puppy'))
    assert.deepEqual(trie.get(utf8ToBytes('doge')), utf8ToBytes('coin'))
    assert.equal(trie.get(utf8ToBytes('d')), undefined)
    assert.equal(trie.get(utf8ToBytes('dogs')), undefined)
    assert.equal(trie.prove(utf8ToBytes('dog')).value?.length, 5)
  })

  test('writing an unchanged value leaves the trie clean', () => {
    const trie = new MerkleTrie()
    for (let i = 0; i < 50; i++) trie.put(keccak256(Uint8Array.of(i)), Uint8Array.of(i + 1, 7, 7))
    const root = bytesToHex(trie.root())
    assert.ok(trie.commit().length > 0)
    trie.put(keccak256(Uint8Array.of(3)), Uint8Array.of(4, 7, 7))
    trie.del(keccak256(Uint8Array.of(200)))
    assert.deepEqual(trie.commit(), [], 'no node became dirty')
    assert.equal(bytesToHex(trie.root()), root)
  })

  test('encodings handed out (proofs, commits, witness reports) are never modified afterwards', () => {
    const handedOut: Array<[Uint8Array, string]> = []
    const keep = (rlp: Uint8Array): void => {
      handedOut.push([rlp, bytesToHex(rlp)])
    }
    const trie = new MerkleTrie({ onNodeRead: keep })
    const r = rng(77)
    const keys = Array.from({ length: 300 }, (_, i) => keccak256(Uint8Array.of(i, i >> 8)))
    for (const key of keys) trie.put(key, r.bytes(1 + r.int(40)))
    for (let round = 0; round < 5; round++) {
      for (const [, rlp] of trie.commit()) keep(rlp)
      for (const node of trie.proof(r.pick(keys))) keep(node)
      // Same-size rewrites are what the in-place branch patching would apply to.
      for (let i = 0; i < 50; i++) trie.put(r.pick(keys), r.bytes(1 + r.int(40)))
      trie.root()
    }
    for (const [rlp, hex] of handedOut) assert.equal(bytesToHex(rlp), hex)
    assert.ok(handedOut.length > 300)
  })

  test('root() returns a copy', () => {
    const trie = new MerkleTrie()
    trie.put(keccak256(Uint8Array.of(1)), Uint8Array.of(1))
    const root = trie.root()
    const expected = bytesToHex(root)
    root.fill(0)
    assert.equal(bytesToHex(trie.root()), expected)
  })

  test('a missing node surfaces as MissingTrieNodeError, a wrong one as InvalidTrieNodeError', () => {
    const trie = new MerkleTrie()
    for (let i = 0; i < 20; i++) trie.put(keccak256(Uint8Array.of(i)), r32(i))
    const root = trie.root()
    const nodes = trie.commit()
    assert.throws(() => new MerkleTrie({ root }).get(keccak256(Uint8Array.of(1))), MissingTrieNodeError)
    const lying: TrieNodeSource = { get: () => nodes[nodes.length - 1]![1] }
    assert.throws(() => new MerkleTrie({ root, source: lying }).get(keccak256(Uint8Array.of(1))), InvalidTrieNodeError)
  })
})

function r32(i: number): Uint8Array {
  return keccak256(Uint8Array.of(i, 0xee))
}

describe('MerkleTrie: differential against @ethereumjs/mpt', () => {
  const cases: Array<[label: string, space: KeySpace, seeds: number, incremental: boolean]> = [
    ['same-length raw keys, ethereumjs updated in step', rawFixedKeys, 150, true],
    ['secure keys, ethereumjs updated in step', secureKeys, 80, true],
    ['prefix-sharing raw keys, ethereumjs rebuilt from the key set', rawVariableKeys, 150, false],
  ]
  for (const [label, space, seeds, incremental] of cases) {
    test(`${label}: roots, values and proofs over ${seeds} seeds`, async () => {
      let embeddedSeen = 0
      for (let seed = 1; seed <= seeds; seed++) {
        const r = rng(seed * 7919 + (space.secure ? 1 : 0))
        const ours = new MerkleTrie()
        const stepped = await ethTrie(space.secure)
        const entries = new Map<string, Uint8Array>()
        const ops = randomOps(r, space, entries, 10 + r.int(60))
        const replayed = new Map<string, Uint8Array>()
        for (const [i, op] of ops.entries()) {
          applyOurs(ours, space, op)
          if (op.value === null) replayed.delete(bytesToHex(op.key))
          else replayed.set(bytesToHex(op.key), op.value)
          if (incremental) await applyTheirs(stepped, op)
          if (r.int(3) !== 0) continue
          const expected = incremental ? stepped.root() : ourTrieFrom(space, replayed).root()
          assert.equal(bytesToHex(ours.root()), bytesToHex(expected), `seed ${seed} op ${i}`)
        }
        const theirs = incremental ? stepped : await ethTrieFrom(space, entries)
        assert.equal(bytesToHex(ours.root()), bytesToHex(theirs.root()), `seed ${seed} final root`)
        assertHolds(ours, space, entries)

        const present = [...entries.keys()].slice(0, 4).map((k) => hexToBytes(k as `0x${string}`))
        for (const key of [...present, space.key(r), space.key(r)]) {
          const proof = ours.proof(ourKey(space, key))
          const reference = await createMerkleProof(theirs, key)
          if (reference.length !== withoutEmbedded(reference).length) embeddedSeen++
          assert.deepEqual(hexList(proof), hexList(withoutEmbedded(reference)), `seed ${seed} proof of ${bytesToHex(key)}`)
          if (proof.length === 0) continue
          const proven = await verifyMerkleProof(key, proof, {
            root: ours.root(),
            useKeyHashing: space.secure,
            useKeyHashingFunction: keccak256,
          })
          const expected = entries.get(bytesToHex(key))
          assert.equal(
            proven === null ? undefined : bytesToHex(proven),
            expected === undefined ? undefined : bytesToHex(expected),
          )
        }
      }
      if (!space.secure) assert.ok(embeddedSeen > 0, 'raw-key cases put embedded nodes on proof paths')
    })
  }
})

describe('MerkleTrie: persistence through commit() and a node source', () => {
  test('a trie reopened from its root and committed nodes reads and updates identically', async () => {
    for (let seed = 1; seed <= 40; seed++) {
      const r = rng(seed * 104729)
      const space = seed % 2 === 0 ? rawVariableKeys : secureKeys
      const original = new MerkleTrie()
      const entries = new Map<string, Uint8Array>()
      for (const op of randomOps(r, space, entries, 40)) applyOurs(original, space, op)
      const source = new MapSource()
      const root = original.root()
      source.addCommitted(original.commit())
      if (!original.isEmpty()) assert.ok(source.nodes.has(bytesToHex(root)), 'the root node is always committed')

      const reopened = new MerkleTrie({ root, source })
      assert.equal(bytesToHex(reopened.root()), bytesToHex(root))
      assertHolds(reopened, space, entries)

      for (const op of randomOps(r, space, entries, 30)) {
        applyOurs(original, space, op)
        applyOurs(reopened, space, op)
      }
      assert.equal(bytesToHex(reopened.root()), bytesToHex(original.root()), `seed ${seed}`)
      assert.equal(bytesToHex(original.root()), bytesToHex((await ethTrieFrom(space, entries)).root()))

      // Incremental commit: only what changed since the first one, and enough to reopen again.
      source.addCommitted(reopened.commit())
      assert.deepEqual(reopened.commit(), [], 'nothing left after a commit')
      assertHolds(new MerkleTrie({ root: reopened.root(), source }), space, entries)
    }
  })

  test('@ethereumjs/mpt reads a trie from our committed nodes', async () => {
    const r = rng(4242)
    const ours = new MerkleTrie()
    const entries = new Map<string, Uint8Array>()
    for (const op of randomOps(r, secureKeys, entries, 300)) applyOurs(ours, secureKeys, op)
    const theirs = await ethTrie(true)
    for (const [hash, rlp] of ours.commit()) await theirs.database().put(hash, rlp)
    theirs.root(ours.root())
    for (const [k, v] of entries) assert.deepEqual(await theirs.get(hexToBytes(k as `0x${string}`)), v)
  })
})

describe('MerkleTrie: onNodeRead witness', () => {
  test('the sibling a deletion collapses into its parent is reported', () => {
    const reported = new Set<string>()
    let recording = false
    const trie = new MerkleTrie({
      onNodeRead: (rlp) => {
        if (recording) reported.add(bytesToHex(rlp))
      },
    })
    // Two 32-byte keys under one root branch, each leaf large enough to be hash-referenced.
    const a = Uint8Array.of(0x10, ...new Uint8Array(31))
    const b = Uint8Array.of(0x20, ...new Uint8Array(31))
    trie.put(a, new Uint8Array(40).fill(1))
    trie.put(b, new Uint8Array(40).fill(2))
    trie.root()
    const siblingLeaf = trie.proof(b)[1]!
    recording = true
    trie.del(a)
    assert.ok(reported.has(bytesToHex(siblingLeaf)), 'sibling leaf reported')
    assert.equal(reported.has(bytesToHex(trie.proof(b)[0]!)), false, 'the new root is not a pre-existing node')
  })

  test('a stateless replay from only the reported nodes reaches the same root', () => {
    let replays = 0
    for (let seed = 1; seed <= 160; seed++) {
      const r = rng(seed * 15485863)
      const space = seed % 3 === 0 ? rawVariableKeys : secureKeys
      let witness: MapSource | null = null
      const onNodeRead = (rlp: Uint8Array): void => witness?.add(rlp)
      const entries = new Map<string, Uint8Array>()
      const setup = randomOps(r, space, entries, 20 + r.int(150))

      // Half the seeds exercise an in-memory trie, half one lazily resolving from a node source.
      let trie = new MerkleTrie({ onNodeRead })
      for (const op of setup) applyOurs(trie, space, op)
      const preRoot = trie.root()
      if (seed % 2 === 0) {
        const full = new MapSource()
        full.addCommitted(trie.commit())
        trie = new MerkleTrie({ root: preRoot, source: full, onNodeRead })
      }

      witness = new MapSource()
      const batch = randomOps(r, space, entries, 1 + r.int(40), 6)
      const reads = [...entries.keys()].filter(() => r.int(4) === 0).map((k) => hexToBytes(k as `0x${string}`))
      const readValues = reads.map((k) => trie.get(ourKey(space, k)))
      for (const op of batch) {
        applyOurs(trie, space, op)
        if (r.int(8) === 0) trie.root() // intermediate roots must not hide nodes from the witness
      }
      const postRoot = trie.root()
      const recorded = witness
      witness = null

      const stateless = new MerkleTrie({ root: preRoot, source: recorded })
      assert.deepEqual(
        reads.map((k) => stateless.get(ourKey(space, k))),
        readValues,
        `seed ${seed} reads`,
      )
      for (const op of batch) applyOurs(stateless, space, op)
      assert.equal(bytesToHex(stateless.root()), bytesToHex(postRoot), `seed ${seed} post-state root`)
      replays++
    }
    assert.equal(replays, 160)
  })

  test('without a witness the replay fails loudly', () => {
    const trie = new MerkleTrie()
    for (let i = 0; i < 30; i++) trie.put(keccak256(Uint8Array.of(i)), r32(i))
    const stateless = new MerkleTrie({ root: trie.root(), source: new MapSource() })
    assert.throws(() => stateless.put(keccak256(Uint8Array.of(1)), Uint8Array.of(9)), MissingTrieNodeError)
  })
})
