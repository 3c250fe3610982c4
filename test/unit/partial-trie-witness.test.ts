/**
 * The witness builder of contracts/libraries/PartialTrie.sol (src/trie/partial-trie-witness.ts), checked against
 * @ethereumjs/mpt: the nodes it returns suffice (a trie opened over those nodes alone replays the operations to
 * ethereumjs's root and reads), and none is superfluous (without any one of them the replay misses a node). It
 * deduplicates the nodes that keys' proofs share, includes the sibling a deletion folds up, and reads through an
 * ethereumjs trie's database as well as through a synchronous node source.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createMPT, type MerklePatriciaTrie } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { keccak256 } from '../../src/crypto/native.ts'
import {
  MerkleTrie,
  MissingTrieNodeError,
  buildPartialTrieWitness,
  buildPartialTrieWitnessAsync,
  readsThenWrites,
  type PartialTrieOp,
  type TrieNodeSource,
} from '../../src/trie/index.ts'
import { rng, type Rng } from '../helpers/rng.ts'

type Hex = `0x${string}`
const hex = (b: Uint8Array): Hex => bytesToHex(b) as Hex

/** A trie as a prover holds it: ethereumjs's (the oracle) and a node store by hash. */
interface Fixture {
  theirs: MerklePatriciaTrie
  entries: Map<Hex, Uint8Array>
  store: Map<Hex, Uint8Array>
  source: TrieNodeSource
  root: Uint8Array
}

async function fixture(
  r: Rng,
  count: number,
  key: (r: Rng, i: number) => Uint8Array,
  value: (r: Rng) => Uint8Array,
): Promise<Fixture> {
  const theirs = await createMPT({ useKeyHashingFunction: keccak256 })
  const ours = new MerkleTrie()
  const entries = new Map<Hex, Uint8Array>()
  for (let i = 0; i < count; i++) {
    const k = key(r, i)
    const v = value(r)
    entries.set(hex(k), v)
    ours.put(k, v)
    await theirs.put(k, v)
  }
  const store = new Map<Hex, Uint8Array>()
  for (const [hash, rlp] of ours.commit()) store.set(hex(hash), rlp)
  assert.equal(hex(ours.root()), hex(theirs.root()))
  return { theirs, entries, store, source: { get: (hash) => store.get(hex(hash)) }, root: theirs.root() }
}

function randomOps(
  r: Rng,
  f: Fixture,
  length: number,
  key: (r: Rng, i: number) => Uint8Array,
  value: (r: Rng) => Uint8Array,
): PartialTrieOp[] {
  const keys = [...f.entries.keys()]
  const ops: PartialTrieOp[] = []
  for (let i = 0; i < length; i++) {
    const existing = hexToBytes(r.pick(keys))
    const choice = r.int(6)
    if (choice === 0) ops.push({ kind: 'get', key: key(r, r.int(1 << 30)) })
    else if (choice === 1) ops.push({ kind: 'get', key: existing })
    else if (choice === 2) ops.push({ kind: 'put', key: existing, value: value(r) })
    else if (choice === 3) ops.push({ kind: 'put', key: key(r, r.int(1 << 30)), value: value(r) })
    else ops.push({ kind: 'del', key: existing })
  }
  return ops
}

/** Replays `ops` on a trie that holds only `nodes`; returns its root and reads. */
function replay(root: Uint8Array, nodes: Uint8Array[], ops: PartialTrieOp[]): { root: Hex; reads: Array<Hex | undefined> } {
  const only = new Map(nodes.map((n) => [hex(keccak256(n)), n]))
  const witness = buildPartialTrieWitness(root, { get: (hash) => only.get(hex(hash)) }, ops)
  return { root: hex(witness.root), reads: witness.values.map((v) => (v === undefined ? undefined : hex(v))) }
}

/** ethereumjs applies `ops`: its root after them and what each get read. */
async function oracle(f: Fixture, ops: PartialTrieOp[]): Promise<{ root: Hex; reads: Array<Hex | undefined> }> {
  const reads: Array<Hex | undefined> = []
  for (const op of ops) {
    if (op.kind === 'get') {
      const v = await f.theirs.get(op.key)
      reads.push(v === null ? undefined : hex(v))
      continue
    }
    reads.push(undefined)
    if (op.kind === 'put') await f.theirs.put(op.key, op.value)
    else await f.theirs.del(op.key)
  }
  return { root: hex(f.theirs.root()), reads }
}

const secureKey = (r: Rng): Uint8Array => keccak256(r.bytes(8))
const accountValue = (r: Rng): Uint8Array => RLP.encode([r.int(1000), r.bytes(1 + r.int(10)), r.bytes(32), r.bytes(32)])
const rlpKey = (r: Rng): Uint8Array => RLP.encode(r.int(260))
const shortValue = (r: Rng): Uint8Array => r.bytes(r.int(3) === 0 ? 40 : 1 + r.int(6))

