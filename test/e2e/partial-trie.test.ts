// run-tests: pair — one anvil answering eth_calls: no load, no assertion on time
/**
 * PartialTrie (contracts/libraries/PartialTrie.sol) through contracts/test/PartialTrieHarness.sol on a real anvil,
 * differentially against @ethereumjs/mpt: random batches of reads, replacements, inserts and deletions on random
 * tries (secure 32-byte keys, rlp(i) keys as in transaction tries, prefix-sharing keys that put values in branches),
 * each batch run from the witness `buildPartialTrieWitness` (src/trie) builds, must give ethereumjs's new root and
 * read what a map of the key set holds at that point; tries are deleted down to empty and rebuilt from empty. The
 * adversarial witnesses: a missing node (path node or deletion sibling) reverts MissingNode with its hash, forged
 * nodes are never used, absent keys read as absent. The gas of 20 reads and of 20 writes plus the root in a trie of
 * 10,000 accounts is measured against MerkleTrieWriter doing the same one proof at a time.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createMPT, type MerklePatriciaTrie } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import {
  bytesToHex,
  decodeErrorResult,
  decodeFunctionResult,
  encodeFunctionData,
  hexToBytes,
  parseAbi,
  type Abi,
  type Address,
  type Hex,
} from 'viem'
import { keccak256 } from '../../src/crypto/native.ts'
import { MerkleTrie, buildPartialTrieWitness, type PartialTrieOp, type TrieNodeSource } from '../../src/trie/index.ts'
import { testContract } from '../helpers/dispute.ts'
import { startAnvil, type AnvilHandle } from '../helpers/node-process.ts'
import { rng, type Rng } from '../helpers/rng.ts'

const EMPTY_ROOT: Hex = '0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421'
const ERRORS = parseAbi([
  'error PartialTrie_MissingNode(bytes32 hash)',
  'error PartialTrie_BadNode()',
  'error PartialTrie_EmptyValue()',
  'error MerkleTrieWriter_BadNodeReference()',
  'error MerkleTrieWriter_BadNode()',
  'error MerkleTrieWriter_MissingProofNode()',
  'error MerkleTrieWriter_ExtraProofNodes()',
])
const KIND = { get: 0, put: 1, del: 2 } as const

let anvil: AnvilHandle
let abi: Abi
let harness: Address
let rpcId = 0

async function rpc(method: string, params: unknown[]): Promise<{ result?: unknown; error?: { message: string; data?: Hex } }> {
  const response = await fetch(anvil.rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: ++rpcId, method, params }),
  })
  return (await response.json()) as { result?: unknown; error?: { message: string; data?: Hex } }
}

before(async () => {
  const compiled = testContract('PartialTrieHarness')
  abi = compiled.abi
  // Cancun: no EIP-7623 calldata floor, so a call's gas is intrinsic + calldata + execution (as mpt-writer reports).
  anvil = await startAnvil(['--quiet', '--hardfork', 'cancun', '--gas-limit', '1000000000'])
  const accounts = (await rpc('eth_accounts', [])).result as Address[]
  const sent = await rpc('eth_sendTransaction', [{ from: accounts[0], data: compiled.bytecode, gas: '0x1000000' }])
  assert.equal(sent.error, undefined)
  // Anvil mines the transaction at once, but its receipt may take a moment to be served.
  type Receipt = { contractAddress: Address; status: Hex }
  const receiptOf = async (): Promise<Receipt | null> =>
    (await rpc('eth_getTransactionReceipt', [sent.result])).result as Receipt | null
  let receipt = await receiptOf()
  for (let i = 0; i < 100 && receipt === null; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50))
    receipt = await receiptOf()
  }
  assert.equal(receipt?.status, '0x1')
  harness = (receipt as Receipt).contractAddress
})

after(async () => {
  await anvil?.stop()
})

type Outcome = { ok: true; result: unknown } | { ok: false; error: string; args: readonly unknown[] }

async function call(functionName: string, args: readonly unknown[]): Promise<Outcome> {
  const data = encodeFunctionData({ abi, functionName, args })
  const answer = await rpc('eth_call', [{ to: harness, data, gas: '0x3b9aca00' }, 'latest'])
  if (answer.error !== undefined) {
    const revertData = answer.error.data
    if (revertData === undefined || revertData === '0x') return { ok: false, error: answer.error.message, args: [] }
    const decoded = decodeErrorResult({ abi: [...abi, ...ERRORS], data: revertData })
    return { ok: false, error: decoded.errorName, args: decoded.args ?? [] }
  }
  return { ok: true, result: decodeFunctionResult({ abi, functionName, data: answer.result as Hex }) }
}

async function gasOf(
  functionName: string,
  args: readonly unknown[],
): Promise<{ total: number; execution: number; calldata: number }> {
  const data = encodeFunctionData({ abi, functionName, args })
  const answer = await rpc('eth_estimateGas', [{ to: harness, data }])
  if (answer.error !== undefined) assert.fail(`estimateGas ${functionName}: ${answer.error.message}`)
  const total = Number(BigInt(answer.result as Hex))
  let intrinsic = 21_000
  for (const b of hexToBytes(data)) intrinsic += b === 0 ? 4 : 16
  return { total, execution: total - intrinsic, calldata: (data.length - 2) / 2 }
}

const hex = (b: Uint8Array): Hex => bytesToHex(b)
const hexes = (nodes: Uint8Array[]): Hex[] => nodes.map(hex)
const opArg = (op: PartialTrieOp) => ({ kind: KIND[op.kind], key: hex(op.key), value: op.kind === 'put' ? hex(op.value) : '0x' })

interface RunResult {
  root: Hex
  exists: readonly boolean[]
  values: readonly Hex[]
}

/** `run` of the harness: the new root and each GET's result; a revert comes back as an Outcome. */
async function run(root: Hex, nodes: Hex[], ops: PartialTrieOp[]): Promise<Outcome> {
  return call('run', [root, nodes, ops.map(opArg)])
}

