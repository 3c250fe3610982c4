import { readFile, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { createBlockFromRLP, type Block } from '@ethereumjs/block'
import { Common, Hardfork, Mainnet } from '@ethereumjs/common'
import { bytesToHex, hexToBytes, type KZG } from '@ethereumjs/util'
import { encodeConsensusReceipt, type TxReceipt } from '../../chain/receipt.ts'
import { orderedTrieRoot } from '../../chain/ordered-trie.ts'
import type { Hex } from '../../chain/state-diff.ts'
import { nativeCrypto } from '../crypto.ts'
import { SequentialExecutor, type BlockCursor } from '../executor.ts'
import { ParallelExecutor, SequentialMiniBlockExecutor, type BatchTx, type ExecWorkerPool, type MiniBlockExecutor, type ParallelStats } from '../parallel/index.ts'
import type { BlockEnv } from '../block-env.ts'
import type { FlatState } from '../state/flat-state.ts'
import { trieEntries } from '../state/trie-entries.ts'
import { flatStateFromAlloc, type GenesisAccount } from '../../chain/genesis.ts'
import { StateTrie } from '../merkle/index.ts'
import type { BlockchainFixture, FixtureFile } from './fixture.ts'

export type BlockTestStatus = 'passed' | 'failed' | 'skipped'

export interface BlockTestResult {
  file: string
  name: string
  status: BlockTestStatus
  /** Why it failed or was skipped. */
  reason?: string
}

/** The forks this executor implements; fixtures of other forks are skipped with that reason. */
const SUPPORTED_NETWORKS = new Set(['Cancun'])

interface ChainPoint {
  state: FlatState
  block: Block
  /** Only the newest point of a branch keeps its trie: it is advanced in place by the next block. */
  trie: StateTrie | undefined
}

export async function collectFixtureFiles(paths: readonly string[]): Promise<string[]> {
  const files: string[] = []
  for (const path of paths) {
    if ((await stat(path)).isFile()) {
      files.push(path)
      continue
    }
    const entries = await readdir(path, { withFileTypes: true })
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const child = join(path, entry.name)
      if (entry.isDirectory()) files.push(...(await collectFixtureFiles([child])))
      else if (entry.name.endsWith('.json')) files.push(child)
    }
  }
  return files
}

/** How block transactions are executed: sequentially (the default, the reference) or on a parallel executor's workers. */
export interface BlockTestOptions {
  /** Execution workers (common spec `mainnet-cancun`): run every block's transactions on the parallel executor. */
  pool?: ExecWorkerPool
  /** Called with each parallel executor's counters after its block. */
  onParallelStats?: (stats: ParallelStats) => void
}

export async function runBlockTestFile(file: string, options: BlockTestOptions = {}): Promise<BlockTestResult[]> {
  const fixtures = JSON.parse(await readFile(file, 'utf8')) as FixtureFile
  const results: BlockTestResult[] = []
  for (const [name, fixture] of Object.entries(fixtures)) {
    results.push({ file, name, ...(await runFixture(fixture, options)) })
  }
  return results
}

/**
 * Block bodies carry blob transactions without their sidecars, so no KZG math runs; ethereumjs still
 * insists on a KZG object before it will decode a type-3 transaction.
 */
const sidecarFreeKzg: KZG = new Proxy({} as KZG, {
  get: (_, method) => () => {
    throw new Error(`KZG ${String(method)}: blob sidecars are not part of block bodies and are not supported`)
  },
})

function fixtureCommon(): Common {
  return new Common({ chain: Mainnet, hardfork: Hardfork.Cancun, customCrypto: { ...nativeCrypto, kzg: sidecarFreeKzg } })
}

