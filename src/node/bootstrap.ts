import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Common } from '@ethereumjs/common'
import { performance } from 'node:perf_hooks'
import { bytesToHex, equalsBytes, hexToBytes, KECCAK256_RLP } from '@ethereumjs/util'
import type { SealedBlock } from '../chain/block.ts'
import type { ChainConfig } from '../chain/config.ts'
import { genesisAccountState, genesisState, type GenesisFile } from '../chain/genesis.ts'
import { genesisAllocEntries } from '../chain/genesis-stream.ts'
import { buildHeader } from '../chain/header.ts'
import type { MiniBlock } from '../chain/mini-block.ts'
import { emptyStateDiff, type Hex } from '../primitives/state-diff.ts'
import { keccak256 } from '../crypto/native.ts'
import { DEFAULT_HISTORY_BLOCKS } from '../execution/merkleizer/history.ts'
import { ThreadedMerkleizer } from '../execution/merkleizer/merkleizer.ts'
import { StateTrie, type StateTrieAccount } from '../trie/index.ts'
import { StateRootBuilder } from '../trie/state-root-builder.ts'
import { DiskFlatState } from '../state/disk-flat-state.ts'
import { FlatState } from '../state/flat-state.ts'
import type { LiveState } from '../state/live-state.ts'
import { StateHistory } from '../state/state-history.ts'
import { trieEntries, trieEntry } from '../state/trie-entries.ts'
import { BlockArtifactStore } from '../storage/block-artifact-store.ts'
import { BlockStore, storedContents } from '../storage/block-store.ts'
import type { ChainWriter } from '../storage/chain-stores.ts'
import { ChainView } from '../storage/chain-view.ts'
import { NodeDb, type BatchOp } from '../storage/db.ts'
import { PoolJournal } from '../storage/pool-journal.ts'
import { StateStore } from '../storage/state-store.ts'
import { MiniBlockWal } from '../storage/wal.ts'
import { NodeError, type NodeErrorOptions } from '../primitives/errors.ts'
import { L2_TO_L1_MESSAGE_PASSER_ADDRESS } from '../bridge/predeploys.ts'
import { outputRootV0 } from '../rpc/optimism-methods.ts'
import { asGenesisError, genesisStateRoot } from './genesis-state-root.ts'
import { writeStateTrie } from './state-trie-writer.ts'

const GENESIS_KEY = new TextEncoder().encode('genesis')
/** Stored beside the genesis hash: the header does not commit to the chain id, so check it apart. */
const CHAIN_ID_KEY = new TextEncoder().encode('chainId')
/**
 * keccak256 of the genesis alloc's JSON, then the state root it makes: a restart checks the genesis
 * hash without rebuilding the genesis trie (a million-account alloc takes as long as a rebuild).
 */
const GENESIS_STATE_KEY = new TextEncoder().encode('genesisStateRoot')
/** The persisted trie nodes, beside `chaindata` (`storage/trie-node-store.ts`). */
export const TRIE_DIR = 'trie'
/** Accounts of the flat state compared with the persisted trie when a restart opens it. */
const CROSS_CHECK_ACCOUNTS = 16

/** The datadir holds another chain, or a torn one: the operator must pick another datadir or genesis. */
export class DatadirError extends NodeError<'DATADIR_INVALID', undefined> {
  override readonly name = 'DatadirError'
  constructor(message: string, options?: NodeErrorOptions) {
    super('DATADIR_INVALID', message, { severity: 'critical', ...options })
  }
}

/**
 * An opened datadir, as the composition root hands it to a role: the stores (`ChainWriter`), the state
 * trie at the sealed head in its own thread, the pool journal and the unsealed mini-blocks. Roles take
 * only the part they read (`BlockReader`, `ChainWriter`, `StateProofView`, `SequencerChain`, `ReplicaChain`).
 */
export interface OpenedChain extends ChainWriter {
  /** Transactions accepted into the pool and not yet in a mini-block. */
  poolJournal: PoolJournal
  /** The state trie at the sealed head (in its own thread), ready to advance by the next block's diff. */
  merkleizer: ThreadedMerkleizer
  /** Mini-blocks logged after the sealed head: replayed and sealed before production resumes. */
  unsealed: MiniBlock[]
  /** How the state trie was brought up, for the start-up log. */
  trie: TrieOpening
  /** Where a restart's time went (ms), for the start-up log; zeros on a new datadir. */
  startup: { genesisCheckMs: number; flatStateMs: number }
  /** Stops the merkleizer thread and closes the database. */
  close(): Promise<void>
}