async function runOk(root: Hex, nodes: Hex[], ops: PartialTrieOp[]): Promise<RunResult> {
  const out = await run(root, nodes, ops)
  if (!out.ok) assert.fail(`run reverted with ${out.error}(${out.args.join(', ')})`)
  const [newRoot, exists, values] = out.result as [Hex, boolean[], Hex[]]
  return { root: newRoot, exists, values }
}

// ---------------------------------------------------------------------------------------------
// Key spaces and the reference

interface Space {
  name: string
  key(r: Rng): Uint8Array
  value(r: Rng): Uint8Array
  /** Keys that are byte prefixes of one another: @ethereumjs/mpt deletes them wrongly (#2347), so its trie is rebuilt from the key set instead. */
  prefixKeys: boolean
}

function randomAccountRlp(r: Rng): Uint8Array {
  return RLP.encode([
    r.int(3) === 0 ? 0 : r.int(1_000_000),
    r.int(4) === 0 ? 0n : BigInt(hex(r.bytes(1 + r.int(12)))),
    r.bytes(32),
    r.bytes(32),
  ])
}

const secureSpace: Space = {
  name: 'secure 32-byte keys',
  key: (r) => keccak256(r.bytes(8)),
  // Account-sized values mostly, tiny ones too (slot-like values of one to three bytes).
  value: (r) => (r.int(3) === 0 ? r.bytes(1 + r.int(3)) : randomAccountRlp(r)),
  prefixKeys: false,
}

const rlpSpace: Space = {
  name: 'rlp(i) keys 0..310',
  key: (r) => RLP.encode(r.int(311)),
  // Short values make leaves and whole branches embedded (under 32 bytes); long ones are hashed, some over 256
  // bytes (a transaction or receipt; an encoding with a 3-byte header).
  value: (r) => r.bytes(r.int(3) === 0 ? 40 + r.int(600) : 1 + r.int(8)),
  prefixKeys: false,
}

