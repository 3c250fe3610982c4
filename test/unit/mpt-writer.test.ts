/**
 * MerkleTrieWriter, RLPWriter and StateAccount (contracts/libraries) compiled with solc and run on anvil
 * through contracts/test/MerkleTrieWriterHarness.sol, checked differentially against
 * @ethereumjs/mpt and @ethereumjs/rlp: after every random write the root the contract computes from a proof equals
 * the root of the reference trie, reads agree on present and absent keys, and every proof other than the one valid
 * proof reverts.
 */
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createMPT, createMerkleProof, type MerklePatriciaTrie } from '@ethereumjs/mpt'
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
import { compileFiles } from '../../scripts/compile-contracts.mjs'
import { keccak256 } from '../../src/crypto/native.ts'
import { MerkleTrie } from '../../src/trie/index.ts'
import { startAnvil, type AnvilHandle } from '../helpers/node-process.ts'
import { rng, type Rng } from '../helpers/rng.ts'

const EMPTY_ROOT: Hex = '0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421'
const EMPTY_CODE_HASH: Hex = '0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470'
const HARNESS: Address = `0x${'11'.repeat(20)}`

// Library errors, so that reverts decode by name whether or not solc lists them in the harness ABI.
const ERRORS = parseAbi([
  'error MerkleTrieWriter_BadNodeReference()',
  'error MerkleTrieWriter_BadNode()',
  'error MerkleTrieWriter_MissingProofNode()',
  'error MerkleTrieWriter_ExtraProofNodes()',
  'error MerkleTrieWriter_EmptyValue()',
  'error MerkleTrieWriter_MissingSibling()',
  'error RLPReader_Malformed()',
  'error RLPReader_NotAList()',
  'error RLPReader_NotAString()',
  'error StateAccount_Malformed()',
])

let anvil: AnvilHandle
let abi: Abi
let rpcId = 0

/** One JSON-RPC request to the test's anvil. */
async function rpc(method: string, params: unknown[]): Promise<{ result?: unknown; error?: { message: string; data?: Hex } }> {
  const response = await fetch(anvil.rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: ++rpcId, method, params }),
  })
  return (await response.json()) as { result?: unknown; error?: { message: string; data?: Hex } }
}

before(async () => {
  const [compiled] = compileFiles(['test/MerkleTrieWriterHarness.sol'], 'cancun')
  abi = compiled!.abi as Abi
  // Cancun: no EIP-7623 calldata floor, so a call's gas is intrinsic + calldata + execution.
  anvil = await startAnvil(['--quiet', '--hardfork', 'cancun', '--gas-limit', '1000000000'])
  const set = await rpc('anvil_setCode', [HARNESS, compiled!.deployedBytecode])
  assert.equal(set.error, undefined)
})

after(async () => {
  await anvil?.stop()
})

type Outcome = { ok: true; result: unknown } | { ok: false; error: string }

/** eth_call of the harness; a revert comes back as the error's name (or its raw data when unknown). */
async function call(functionName: string, args: readonly unknown[]): Promise<Outcome> {
  const data = encodeFunctionData({ abi, functionName, args })
  const answer = await rpc('eth_call', [{ to: HARNESS, data, gas: '0x3b9aca00' }, 'latest'])
  if (answer.error !== undefined) {
    const revertData = answer.error.data
    if (revertData === undefined || revertData === '0x') return { ok: false, error: answer.error.message }
    try {
      return { ok: false, error: decodeErrorResult({ abi: [...abi, ...ERRORS], data: revertData }).errorName }
    } catch {
      return { ok: false, error: revertData }
    }
  }
  return { ok: true, result: decodeFunctionResult({ abi, functionName, data: answer.result as Hex }) }
}

/**
 * The gas of a call as a transaction would use it, split into intrinsic (21,000 plus calldata at 4 per zero byte and
 * 16 per other byte) and execution (the rest: ABI decoding of the proof into memory and the library's work).
 */
async function gasOf(functionName: string, args: readonly unknown[]): Promise<{ total: number; execution: number }> {
  const data = encodeFunctionData({ abi, functionName, args })
  const answer = await rpc('eth_estimateGas', [{ to: HARNESS, data }])
  if (answer.error !== undefined) assert.fail(`estimateGas ${functionName}: ${answer.error.message}`)
  const total = Number(BigInt(answer.result as Hex))
  let intrinsic = 21_000
  for (const b of hexToBytes(data)) intrinsic += b === 0 ? 4 : 16
  return { total, execution: total - intrinsic }
}