export interface OpenChainOptions {
  /** How many recent blocks keep their witness and state diff (default 10,000: ~3 h of 1 s blocks). */
  retainArtifactBlocks?: bigint
  /** How many recent blocks' state stays readable, before and after a restart (default 128). */
  stateHistoryBlocks?: number
  /** How many recent blocks keep their reverse diff, i.e. how far the chain can be rewound (default `DEFAULT_REWIND_DEPTH`). */
  rewindDepth?: bigint
  /** The merkleizer thread below the main thread's priority (`MerkleizerStartOptions.background`, default true). */
  backgroundMerkleizer?: boolean
  /**
   * Rebuild the state trie from the flat state even when the persisted one holds the head's root (and
   * persist the result): what every start did before tries were persisted; for benchmarks.
   */
  rebuildTrie?: boolean
  /** Read cache of the persisted trie nodes, in bytes (`MerkleizerStartOptions.trieCacheBytes`). */
  trieCacheBytes?: number
  /**
   * Keep accounts and code on disk behind a cache of about this many bytes (`DiskFlatState`); without
   * it the whole flat state is loaded into memory (`FlatState`: what the parallel executor's workers need).
   */
  stateCacheBytes?: number
}

/**
 * How `openChain` got the head's state trie: opened from its persisted root (`persisted`), built from
 * the genesis alloc on a new datadir (`genesis`), or rebuilt from the flat state (`rebuilt`: a
 * datadir from before persisted tries, a crash that lost the nodes' last write, or `rebuildTrie`).
 */
export interface TrieOpening {
  source: 'persisted' | 'genesis' | 'rebuilt'
  /** Wall time of opening or building it (the flat state's load not included). */
  ms: number
}

/**
 * Opens (or initializes) a datadir. On restart it loads the sealed flat state and opens the state trie
 * at the head header's root from the persisted nodes (`<datadir>/trie`); that the root node is there
 * and a sample of flat accounts reads the same through it catches a torn or foreign datadir before
 * the node serves a single read. Without the root (an older datadir, or lost writes) it rebuilds the
 * trie from the flat state, persists it and checks the root against the head header, as every start
 * did before.
 */