const PREFIX_ALPHABET = [0x00, 0x01, 0x10, 0x11, 0x12, 0x21, 0xab, 0xff]
const prefixSpace: Space = {
  name: 'prefix-sharing raw keys',
  key: (r) => Uint8Array.from({ length: 1 + r.int(4) }, () => r.pick(PREFIX_ALPHABET)),
  value: (r) => r.bytes(r.int(4) === 0 ? 30 + r.int(60) : 1 + r.int(5)),
  prefixKeys: true,
}

/** The trie under test as the references hold it: the key set, ethereumjs's trie, and every node ever committed (the prover's store). */
class Reference {
  readonly entries = new Map<Hex, Uint8Array>()
  readonly ours = new MerkleTrie()
  readonly store = new Map<Hex, Uint8Array>()
  readonly source: TrieNodeSource = { get: (hash) => this.store.get(hex(hash)) }
  constructor(
    readonly space: Space,
    readonly theirs: MerklePatriciaTrie,
  ) {}

  static async create(space: Space): Promise<Reference> {
    return new Reference(space, await createMPT({ useKeyHashingFunction: keccak256 }))
  }

  /** Applies `ops` to the references and returns what each GET reads (undefined: absent). */
  async apply(ops: PartialTrieOp[]): Promise<Array<Uint8Array | undefined>> {
    const reads: Array<Uint8Array | undefined> = []
    for (const op of ops) {
      const id = hex(op.key)
      if (op.kind === 'get') {
        reads.push(this.entries.get(id))
        continue
      }
      reads.push(undefined)
      if (op.kind === 'put') {
        this.entries.set(id, op.value)
        this.ours.put(op.key, op.value)
        if (!this.space.prefixKeys) await this.theirs.put(op.key, op.value)
      } else {
        this.entries.delete(id)
        this.ours.del(op.key)
        if (!this.space.prefixKeys) await this.theirs.del(op.key)
      }
    }
    for (const [hash, rlp] of this.ours.commit()) this.store.set(hex(hash), rlp)
    return reads
  }

  /** ethereumjs's root: the trie updated in step, or for prefix keys one rebuilt from the key set. */
  async expectedRoot(): Promise<Hex> {
    let theirs = this.theirs
    if (this.space.prefixKeys) {
      theirs = await createMPT({ useKeyHashingFunction: keccak256 })
      for (const [k, v] of this.entries) await theirs.put(hexToBytes(k), v)
    }
    const root = hex(theirs.root())
    assert.equal(hex(this.ours.root()), root, 'our MerkleTrie agrees with ethereumjs')
    return root
  }

  pickKey(r: Rng): Uint8Array {
    const keys = [...this.entries.keys()]
    return keys.length === 0 ? this.space.key(r) : hexToBytes(r.pick(keys))
  }
}

function newStats(): Stats {
  return { batches: 0, gets: 0, absentGets: 0, replaces: 0, inserts: 0, removes: 0, absentRemoves: 0, witnessNodes: 0 }
}

interface Stats {
  batches: number
  gets: number
  absentGets: number
  replaces: number
  inserts: number
  removes: number
  absentRemoves: number
  witnessNodes: number
}