async function succeed<T>(functionName: string, args: readonly unknown[]): Promise<{ result: T }> {
  const out = await call(functionName, args)
  if (!out.ok) assert.fail(`${functionName} reverted with ${out.error}`)
  return { result: out.result as T }
}

async function reverts(functionName: string, args: readonly unknown[], expected?: string): Promise<string> {
  const out = await call(functionName, args)
  assert.equal(out.ok, false, `${functionName} should revert`)
  const error = (out as { error: string }).error
  if (expected !== undefined) assert.equal(error, expected)
  return error
}

const hex = (b: Uint8Array): Hex => bytesToHex(b)
const hexes = (nodes: Uint8Array[]): Hex[] => nodes.map(hex)

// ---------------------------------------------------------------------------------------------
// RLPWriter

describe('RLPWriter', () => {
  test('byte strings, integers, addresses and lists encode as @ethereumjs/rlp does', async () => {
    const r = rng(11)
    const lengths = [0, 1, 1, 1, 2, 31, 32, 55, 56, 57, 255, 256, 1024, 70_000]
    for (const length of lengths) {
      const b = r.bytes(length)
      assert.equal((await succeed('writeBytes', [hex(b)])).result, hex(RLP.encode(b)), `bytes of length ${length}`)
    }
    for (const single of [0x00, 0x01, 0x7f, 0x80, 0xff]) {
      const b = Uint8Array.of(single)
      assert.equal((await succeed('writeBytes', [hex(b)])).result, hex(RLP.encode(b)), `byte ${single}`)
    }
    const ints = [0n, 1n, 0x7fn, 0x80n, 0xffn, 0x100n, 1n << 64n, (1n << 255n) + 3n, (1n << 256n) - 1n]
    for (let i = 0; i < 20; i++) ints.push(BigInt(hex(r.bytes(1 + r.int(32)))))
    for (const x of ints) assert.equal((await succeed('writeUint', [x])).result, hex(RLP.encode(x)), `uint ${x}`)
    for (const a of ['0x0000000000000000000000000000000000000000', '0x4200000000000000000000000000000000000016']) {
      assert.equal((await succeed('writeAddress', [a])).result, hex(RLP.encode(hexToBytes(a as Hex))))
    }
    for (let i = 0; i < 30; i++) {
      const items = Array.from({ length: r.int(12) }, () => {
        const roll = r.int(3)
        if (roll === 0) return r.bytes(r.int(70))
        if (roll === 1) return BigInt(r.int(1_000_000))
        return [r.bytes(r.int(40)), r.bytes(1)]
      })
      const encodedItems = items.map((item) => hex(RLP.encode(item)))
      assert.equal((await succeed('writeList', [encodedItems])).result, hex(RLP.encode(items)), `list ${i}`)
    }
    const long = Array.from({ length: 40 }, () => r.bytes(100))
    assert.equal((await succeed('writeList', [long.map((b) => hex(RLP.encode(b)))])).result, hex(RLP.encode(long)))
  })
})

// ---------------------------------------------------------------------------------------------
// StateAccount

interface Account {
  nonce: bigint
  balance: bigint
  storageRoot: Hex
  codeHash: Hex
}

function accountRlp(a: Account): Uint8Array {
  return RLP.encode([a.nonce, a.balance, hexToBytes(a.storageRoot), hexToBytes(a.codeHash)])
}

function randomAccount(r: Rng): Account {
  return {
    nonce: BigInt(r.int(3) === 0 ? 0 : r.int(1_000_000)),
    balance: r.int(4) === 0 ? 0n : BigInt(hex(r.bytes(1 + r.int(12)))),
    storageRoot: r.int(2) === 0 ? EMPTY_ROOT : hex(r.bytes(32)),
    codeHash: r.int(2) === 0 ? EMPTY_CODE_HASH : hex(r.bytes(32)),
  }
}

