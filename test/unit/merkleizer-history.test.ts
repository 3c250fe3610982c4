/**
 * The merkleizer thread's proof history end to end below RPC: `getProofAt` by state root while the
 * thread is already applying later blocks (requests queued behind them), the retention counted
 * from `historyBlocks` (plus the slack for a thread ahead of the head), and `proofAtBlock`'s
 * -32000-bound error naming the oldest block served; over a persisted node store, the roots a
 * restarted thread never applied.
 */
import { describe, test } from 'node:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import assert from 'node:assert/strict'
import { KECCAK256_NULL, bytesToHex, hexToBytes, setLengthLeft } from '@ethereumjs/util'
import type { Hex, StateDiff } from '../../src/primitives/state-diff.ts'
import { ThreadedMerkleizer } from '../../src/execution/merkleizer/merkleizer.ts'
import { HISTORY_SLACK_BLOCKS } from '../../src/execution/merkleizer/history.ts'
import { StateTrie } from '../../src/trie/index.ts'
import { storedStateTrieNodes } from '../../src/trie/state-trie-walker.ts'
import { TrieNodeStore } from '../../src/storage/trie-node-store.ts'
import type { AccountProof, StateTrieAccount } from '../../src/trie/index.ts'
import { ProofStateUnavailableError, proofAtBlock, type StateProofView } from '../../src/rpc/eth/state-proof.ts'
import type { SealedBlock } from '../../src/chain/block.ts'

const address: Hex = '0x00000000000000000000000000000000000000ab'
const slot = (n: number): Hex => bytesToHex(setLengthLeft(Uint8Array.of(n), 32))

/** Block n: the account's nonce is n and slot n % 5 holds n (a contract's storage churning). */
function diffOf(n: number): StateDiff {
  return {
    accounts: new Map([
      [
        address,
        {
          account: { nonce: BigInt(n), balance: 1000n - BigInt(n), codeHash: KECCAK256_NULL },
          storageCleared: false,
          storage: new Map([[slot(n % 5), Uint8Array.of(n)]]),
        },
      ],
    ]),
    codes: new Map(),
  }
}

function fullStateAt(n: number): StateTrieAccount[] {
  const storage = new Map<Hex, Uint8Array>()
  for (let i = 1; i <= n; i++) storage.set(slot(i % 5), Uint8Array.of(i))
  return [
    {
      address: hexToBytes(address),
      account: { nonce: BigInt(n), balance: 1000n - BigInt(n), codeHash: KECCAK256_NULL },
      storage: [...storage].map(([s, v]): [Uint8Array, Uint8Array] => [hexToBytes(s), v]),
    },
  ]
}

const bytes = (p: AccountProof) =>
  JSON.stringify({
    a: p.accountProof.map((n) => bytesToHex(n)),
    s: p.storageProof.map((s) => [bytesToHex(s.value), s.proof.map((n) => bytesToHex(n))]),
    h: bytesToHex(p.storageHash),
  })