export async function openChain(
  datadir: string,
  genesis: GenesisFile,
  config: ChainConfig,
  common: Common,
  options: OpenChainOptions = {},
): Promise<OpenedChain> {
  await mkdir(datadir, { recursive: true })
  const db = await NodeDb.open(join(datadir, 'chaindata'))
  let merkleizer: ThreadedMerkleizer | undefined
  try {
    const blocks = new BlockStore(db, common)
    const stateStore = new StateStore(db)
    const wal = new MiniBlockWal(db)
    const historyBlocks = options.stateHistoryBlocks ?? DEFAULT_HISTORY_BLOCKS
    const artifacts = new BlockArtifactStore(
      db,
      options.retainArtifactBlocks ?? 10_000n,
      options.rewindDepth,
      BigInt(historyBlocks),
    )
    const storedGenesis = await db.get('meta', GENESIS_KEY)
    const spawnMerkleizer = (): ThreadedMerkleizer =>
      ThreadedMerkleizer.spawn({
        trieDir: join(datadir, TRIE_DIR),
        ...(options.trieCacheBytes === undefined ? {} : { trieCacheBytes: options.trieCacheBytes }),
        ...(options.backgroundMerkleizer === undefined ? {} : { background: options.backgroundMerkleizer }),
      })

    let state: LiveState
    let head: SealedBlock
    let genesisBlockHash: Hex
    let trie: TrieOpening
    const startup = { genesisCheckMs: 0, flatStateMs: 0 }
    if (storedGenesis === undefined) {
      // The genesis trie's nodes are written before the trie thread opens their database.
      const { storage, stateRoot, ms } = await initGenesisState(genesis, stateStore, db, join(datadir, TRIE_DIR))
      merkleizer = spawnMerkleizer()
      const started = performance.now()
      if (!(await merkleizer.openRoot(stateRoot, historyBlocks)))
        throw new DatadirError(`datadir ${datadir}: the genesis state trie just written does not open at its root`)
      trie = { source: 'genesis', ms: ms + performance.now() - started }
      head = genesisBlockWithRoot(genesis, config, common, stateRoot)
      genesisBlockHash = head.hash
      // The flat state is already written: this batch makes the datadir a chain.
      await db.write(genesisRecordOps(db, blocks, head, config, allocDigest(genesis)), true)
      state =
        options.stateCacheBytes === undefined
          ? await stateStore.load()
          : new DiskFlatState(stateStore, storage, options.stateCacheBytes)
    } else {
      merkleizer = spawnMerkleizer()
      const checking = performance.now()
      const expected = await expectedGenesis(db, genesis, config, common)
      startup.genesisCheckMs = performance.now() - checking
      genesisBlockHash = expected.hash
      if (bytesToHex(storedGenesis) !== genesisBlockHash) {
        throw new DatadirError(
          `datadir ${datadir} holds a chain with genesis ${bytesToHex(storedGenesis)}, but the configured genesis hashes to ${genesisBlockHash}; use another --datadir or the original genesis`,
        )
      }
      // A datadir from before the cache: the next start skips the genesis trie.
      if (!expected.cached)
        await db.write([db.put('meta', GENESIS_STATE_KEY, concatBytes(expected.digest, expected.stateRoot))], true)
      const storedChainId = new TextDecoder().decode((await db.get('meta', CHAIN_ID_KEY)) ?? new Uint8Array(0))
      if (storedChainId !== config.chainId.toString()) {
        throw new DatadirError(
          `datadir ${datadir} holds chain id ${storedChainId}, but the configured chain id is ${config.chainId}; use another --datadir or the original genesis`,
        )
      }
      const headRef = await blocks.head()
      const stored = headRef === undefined ? undefined : await blocks.block(headRef.number)
      if (stored === undefined) throw new DatadirError(`datadir ${datadir}: head block is missing`)
      head = stored
      const loading = performance.now()
      state =
        options.stateCacheBytes === undefined
          ? await stateStore.load()
          : new DiskFlatState(stateStore, await stateStore.loadStorage(), options.stateCacheBytes)
      startup.flatStateMs = performance.now() - loading
      trie = await openHeadTrie(merkleizer, stateStore, state, head, datadir, options)
    }
    const headMiniBlockEnd = head.miniBlocks.first + BigInt(head.miniBlocks.count)
    const unsealed = (await wal.readAll()).filter((mb) => mb.number >= headMiniBlockEnd)
    const history = new StateHistory(state, head.header.number, historyBlocks)
    // The undo layers the last run held come back from the reverse diffs its seals persisted, when a read
    // first reaches past the blocks applied since this start (see docs/DESIGN.md "State history on disk").
    history.attachStore((newest, count) => artifacts.recentReverseDiffs(newest, count))
    const chain = new ChainView(blocks, genesisBlockHash, head, history)
    const thread = merkleizer
    const close = async (): Promise<void> => {
      await thread.stop()
      await db.close()
    }
    return {
      db,
      blocks,
      stateStore,
      wal,
      artifacts,
      poolJournal: new PoolJournal(db),
      chain,
      merkleizer: thread,
      unsealed,
      trie,
      startup,
      close,
    }
  } catch (error) {
    await merkleizer?.stop()
    await db.close()
    throw error
  }
}

/** Whether the database is a chain's (a genesis recorded): what a new or half-initialized datadir is not. */
export async function isChainDatadir(db: NodeDb): Promise<boolean> {
  return (await db.get('meta', GENESIS_KEY)) !== undefined
}

/**
 * What makes a datadir a chain of this genesis: block 0 sealed (and the head, unless a later seal in
 * the same batch moves it) and the keys a restart checks the configured genesis against.
 */
export function genesisRecordOps(
  db: NodeDb,
  blocks: BlockStore,
  genesisBlock: SealedBlock,
  config: ChainConfig,
  digest: Uint8Array,
): BatchOp[] {
  return [
    ...blocks.sealOps(genesisBlock, storedContents(genesisBlock)),
    db.put('meta', GENESIS_KEY, hexToBytes(genesisBlock.hash)),
    db.put('meta', CHAIN_ID_KEY, new TextEncoder().encode(config.chainId.toString())),
    db.put('meta', GENESIS_STATE_KEY, concatBytes(digest, genesisBlock.header.stateRoot)),
  ]
}

/** Accounts per flat-state write while a genesis is written (a 10M-account alloc is tens of millions of ops). */
const GENESIS_ACCOUNTS_PER_WRITE = 16_384

/**
 * A new datadir's genesis state, streamed from the alloc (`genesisAllocEntries`: memory or the file)
 * one account at a time: its flat state written to the store in chunks, its state trie built by
 * `StateRootBuilder` (no trie held in memory) with the nodes written to `trieDir` as they are reported,
 * children first, fsynced at the end. Only the storage is kept (what `DiskFlatState` holds). Neither
 * write makes the datadir a chain: the batch that records the genesis block does, after both. A crash
 * before it leaves keys the next start writes again with the same values; a different genesis on a
 * datadir whose first start crashed would find stale accounts (remove such a datadir).
 */