describe('StateAccount', () => {
  test('encode and decode round-trip against @ethereumjs/rlp; malformed encodings revert', async () => {
    const r = rng(21)
    for (let i = 0; i < 25; i++) {
      const a = randomAccount(r)
      assert.equal((await succeed('encodeAccount', [a])).result, hex(accountRlp(a)))
      assert.deepEqual((await succeed('decodeAccount', [hex(accountRlp(a))])).result, a)
    }
    const good = randomAccount(r)
    const bad: Array<[string, Uint8Array]> = [
      ['nonce with a leading zero', RLP.encode([Uint8Array.of(0, 1), 1n, hexToBytes(EMPTY_ROOT), hexToBytes(EMPTY_CODE_HASH)])],
      ['zero nonce as 0x00', RLP.encode([Uint8Array.of(0), 1n, hexToBytes(EMPTY_ROOT), hexToBytes(EMPTY_CODE_HASH)])],
      [
        '33-byte balance',
        RLP.encode([1n, Uint8Array.of(1, ...new Uint8Array(32)), hexToBytes(EMPTY_ROOT), hexToBytes(EMPTY_CODE_HASH)]),
      ],
      ['31-byte storage root', RLP.encode([1n, 1n, new Uint8Array(31).fill(1), hexToBytes(EMPTY_CODE_HASH)])],
      ['five fields', RLP.encode([1n, 1n, hexToBytes(EMPTY_ROOT), hexToBytes(EMPTY_CODE_HASH), 1n])],
      ['three fields', RLP.encode([1n, 1n, hexToBytes(EMPTY_ROOT)])],
      ['trailing byte', Uint8Array.of(...accountRlp(good), 0)],
      ['a string, not a list', RLP.encode(accountRlp(good))],
    ]
    for (const [label, encoded] of bad) {
      const error = await reverts('decodeAccount', [hex(encoded)])
      assert.ok(/StateAccount_Malformed|RLPReader_/.test(error), `${label}: ${error}`)
    }
  })

  test('load, store and erase accounts of a state trie through account proofs', async () => {
    const r = rng(22)
    const trie = new MerkleTrie()
    const addresses: Address[] = Array.from({ length: 200 }, () => hex(r.bytes(20)) as Address)
    const accounts = new Map<Address, Account>()
    for (const a of addresses.slice(0, 150)) {
      const account = randomAccount(r)
      accounts.set(a, account)
      trie.put(keccak256(hexToBytes(a)), accountRlp(account))
    }
    for (let i = 0; i < 40; i++) {
      const address = r.pick(addresses)
      const key = keccak256(hexToBytes(address))
      const proof = hexes(trie.proof(key))
      const root = hex(trie.root())
      const { result } = await succeed<[boolean, Account]>('loadAccount', [root, address, proof])
      const known = accounts.get(address)
      assert.deepEqual(result, [
        known !== undefined,
        known ?? { nonce: 0n, balance: 0n, storageRoot: EMPTY_ROOT, codeHash: EMPTY_CODE_HASH },
      ])
      if (i % 5 === 4 && known !== undefined) {
        const erased = await eraseWithSibling(
          trie,
          [...accounts.keys()].map((a) => keccak256(hexToBytes(a))),
          key,
          (p) => call('eraseAccount', [root, address, p]),
        )
        accounts.delete(address)
        trie.del(key)
        assert.equal(erased, hex(trie.root()), 'root after erase')
        continue
      }
      const next = randomAccount(r)
      const { result: newRoot } = await succeed<Hex>('storeAccount', [root, address, next, proof])
      accounts.set(address, next)
      trie.put(key, accountRlp(next))
      assert.equal(newRoot, hex(trie.root()), 'root after store')
    }
  })
})

// ---------------------------------------------------------------------------------------------
// MerkleTrieWriter: the reference tries

/**
 * A key space, and the reference the writer is compared with. Fixed-length and rlp(i) keys are never byte prefixes
 * of one another, so @ethereumjs/mpt is updated in step (its deletions are wrong only for prefix keys, #2347) and
 * its proofs (without the embedded nodes, which eth_getProof leaves out) are what the writer gets. Prefix keys put
 * values in branches; there our own MerkleTrie (src/trie, checked against ethereum/tests and ethereumjs in
 * merkle-trie.test.ts) gives proofs and roots, and an ethereumjs trie rebuilt from the key set checks the end.
 */
interface Space {
  name: string
  /** A key not necessarily in the trie. */
  key(r: Rng, size: number): Uint8Array
  value(r: Rng): Uint8Array
  prefixKeys: boolean
}

const secureSpace: Space = {
  name: 'secure (32-byte hashed keys, account-sized values)',
  key: (r) => keccak256(r.bytes(8)),
  value: (r) => accountRlp(randomAccount(r)),
  prefixKeys: false,
}

