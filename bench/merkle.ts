/**
 * Merkleization micro-benchmark: account balance updates (transfer-like diffs) against a state of
 * 100,000 accounts, with our StateTrie and with @ethereumjs/mpt (native keccak) in the same run.
 *
 *   node --import tsx bench/merkle.ts
 *
 * Writes bench/results/merkle.json. `runMerkleBench()` is exported for the bench orchestrator.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { createMPT } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import { KECCAK256_NULL, KECCAK256_RLP, bigIntToUnpaddedBytes, bytesToHex, hexToBytes } from '@ethereumjs/util'
import type { AccountState, Hex, StateDiff } from '../src/primitives/state-diff.ts'
import { keccak256 } from '../src/crypto/native.ts'
import { MerkleTrie, StateTrie } from '../src/trie/index.ts'
import { rng } from '../test/helpers/rng.ts'

export interface MerkleBenchOptions {
  accounts?: number
  diffs?: number
  updatesPerDiff?: number
  /** Write bench/results/merkle.json (default true). */
  writeResults?: boolean
  /** Progress and summary lines (default console.log). */
  log?: (line: string) => void
}

export interface MerkleBenchResult {
  scenario: string
  accounts: number
  updatesPerSec: { ours: number; ethereumjs: number }
  ratio: number
  bulkBuildMs: number
  date: string
  node: string
}

const RESULTS_FILE = new URL('./results/merkle.json', import.meta.url)

interface Population {
  addresses: Hex[]
  states: AccountState[]
}

function population(count: number, rand: (n: number) => number): Population {
  const addresses: Hex[] = []
  const states: AccountState[] = []
  for (let i = 0; i < count; i++) {
    const seed = new Uint8Array(4)
    new DataView(seed.buffer).setUint32(0, i)
    addresses.push(bytesToHex(keccak256(seed).subarray(12)))
    states.push({ nonce: BigInt(rand(100)), balance: 10n ** 18n * BigInt(1 + rand(1_000_000)), codeHash: KECCAK256_NULL })
  }
  return { addresses, states }
}

/** Transfer-like diffs: balance changes (and nonce bumps for senders) on random accounts. */
function transferDiffs(pop: Population, diffs: number, perDiff: number, rand: (n: number) => number): StateDiff[] {
  const out: StateDiff[] = []
  for (let d = 0; d < diffs; d++) {
    const diff: StateDiff = { accounts: new Map(), codes: new Map() }
    while (diff.accounts.size < perDiff) {
      const i = rand(pop.addresses.length)
      const prior = pop.states[i]!
      const sender = diff.accounts.size % 2 === 0
      const next: AccountState = {
        nonce: sender ? prior.nonce + 1n : prior.nonce,
        balance: sender ? prior.balance - BigInt(1 + rand(1e9)) : prior.balance + BigInt(1 + rand(1e9)),
        codeHash: prior.codeHash,
      }
      pop.states[i] = next
      diff.accounts.set(pop.addresses[i]!, { account: next, storageCleared: false, storage: new Map() })
    }
    out.push(diff)
  }
  return out
}

function accountRlp(account: AccountState): Uint8Array {
  return RLP.encode([
    bigIntToUnpaddedBytes(account.nonce),
    bigIntToUnpaddedBytes(account.balance),
    KECCAK256_RLP,
    account.codeHash,
  ])
}

export async function runMerkleBench(opts: MerkleBenchOptions = {}): Promise<MerkleBenchResult> {
  const accounts = opts.accounts ?? 100_000
  const diffCount = opts.diffs ?? 20
  const perDiff = opts.updatesPerDiff ?? 5_000
  const log = opts.log ?? ((line: string) => console.log(line))
  // Seeded: both tries must see identical diffs, and runs must be comparable.
  const rand = rng(0x5eed).int

  const pop = population(accounts, rand)
  const genesis = pop.states.map((account, i) => ({ address: hexToBytes(pop.addresses[i]!), account, storage: [] }))

  let t = performance.now()
  const ours = StateTrie.fromAccounts(genesis)
  const genesisRoot = bytesToHex(ours.root())
  const bulkBuildMs = performance.now() - t
  log(`bulk build of ${accounts} accounts: ${bulkBuildMs.toFixed(0)} ms, root ${genesisRoot}`)

  // ethereumjs starts from the same state. Inserting 100k accounts through it would take minutes,
  // so its database is seeded with the nodes of an identical account trie built here.
  const seedTrie = new MerkleTrie()
  for (const { address, account } of genesis) seedTrie.put(keccak256(address), accountRlp(account))
  if (bytesToHex(seedTrie.root()) !== genesisRoot) throw new Error('seed trie does not match the StateTrie genesis root')
  const theirs = await createMPT({ useKeyHashing: true, useKeyHashingFunction: keccak256 })
  await theirs.database().batch(seedTrie.commit().map(([hash, rlp]) => ({ type: 'put' as const, key: hash, value: rlp })))
  theirs.root(hexToBytes(genesisRoot))

  const diffs = transferDiffs(pop, diffCount, perDiff, rand)
  const updates = diffCount * perDiff

  t = performance.now()
  let oursRoot = ''
  for (const diff of diffs) oursRoot = bytesToHex(ours.applyDiff(diff))
  const oursMs = performance.now() - t
  log(
    `ours:       ${updates} updates in ${oursMs.toFixed(0)} ms (${(oursMs / diffCount).toFixed(1)} ms per ${perDiff}-account diff)`,
  )

  t = performance.now()
  for (const diff of diffs) {
    for (const [address, change] of diff.accounts) {
      if (change.account !== null) await theirs.put(hexToBytes(address), accountRlp(change.account))
    }
  }
  const theirsRoot = bytesToHex(theirs.root())
  const theirsMs = performance.now() - t
  log(`ethereumjs: ${updates} updates in ${theirsMs.toFixed(0)} ms`)
  if (theirsRoot !== oursRoot) throw new Error(`state roots differ: ours ${oursRoot}, ethereumjs ${theirsRoot}`)

  const result: MerkleBenchResult = {
    scenario: `${diffCount} diffs x ${perDiff} balance updates over ${accounts} accounts`,
    accounts,
    updatesPerSec: { ours: Math.round(updates / (oursMs / 1000)), ethereumjs: Math.round(updates / (theirsMs / 1000)) },
    ratio: Number((theirsMs / oursMs).toFixed(2)),
    bulkBuildMs: Math.round(bulkBuildMs),
    date: new Date().toISOString(),
    node: process.version,
  }
  log(
    `updates/s: ours ${result.updatesPerSec.ours}, ethereumjs ${result.updatesPerSec.ethereumjs}, ratio ${result.ratio}x (roots match)`,
  )
  if (opts.writeResults ?? true) {
    mkdirSync(new URL('./', RESULTS_FILE), { recursive: true })
    writeFileSync(RESULTS_FILE, `${JSON.stringify(result, null, 2)}\n`)
    log(`wrote ${fileURLToPath(RESULTS_FILE)}`)
  }
  return result
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runMerkleBench()
}