async function initGenesisState(
  genesis: GenesisFile,
  stateStore: StateStore,
  db: NodeDb,
  trieDir: string,
): Promise<{ storage: Map<Hex, Map<Hex, Uint8Array>>; stateRoot: Uint8Array; ms: number }> {
  const started = performance.now()
  const storage = new Map<Hex, Map<Hex, Uint8Array>>()
  async function* accounts(): AsyncGenerator<StateTrieAccount> {
    let chunk = emptyStateDiff()
    for await (const [rawAddress, entry] of genesisAllocEntries(genesis)) {
      const state = genesisAccountState(rawAddress, entry)
      if (state.code !== undefined) chunk.codes.set(bytesToHex(state.account.codeHash) as Hex, state.code)
      chunk.accounts.set(state.address, { account: state.account, storageCleared: false, storage: state.storage })
      if (state.storage.size > 0) storage.set(state.address, state.storage)
      yield trieEntry(state)
      if (chunk.accounts.size >= GENESIS_ACCOUNTS_PER_WRITE) {
        await db.write(await stateStore.diffOps(chunk), false)
        chunk = emptyStateDiff()
      }
    }
    await db.write(await stateStore.diffOps(chunk), false)
  }
  try {
    const stateRoot = await writeStateTrie(accounts(), trieDir)
    return { storage, stateRoot, ms: performance.now() - started }
  } catch (error) {
    throw asGenesisError(error)
  }
}

/**
 * The head's state trie in the merkleizer thread: opened from the persisted nodes when they hold the
 * head's root (and a sample of the flat state reads the same through it), else rebuilt from the flat
 * state, persisted, and its root checked against the head header.
 */
async function openHeadTrie(
  merkleizer: ThreadedMerkleizer,
  stateStore: StateStore,
  state: LiveState,
  head: SealedBlock,
  datadir: string,
  options: OpenChainOptions,
): Promise<TrieOpening> {
  const started = performance.now()
  const stateRoot = head.header.stateRoot
  if (options.rebuildTrie !== true && (await merkleizer.openRoot(stateRoot, options.stateHistoryBlocks))) {
    await crossCheck(merkleizer, stateStore, datadir)
    return { source: 'persisted', ms: performance.now() - started }
  }
  // A bounded live state does not hold every account: the rebuild reads the whole stored state once.
  const whole = state instanceof FlatState ? state : await stateStore.load()
  const root = await merkleizer.build(trieEntries(whole), options.stateHistoryBlocks)
  if (!equalsBytes(root, stateRoot)) {
    throw new DatadirError(
      `datadir ${datadir}: flat state root ${bytesToHex(root)} does not match head block ${head.header.number} state root ${bytesToHex(stateRoot)}`,
    )
  }
  return { source: 'rebuilt', ms: performance.now() - started }
}

/**
 * The first accounts of the flat state, read through the opened trie: the flat state and the trie
 * are written by the same seal, so a difference means one of them is not this chain's (a trie
 * directory copied from elsewhere that happens to hold this root cannot, but a stale flat state can).
 * Not a full check — that is the rebuild this start avoids — but it costs a few node reads.
 */
async function crossCheck(merkleizer: ThreadedMerkleizer, stateStore: StateStore, datadir: string): Promise<void> {
  const sample = await stateStore.firstAccounts(CROSS_CHECK_ACCOUNTS)
  const inTrie = await merkleizer.accounts(sample.map(({ address }) => hexToBytes(address)))
  for (let i = 0; i < sample.length; i++) {
    const flat = sample[i]!.account
    const found = inTrie[i]?.account
    if (
      found === undefined ||
      found.nonce !== flat.nonce ||
      found.balance !== flat.balance ||
      !equalsBytes(found.codeHash, flat.codeHash)
    ) {
      throw new DatadirError(
        `datadir ${datadir}: account ${sample[i]!.address} differs between the flat state and the persisted state trie; remove ${join(datadir, TRIE_DIR)} to rebuild the trie from the flat state`,
      )
    }
  }
}

/**
 * The hash of the block the configured genesis makes, its state root taken from the datadir when the
 * alloc is the one recorded there (`cached`), else computed.
 */
export interface ExpectedGenesis {
  hash: Hex
  stateRoot: Uint8Array
  /** What identifies the alloc (`allocDigest`), recorded beside the root. */
  digest: Uint8Array
  /** The root came from the datadir's record, not a computation. */
  cached: boolean
}