function rlpIndex(i: number): Uint8Array {
  return RLP.encode(i)
}

const rlpSpace: Space = {
  name: 'rlp(i) keys (transactions and receipts tries)',
  // Indices around the current size: existing ones, the next one to append, a few past it.
  key: (r, size) => rlpIndex(r.int(size + 3)),
  // Short values make leaves and whole branches embedded (under 32 bytes); long ones are hashed.
  value: (r) => r.bytes(r.int(3) === 0 ? 40 + r.int(200) : 1 + r.int(8)),
  prefixKeys: false,
}

const PREFIX_ALPHABET = [0x00, 0x01, 0x10, 0x11, 0x12, 0x21, 0xab, 0xff]
const prefixSpace: Space = {
  name: 'prefix-sharing raw keys (values in branches, embedded nodes)',
  key: (r) => Uint8Array.from({ length: 1 + r.int(4) }, () => r.pick(PREFIX_ALPHABET)),
  value: (r) => r.bytes(r.int(4) === 0 ? 30 + r.int(60) : 1 + r.int(5)),
  prefixKeys: true,
}

class Reference {
  readonly entries = new Map<Hex, Uint8Array>()
  readonly ours = new MerkleTrie()
  /** The last proof ethereumjs gave with embedded nodes listed as their own elements, which the writer refuses. */
  withEmbedded: Hex[] | undefined
  constructor(
    readonly space: Space,
    readonly theirs: MerklePatriciaTrie,
  ) {}

  static async create(space: Space): Promise<Reference> {
    return new Reference(space, await createMPT({ useKeyHashingFunction: keccak256 }))
  }

  async put(key: Uint8Array, value: Uint8Array): Promise<void> {
    this.entries.set(hex(key), value)
    this.ours.put(key, value)
    if (!this.space.prefixKeys) await this.theirs.put(key, value)
  }

  async del(key: Uint8Array): Promise<void> {
    this.entries.delete(hex(key))
    this.ours.del(key)
    if (!this.space.prefixKeys) await this.theirs.del(key)
  }

  root(): Hex {
    const root = hex(this.ours.root())
    if (!this.space.prefixKeys) assert.equal(hex(this.theirs.root()), root, 'our trie agrees with ethereumjs')
    return root
  }

  /** The proof as eth_getProof gives it; counts the walks that cross embedded nodes. */
  async proof(key: Uint8Array, stats: Stats): Promise<Hex[]> {
    const ours = this.ours.proof(key)
    if (this.space.prefixKeys) return hexes(ours)
    const theirs = await createMerkleProof(this.theirs, key)
    const filtered = theirs.filter((node, i) => i === 0 || node.length >= 32)
    if (filtered.length !== theirs.length) {
      stats.embedded++
      this.withEmbedded = hexes(theirs)
    }
    assert.deepEqual(hexes(filtered), hexes(ours), 'proofs agree')
    return hexes(filtered)
  }

  /** The final check for prefix keys: ethereumjs built from the key set has our root. */
  async checkRebuilt(): Promise<void> {
    const rebuilt = await createMPT({ useKeyHashingFunction: keccak256 })
    for (const [k, v] of this.entries) await rebuilt.put(hexToBytes(k), v)
    assert.equal(hex(rebuilt.root()), hex(this.ours.root()), 'ethereumjs rebuilt from the key set')
  }
}

interface Stats {
  updates: number
  inserts: number
  removes: number
  siblings: number
  gets: number
  absentGets: number
  branchValues: number
  embedded: number
  adversarial: number
}

function newStats(): Stats {
  return { updates: 0, inserts: 0, removes: 0, siblings: 0, gets: 0, absentGets: 0, branchValues: 0, embedded: 0, adversarial: 0 }
}

/** Nibble-level common prefix of two keys (to find a key under the same subtree). */
function commonNibbles(a: Uint8Array, b: Uint8Array): number {
  let n = 0
  const total = Math.min(a.length, b.length) * 2
  while (n < total) {
    const na = n % 2 === 0 ? a[n >> 1]! >> 4 : a[n >> 1]! & 15
    const nb = n % 2 === 0 ? b[n >> 1]! >> 4 : b[n >> 1]! & 15
    if (na !== nb) break
    n++
  }
  return n
}