/** A random batch: reads of present and absent keys, replacements, inserts, deletions of present and absent keys. */
function randomBatch(r: Rng, ref: Reference, length: number, stats: Stats): PartialTrieOp[] {
  const ops: PartialTrieOp[] = []
  const present = new Set(ref.entries.keys())
  for (let i = 0; i < length; i++) {
    const choice = r.int(12)
    if (choice < 3) {
      const key = choice === 0 ? ref.space.key(r) : ref.pickKey(r)
      if (!present.has(hex(key))) stats.absentGets++
      stats.gets++
      ops.push({ kind: 'get', key })
    } else if (choice < 5) {
      const key = ref.pickKey(r)
      if (present.has(hex(key))) stats.replaces++
      else stats.inserts++
      present.add(hex(key))
      ops.push({ kind: 'put', key, value: ref.space.value(r) })
    } else if (choice < 8) {
      const key = ref.space.key(r)
      if (present.has(hex(key))) stats.replaces++
      else stats.inserts++
      present.add(hex(key))
      ops.push({ kind: 'put', key, value: ref.space.value(r) })
    } else {
      const key = choice === 8 ? ref.space.key(r) : ref.pickKey(r)
      if (present.has(hex(key))) stats.removes++
      else stats.absentRemoves++
      present.delete(hex(key))
      ops.push({ kind: 'del', key })
    }
  }
  return ops
}

/** Runs `ops` on the contract from the witness the builder makes, then checks the root and reads against the references. */
async function checkBatch(ref: Reference, ops: PartialTrieOp[], stats: Stats, label: string): Promise<void> {
  const before = hex(ref.ours.root())
  const witness = buildPartialTrieWitness(hexToBytes(before), ref.source, ops)
  stats.batches++
  stats.witnessNodes += witness.nodes.length
  const got = await runOk(before, hexes(witness.nodes), ops)
  const reads = await ref.apply(ops)
  const expected = await ref.expectedRoot()
  assert.equal(got.root, expected, `${label}: root`)
  assert.equal(hex(witness.root), expected, `${label}: the builder's root`)
  ops.forEach((op, i) => {
    if (op.kind !== 'get') return
    const want = reads[i]
    assert.equal(got.exists[i], want !== undefined, `${label}: op ${i} exists`)
    assert.equal(got.values[i], want === undefined ? '0x' : hex(want), `${label}: op ${i} value`)
    assert.equal(
      witness.values[i] === undefined ? undefined : hex(witness.values[i]!),
      want === undefined ? undefined : hex(want),
    )
  })
}

async function differential(space: Space, seed: number, initial: number, batches: number, batchLength: number): Promise<Stats> {
  const r = rng(seed)
  const ref = await Reference.create(space)
  const stats = newStats()
  // Inserting into the empty trie, from the empty witness.
  const fill: PartialTrieOp[] = []
  for (let i = 0; i < initial; i++) fill.push({ kind: 'put', key: space.key(r), value: space.value(r) })
  fill.push({ kind: 'get', key: fill[0]!.key })
  await checkBatch(ref, fill, stats, `${space.name}: initial fill`)
  for (let b = 0; b < batches; b++) {
    await checkBatch(ref, randomBatch(r, ref, 1 + r.int(batchLength), stats), stats, `${space.name}: batch ${b}`)
  }
  // Deleting everything in one batch (every collapse on the way), then refilling from empty.
  const keys = [...ref.entries.keys()].map((k) => hexToBytes(k))
  const wipe: PartialTrieOp[] = []
  for (let i = keys.length - 1; i > 0; i--) {
    const j = r.int(i + 1)
    ;[keys[i], keys[j]] = [keys[j]!, keys[i]!]
  }
  for (const key of keys) {
    wipe.push({ kind: 'del', key })
    if (r.int(4) === 0) wipe.push({ kind: 'get', key: ref.pickKey(r) })
  }
  await checkBatch(ref, wipe, stats, `${space.name}: delete all`)
  assert.equal(hex(ref.ours.root()), EMPTY_ROOT)
  await checkBatch(ref, randomBatch(r, ref, 12, stats), stats, `${space.name}: from empty again`)
  return stats
}

