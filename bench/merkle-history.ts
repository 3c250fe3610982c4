/**
 * What the proof history (`TrieHistory`) costs the merkleizer thread: seal time per block with and
 * without it, and the memory its records hold, on transfer-like blocks against 100,000 accounts
 * applied through the witness path as the sequencer's seal does; plus the time of a proof at the
 * head and 64 blocks back.
 *
 *   node --import tsx bench/merkle-history.ts [accounts=100000] [transfersPerBlock=2000] [blocks=40]
 */
import { KECCAK256_NULL, bytesToHex } from '@ethereumjs/util'
import type { AccountState, Hex, StateDiff } from '../src/primitives/state-diff.ts'
import { keccak256 } from '../src/crypto/native.ts'
import { StateTrie, TrieHistory } from '../src/trie/index.ts'
import { TrieNodeCollector, applyDiffRecordingWitness } from '../src/trie/witness-builder.ts'
import { rng } from '../test/helpers/rng.ts'

const [accounts = 100_000, perBlock = 2_000, blocks = 40] = process.argv.slice(2).map(Number)
const r = rng(7)
const addresses: Hex[] = []
const states: AccountState[] = []
for (let i = 0; i < accounts; i++) {
  const seed = new Uint8Array(4)
  new DataView(seed.buffer).setUint32(0, i)
  addresses.push(bytesToHex(keccak256(seed).subarray(12)))
  states.push({ nonce: 0n, balance: 10n ** 18n + BigInt(r.int(1e9)), codeHash: KECCAK256_NULL })
}
const population = () =>
  addresses.map((a, i) => ({ address: Uint8Array.from(Buffer.from(a.slice(2), 'hex')), account: states[i]!, storage: [] }))

function blockDiff(): { diff: StateDiff; reads: Hex[] } {
  const diff: StateDiff = { accounts: new Map(), codes: new Map() }
  while (diff.accounts.size < perBlock) {
    const i = r.int(accounts)
    const prior = states[i]!
    const next = { ...prior, nonce: prior.nonce + 1n, balance: prior.balance + 1n }
    states[i] = next
    diff.accounts.set(addresses[i]!, { account: next, storageCleared: false, storage: new Map() })
  }
  return { diff, reads: [...diff.accounts.keys()] }
}

const retain = 128
const collectorA = new TrieNodeCollector()
const collectorB = new TrieNodeCollector()
const history = new TrieHistory(retain)
const plain = StateTrie.fromAccounts(population(), { onNodeRead: collectorA.onNodeRead })
const withHistory = StateTrie.fromAccounts(population(), { onNodeRead: collectorB.onNodeRead, history })
plain.root()
withHistory.root()
const plainMs: number[] = []
const historyMs: number[] = []
const roots: Uint8Array[] = []
for (let b = 0; b < blocks; b++) {
  const { diff, reads } = blockDiff()
  const access = { accounts: reads, slots: [], blockHashes: [], codeHashes: [] }
  // Alternate which goes first so cache warmth does not favour one side.
  const runs: Array<[StateTrie, TrieNodeCollector, number[]]> = [
    [plain, collectorA, plainMs],
    [withHistory, collectorB, historyMs],
  ]
  if (b % 2 === 1) runs.reverse()
  for (const [trie, collector, times] of runs) {
    const t = performance.now()
    const { root } = applyDiffRecordingWitness(trie, collector, diff, access)
    times.push(performance.now() - t)
    if (trie === withHistory) roots.push(root)
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!
const stats = history.stats()
const proofTime = (root: Uint8Array): number => {
  const t = performance.now()
  for (let i = 0; i < 100; i++) withHistory.getProofAt(root, Buffer.from(addresses[i]!.slice(2), 'hex'), [])
  return (performance.now() - t) / 100
}
const back = Math.min(64, roots.length - 1)
console.log(
  JSON.stringify(
    {
      accounts,
      transfersPerBlock: perBlock,
      blocks,
      sealMsMedian: { withoutHistory: +median(plainMs).toFixed(2), withHistory: +median(historyMs).toFixed(2) },
      historyPerBlock: {
        nodes: Math.round(stats.nodes / stats.blocks),
        encodingKiB: +(stats.bytes / stats.blocks / 1024).toFixed(1),
      },
      proofMs: { head: +proofTime(roots.at(-1)!).toFixed(3), [`head-${back}`]: +proofTime(roots.at(-1 - back)!).toFixed(3) },
    },
    null,
    2,
  ),
)