/**
 * Runs a removal, adding the sibling node when the writer asks for it — found as a prover finds it: the node after
 * the shared path in the proof of the remaining key that shares the most nibbles with the deleted one (the branch
 * left with one child lies on both paths, the child on the other's only).
 */
async function eraseWithSibling(
  trie: MerkleTrie,
  keys: Uint8Array[],
  key: Uint8Array,
  run: (proof: Hex[]) => Promise<Outcome>,
  stats?: Stats,
): Promise<Hex> {
  const proof = trie.proof(key)
  const first = await run(hexes(proof))
  if (first.ok) return first.result as Hex
  assert.equal(first.error, 'MerkleTrieWriter_MissingSibling')
  let best: Uint8Array | undefined
  let bestLength = -1
  for (const other of keys) {
    if (hex(other) === hex(key)) continue
    const n = commonNibbles(other, key)
    if (n > bestLength) [best, bestLength] = [other, n]
  }
  const otherProof = trie.proof(best!)
  let shared = 0
  while (shared < proof.length && shared < otherProof.length && hex(proof[shared]!) === hex(otherProof[shared]!)) shared++
  const sibling = otherProof[shared]!
  const withSibling = [...hexes(proof), hex(sibling)]
  const second = await run(withSibling)
  if (!second.ok) assert.fail(`remove with the sibling reverted with ${second.error}`)
  if (stats !== undefined) stats.siblings++
  // A sibling that is not the one the branch references, or one too many, is refused.
  const wrong = await run([...hexes(proof), hex(proof[proof.length - 1]!)])
  assert.equal(wrong.ok, false, 'a wrong sibling is refused')
  const extra = await run([...withSibling, hex(sibling)])
  assert.equal(extra.ok, false, 'a node after the sibling is refused')
  return second.result as Hex
}

// ---------------------------------------------------------------------------------------------
// MerkleTrieWriter: adversarial proofs

/**
 * Variants of a valid proof that must all revert: the walk accepts exactly one proof per key and root, so anything
 * else is either refused or would have been a second, conflicting proof.
 */
function tamperedProofs(r: Rng, proof: Hex[], foreign: Hex[][]): Array<[string, Hex[]]> {
  const out: Array<[string, Hex[]]> = []
  const same = (a: Hex[], b: Hex[]): boolean => a.length === b.length && a.every((x, i) => x === b[i])
  if (proof.length > 0) out.push(['truncated', proof.slice(0, -1)])
  if (proof.length > 1) out.push(['root only', proof.slice(0, 1)])
  out.push(['a node past the end', [...proof, proof[proof.length - 1] ?? EMPTY_ROOT]])
  const pool = foreign.flat().filter((n) => !proof.includes(n))
  if (proof.length > 0 && pool.length > 0) {
    const i = r.int(proof.length)
    out.push(['a wrong node', proof.map((n, j) => (j === i ? r.pick(pool) : n))])
    const k = 1 + r.int(proof.length)
    out.push(['a node its parent does not reference', [...proof.slice(0, k), r.pick(pool), ...proof.slice(k)]])
  }
  if (proof.length > 0) {
    const i = r.int(proof.length)
    const bytes = hexToBytes(proof[i]!)
    const at = 1 + r.int(bytes.length - 1)
    bytes[at] = bytes[at]! ^ (1 + r.int(255))
    out.push(['a flipped byte', proof.map((n, j) => (j === i ? hex(bytes) : n))])
  }
  for (const other of foreign) if (!same(other, proof)) out.push(["another key's proof", other])
  return out
}

const REMOVE_TAMPERINGS = ['truncated', 'root only', 'a wrong node', 'a flipped byte']

async function checkAdversarial(r: Rng, key: Hex, value: Hex, proof: Hex[], root: Hex, foreign: Hex[][], stats: Stats) {
  for (const [label, bad] of tamperedProofs(r, proof, foreign)) {
    stats.adversarial++
    const get = await call('get', [key, bad, root])
    assert.equal(get.ok, false, `get accepted ${label}`)
    const update = await call('update', [key, value, bad, root])
    assert.equal(update.ok, false, `update accepted ${label}`)
    // A removal may take one node more than the key's proof (the sibling), which a foreign proof can supply.
    if (REMOVE_TAMPERINGS.includes(label) && r.int(2) === 0) {
      const remove = await call('remove', [key, bad, root])
      assert.equal(remove.ok, false, `remove accepted ${label}`)
    }
  }
  const wrongRoot = hex(r.bytes(32))
  assert.equal((await call('get', [key, proof, wrongRoot])).ok, false, 'get under another root')
  assert.equal((await call('update', [key, value, proof, wrongRoot])).ok, false, 'update under another root')
}