describe('PartialTrie: differential against @ethereumjs/mpt', () => {
  test('secure 32-byte keys: random batches on tries of up to ~300 keys, down to empty and back', async () => {
    const stats = await differential(secureSpace, 1, 300, 12, 40)
    process.stdout.write(`${JSON.stringify({ space: secureSpace.name, ...stats })}\n`)
    assert.ok(stats.removes > 30 && stats.absentGets > 0 && stats.inserts > 30 && stats.replaces > 30)
  })

  test('rlp(i) keys 0..310: embedded leaves and branches', async () => {
    const stats = await differential(rlpSpace, 2, 200, 12, 40)
    process.stdout.write(`${JSON.stringify({ space: rlpSpace.name, ...stats })}\n`)
    assert.ok(stats.removes > 30 && stats.absentGets > 0 && stats.absentRemoves > 0)
  })

  test('prefix-sharing keys: values in branches, collapses into leaves and extensions', async () => {
    for (const seed of [3, 4, 5]) {
      const stats = await differential(prefixSpace, seed, 40, 10, 20)
      process.stdout.write(`${JSON.stringify({ space: prefixSpace.name, seed, ...stats })}\n`)
    }
  })

  test('values of 300 and 70,000 bytes (long transactions): 2- and 3-byte length headers', async () => {
    const r = rng(12)
    const ref = await Reference.create(rlpSpace)
    const stats = newStats()
    const key = (i: number) => RLP.encode(i)
    await checkBatch(
      ref,
      [
        { kind: 'put', key: key(0), value: r.bytes(70_000) },
        { kind: 'put', key: key(1), value: r.bytes(300) },
        { kind: 'put', key: key(2), value: r.bytes(1) },
        { kind: 'get', key: key(0) },
      ],
      stats,
      'fill',
    )
    await checkBatch(
      ref,
      [
        { kind: 'get', key: key(0) },
        { kind: 'get', key: key(1) },
        { kind: 'put', key: key(1), value: r.bytes(66_000) },
        { kind: 'del', key: key(2) },
      ],
      stats,
      'replace and delete',
    )
  })

  test('two tries from one node set (a state trie and a storage trie): withRoot shares the index', async () => {
    const r = rng(13)
    const state = await Reference.create(secureSpace)
    const storage = await Reference.create(rlpSpace)
    const stats = newStats()
    await state.apply(randomBatch(r, state, 200, stats).filter((op) => op.kind === 'put'))
    await storage.apply(randomBatch(r, storage, 100, stats).filter((op) => op.kind === 'put'))
    for (let round = 0; round < 4; round++) {
      const rootA = hex(state.ours.root())
      const rootB = hex(storage.ours.root())
      const opsA = randomBatch(r, state, 15, stats)
      const opsB = randomBatch(r, storage, 15, stats)
      const nodes = [
        ...buildPartialTrieWitness(hexToBytes(rootA), state.source, opsA).nodes,
        ...buildPartialTrieWitness(hexToBytes(rootB), storage.source, opsB).nodes,
      ]
      for (let i = nodes.length - 1; i > 0; i--) {
        const j = r.int(i + 1)
        ;[nodes[i], nodes[j]] = [nodes[j]!, nodes[i]!]
      }
      const out = await call('runShared', [rootA, rootB, hexes(nodes), opsA.map(opArg), opsB.map(opArg)])
      assert.ok(out.ok, `round ${round}: ${(out as { error?: string }).error}`)
      await state.apply(opsA)
      await storage.apply(opsB)
      assert.deepEqual(out.result, [await state.expectedRoot(), await storage.expectedRoot()], `round ${round}`)
    }
  })

  test('do/dog/doge/horse: a value in a branch, an extension split, collapses back', async () => {
    const ref = await Reference.create(prefixSpace)
    const stats = newStats()
    const k = (s: string) => new TextEncoder().encode(s)
    const put = (s: string, v: string): PartialTrieOp => ({ kind: 'put', key: k(s), value: k(v) })
    const del = (s: string): PartialTrieOp => ({ kind: 'del', key: k(s) })
    const get = (s: string): PartialTrieOp => ({ kind: 'get', key: k(s) })
    await checkBatch(ref, [put('do', 'verb'), put('dog', 'puppy'), put('doge', 'coin'), put('horse', 'stallion')], stats, 'fill')
    assert.equal(hex(ref.ours.root()), '0x5991bb8c6514148a29db676a14ac506cd2cd5775ace63c30a4fe457715e9ac84')
    await checkBatch(ref, [get('do'), get('dog'), get('doge'), get('d'), get('dogs'), get('horse'), get('hors')], stats, 'reads')
    await checkBatch(ref, [del('dog'), get('doge'), del('do'), get('doge')], stats, 'collapse')
    await checkBatch(ref, [del('doge'), del('horse'), put('a', 'b')], stats, 'down to one')
    await checkBatch(ref, [del('a')], stats, 'empty')
  })
})