async function runFixture(fixture: BlockchainFixture, options: BlockTestOptions): Promise<{ status: BlockTestStatus; reason?: string }> {
  if (!SUPPORTED_NETWORKS.has(fixture.network)) {
    return { status: 'skipped', reason: `fork ${fixture.network} is not implemented (the executor runs Cancun rules)` }
  }
  try {
    const reason = await checkFixture(fixture, options)
    return reason === undefined ? { status: 'passed' } : { status: 'failed', reason }
  } catch (error) {
    return { status: 'failed', reason: `threw: ${error instanceof Error ? error.message : String(error)}` }
  }
}

async function checkFixture(fixture: BlockchainFixture, options: BlockTestOptions): Promise<string | undefined> {
  const common = fixtureCommon()
  const genesisState = flatStateFromAlloc(fixture.pre)
  const genesisTrie = StateTrie.fromAccounts(trieEntries(genesisState))
  const genesisRoot = bytesToHex(genesisTrie.root())
  if (genesisRoot !== fixture.genesisBlockHeader.stateRoot) {
    return `genesis state root ${genesisRoot}, expected ${fixture.genesisBlockHeader.stateRoot}`
  }
  const genesis = createBlockFromRLP(hexToBytes(fixture.genesisRLP), { common })
  const points = new Map<Hex, ChainPoint>([[bytesToHex(genesis.hash()) as Hex, { state: genesisState, block: genesis, trie: genesisTrie }]])

  for (const [i, fixtureBlock] of fixture.blocks.entries()) {
    const expectInvalid = fixtureBlock.expectException !== undefined
    let outcome: { hash: Hex; point: ChainPoint } | string
    try {
      const block = createBlockFromRLP(hexToBytes(fixtureBlock.rlp), { common })
      outcome = await applyFixtureBlock(block, points, common, options)
    } catch (error) {
      outcome = `block ${i} rejected: ${error instanceof Error ? error.message : String(error)}`
    }
    if (typeof outcome === 'string') {
      if (expectInvalid) continue
      return outcome
    }
    if (expectInvalid) return `block ${i} accepted, expected rejection (${fixtureBlock.expectException})`
    points.set(outcome.hash, outcome.point)
  }

  const last = points.get(fixture.lastblockhash)
  if (last === undefined) return `last block ${fixture.lastblockhash} was never imported`
  if (fixture.postState !== undefined) return comparePostState(last.state, fixture.postState)
  return undefined
}

