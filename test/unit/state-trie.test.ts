import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { createMPT, createMerkleProof, verifyMerkleProof } from '@ethereumjs/mpt'
import type { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import { KECCAK256_NULL, KECCAK256_RLP, bytesToHex, createAccount, hexToBytes, setLengthLeft } from '@ethereumjs/util'
import type { AccountDiff, AccountState, Hex, StateDiff } from '../../src/primitives/state-diff.ts'
import { emptyStateDiff, mergeStateDiff } from '../../src/primitives/state-diff.ts'
import { keccak256 } from '../../src/crypto/native.ts'
import { StateTrie } from '../../src/trie/index.ts'
import type { StateTrieAccount } from '../../src/trie/index.ts'
import { rng } from '../helpers/rng.ts'

const EMPTY_ROOT = '0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421'

// ---------------------------------------------------------------------------------------------
// A plain model of the world state, and an @ethereumjs/mpt reference built from it

interface ModelAccount {
  account: AccountState
  /** 32-byte slot hex → minimal big-endian value (never empty). */
  storage: Map<Hex, Uint8Array>
}
type Model = Map<Hex, ModelAccount>

type Rng = ReturnType<typeof rng>

function modelAccounts(model: Model): StateTrieAccount[] {
  return [...model].map(([address, { account, storage }]) => ({
    address: hexToBytes(address),
    account,
    storage: [...storage].map(([slot, value]): [Uint8Array, Uint8Array] => [hexToBytes(slot), value]),
  }))
}

interface Reference {
  accounts: MerklePatriciaTrie
  storage: Map<Hex, MerklePatriciaTrie>
}

async function referenceOf(model: Model): Promise<Reference> {
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

// ---------------------------------------------------------------------------------------------
// Random diffs (and the model update that gives them meaning)

function randomValue(r: Rng): Uint8Array {
  const v = r.int(3) === 0 ? Uint8Array.of(1 + r.int(0x7f)) : r.bytes(1 + r.int(32))
  if (v[0] === 0) v[0] = 1 // minimal big-endian: no leading zero
  return v
}

function randomAccount(r: Rng): AccountState {
  return {
    nonce: BigInt(r.int(3) === 0 ? 0 : r.int(1000)),
    balance: r.int(5) === 0 ? 0n : BigInt(bytesToHex(r.bytes(1 + r.int(14)))),
    codeHash: r.int(3) === 0 ? keccak256(r.bytes(10)) : KECCAK256_NULL,
  }
}

/** Slots from a small fixed set (so later diffs overwrite and delete them) plus random ones. */
function randomSlot(r: Rng): Hex {
  return r.int(3) === 0 ? bytesToHex(r.bytes(32)) : bytesToHex(setLengthLeft(Uint8Array.of(r.int(12)), 32))
}

function randomStorage(r: Rng, existing: Map<Hex, Uint8Array> | undefined, count: number): Map<Hex, Uint8Array> {
  const writes = new Map<Hex, Uint8Array>()
  const known = existing === undefined ? [] : [...existing.keys()]
  for (let i = 0; i < count; i++) {
    const slot = known.length > 0 && r.int(2) === 0 ? r.pick(known) : randomSlot(r)
    writes.set(slot, r.int(4) === 0 ? new Uint8Array(0) : randomValue(r))
  }
  return writes
}

function randomAccountDiff(r: Rng, prior: ModelAccount | undefined): AccountDiff {
  const roll = r.int(10)
  if (prior !== undefined && roll === 0) return { account: null, storageCleared: true, storage: new Map() }
  if (prior !== undefined && roll === 1) {
    // Destroyed and re-created in the same diff.
    return { account: randomAccount(r), storageCleared: true, storage: randomStorage(r, undefined, r.int(4)) }
  }
  const account =
    prior === undefined || roll < 5
      ? randomAccount(r)
      : { ...prior.account, balance: prior.account.balance + BigInt(1 + r.int(1e6)) }
  return { account, storageCleared: false, storage: r.int(2) === 0 ? new Map() : randomStorage(r, prior?.storage, 1 + r.int(6)) }
}

function randomDiff(r: Rng, model: Model, addressPool: Hex[]): StateDiff {
  const diff = emptyStateDiff()
  const count = 1 + r.int(10)
  for (let i = 0; i < count; i++) {
    const address = r.pick(addressPool)
    diff.accounts.set(address, randomAccountDiff(r, model.get(address)))
  }
  return diff
}

/** The documented `AccountDiff` semantics, applied to the plain model. */
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

function addressPool(r: Rng, size: number): Hex[] {
  return Array.from({ length: size }, () => bytesToHex(r.bytes(20)))
}

function withoutEmbedded(proof: Uint8Array[]): string[] {
  return proof.filter((node, i) => i === 0 || node.length >= 32).map((n) => bytesToHex(n))
}

// ---------------------------------------------------------------------------------------------

describe('StateTrie', () => {
  test('the empty state has the well-known empty root', () => {
    assert.equal(bytesToHex(new StateTrie().root()), EMPTY_ROOT)
    assert.equal(bytesToHex(StateTrie.fromAccounts([]).root()), EMPTY_ROOT)
    assert.equal(bytesToHex(new StateTrie().applyDiff(emptyStateDiff())), EMPTY_ROOT)
    assert.equal(bytesToHex(new StateTrie().storageRoot(new Uint8Array(20))), EMPTY_ROOT)
  })

  test('one account with one slot matches the reference encoding', async () => {
    const address = hexToBytes('0x095e7baea6a6c7c4c2dfeb977efac326af552d87')
    const model: Model = new Map([
      [
        bytesToHex(address),
        {
          account: { nonce: 1n, balance: 10n ** 18n, codeHash: keccak256(Uint8Array.of(0x60)) },
          storage: new Map<Hex, Uint8Array>([[bytesToHex(new Uint8Array(32)), Uint8Array.of(0x2a)]]),
        },
      ],
    ])
    const ours = StateTrie.fromAccounts(modelAccounts(model))
    const reference = await referenceOf(model)
    assert.equal(bytesToHex(ours.root()), bytesToHex(reference.accounts.root()))
    assert.equal(bytesToHex(ours.storageRoot(address)), bytesToHex(reference.storage.get(bytesToHex(address))!.root()))
  })

  test('random diffs: incremental roots equal a full rebuild and @ethereumjs/mpt', async () => {
    let diffsChecked = 0
    let referenceChecks = 0
    for (let seed = 1; seed <= 60; seed++) {
      const r = rng(seed * 2654435761)
      const pool = addressPool(r, 8 + r.int(30))
      const model: Model = new Map()
      const ours = new StateTrie()
      for (let d = 0; d < 12; d++) {
        const diff = randomDiff(r, model, pool)
        applyToModel(model, diff)
        const root = bytesToHex(ours.applyDiff(diff))
        assert.equal(root, bytesToHex(ours.root()))
        assert.equal(root, bytesToHex(StateTrie.fromAccounts(modelAccounts(model)).root()), `seed ${seed} diff ${d}`)
        diffsChecked++
        if (d % 4 === 3) {
          const reference = await referenceOf(model)
          assert.equal(root, bytesToHex(reference.accounts.root()), `seed ${seed} diff ${d} vs ethereumjs`)
          for (const address of pool) {
            const expected = reference.storage.get(address)?.root() ?? KECCAK256_RLP
            assert.equal(bytesToHex(ours.storageRoot(hexToBytes(address))), bytesToHex(expected), `storage root of ${address}`)
          }
          referenceChecks++
        }
      }
    }
    assert.equal(diffsChecked, 720)
    assert.equal(referenceChecks, 180)
  })

  test('merged mini-block diffs give the same root as applying them one by one', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const r = rng(seed * 40503)
      const pool = addressPool(r, 12)
      const model: Model = new Map()
      const stepwise = new StateTrie()
      const batched = new StateTrie()
      for (let block = 0; block < 4; block++) {
        const merged = emptyStateDiff()
        for (let mini = 0; mini < 5; mini++) {
          const diff = randomDiff(r, model, pool)
          applyToModel(model, diff)
          stepwise.applyDiff(diff)
          mergeStateDiff(merged, diff)
        }
        assert.equal(bytesToHex(batched.applyDiff(merged)), bytesToHex(stepwise.root()), `seed ${seed} block ${block}`)
      }
    }
  })

  test('getProof matches @ethereumjs/mpt proofs and verifies', async () => {
    let storageProofs = 0
    for (let seed = 1; seed <= 12; seed++) {
      const r = rng(seed * 97)
      const pool = addressPool(r, 20)
      const model: Model = new Map()
      const ours = new StateTrie()
      for (let d = 0; d < 8; d++) {
        const diff = randomDiff(r, model, pool)
        applyToModel(model, diff)
        ours.applyDiff(diff)
      }
      const reference = await referenceOf(model)
      const stateRoot = ours.root()
      for (const address of [...pool.slice(0, 8), bytesToHex(r.bytes(20))]) {
        const slots = [...(model.get(address)?.storage.keys() ?? [])].slice(0, 3).concat([randomSlot(r)])
        const proof = ours.getProof(
          hexToBytes(address),
          slots.map((s) => hexToBytes(s)),
        )
        assert.deepEqual(
          proof.accountProof.map((n) => bytesToHex(n)),
          withoutEmbedded(await createMerkleProof(reference.accounts, hexToBytes(address))),
        )
        const account = await verifyMerkleProof(hexToBytes(address), proof.accountProof, {
          root: stateRoot,
          useKeyHashing: true,
          useKeyHashingFunction: keccak256,
        })
        assert.equal(account === null, !model.has(address))

        const storageTrie = reference.storage.get(address)
        assert.equal(bytesToHex(proof.storageHash), bytesToHex(storageTrie?.root() ?? KECCAK256_RLP))
        for (const [i, entry] of proof.storageProof.entries()) {
          assert.equal(bytesToHex(entry.key), slots[i])
          const expected = model.get(address)?.storage.get(slots[i]!) ?? new Uint8Array(0)
          assert.equal(bytesToHex(entry.value), bytesToHex(expected))
          const referenceProof = storageTrie === undefined ? [] : await createMerkleProof(storageTrie, hexToBytes(slots[i]!))
          assert.deepEqual(
            entry.proof.map((n) => bytesToHex(n)),
            withoutEmbedded(referenceProof),
          )
          storageProofs++
        }
      }
    }
    assert.ok(storageProofs > 100)
  })

  test('storage edge cases: clearing, zero writes, deletion and re-creation', () => {
    const address: Hex = '0x00000000000000000000000000000000000000aa'
    const slot = (n: number): Hex => bytesToHex(setLengthLeft(Uint8Array.of(n), 32))
    const account: AccountState = { nonce: 1n, balance: 5n, codeHash: KECCAK256_NULL }
    const state = new StateTrie()
    const diff = (change: AccountDiff): StateDiff => ({ accounts: new Map([[address, change]]), codes: new Map() })
    const expectRoot = (model: Model): void =>
      assert.equal(bytesToHex(state.root()), bytesToHex(StateTrie.fromAccounts(modelAccounts(model)).root()))

    state.applyDiff(
      diff({
        account,
        storageCleared: false,
        storage: new Map([
          [slot(1), Uint8Array.of(7)],
          [slot(2), Uint8Array.of(8)],
        ]),
      }),
    )
    expectRoot(
      new Map([
        [
          address,
          {
            account,
            storage: new Map([
              [slot(1), Uint8Array.of(7)],
              [slot(2), Uint8Array.of(8)],
            ]),
          },
        ],
      ]),
    )

    // Writing zero deletes; a value with a stray leading zero is stored minimally.
    state.applyDiff(
      diff({
        account,
        storageCleared: false,
        storage: new Map([
          [slot(1), new Uint8Array(0)],
          [slot(2), Uint8Array.of(0, 8)],
        ]),
      }),
    )
    expectRoot(new Map([[address, { account, storage: new Map([[slot(2), Uint8Array.of(8)]]) }]]))

    // Clearing with nothing written leaves the empty storage root.
    state.applyDiff(diff({ account, storageCleared: true, storage: new Map() }))
    assert.equal(bytesToHex(state.storageRoot(hexToBytes(address))), EMPTY_ROOT)
    expectRoot(new Map([[address, { account, storage: new Map() }]]))

    // Re-created with fresh storage; then deleted entirely.
    state.applyDiff(diff({ account, storageCleared: true, storage: new Map([[slot(3), Uint8Array.of(9)]]) }))
    expectRoot(new Map([[address, { account, storage: new Map([[slot(3), Uint8Array.of(9)]]) }]]))
    assert.equal(bytesToHex(state.applyDiff(diff({ account: null, storageCleared: true, storage: new Map() }))), EMPTY_ROOT)
    assert.equal(bytesToHex(state.storageRoot(hexToBytes(address))), EMPTY_ROOT)
  })

  test('onNodeRead sees account- and storage-trie nodes read by an update', () => {
    const seen: Uint8Array[] = []
    const r = rng(5)
    const model: Model = new Map()
    const accounts = addressPool(r, 40).map((address): StateTrieAccount => {
      const storage = randomStorage(r, undefined, 20)
      for (const [k, v] of storage) if (v.length === 0) storage.delete(k)
      model.set(address, { account: randomAccount(r), storage })
      return {
        address: hexToBytes(address),
        account: model.get(address)!.account,
        storage: [...storage].map(([k, v]): [Uint8Array, Uint8Array] => [hexToBytes(k), v]),
      }
    })
    const state = StateTrie.fromAccounts(accounts, { onNodeRead: (rlp) => seen.push(rlp) })
    state.root()
    assert.equal(seen.length, 0, 'building reads nothing pre-existing')
    const [address, entry] = [...model].find(([, e]) => e.storage.size > 1)!
    const slot = [...entry.storage.keys()][0]!
    const before = state.getProof(hexToBytes(address), [hexToBytes(slot)])
    assert.equal(seen.length, 0, 'proofs are not reported as reads')
    state.applyDiff({
      accounts: new Map([
        [address, { account: entry.account, storageCleared: false, storage: new Map([[slot, new Uint8Array(0)]]) }],
      ]),
      codes: new Map(),
    })
    const reported = new Set(seen.map((rlp) => bytesToHex(rlp)))
    // Every pre-existing node on the account's path and on the slot's path was read.
    for (const node of [...before.accountProof, ...before.storageProof[0]!.proof]) assert.ok(reported.has(bytesToHex(node)))
  })
})