// ---------------------------------------------------------------------------------------------
// Adversarial witnesses

describe('PartialTrie: adversarial witnesses', () => {
  async function fixture(seed: number): Promise<{ r: Rng; ref: Reference }> {
    const r = rng(seed)
    const ref = await Reference.create(secureSpace)
    const fill: PartialTrieOp[] = []
    for (let i = 0; i < 400; i++) fill.push({ kind: 'put', key: secureSpace.key(r), value: randomAccountRlp(r) })
    await ref.apply(fill)
    return { r, ref }
  }

  test('every node of a witness is needed: without any one, MissingNode names its hash', async () => {
    const { r, ref } = await fixture(7)
    const root = hex(ref.ours.root())
    const stats = newStats()
    const ops = randomBatch(r, ref, 8, stats)
    const witness = hexes(buildPartialTrieWitness(hexToBytes(root), ref.source, ops).nodes)
    for (let i = 0; i < witness.length; i++) {
      const without = witness.filter((_, j) => j !== i)
      const out = await run(root, without, ops)
      assert.equal(out.ok, false, `witness without node ${i} should revert`)
      const failure = out as { error: string; args: readonly unknown[] }
      assert.equal(failure.error, 'PartialTrie_MissingNode')
      assert.equal(failure.args[0], hex(keccak256(hexToBytes(witness[i]!))))
    }
  })

  test('a deletion without its sibling reverts MissingNode(sibling); with it the root is right', async () => {
    // Two keys under one branch deep down, nothing else there: deleting one folds the other (the sibling) up.
    const { ref } = await fixture(8)
    const keys = [...ref.entries.keys()].map((k) => hexToBytes(k))
    let pair: [Uint8Array, Uint8Array] | undefined
    for (const a of keys) {
      const proof = ref.ours.proof(a)
      const last = RLP.decode(proof[proof.length - 2]!) as Uint8Array[]
      if (last.length !== 17 || last.filter((c) => c.length > 0).length !== 2) continue
      const sibling = keys.find((b) => b !== a && hex(ref.ours.proof(b)[proof.length - 2]!) === hex(proof[proof.length - 2]!))
      if (sibling !== undefined) {
        pair = [a, sibling]
        break
      }
    }
    assert.ok(pair !== undefined, 'a branch of two leaves')
    const [gone, stays] = pair
    const root = hex(ref.ours.root())
    const ops: PartialTrieOp[] = [{ kind: 'del', key: gone }]
    const witness = buildPartialTrieWitness(hexToBytes(root), ref.source, ops).nodes
    const siblingLeaf = ref.ours.proof(stays).at(-1)!
    assert.ok(
      witness.some((n) => hex(n) === hex(siblingLeaf)),
      'the builder includes the sibling',
    )
    const without = witness.filter((n) => hex(n) !== hex(siblingLeaf))
    const out = await run(root, hexes(without), ops)
    assert.equal(out.ok, false)
    assert.deepEqual(
      [(out as { error: string }).error, (out as { args: readonly unknown[] }).args[0]],
      ['PartialTrie_MissingNode', hex(keccak256(siblingLeaf))],
    )
    const stats = newStats()
    await checkBatch(ref, ops, stats, 'with the sibling')
  })

  test('forged nodes are never used: extra ones change nothing, one in place of a real node is MissingNode', async () => {
    const { r, ref } = await fixture(9)
    const root = hex(ref.ours.root())
    const key = ref.pickKey(r)
    const value = ref.entries.get(hex(key))!
    const ops: PartialTrieOp[] = [
      { kind: 'get', key },
      { kind: 'put', key: secureSpace.key(r), value: secureSpace.value(r) },
    ]
    const witness = buildPartialTrieWitness(hexToBytes(root), ref.source, ops).nodes
    const honest = await runOk(root, hexes(witness), ops)
    // Forgeries: each real node with its last byte changed (the leaf's value, a branch's child hash), and a leaf
    // holding another value at the key's full path.
    const forged = witness.map((n) => {
      const f = n.slice()
      f[f.length - 1]! ^= 1
      return f
    })
    const fakeLeaf = RLP.encode([Uint8Array.of(0x20, ...key), RLP.encode([1, 2, 3])])
    const withForgeries = [...forged, fakeLeaf, ...witness, ...forged].map(hex)
    const mixed = await runOk(root, withForgeries, ops)
    assert.deepEqual(mixed, honest)
    assert.equal(honest.values[0], hex(value))
    for (let i = 0; i < witness.length; i++) {
      const replaced = witness.map((n, j) => (j === i ? forged[i]! : n))
      const out = await run(root, hexes(replaced), ops)
      assert.equal(out.ok, false)
      assert.equal((out as { error: string }).error, 'PartialTrie_MissingNode')
      assert.equal((out as { args: readonly unknown[] }).args[0], hex(keccak256(witness[i]!)))
    }
  })

  test('absent keys read as absent from the nodes that prove it; reads need no more', async () => {
    const { r, ref } = await fixture(10)
    const root = hex(ref.ours.root())
    const absent = Array.from({ length: 10 }, () => secureSpace.key(r))
    const ops: PartialTrieOp[] = absent.map((key) => ({ kind: 'get', key }))
    const witness = buildPartialTrieWitness(hexToBytes(root), ref.source, ops).nodes
    // The nodes of the keys' eth_getProof proofs cover the witness exactly.
    const proofNodes = new Set(absent.flatMap((key) => hexes(ref.ours.proof(key))))
    assert.deepEqual(new Set(hexes(witness)), proofNodes)
    const got = await runOk(root, hexes(witness), ops)
    assert.equal(got.root, root)
    assert.deepEqual(
      got.exists,
      absent.map(() => false),
    )
  })

  test('the empty trie needs no node; an empty value reverts EmptyValue', async () => {
    const ref = await Reference.create(secureSpace)
    const key = keccak256(Uint8Array.of(1))
    const got = await runOk(
      EMPTY_ROOT,
      [],
      [
        { kind: 'get', key },
        { kind: 'del', key },
      ],
    )
    assert.deepEqual([got.root, got.exists[0]], [EMPTY_ROOT, false])
    const out = await call('run', [EMPTY_ROOT, [], [{ kind: KIND.put, key: hex(key), value: '0x' }]])
    assert.equal((out as { error: string }).error, 'PartialTrie_EmptyValue')
    // A short root is referenced by hash all the same: a one-key trie with a tiny value.
    await ref.apply([{ kind: 'put', key: Uint8Array.of(7), value: Uint8Array.of(1) }])
    const tiny = hex(ref.ours.root())
    const witness = buildPartialTrieWitness(hexToBytes(tiny), ref.source, [{ kind: 'get', key: Uint8Array.of(7) }]).nodes
    assert.equal(witness.length, 1)
    assert.ok(witness[0]!.length < 32)
    const read = await runOk(tiny, hexes(witness), [{ kind: 'get', key: Uint8Array.of(7) }])
    assert.deepEqual([read.exists[0], read.values[0]], [true, '0x01'])
    const missing = await run(tiny, [], [{ kind: 'get', key: Uint8Array.of(7) }])
    assert.equal((missing as { error: string }).error, 'PartialTrie_MissingNode')
  })
})