// ---------------------------------------------------------------------------------------------
// MerkleTrieWriter: differential runs

/**
 * Builds a trie of `size` random keys, then applies `ops` random operations through the writer — updates of present
 * keys, inserts, removals, reads of present and absent keys — each from the reference's proof, comparing the new
 * root with the reference's after every step.
 */
async function differentialRun(space: Space, seed: number, size: number, ops: number, stats: Stats): Promise<void> {
  const r = rng(seed)
  const ref = await Reference.create(space)
  for (let i = 0; i < size; i++) {
    const key = space.prefixKeys || space === secureSpace ? space.key(r, i) : rlpIndex(i)
    await ref.put(key, space.value(r))
  }
  const foreignKeys = (): Uint8Array[] => Array.from({ length: 2 }, () => space.key(r, ref.entries.size))
  for (let op = 0; op < ops; op++) {
    const root = ref.root()
    const present = [...ref.entries.keys()]
    const roll = r.int(10)
    const context = `${space.name} seed ${seed} size ${size} op ${op}`
    const key: Uint8Array =
      (roll < 6 || roll === 8) && present.length > 0 ? hexToBytes(r.pick(present)) : space.key(r, ref.entries.size)
    const keyHex = hex(key)
    const proof = await ref.proof(key, stats)
    const expected = ref.entries.get(keyHex)
    if (expected !== undefined && space.prefixKeys && present.some((k) => k !== keyHex && k.startsWith(keyHex))) {
      stats.branchValues++
    }

    if (ref.withEmbedded !== undefined) {
      // ethereumjs' own proof format lists embedded nodes too; the writer takes eth_getProof's only.
      assert.equal((await call('get', [keyHex, ref.withEmbedded, root])).ok, false, `${context}: embedded nodes listed`)
      ref.withEmbedded = undefined
    }
    // Every operation first reads the key.
    const { result: got } = await succeed<[boolean, Hex]>('get', [keyHex, proof, root])
    assert.deepEqual(got, expected === undefined ? [false, '0x'] : [true, hex(expected)], `${context}: get`)
    if (expected === undefined) stats.absentGets++
    else stats.gets++

    if (op % 4 === 0 && root !== EMPTY_ROOT) {
      const foreign = await Promise.all(foreignKeys().map((k) => ref.proof(k, newStats())))
      await checkAdversarial(r, keyHex, hex(space.value(r)), proof, root, foreign, stats)
    }

    if (roll === 8 || roll === 9) {
      // Removal (of a present key for 8, usually of an absent one for 9: a no-op).
      const newRoot = await eraseWithSibling(
        ref.ours,
        present.map((k) => hexToBytes(k)),
        key,
        (p) => call('remove', [keyHex, p, root]),
        stats,
      )
      await ref.del(key)
      assert.equal(newRoot, ref.root(), `${context}: root after remove`)
      if (expected !== undefined) stats.removes++
      continue
    }
    const value = space.value(r)
    const { result: newRoot } = await succeed<Hex>('update', [keyHex, hex(value), proof, root])
    await ref.put(key, value)
    assert.equal(newRoot, ref.root(), `${context}: root after update`)
    if (expected === undefined) stats.inserts++
    else stats.updates++
  }
  if (space.prefixKeys) await ref.checkRebuilt()
}

