import { readFile, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { createBlockFromRLP, type Block } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { forkScheduleOfTestNetwork } from '../chain/forks.ts'
import type { Hex } from '../primitives/state-diff.ts'
import { SequentialExecutor } from '../execution/executor.ts'
import {
  InvalidBlockTransactionError,
  blockEnvFromHeader,
  executeBlockBody,
  type ExecutedBlock,
} from '../execution/block-execution.ts'
import {
  ParallelExecutor,
  SequentialMiniBlockExecutor,
  commonFromSpec,
  type ExecWorkerPool,
  type MiniBlockExecutor,
  type ParallelStats,
} from '../execution/parallel/index.ts'
import type { FlatState } from '../state/flat-state.ts'
import { trieEntries } from '../state/trie-entries.ts'
import { flatStateFromAlloc, type GenesisAccount } from '../chain/genesis.ts'
import { StateTrie } from '../trie/index.ts'
import { BlockAccessRecorder, recordingReader } from '../state/access-set.ts'
import { executionMismatch, verifyBlock, type ExecutionWitness } from '../stateless/index.ts'
import { TrieNodeCollector, applyDiffRecordingWitness, type StateWitness } from '../trie/witness-builder.ts'
import type { BlockchainFixture, FixtureFile } from './fixture.ts'
import { checkBodyCommitments, checkHeaderAgainstParent } from './header-rules.ts'

export type BlockTestStatus = 'passed' | 'failed' | 'skipped'

export interface BlockTestResult {
  file: string
  name: string
  status: BlockTestStatus
  /** Why it failed or was skipped. */
  reason?: string
}

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
  /**
   * Execution workers: run every block's transactions on the parallel executor. Their common spec
   * (`test-network`) fixes one network; fixtures of another run sequentially.
   */
  pool?: ExecWorkerPool
  /** Called with each parallel executor's counters after its block. */
  onParallelStats?: (stats: ParallelStats) => void
  /**
   * Also verify every block statelessly: record its witness from the pre-state while executing it,
   * then re-execute it from nothing but that witness (the replica's verifier) and check the roots.
   */
  stateless?: boolean
}

export async function runBlockTestFile(file: string, options: BlockTestOptions = {}): Promise<BlockTestResult[]> {
  const fixtures = JSON.parse(await readFile(file, 'utf8')) as FixtureFile
  const results: BlockTestResult[] = []
  for (const [name, fixture] of Object.entries(fixtures)) {
    results.push({ file, name, ...(await runFixture(fixture, options)) })
  }
  return results
}

async function runFixture(
  fixture: BlockchainFixture,
  options: BlockTestOptions,
): Promise<{ status: BlockTestStatus; reason?: string }> {
  if (forkScheduleOfTestNetwork(fixture.network) === undefined) {
    return {
      status: 'skipped',
      reason: `network ${fixture.network} is not implemented (the executor runs Cancun, Prague and Osaka rules)`,
    }
  }
  try {
    const reason = await checkFixture(fixture, options)
    return reason === undefined ? { status: 'passed' } : { status: 'failed', reason }
  } catch (error) {
    return { status: 'failed', reason: `threw: ${error instanceof Error ? error.message : String(error)}` }
  }
}