// ---------------------------------------------------------------------------------------------
// Gas

describe('PartialTrie: gas', () => {
  test('20 reads, and 20 writes plus the root, in a trie of 10,000 accounts, vs MerkleTrieWriter one proof at a time', async () => {
    const r = rng(99)
    const trie = new MerkleTrie()
    const count = 10_000
    const keys: Uint8Array[] = []
    for (let i = 0; i < count; i++) {
      const key = keccak256(Uint8Array.of(i >> 16, i >> 8, i))
      keys.push(key)
      trie.put(key, randomAccountRlp(r))
    }
    const store = new Map<Hex, Uint8Array>()
    for (const [hash, rlp] of trie.commit()) store.set(hex(hash), rlp)
    const source: TrieNodeSource = { get: (hash) => store.get(hex(hash)) }
    const root = hex(trie.root())
    const chosen = new Set<Hex>()
    while (chosen.size < 20) chosen.add(hex(r.pick(keys)))
    const picked = [...chosen].map((k) => hexToBytes(k))
    const values = picked.map(() => randomAccountRlp(r))

    const gets: PartialTrieOp[] = picked.map((key) => ({ kind: 'get', key }))
    const getWitness = hexes(buildPartialTrieWitness(hexToBytes(root), source, gets).nodes)
    const read = await runOk(root, getWitness, gets)
    assert.ok(read.exists.every((e) => e))
    const partialGet = await gasOf('run', [root, getWitness, gets.map(opArg)])

    const proofs = picked.map((key) => hexes(trie.proof(key)))
    assert.equal(((await call('writerGets', [root, picked.map(hex), proofs])) as { result: bigint }).result, 20n)
    const writerGet = await gasOf('writerGets', [root, picked.map(hex), proofs])

    const puts: PartialTrieOp[] = picked.map((key, i) => ({ kind: 'put', key, value: values[i]! }))
    const putWitness = buildPartialTrieWitness(hexToBytes(root), source, puts)
    const written = await runOk(root, hexes(putWitness.nodes), puts)
    const partialPut = await gasOf('run', [root, hexes(putWitness.nodes), puts.map(opArg)])

    // MerkleTrieWriter: each write's proof is taken under the root the previous one left.
    const sequentialProofs: Hex[][] = []
    for (let i = 0; i < picked.length; i++) {
      sequentialProofs.push(hexes(trie.proof(picked[i]!)))
      trie.put(picked[i]!, values[i]!)
    }
    const finalRoot = hex(trie.root())
    assert.equal(written.root, finalRoot)
    assert.equal(hex(putWitness.root), finalRoot)
    const writerArgs = [root, picked.map(hex), values.map(hex), sequentialProofs]
    assert.deepEqual(await call('writerUpdates', writerArgs), { ok: true, result: finalRoot })
    const writerPut = await gasOf('writerUpdates', writerArgs)

    const report = {
      bench: 'partial-trie-gas',
      accounts: count,
      keys: 20,
      witnessNodes: { get: getWitness.length, update: putWitness.nodes.length },
      proofNodes: proofs.reduce((n, p) => n + p.length, 0),
      partialTrie: { loadGet20: partialGet, update20Root: partialPut },
      merkleTrieWriter: { get20: writerGet, update20: writerPut },
      note: 'total = eth_estimateGas of one harness call (cancun); execution = total - 21000 - calldata gas; calldata in bytes',
    }
    process.stdout.write(`${JSON.stringify(report)}\n`)
    assert.ok(partialGet.total < writerGet.total, 'reads cost less from one witness')
    assert.ok(partialPut.total < writerPut.total, 'writes cost less from one witness')
  })
})