async function applyFixtureBlock(block: Block, points: Map<Hex, ChainPoint>, common: Common, options: BlockTestOptions): Promise<{ hash: Hex; point: ChainPoint } | string> {
  const header = block.header
  const parent = points.get(bytesToHex(header.parentHash) as Hex)
  if (parent === undefined) return `unknown parent ${bytesToHex(header.parentHash)}`
  const state = parent.state.clone()
  const sequential = await SequentialExecutor.create(common, state, ancestorHashLookup(points, parent))
  // Parallel: every block with at least 2 transactions goes through the workers (the main thread takes the first).
  const executor: MiniBlockExecutor = options.pool === undefined ? new SequentialMiniBlockExecutor(sequential) : new ParallelExecutor(options.pool, sequential, state, { minParallelTxs: 2 })
  const env: BlockEnv = {
    number: header.number,
    timestamp: header.timestamp,
    coinbase: header.coinbase.toString() as Hex,
    baseFeePerGas: header.baseFeePerGas ?? 0n,
    gasLimit: header.gasLimit,
    prevRandao: header.mixHash,
    excessBlobGas: header.excessBlobGas ?? 0n,
    parentBeaconBlockRoot: header.parentBeaconBlockRoot ?? new Uint8Array(32),
  }
  let diff
  const cursor: BlockCursor = { gasUsed: 0n, txIndex: 0, logIndex: 0, miniBlockNumber: 0n }
  const receipts: TxReceipt[] = []
  try {
    executor.setBlockEnv(env, block)
    await executor.applyBeaconRoot(env)
    const txs: BatchTx[] = block.transactions.map((tx, i) => ({ tx, sender: senderOf(tx, i) }))
    const outcomes = await executor.executeBatch(txs, cursor)
    for (let i = 0; i < txs.length; i++) {
      const outcome = outcomes[i]
      if (outcome === undefined) return `tx ${i} invalid: not executed (an earlier transaction of its sender failed)`
      if (!outcome.ok) return `tx ${i} invalid: ${outcome.error.message}`
      receipts.push(outcome.receipt)
    }
    await executor.applyWithdrawals(block.withdrawals?.map((w) => ({ address: w.address.toString() as Hex, amount: w.amount })) ?? [])
    diff = executor.takeDiff()
  } finally {
    if (executor instanceof ParallelExecutor) options.onParallelStats?.(executor.stats())
    await executor.close()
  }
  state.apply(diff)

  const trie = parent.trie ?? StateTrie.fromAccounts(trieEntries(parent.state))
  parent.trie = undefined
  const root = bytesToHex(trie.applyDiff(diff))
  if (root !== bytesToHex(header.stateRoot)) return `block ${header.number}: state root ${root}, expected ${bytesToHex(header.stateRoot)}`
  const receiptsRoot = bytesToHex(orderedTrieRoot(receipts.map(encodeConsensusReceipt)))
  if (receiptsRoot !== bytesToHex(header.receiptTrie)) return `block ${header.number}: receipts root ${receiptsRoot}, expected ${bytesToHex(header.receiptTrie)}`
  if (cursor.gasUsed !== header.gasUsed) return `block ${header.number}: gas used ${cursor.gasUsed}, expected ${header.gasUsed}`
  return { hash: bytesToHex(block.hash()) as Hex, point: { state, block, trie } }
}

/** The sender for same-sender skipping; a transaction whose signature does not recover fails when executed. */
function senderOf(tx: Block['transactions'][number], index: number): string {
  try {
    return tx.getSenderAddress().toString()
  } catch {
    return `unrecoverable-sender-${index}`
  }
}

/** BLOCKHASH answers along the ancestry of the block being executed (forks have their own). */
function ancestorHashLookup(points: Map<Hex, ChainPoint>, parent: ChainPoint) {
  return async (number: bigint): Promise<Uint8Array | undefined> => {
    let point: ChainPoint | undefined = parent
    while (point !== undefined) {
      if (point.block.header.number === number) return point.block.hash()
      if (point.block.header.number < number) return undefined
      point = points.get(bytesToHex(point.block.header.parentHash) as Hex)
    }
    return undefined
  }
}
function comparePostState(state: FlatState, expected: Record<Hex, GenesisAccount>): string | undefined {
  const want = flatStateFromAlloc(expected)
  for (const [address, account] of want.accounts) {
    const got = state.getAccount(address)
    if (got === undefined) return `post-state: account ${address} missing`
    if (got.nonce !== account.nonce) return `post-state: ${address} nonce ${got.nonce}, expected ${account.nonce}`
    if (got.balance !== account.balance) return `post-state: ${address} balance ${got.balance}, expected ${account.balance}`
    if (bytesToHex(got.codeHash) !== bytesToHex(account.codeHash)) return `post-state: ${address} code differs`
    const wantSlots = want.storage.get(address) ?? new Map<Hex, Uint8Array>()
    const gotSlots = state.storage.get(address) ?? new Map<Hex, Uint8Array>()
    for (const [slot, value] of wantSlots) {
      if (bytesToHex(gotSlots.get(slot) ?? new Uint8Array()) !== bytesToHex(value)) return `post-state: ${address} slot ${slot} differs`
    }
    if (gotSlots.size !== wantSlots.size) return `post-state: ${address} has ${gotSlots.size} slots, expected ${wantSlots.size}`
  }
  for (const address of state.accounts.keys()) {
    if (!want.accounts.has(address)) return `post-state: unexpected account ${address}`
  }
  return undefined
}