describe('buildPartialTrieWitness', () => {
  for (const [name, key, value, count] of [
    ['secure keys, account values', secureKey, accountValue, 500],
    ['rlp(i) keys, short values (embedded nodes)', rlpKey, shortValue, 200],
  ] as const) {
    test(`${name}: sufficient (replay from the witness alone gives ethereumjs's root and reads) and minimal`, async () => {
      const r = rng(count)
      for (let round = 0; round < 4; round++) {
        const f = await fixture(r, count, key, value)
        const ops = randomOps(r, f, 10 + r.int(20), key, value)
        const witness = buildPartialTrieWitness(f.root, f.source, ops)
        const expected = await oracle(f, ops)
        assert.deepEqual(replay(f.root, witness.nodes, ops), expected, `round ${round}`)
        assert.equal(hex(witness.root), expected.root)
        // Distinct, referenced by hash (the root aside, every node is 32 bytes or more), and each one needed.
        assert.equal(new Set(witness.nodes.map(hex)).size, witness.nodes.length)
        assert.equal(hex(keccak256(witness.nodes[0]!)), hex(f.root))
        for (const node of witness.nodes.slice(1)) assert.ok(node.length >= 32)
        for (let i = 0; i < witness.nodes.length; i++) {
          const without = witness.nodes.filter((_, j) => j !== i)
          assert.throws(() => replay(f.root, without, ops), MissingTrieNodeError, `node ${i} is needed`)
        }
      }
    })
  }

  test("nodes that keys' proofs share are in the witness once", async () => {
    const r = rng(5)
    const f = await fixture(r, 2000, secureKey, accountValue)
    const keys = [...f.entries.keys()].slice(0, 20).map((k) => hexToBytes(k))
    const witness = buildPartialTrieWitness(f.root, f.source, readsThenWrites(keys, []))
    const opened = new MerkleTrie({ root: f.root, source: f.source })
    const proofs = keys.map((k) => opened.proof(k))
    const proofNodes = proofs.flat()
    assert.deepEqual(new Set(witness.nodes.map(hex)), new Set(proofNodes.map(hex)))
    assert.ok(witness.nodes.length < proofNodes.length / 1.3, `${witness.nodes.length} nodes, ${proofNodes.length} in the proofs`)
  })

  test('a deletion that collapses a branch brings the sibling it folds up, which no proof of the key holds', async () => {
    const r = rng(6)
    const f = await fixture(r, 300, secureKey, accountValue)
    const opened = new MerkleTrie({ root: f.root, source: f.source })
    const keys = [...f.entries.keys()].map((k) => hexToBytes(k))
    // A key whose last branch holds just it and one other leaf.
    let found = false
    for (const k of keys) {
      const proof = opened.proof(k)
      const branch = RLP.decode(proof[proof.length - 2]!) as Uint8Array[]
      if (branch.length !== 17 || branch.filter((c) => c.length > 0).length !== 2) continue
      const ops: PartialTrieOp[] = [{ kind: 'del', key: k }]
      const witness = buildPartialTrieWitness(f.root, f.source, ops)
      const extra = witness.nodes.filter((n) => !proof.some((p) => hex(p) === hex(n)))
      assert.equal(extra.length, 1, 'the sibling')
      assert.deepEqual(replay(f.root, witness.nodes, ops), await oracle(f, ops))
      found = true
      break
    }
    assert.ok(found)
  })

  test("an ethereumjs trie's database serves as the store; deletion siblings are fetched as needed", async () => {
    const r = rng(7)
    const f = await fixture(r, 400, secureKey, accountValue)
    const ops = randomOps(r, f, 30, secureKey, accountValue)
    const sync = buildPartialTrieWitness(f.root, f.source, ops)
    const db = f.theirs.database()
    let fetches = 0
    const store = {
      get: async (hash: Uint8Array) => {
        fetches++
        return (await db.get(hash)) as Uint8Array | undefined
      },
    }
    const viaMpt = await buildPartialTrieWitnessAsync(f.root, store, ops)
    assert.deepEqual(viaMpt.nodes.map(hex), sync.nodes.map(hex))
    assert.equal(hex(viaMpt.root), hex(sync.root))
    assert.equal(fetches, sync.nodes.length, 'each node fetched once')
    // With the keys' proofs prefetched only the siblings are left to fetch.
    const opened = new MerkleTrie({ root: f.root, source: f.source })
    const prefetched = ops.flatMap((op) => opened.proof(op.key))
    fetches = 0
    const again = await buildPartialTrieWitnessAsync(f.root, store, ops, prefetched)
    assert.deepEqual(again.nodes.map(hex), sync.nodes.map(hex))
    assert.ok(fetches < sync.nodes.length)
  })

  test('edge cases: the empty trie, a short root, empty values refused, reads then writes', async () => {
    const empty = buildPartialTrieWitness(keccak256(RLP.encode(new Uint8Array())), { get: () => undefined }, [
      { kind: 'get', key: Uint8Array.of(1) },
      { kind: 'put', key: Uint8Array.of(1), value: Uint8Array.of(2) },
    ])
    assert.deepEqual(empty.nodes, [])
    const tiny = new MerkleTrie()
    tiny.put(Uint8Array.of(1), Uint8Array.of(2))
    const committed = new Map(tiny.commit().map(([h, n]) => [hex(h), n]))
    const short = buildPartialTrieWitness(tiny.root(), { get: (h) => committed.get(hex(h)) }, [
      { kind: 'get', key: Uint8Array.of(1) },
    ])
    assert.equal(short.nodes.length, 1)
    assert.ok(short.nodes[0]!.length < 32, 'the root is in the witness whatever its size')
    assert.deepEqual(short.values, [Uint8Array.of(2)])
    assert.throws(
      () =>
        buildPartialTrieWitness(tiny.root(), { get: (h) => committed.get(hex(h)) }, [
          { kind: 'put', key: Uint8Array.of(1), value: new Uint8Array() },
        ]),
      RangeError,
    )
    const ops = readsThenWrites(
      [Uint8Array.of(1)],
      [
        [Uint8Array.of(2), Uint8Array.of(3)],
        [Uint8Array.of(1), undefined],
      ],
    )
    assert.deepEqual(
      ops.map((op) => op.kind),
      ['get', 'put', 'del'],
    )
  })
})