async function checkFixture(fixture: BlockchainFixture, options: BlockTestOptions): Promise<string | undefined> {
  const common = commonFromSpec({ kind: 'test-network', network: fixture.network })
  const poolSpec = options.pool?.spec
  if (poolSpec !== undefined && (poolSpec.kind !== 'test-network' || poolSpec.network !== fixture.network))
    options = { ...options, pool: undefined }
  const genesisState = flatStateFromAlloc(fixture.pre)
  const collector = options.stateless === true ? new TrieNodeCollector() : undefined
  const trieOptions = { onNodeRead: collector?.onNodeRead }
  const genesisTrie = StateTrie.fromAccounts(trieEntries(genesisState), trieOptions)
  const genesisRoot = bytesToHex(genesisTrie.root())
  if (genesisRoot !== fixture.genesisBlockHeader.stateRoot) {
    return `genesis state root ${genesisRoot}, expected ${fixture.genesisBlockHeader.stateRoot}`
  }
  // `setHardfork`: each block's fork from its timestamp (transition networks change fork mid-chain).
  const genesis = createBlockFromRLP(hexToBytes(fixture.genesisRLP), { common, setHardfork: true })
  const points = new Map<Hex, ChainPoint>([
    [bytesToHex(genesis.hash()) as Hex, { state: genesisState, block: genesis, trie: genesisTrie }],
  ])

  for (const [i, fixtureBlock] of fixture.blocks.entries()) {
    const expectInvalid = fixtureBlock.expectException !== undefined
    let outcome: { hash: Hex; point: ChainPoint } | string
    try {
      const block = createBlockFromRLP(hexToBytes(fixtureBlock.rlp), { common, setHardfork: true })
      outcome = await applyFixtureBlock(block, points, common, options, collector)
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

async function applyFixtureBlock(
  block: Block,
  points: Map<Hex, ChainPoint>,
  common: Common,
  options: BlockTestOptions,
  collector: TrieNodeCollector | undefined,
): Promise<{ hash: Hex; point: ChainPoint } | string> {
  const header = block.header
  const parent = points.get(bytesToHex(header.parentHash) as Hex)
  if (parent === undefined) return `unknown parent ${bytesToHex(header.parentHash)}`
  const badHeader = checkHeaderAgainstParent(header, parent.block.header, common)
  if (badHeader !== undefined) return badHeader
  const state = parent.state.clone()
  const access = collector === undefined ? undefined : new BlockAccessRecorder()
  const lookup = ancestorHashLookup(points, parent)
  const blockHash =
    access === undefined
      ? lookup
      : (number: bigint) => {
          access.onBlockHashRead(number)
          return lookup(number)
        }
  const sequential = await SequentialExecutor.create(
    common,
    access === undefined ? state : recordingReader(state, access),
    blockHash,
  )
  // Parallel: every block with at least 2 transactions goes through the workers (the main thread takes the first).
  const executor: MiniBlockExecutor =
    options.pool === undefined
      ? new SequentialMiniBlockExecutor(sequential)
      : new ParallelExecutor(options.pool, sequential, state, { minParallelTxs: 2 })
  let executed: ExecutedBlock
  try {
    executed = await executeBlockBody(executor, blockEnvFromHeader(header), block.transactions, {
      block,
      withdrawals: block.withdrawals?.map((w) => ({ address: w.address.toString() as Hex, amount: w.amount })) ?? [],
    })
  } catch (error) {
    if (error instanceof InvalidBlockTransactionError) return error.message
    throw error
  } finally {
    if (executor instanceof ParallelExecutor) options.onParallelStats?.(executor.stats())
    await executor.close()
  }
  // The body is checked against the header's commitments after execution, not before as geth
  // does: fixtures of invalid transactions often come in blocks whose header commits to no
  // transactions, and executing first makes them exercise the executor's refusal of the transaction.
  const badBody = checkBodyCommitments(block)
  if (badBody !== undefined) return badBody
  const { diff, receipts, gasUsed } = executed
  state.apply(diff)

  const trie = parent.trie ?? StateTrie.fromAccounts(trieEntries(parent.state), { onNodeRead: collector?.onNodeRead })
  if (parent.trie === undefined) trie.root()
  parent.trie = undefined
  let root: Uint8Array
  if (collector === undefined || access === undefined) {
    root = trie.applyDiff(diff)
  } else {
    const accessed = access.take()
    const recorded = applyDiffRecordingWitness(trie, collector, diff, accessed)
    root = recorded.root
    const oldest = accessed.blockHashes.reduce((min, n) => (n < min ? n : min), parent.block.header.number)
    const failure = await verifyFromWitness(block, recorded, ancestorHeaders(parent, points, oldest), parent.state, common)
    if (failure !== undefined) return failure
  }
  const mismatch = executionMismatch(header, root, receipts, gasUsed)
  if (mismatch !== undefined) return mismatch.message
  return { hash: bytesToHex(block.hash()) as Hex, point: { state, block, trie } }
}

/** Re-executes `block` from nothing but the witness recorded while executing it on the full state. */
async function verifyFromWitness(
  block: Block,
  recorded: StateWitness,
  headers: Uint8Array[],
  preState: FlatState,
  common: Common,
): Promise<string | undefined> {
  const witness: ExecutionWitness = {
    state: recorded.nodes,
    codes: recorded.codeHashes.map((hash) => preState.getCode(hash) ?? new Uint8Array()),
    keys: recorded.keys,
    headers,
  }
  try {
    await verifyBlock(
      {
        header: block.header,
        transactions: block.transactions.map((tx) => tx.serialize()),
        withdrawals: block.withdrawals?.map((w) => ({ address: w.address.toString() as Hex, amount: w.amount })) ?? [],
      },
      witness,
      { common },
    )
    return undefined
  } catch (error) {
    return `block ${block.header.number}: stateless verification failed: ${error instanceof Error ? error.message : String(error)}`
  }
}

/** Encoded headers of `parent` and its ancestors down to block `oldest`, oldest first (what BLOCKHASH may read). */
function ancestorHeaders(parent: ChainPoint, points: Map<Hex, ChainPoint>, oldest: bigint): Uint8Array[] {
  const headers: Uint8Array[] = []
  let point: ChainPoint | undefined = parent
  while (point !== undefined && point.block.header.number >= oldest) {
    headers.push(point.block.header.serialize())
    point = points.get(bytesToHex(point.block.header.parentHash) as Hex)
  }
  return headers.reverse()
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
      if (bytesToHex(gotSlots.get(slot) ?? new Uint8Array()) !== bytesToHex(value))
        return `post-state: ${address} slot ${slot} differs`
    }
    if (gotSlots.size !== wantSlots.size) return `post-state: ${address} has ${gotSlots.size} slots, expected ${wantSlots.size}`
  }
  for (const address of state.accounts.keys()) {
    if (!want.accounts.has(address)) return `post-state: unexpected account ${address}`
  }
  return undefined
}