describe('MerkleTrieWriter: differential against @ethereumjs/mpt', () => {
  test('secure tries of 1 to 2,000 keys', async () => {
    const stats = newStats()
    const sizes = [0, 1, 2, 3, 16, 17, 100, 2000]
    for (const [i, size] of sizes.entries()) await differentialRun(secureSpace, 1000 + i, size, size > 500 ? 40 : 25, stats)
    console.log(JSON.stringify({ space: 'secure', ...stats }))
    assert.ok(stats.inserts > 20 && stats.updates > 20 && stats.removes > 10 && stats.siblings > 5)
    assert.ok(stats.absentGets > 20 && stats.adversarial > 100)
  })

  test('rlp(i)-keyed tries of 1 to 300 items', async () => {
    const stats = newStats()
    const sizes = [0, 1, 2, 15, 16, 17, 127, 128, 129, 300]
    for (const [i, size] of sizes.entries()) await differentialRun(rlpSpace, 2000 + i, size, 20, stats)
    console.log(JSON.stringify({ space: 'rlp', ...stats }))
    assert.ok(stats.inserts > 10 && stats.updates > 20 && stats.removes > 10)
    assert.ok(stats.embedded > 10, 'proofs crossing embedded nodes')
  })

  test('prefix-sharing raw keys: values in branches, embedded leaves and branches', async () => {
    const stats = newStats()
    for (let seed = 0; seed < 12; seed++) await differentialRun(prefixSpace, 3000 + seed, 3 + seed * 6, 25, stats)
    console.log(JSON.stringify({ space: 'prefix', ...stats }))
    assert.ok(stats.branchValues > 10, 'values read and written in a branch value slot')
    assert.ok(stats.inserts > 30 && stats.updates > 50 && stats.removes > 20 && stats.siblings > 0)
  })
})

describe('MerkleTrieWriter: fixed shapes', () => {
  const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)

  test('do/dog/doge: a value in a branch, an extension split, collapses back to the original roots', async () => {
    const trie = new MerkleTrie()
    const roots: Hex[] = [hex(trie.root())]
    const keys = ['doge', 'dog', 'do', 'horse', 'dot']
    for (const k of keys) {
      const proof = hexes(trie.proof(bytes(k)))
      const { result } = await succeed<Hex>('update', [hex(bytes(k)), hex(bytes(`value of ${k}`)), proof, roots.at(-1)!])
      trie.put(bytes(k), bytes(`value of ${k}`))
      assert.equal(result, hex(trie.root()), `insert ${k}`)
      roots.push(result)
    }
    for (const k of [...keys].reverse()) {
      roots.pop()
      const removed = await eraseWithSibling(trie, keys.map(bytes), bytes(k), (p) =>
        call('remove', [hex(bytes(k)), p, hex(trie.root())]),
      )
      trie.del(bytes(k))
      assert.equal(removed, roots.at(-1), `remove ${k} restores the root before its insert`)
    }
    assert.equal(roots[0], EMPTY_ROOT)
  })

  test('the empty trie: absent everywhere, first insert, last removal; empty values are refused', async () => {
    const key = hex(keccak256(Uint8Array.of(1)))
    assert.deepEqual((await succeed('get', [key, [], EMPTY_ROOT])).result, [false, '0x'])
    assert.deepEqual((await succeed('get', [key, ['0x80'], EMPTY_ROOT])).result, [false, '0x'])
    assert.equal((await succeed('remove', [key, [], EMPTY_ROOT])).result, EMPTY_ROOT)
    const { result: root } = await succeed<Hex>('update', [key, '0x01', [], EMPTY_ROOT])
    const trie = new MerkleTrie()
    trie.put(hexToBytes(key), Uint8Array.of(1))
    assert.equal(root, hex(trie.root()))
    assert.equal((await succeed('remove', [key, hexes(trie.proof(hexToBytes(key))), root])).result, EMPTY_ROOT)
    await reverts('update', [key, '0x', [], EMPTY_ROOT], 'MerkleTrieWriter_EmptyValue')
    await reverts('get', [key, ['0x80', '0x80'], EMPTY_ROOT], 'MerkleTrieWriter_ExtraProofNodes')
  })

  test('errors name the fault', async () => {
    const trie = new MerkleTrie()
    const r = rng(5)
    const keys = Array.from({ length: 300 }, () => keccak256(r.bytes(4)))
    for (const k of keys) trie.put(k, r.bytes(70))
    const root = hex(trie.root())
    const key = keys[7]!
    const proof = hexes(trie.proof(key))
    await reverts('get', [hex(key), proof.slice(0, -1), root], 'MerkleTrieWriter_MissingProofNode')
    await reverts('get', [hex(key), [...proof, proof[0]!], root], 'MerkleTrieWriter_ExtraProofNodes')
    await reverts('get', [hex(key), hexes(trie.proof(keys[8]!)), root], 'MerkleTrieWriter_BadNodeReference')
    await reverts('get', [hex(key), proof, hex(r.bytes(32))], 'MerkleTrieWriter_BadNodeReference')
    // A hashed node under 32 bytes: a root that is a short leaf, referenced by hash from a crafted branch.
    const shortLeaf = RLP.encode([Uint8Array.of(0x3a), Uint8Array.of(1)])
    const branch = RLP.encode([keccak256(shortLeaf), ...Array.from({ length: 15 }, () => new Uint8Array(0)), new Uint8Array(0)])
    await reverts(
      'get',
      [hex(Uint8Array.of(0x0a)), [hex(branch), hex(shortLeaf)], hex(keccak256(branch))],
      'MerkleTrieWriter_BadNodeReference',
    )
    // Not a node: a 3-item list as the root.
    const notANode = RLP.encode([1n, 2n, 3n])
    await reverts('get', [hex(key), [hex(notANode)], hex(keccak256(notANode))], 'MerkleTrieWriter_BadNode')
    // A leaf holding an empty value.
    const emptyLeaf = RLP.encode([Uint8Array.of(0x20, ...key), new Uint8Array(0)])
    await reverts('get', [hex(key), [hex(emptyLeaf)], hex(keccak256(emptyLeaf))], 'MerkleTrieWriter_BadNode')
  })
})