describe('merkleizer thread: proofs at past roots', () => {
  test('served by root while later blocks are being applied; refused past the retention', async () => {
    const historyBlocks = 4
    const genesis = fullStateAt(0)
    const { merkleizer, root: genesisRoot } = await ThreadedMerkleizer.start(genesis, { historyBlocks })
    try {
      const roots: Uint8Array[] = [genesisRoot]
      for (let n = 1; n <= 10; n++) roots.push(await merkleizer.applyDiff(diffOf(n)))
      // Queue two more blocks and, behind them, proofs at block 10 and older: served after both applies.
      const pending = [merkleizer.applyDiff(diffOf(11)), merkleizer.applyDiff(diffOf(12))]
      const slots = [0, 1, 2, 3, 4, 7].map((i) => hexToBytes(slot(i)))
      const asked = [10, 9, 8, 7, 6].map((n) => merkleizer.getProofAt(roots[n]!, hexToBytes(address), slots))
      roots.push(...(await Promise.all(pending)))
      const answers = await Promise.all(asked)
      // The thread is at block 12: 4 + slack blocks back reach block 12 - 6 = 6.
      assert.equal(12 - historyBlocks - HISTORY_SLACK_BLOCKS, 6)
      for (const [i, n] of [10, 9, 8, 7, 6].entries()) {
        const answer = answers[i]!
        assert.ok(answer.proof !== undefined, `block ${n} is retained`)
        const expected = StateTrie.fromAccounts(fullStateAt(n)).getProof(hexToBytes(address), slots)
        assert.equal(bytes(answer.proof), bytes(expected), `block ${n}`)
        assert.equal(answer.proof.account?.nonce, BigInt(n))
      }
      const refused = await merkleizer.getProofAt(roots[5]!, hexToBytes(address), slots)
      assert.equal(refused.proof, undefined)
      if (refused.proof === undefined) {
        assert.equal(bytesToHex(refused.oldestRoot), bytesToHex(roots[6]!))
        assert.equal(refused.blocks, historyBlocks + HISTORY_SLACK_BLOCKS)
      }
      const stats = await merkleizer.historyStats()
      assert.equal(stats.blocks, 6)
      assert.ok(stats.nodes > 0 && stats.bytes > 0)

      // proofAtBlock over a chain whose head is block 11 (the thread one block ahead): block 11 - 6 = 5 is
      // past the records, and the error names block 6, the oldest whose root the thread still holds.
      const block = (n: number) => ({ header: { number: BigInt(n), stateRoot: roots[n]! } }) as unknown as SealedBlock
      const view: StateProofView = {
        chain: {
          head: block(11),
          blockByNumber: async (n) => (n <= 12n ? block(Number(n)) : undefined),
          // The flat state's window (which a persisted node store serves after a restart) is shorter here.
          state: { readyFor: async () => {}, oldestBlock: 11n },
        },
        merkleizer,
      }
      const served = await proofAtBlock(view, 7n, address, [slot(2)])
      assert.equal(served?.account?.nonce, 7n)
      assert.equal(await proofAtBlock(view, 12n, address, []), undefined, 'not sealed yet')
      await assert.rejects(proofAtBlock(view, 5n, address, []), (error: unknown) => {
        assert.ok(error instanceof ProofStateUnavailableError)
        assert.equal(error.data.oldest, 6n)
        assert.match(
          error.message,
          /historical state not available for block 5: proofs are served for blocks 6 to the head.*--state\.history/,
        )
        return true
      })
    } finally {
      await merkleizer.stop()
    }
  })

  test('over a persisted node store, a restarted thread proves the roots before its start', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'megaeth-proof-store-'))
    try {
      const first = await ThreadedMerkleizer.start(fullStateAt(0), { historyBlocks: 8, trieDir: dir })
      const roots = [first.root]
      try {
        for (let n = 1; n <= 4; n++) roots.push(await first.merkleizer.applyDiff(diffOf(n)))
      } finally {
        await first.merkleizer.stop()
      }
      const restarted = ThreadedMerkleizer.spawn({ trieDir: dir })
      try {
        assert.ok(await restarted.openRoot(roots[4]!, 8))
        const bounded = await restarted.getProofAt(roots[1]!, hexToBytes(address), [])
        assert.equal(bounded.proof, undefined, 'not from the store unless the caller allows it (the flat window)')
        const slots = [0, 1, 2, 3, 4].map((i) => hexToBytes(slot(i)))
        for (let n = 1; n <= 3; n++) {
          const answer = await restarted.getProofAt(roots[n]!, hexToBytes(address), slots, true)
          assert.ok(answer.proof !== undefined, `block ${n}`)
          const expected = StateTrie.fromAccounts(fullStateAt(n)).getProof(hexToBytes(address), slots)
          assert.equal(bytes(answer.proof), bytes(expected), `block ${n}`)
        }
        const unknown = await restarted.getProofAt(new Uint8Array(32).fill(7), hexToBytes(address), [], true)
        assert.equal(unknown.proof, undefined, 'a root the store never held')
      } finally {
        await restarted.stop()
      }

      // prune-state deletes what the head's root does not reach: block 1's root node kept, the nodes below
      // it that block 4 no longer has deleted. Its proof is then unavailable, not an error.
      const store = await TrieNodeStore.open(dir)
      try {
        const live = new Set([...storedStateTrieNodes(roots[4]!, store)].map((n) => bytesToHex(n.hash)))
        const stale = [...storedStateTrieNodes(roots[1]!, store)].map((n) => n.hash).filter((h) => !live.has(bytesToHex(h)))
        assert.ok(stale.length > 1, 'block 1 has nodes of its own below its root')
        await store.deleteNodes(stale.filter((h) => bytesToHex(h) !== bytesToHex(roots[1]!)))
      } finally {
        await store.close()
      }
      const pruned = ThreadedMerkleizer.spawn({ trieDir: dir })
      try {
        assert.ok(await pruned.openRoot(roots[4]!, 8))
        const gone = await pruned.getProofAt(roots[1]!, hexToBytes(address), [hexToBytes(slot(1))], true)
        assert.equal(gone.proof, undefined, 'a pruned root is not provable')
        assert.ok((await pruned.getProofAt(roots[4]!, hexToBytes(address), [], true)).proof !== undefined, 'the head still is')
      } finally {
        await pruned.stop()
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  test('after a restart (a new thread) nothing before its start is served, the head is', async () => {
    const { merkleizer, root } = await ThreadedMerkleizer.start(fullStateAt(0), { historyBlocks: 8 })
    try {
      await merkleizer.applyDiff(diffOf(1))
      const restarted = await ThreadedMerkleizer.start(fullStateAt(1), { historyBlocks: 8 })
      try {
        const answer = await restarted.merkleizer.getProofAt(root, hexToBytes(address), [])
        assert.equal(answer.proof, undefined)
        const head = await restarted.merkleizer.getProofAt(restarted.root, hexToBytes(address), [])
        assert.equal(head.proof?.account?.nonce, 1n)
      } finally {
        await restarted.merkleizer.stop()
      }
    } finally {
      await merkleizer.stop()
    }
  })
})