/**
 * The genesis block `genesis` makes: its state root from the datadir's record when that was computed
 * for this very alloc, else computed (by `rootOf`).
 */
export async function expectedGenesis(
  db: NodeDb,
  genesis: GenesisFile,
  config: ChainConfig,
  common: Common,
  rootOf: (genesis: GenesisFile) => Promise<Uint8Array> = genesisStateRoot,
): Promise<ExpectedGenesis> {
  const stored = await db.get('meta', GENESIS_STATE_KEY)
  const digest = allocDigest(genesis)
  if (stored !== undefined && stored.length === 64 && equalsBytes(stored.subarray(0, 32), digest)) {
    const stateRoot = stored.slice(32)
    return { hash: genesisBlockWithRoot(genesis, config, common, stateRoot).hash, stateRoot, digest, cached: true }
  }
  const stateRoot = await rootOf(genesis)
  return { hash: genesisBlockWithRoot(genesis, config, common, stateRoot).hash, stateRoot, digest, cached: false }
}

/** Identifies the alloc as written (key order included: JSON.parse keeps the file's). */
function allocDigest(genesis: GenesisFile): Uint8Array {
  // A streamed alloc is identified by its file's bytes (hashed once by whoever streamed it).
  if (genesis.allocFile !== undefined) return hexToBytes(genesis.allocFile.sha256)
  return keccak256(new TextEncoder().encode(JSON.stringify(genesis.alloc)))
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}

/** The hash of the genesis block `genesis` makes (what `openChain` writes, without a datadir). */
export function genesisHash(genesis: GenesisFile, config: ChainConfig, common: Common): Hex {
  return genesisBlock(genesis, config, common).block.hash
}

/** The output root (v0) of the genesis block `genesis` makes: where the dev L1's dispute games start bisecting. */
export function genesisOutputRoot(genesis: GenesisFile, config: ChainConfig, common: Common): Hex {
  const { block, state } = genesisBlock(genesis, config, common)
  // A storage root needs only its own account: a trie of the passer alone.
  const passer = new FlatState()
  const account = state.getAccount(L2_TO_L1_MESSAGE_PASSER_ADDRESS)
  if (account !== undefined) passer.accounts.set(L2_TO_L1_MESSAGE_PASSER_ADDRESS, account)
  const slots = state.storageOf(L2_TO_L1_MESSAGE_PASSER_ADDRESS)
  if (slots !== undefined) passer.storage.set(L2_TO_L1_MESSAGE_PASSER_ADDRESS, new Map(slots))
  const passerStorageRoot = StateTrie.fromAccounts(trieEntries(passer)).storageRoot(hexToBytes(L2_TO_L1_MESSAGE_PASSER_ADDRESS))
  return bytesToHex(outputRootV0(block.header.stateRoot, passerStorageRoot, hexToBytes(block.hash))) as Hex
}

function genesisBlock(genesis: GenesisFile, config: ChainConfig, common: Common): { block: SealedBlock; state: FlatState } {
  const state = genesisState(genesis)
  const builder = new StateRootBuilder()
  for (const entry of trieEntries(state)) builder.add(entry)
  return { block: genesisBlockWithRoot(genesis, config, common, builder.root()), state }
}

/** The genesis block, its alloc's state root given. */
export function genesisBlockWithRoot(
  genesis: GenesisFile,
  config: ChainConfig,
  common: Common,
  stateRoot: Uint8Array,
): SealedBlock {
  const header = buildHeader(
    {
      parentHash: new Uint8Array(32),
      number: 0n,
      timestamp: BigInt(genesis.timestamp ?? 0),
      gasLimit: config.blockGasLimit,
      gasUsed: 0n,
      baseFeePerGas: genesis.baseFeePerGas === undefined ? config.minBaseFee : BigInt(genesis.baseFeePerGas),
      stateRoot,
      transactionsRoot: KECCAK256_RLP,
      receiptsRoot: KECCAK256_RLP,
      logsBloom: new Uint8Array(256),
      coinbase: (genesis.coinbase ?? '0x0000000000000000000000000000000000000000').toLowerCase() as Hex,
      prevRandao: genesis.mixHash === undefined ? new Uint8Array(32) : hexToBytes(genesis.mixHash),
      extraData: genesis.extraData === undefined ? new Uint8Array(0) : hexToBytes(genesis.extraData),
    },
    common,
  )
  const hash = bytesToHex(header.hash()) as Hex
  // The first mini-block chains to the genesis hash.
  return { header, hash, transactions: [], receipts: [], miniBlocks: { first: 0n, count: 0, lastHash: hash } }
}