// ---------------------------------------------------------------------------------------------
// Gas

describe('MerkleTrieWriter: gas', () => {
  test('get, update, insert and remove of an account in a state trie of 100,000 accounts', async () => {
    const r = rng(99)
    const trie = new MerkleTrie()
    const count = 100_000
    const keys: Uint8Array[] = []
    for (let i = 0; i < count; i++) {
      const key = keccak256(Uint8Array.of(i >> 16, i >> 8, i))
      keys.push(key)
      trie.put(key, accountRlp(randomAccount(r)))
    }
    const root = hex(trie.root())
    type Gas = { total: number; execution: number }
    const samples = { get: [] as Gas[], update: [] as Gas[], insert: [] as Gas[], remove: [] as Gas[] }
    const depths: number[] = []
    const proofBytes: number[] = []
    for (let i = 0; i < 4; i++) {
      const key = r.pick(keys)
      const proof = hexes(trie.proof(key))
      depths.push(proof.length)
      proofBytes.push(proof.reduce((n, p) => n + (p.length - 2) / 2, 0))
      samples.get.push(await gasOf('get', [hex(key), proof, root]))

      // Each result is checked against the reference trie, then undone there.
      const old = trie.prove(key).value!
      const value = accountRlp(randomAccount(r))
      const { result: updated } = await succeed<Hex>('update', [hex(key), hex(value), proof, root])
      samples.update.push(await gasOf('update', [hex(key), hex(value), proof, root]))
      trie.put(key, value)
      assert.equal(updated, hex(trie.root()))
      trie.put(key, old)

      const fresh = keccak256(Uint8Array.of(0xfe, i))
      const absentProof = hexes(trie.proof(fresh))
      const { result: inserted } = await succeed<Hex>('update', [hex(fresh), hex(value), absentProof, root])
      samples.insert.push(await gasOf('update', [hex(fresh), hex(value), absentProof, root]))
      trie.put(fresh, value)
      assert.equal(inserted, hex(trie.root()))
      trie.del(fresh)

      let removeProof: Hex[] = []
      const removed = await eraseWithSibling(trie, keys, key, async (p) => {
        const out = await call('remove', [hex(key), p, root])
        if (out.ok) removeProof = p
        return out
      })
      samples.remove.push(await gasOf('remove', [hex(key), removeProof, root]))
      trie.del(key)
      assert.equal(removed, hex(trie.root()))
      trie.put(key, old)
    }
    const mean = (xs: Gas[], field: keyof Gas): number => Math.round(xs.reduce((a, b) => a + b[field], 0) / xs.length)
    const summary = (xs: Gas[]) => ({ execution: mean(xs, 'execution'), total: mean(xs, 'total') })
    const report = {
      bench: 'mpt-writer-gas',
      accounts: count,
      proofNodes: depths,
      meanProofBytes: Math.round(proofBytes.reduce((a, b) => a + b, 0) / proofBytes.length),
      get: summary(samples.get),
      update: summary(samples.update),
      insert: summary(samples.insert),
      remove: summary(samples.remove),
      note: 'means; total = eth_estimateGas of a harness call (cancun); execution = total - 21000 - calldata gas',
    }
    process.stdout.write(`${JSON.stringify(report)}\n`)
    assert.ok(report.update.execution > report.get.execution)
  })
})
