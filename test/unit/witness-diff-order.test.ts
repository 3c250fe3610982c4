/**
 * A block's witness must not depend on the order its diff lists keys in. The sequencer records the
 * witness while applying its diff in one order (after a crash: the WAL mini-blocks' merged diff); a
 * stateless verifier applies the diff its own execution produced, in that execution's order. When a
 * deletion empties a branch down to one pre-existing child before an insertion lands in it, the trie
 * folds the branch into that child, so it needs the child's node; in the other order no fold happens.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { KECCAK256_NULL, bytesToHex, setLengthLeft } from '@ethereumjs/util'
import { keccak256 } from '../../src/crypto/native.ts'
import type { BlockAccess } from '../../src/primitives/block-access.ts'
import type { AccountDiff, Hex, StateDiff } from '../../src/primitives/state-diff.ts'
import { WitnessNodes } from '../../src/stateless/witness-nodes.ts'
import { StateTrie } from '../../src/trie/index.ts'
import { TrieNodeCollector, applyDiffRecordingWitness } from '../../src/trie/witness-builder.ts'

const NO_ACCESS: BlockAccess = { accounts: [], slots: [], blockHashes: [], codeHashes: [] }
const slotBytes = (n: number): Uint8Array => setLengthLeft(Uint8Array.of(n), 32)
const slotHex = (n: number): Hex => bytesToHex(slotBytes(n)) as Hex
const firstNibble = (n: number): number => keccak256(slotBytes(n))[0]! >> 4

/** Three slots whose hashed keys start with three different nibbles: the storage trie's root is a branch over them. */
function threeSlotsInDistinctBranches(): [number, number, number] {
  const found: number[] = []
  const seen = new Set<number>()
  for (let n = 1; found.length < 3; n++) {
    if (seen.has(firstNibble(n))) continue
    seen.add(firstNibble(n))
    found.push(n)
  }
  return found as [number, number, number]
}

const address = Uint8Array.from({ length: 20 }, (_, i) => i + 1)
const addressHex = bytesToHex(address) as Hex
const otherAddress = Uint8Array.from({ length: 20 }, (_, i) => 0xf0 - i)
const account = (nonce: bigint) => ({ nonce, balance: 10n ** 18n, codeHash: KECCAK256_NULL })

function diffOf(changes: Array<[Hex, AccountDiff]>): StateDiff {
  return { accounts: new Map(changes), codes: new Map() }
}

describe('witness recording is independent of the diff order', () => {
  it('a storage deletion applied before an insertion in the same branch needs no node the witness lacks', () => {
    const [a, b, c] = threeSlotsInDistinctBranches()
    const big = new Uint8Array(20).fill(7)
    const collector = new TrieNodeCollector()
    const trie = StateTrie.fromAccounts(
      [
        {
          address,
          account: account(1n),
          storage: [
            [slotBytes(a), big],
            [slotBytes(b), big],
          ],
        },
        { address: otherAddress, account: account(0n), storage: [] },
      ],
      { onNodeRead: collector.onNodeRead },
    )
    const preRoot = trie.root()
    const change = (storage: Array<[Hex, Uint8Array]>): AccountDiff => ({
      account: account(2n),
      storageCleared: false,
      storage: new Map(storage),
    })
    // The sequencer's order: insert c, then delete a (the branch keeps b and c: no fold).
    const recordedOrder = diffOf([
      [
        addressHex,
        change([
          [slotHex(c), big],
          [slotHex(a), new Uint8Array(0)],
        ]),
      ],
    ])
    // The verifier's order: delete a (the branch folds into b), then insert c.
    const verifierOrder = diffOf([
      [
        addressHex,
        change([
          [slotHex(a), new Uint8Array(0)],
          [slotHex(c), big],
        ]),
      ],
    ])
    const witness = applyDiffRecordingWitness(trie, collector, recordedOrder, NO_ACCESS)

    for (const diff of [recordedOrder, verifierOrder]) {
      const partial = new StateTrie({ open: { root: preRoot, source: new WitnessNodes(witness.nodes) } })
      assert.deepEqual(partial.applyDiff(diff), witness.root)
    }
  })

  it('an account deletion applied before an insertion in the same branch needs no node the witness lacks', () => {
    // Two accounts under the account trie's root branch; one is deleted (EIP-158), another created.
    const addrs: Uint8Array[] = []
    const nibbles = new Set<number>()
    for (let n = 1; addrs.length < 3; n++) {
      const candidate = setLengthLeft(Uint8Array.of(n), 20)
      const nibble = keccak256(candidate)[0]! >> 4
      if (nibbles.has(nibble)) continue
      nibbles.add(nibble)
      addrs.push(candidate)
    }
    const [deleted, kept, created] = addrs as [Uint8Array, Uint8Array, Uint8Array]
    const collector = new TrieNodeCollector()
    const trie = StateTrie.fromAccounts(
      [
        { address: deleted, account: account(1n), storage: [] },
        { address: kept, account: account(1n), storage: [] },
      ],
      { onNodeRead: collector.onNodeRead },
    )
    const preRoot = trie.root()
    const create: [Hex, AccountDiff] = [
      bytesToHex(created) as Hex,
      { account: account(0n), storageCleared: false, storage: new Map() },
    ]
    const remove: [Hex, AccountDiff] = [bytesToHex(deleted) as Hex, { account: null, storageCleared: true, storage: new Map() }]
    const recordedOrder = diffOf([create, remove])
    const verifierOrder = diffOf([remove, create])
    const witness = applyDiffRecordingWitness(trie, collector, recordedOrder, NO_ACCESS)

    for (const diff of [recordedOrder, verifierOrder]) {
      const partial = new StateTrie({ open: { root: preRoot, source: new WitnessNodes(witness.nodes) } })
      assert.deepEqual(partial.applyDiff(diff), witness.root)
    }
  })
})
