/**
 * Proofs at past roots (`StateTrie.getProofAt` over a `TrieHistory`), differentially: a chain of
 * blocks with random state changes, and at every retained block the proof must be byte for byte
 * the one a trie built from that block's full state gives, the one `@ethereumjs/mpt` gives, and
 * verify against the block's root; past the retention there is no proof.
 */
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createMPT, createMerkleProof, verifyMerkleProof } from '@ethereumjs/mpt'
import type { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import { KECCAK256_NULL, KECCAK256_RLP, bytesToHex, createAccount, hexToBytes, setLengthLeft } from '@ethereumjs/util'
import type { AccountDiff, AccountState, Hex, StateDiff } from '../../src/primitives/state-diff.ts'
import { emptyStateDiff } from '../../src/primitives/state-diff.ts'
import { keccak256 } from '../../src/crypto/native.ts'
import { StateTrie, TrieHistory } from '../../src/trie/index.ts'
import type { AccountProof, StateTrieAccount } from '../../src/trie/index.ts'
import { TrieNodeCollector, applyDiffRecordingWitness } from '../../src/trie/witness-builder.ts'
import { rng, type Rng } from '../helpers/rng.ts'

interface ModelAccount {
  account: AccountState
  storage: Map<Hex, Uint8Array>
}
type Model = Map<Hex, ModelAccount>

function cloneModel(model: Model): Model {
  return new Map([...model].map(([a, { account, storage }]) => [a, { account, storage: new Map(storage) }]))
}

function modelAccounts(model: Model): StateTrieAccount[] {
  return [...model].map(([address, { account, storage }]) => ({
    address: hexToBytes(address),
    account,
    storage: [...storage].map(([slot, value]): [Uint8Array, Uint8Array] => [hexToBytes(slot), value]),
  }))
}

function applyToModel(model: Model, diff: StateDiff): void {
  for (const [address, change] of diff.accounts) {
    if (change.account === null) {
      model.delete(address)
      continue
    }
    const storage = change.storageCleared
      ? new Map<Hex, Uint8Array>()
      : (model.get(address)?.storage ?? new Map<Hex, Uint8Array>())
    for (const [slot, value] of change.storage) {
      if (value.length === 0) storage.delete(slot)
      else storage.set(slot, value)
    }
    model.set(address, { account: change.account, storage })
  }
}

const slotOf = (n: number): Hex => bytesToHex(setLengthLeft(Uint8Array.of(n >> 8, n & 0xff), 32))

function randomValue(r: Rng): Uint8Array {
  const v = r.int(3) === 0 ? Uint8Array.of(1 + r.int(0x7f)) : r.bytes(1 + r.int(32))
  if (v[0] === 0) v[0] = 1
  return v
}

function randomAccount(r: Rng, code: boolean): AccountState {
  return {
    nonce: BigInt(r.int(1000)),
    balance: r.int(5) === 0 ? 0n : BigInt(bytesToHex(r.bytes(1 + r.int(14)))),
    codeHash: code ? keccak256(r.bytes(10)) : KECCAK256_NULL,
  }
}

/**
 * One block: transfers, accounts created and deleted (self-destruct), contracts deployed with
 * storage, slots set and cleared, storage wiped and re-created. Storage draws on a few hundred slots
 * so that storage tries grow hashed nodes (and extensions) that later blocks replace.
 */
function randomBlockDiff(r: Rng, model: Model, pool: Hex[]): StateDiff {
  const diff = emptyStateDiff()
  const count = 1 + r.int(8)
  for (let i = 0; i < count; i++) {
    const address = r.pick(pool)
    const prior = model.get(address)
    const roll = r.int(12)
    let change: AccountDiff
    if (prior !== undefined && roll === 0) change = { account: null, storageCleared: true, storage: new Map() }
    else if (prior !== undefined && roll === 1)
      change = { account: randomAccount(r, true), storageCleared: true, storage: writes(r, prior, 3) }
    else if (prior === undefined && roll < 4)
      change = { account: randomAccount(r, true), storageCleared: false, storage: writes(r, undefined, 5 + r.int(30)) }
    else {
      const account = prior === undefined ? randomAccount(r, false) : { ...prior.account, nonce: prior.account.nonce + 1n }
      change = { account, storageCleared: false, storage: r.int(2) === 0 ? new Map() : writes(r, prior, 1 + r.int(8)) }
    }
    diff.accounts.set(address, change)
  }
  return diff
}

function writes(r: Rng, prior: ModelAccount | undefined, count: number): Map<Hex, Uint8Array> {
  const out = new Map<Hex, Uint8Array>()
  const known = prior === undefined ? [] : [...prior.storage.keys()]
  for (let i = 0; i < count; i++) {
    const slot = known.length > 0 && r.int(3) === 0 ? r.pick(known) : slotOf(r.int(300))
    out.set(slot, r.int(4) === 0 ? new Uint8Array(0) : randomValue(r))
  }
  return out
}

const hex = (nodes: Uint8Array[]): string[] => nodes.map((n) => bytesToHex(n))

function proofBytes(p: AccountProof): unknown {
  return {
    account: p.account === undefined ? null : { ...p.account, codeHash: bytesToHex(p.account.codeHash) },
    accountProof: hex(p.accountProof),
    storageHash: bytesToHex(p.storageHash),
    storageProof: p.storageProof.map((s) => ({ key: bytesToHex(s.key), value: bytesToHex(s.value), proof: hex(s.proof) })),
  }
}

async function referenceTries(model: Model): Promise<{ accounts: MerklePatriciaTrie; storage: Map<Hex, MerklePatriciaTrie> }> {
  const opts = { useKeyHashing: true, useKeyHashingFunction: keccak256 }
  const accounts = await createMPT(opts)
  const storage = new Map<Hex, MerklePatriciaTrie>()
  for (const [address, entry] of model) {
    let storageRoot = KECCAK256_RLP
    if (entry.storage.size > 0) {
      const trie = await createMPT(opts)
      for (const [slot, value] of entry.storage) await trie.put(hexToBytes(slot), RLP.encode(value))
      storage.set(address, trie)
      storageRoot = trie.root()
    }
    const { nonce, balance, codeHash } = entry.account
    await accounts.put(hexToBytes(address), createAccount({ nonce, balance, storageRoot, codeHash }).serialize())
  }
  return { accounts, storage }
}

/** @ethereumjs/mpt lists embedded nodes separately; EIP-1186 (geth, us) does not. */
function withoutEmbedded(proof: Uint8Array[]): string[] {
  return proof.filter((node, i) => i === 0 || node.length >= 32).map((n) => bytesToHex(n))
}

/** Addresses and slots worth proving at `model`: present, deleted, never created; set, cleared, never set. */
function queries(r: Rng, model: Model, pool: Hex[]): Array<{ address: Hex; slots: Hex[] }> {
  const out: Array<{ address: Hex; slots: Hex[] }> = []
  for (const address of [...pool.slice(0, 12), bytesToHex(r.bytes(20))]) {
    const present = [...(model.get(address)?.storage.keys() ?? [])]
    out.push({ address, slots: [...present.slice(0, 3), slotOf(r.int(300)), bytesToHex(r.bytes(32))] })
  }
  return out
}

describe('proofs at past roots (TrieHistory)', () => {
  test('every retained block: byte-identical to a full trie of that block, and nothing past the retention', () => {
    const retain = 8
    let compared = 0
    let refused = 0
    for (let seed = 1; seed <= 8; seed++) {
      const r = rng(seed * 7919)
      const pool = Array.from({ length: 40 }, () => bytesToHex(r.bytes(20)))
      const model: Model = new Map()
      const history = new TrieHistory(retain)
      // Wired as the merkleizer thread wires it: the witness collector and the history share the reports.
      const collector = new TrieNodeCollector()
      const trie = new StateTrie({ onNodeRead: collector.onNodeRead, history })
      const roots: Uint8Array[] = [trie.root()]
      const states: Model[] = [cloneModel(model)]
      for (let block = 1; block <= 24; block++) {
        const diff = randomBlockDiff(r, model, pool)
        applyToModel(model, diff)
        // Half the blocks through the witness path (reads first, then the update), as the sequencer seals.
        const root =
          block % 2 === 0
            ? applyDiffRecordingWitness(trie, collector, diff, {
                accounts: pool.slice(0, 5),
                slots: [[pool[0]!, [slotOf(1), slotOf(2)]]],
                blockHashes: [],
                codeHashes: [],
              }).root
            : trie.applyDiff(diff)
        roots.push(root)
        states.push(cloneModel(model))
        if (block % 3 !== 0) continue
        for (let k = 0; k <= retain + 2 && k <= block; k++) {
          const at = block - k
          const full = StateTrie.fromAccounts(modelAccounts(states[at]!))
          assert.equal(bytesToHex(full.root()), bytesToHex(roots[at]!))
          for (const { address, slots } of queries(r, states[at]!, pool)) {
            const got = trie.getProofAt(
              roots[at]!,
              hexToBytes(address),
              slots.map((s) => hexToBytes(s)),
            )
            if (k > retain && bytesToHex(roots[at]!) !== bytesToHex(root)) {
              assert.equal(got, undefined, `seed ${seed} block ${block}: block ${at} is past the retention`)
              refused++
              continue
            }
            assert.ok(got !== undefined, `seed ${seed} block ${block}: no proof at block ${at}`)
            const expected = full.getProof(
              hexToBytes(address),
              slots.map((s) => hexToBytes(s)),
            )
            assert.deepEqual(proofBytes(got), proofBytes(expected), `seed ${seed} block ${block} at ${at} ${address}`)
            compared++
          }
        }
      }
    }
    assert.ok(compared > 1500, `${compared} proofs compared`)
    assert.ok(refused > 60, `${refused} refused`)
  })

  test('past proofs equal @ethereumjs/mpt proofs and verify against the old roots', async () => {
    const retain = 6
    let verified = 0
    for (let seed = 1; seed <= 4; seed++) {
      const r = rng(seed * 104729)
      const pool = Array.from({ length: 30 }, () => bytesToHex(r.bytes(20)))
      const model: Model = new Map()
      const trie = new StateTrie({ history: new TrieHistory(retain) })
      const roots: Uint8Array[] = []
      const states: Model[] = []
      for (let block = 1; block <= 14; block++) {
        const diff = randomBlockDiff(r, model, pool)
        applyToModel(model, diff)
        roots.push(trie.applyDiff(diff))
        states.push(cloneModel(model))
      }
      const head = roots.length - 1
      for (let k = 0; k <= retain; k++) {
        const at = head - k
        const reference = await referenceTries(states[at]!)
        assert.equal(bytesToHex(reference.accounts.root()), bytesToHex(roots[at]!))
        for (const { address, slots } of queries(r, states[at]!, pool)) {
          const got = trie.getProofAt(
            roots[at]!,
            hexToBytes(address),
            slots.map((s) => hexToBytes(s)),
          )
          assert.ok(got !== undefined)
          assert.deepEqual(
            hex(got.accountProof),
            withoutEmbedded(await createMerkleProof(reference.accounts, hexToBytes(address))),
          )
          const leaf = await verifyMerkleProof(hexToBytes(address), got.accountProof, {
            root: roots[at]!,
            useKeyHashing: true,
            useKeyHashingFunction: keccak256,
          })
          assert.equal(leaf === null, !states[at]!.has(address))
          const storageTrie = reference.storage.get(address)
          assert.equal(bytesToHex(got.storageHash), bytesToHex(storageTrie?.root() ?? KECCAK256_RLP))
          for (const [i, entry] of got.storageProof.entries()) {
            const slot = hexToBytes(slots[i]!)
            assert.equal(
              bytesToHex(entry.value),
              bytesToHex(states[at]!.get(address)?.storage.get(slots[i]!) ?? new Uint8Array(0)),
            )
            if (storageTrie === undefined) {
              assert.deepEqual(entry.proof, [])
              continue
            }
            assert.deepEqual(hex(entry.proof), withoutEmbedded(await createMerkleProof(storageTrie, slot)))
            const value = await verifyMerkleProof(slot, entry.proof, {
              root: got.storageHash,
              useKeyHashing: true,
              useKeyHashingFunction: keccak256,
            })
            assert.equal(value === null, entry.value.length === 0)
            verified++
          }
        }
      }
    }
    assert.ok(verified > 150, `${verified} storage proofs verified`)
  })

  test('a deleted contract and a wiped storage stay provable at the blocks before', () => {
    const address: Hex = '0x00000000000000000000000000000000000000cc'
    const account: AccountState = { nonce: 1n, balance: 5n, codeHash: keccak256(Uint8Array.of(0x60)) }
    const storage = new Map<Hex, Uint8Array>(Array.from({ length: 200 }, (_, i) => [slotOf(i), Uint8Array.of(1 + (i % 200))]))
    const trie = new StateTrie({ history: new TrieHistory(4) })
    const one = (change: AccountDiff): StateDiff => ({ accounts: new Map([[address, change]]), codes: new Map() })
    const deployed = trie.applyDiff(one({ account, storageCleared: false, storage }))
    const wiped = trie.applyDiff(
      one({ account: { ...account, nonce: 2n }, storageCleared: true, storage: new Map([[slotOf(7), Uint8Array.of(9)]]) }),
    )
    const deleted = trie.applyDiff(one({ account: null, storageCleared: true, storage: new Map() }))
    const full = StateTrie.fromAccounts([
      {
        address: hexToBytes(address),
        account,
        storage: [...storage].map(([s, v]): [Uint8Array, Uint8Array] => [hexToBytes(s), v]),
      },
    ])
    const slots = [slotOf(7), slotOf(150), slotOf(999)].map((s) => hexToBytes(s))
    const past = trie.getProofAt(deployed, hexToBytes(address), slots)
    assert.ok(past !== undefined)
    assert.deepEqual(proofBytes(past), proofBytes(full.getProof(hexToBytes(address), slots)))
    assert.equal(bytesToHex(past.storageProof[1]!.value), '0x97')
    assert.ok(past.storageProof[1]!.proof.length >= 2)
    const afterWipe = trie.getProofAt(wiped, hexToBytes(address), slots)
    assert.equal(bytesToHex(afterWipe!.storageProof[0]!.value), '0x09')
    assert.deepEqual(afterWipe!.storageProof[1]!.value, new Uint8Array(0))
    const now = trie.getProofAt(deleted, hexToBytes(address), slots)
    assert.equal(now!.account, undefined)
    assert.equal(bytesToHex(now!.storageHash), bytesToHex(KECCAK256_RLP))
  })

  test('history records cost: nodes and bytes per block (logged)', () => {
    // Not a speed assertion: the log line is the memory figure the design quotes.
    const r = rng(4242)
    const pool = Array.from({ length: 2000 }, () => bytesToHex(r.bytes(20)))
    const model: Model = new Map()
    const seedDiff = emptyStateDiff()
    for (const address of pool)
      seedDiff.accounts.set(address, { account: randomAccount(r, false), storageCleared: false, storage: new Map() })
    applyToModel(model, seedDiff)
    const history = new TrieHistory(16)
    const trie = StateTrie.fromAccounts(modelAccounts(model), { history })
    for (let block = 0; block < 16; block++) {
      const diff = emptyStateDiff()
      for (let i = 0; i < 100; i++) {
        const address = r.pick(pool)
        diff.accounts.set(address, {
          account: { ...model.get(address)!.account, nonce: BigInt(block + 1) },
          storageCleared: false,
          storage: new Map(),
        })
      }
      applyToModel(model, diff)
      trie.applyDiff(diff)
    }
    const stats = history.stats()
    assert.equal(stats.blocks, 16)
    const perBlockNodes = stats.nodes / stats.blocks
    const perBlockBytes = stats.bytes / stats.blocks
    console.log(
      `trie history: 2000 accounts, 100 written per block: ${perBlockNodes.toFixed(0)} nodes, ${(perBlockBytes / 1024).toFixed(1)} KiB of encodings per block`,
    )
    // Every written path: ~100 leaves plus their branches, far from the whole trie.
    assert.ok(perBlockNodes > 100 && perBlockNodes < 600, `${perBlockNodes} nodes per block`)
  })
})
