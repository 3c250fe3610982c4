import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Common } from '@ethereumjs/common'
import { bytesToHex, hexToBytes, KECCAK256_RLP } from '@ethereumjs/util'
import type { SealedBlock } from '../chain/block.ts'
import type { ChainConfig } from '../chain/config.ts'
import { genesisState, type GenesisFile } from '../chain/genesis.ts'
import { buildHeader } from '../chain/header.ts'
import type { MiniBlock } from '../chain/mini-block.ts'
import type { AccountDiff, Hex, StateDiff } from '../primitives/state-diff.ts'
import { ThreadedMerkleizer } from '../execution/merkleizer/merkleizer.ts'
import { StateTrie } from '../trie/index.ts'
import type { FlatState } from '../state/flat-state.ts'
import { StateHistory } from '../state/state-history.ts'
import { trieEntries } from '../state/trie-entries.ts'
import { BlockArtifactStore } from '../storage/block-artifact-store.ts'
import { BlockStore, storedContents } from '../storage/block-store.ts'
import type { ChainWriter } from '../storage/chain-stores.ts'
import { ChainView } from '../storage/chain-view.ts'
import { NodeDb } from '../storage/db.ts'
import { PoolJournal } from '../storage/pool-journal.ts'
import { StateStore } from '../storage/state-store.ts'
import { MiniBlockWal } from '../storage/wal.ts'
import { NodeError, type NodeErrorOptions } from '../primitives/errors.ts'
import { L2_TO_L1_MESSAGE_PASSER_ADDRESS } from '../bridge/predeploys.ts'
import { outputRootV0 } from '../rpc/optimism-methods.ts'

const GENESIS_KEY = new TextEncoder().encode('genesis')
/** Stored beside the genesis hash: the header does not commit to the chain id, so check it apart. */
const CHAIN_ID_KEY = new TextEncoder().encode('chainId')

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
  /** Stops the merkleizer thread and closes the database. */
  close(): Promise<void>
}

export interface OpenChainOptions {
  /** How many recent blocks keep their witness and state diff (default 10,000: ~3 h of 1 s blocks). */
  retainArtifactBlocks?: bigint
  /** How many recent blocks' state stays readable (default 128). */
  stateHistoryBlocks?: number
  /** How many recent blocks keep their reverse diff, i.e. how far the chain can be rewound (default `DEFAULT_REWIND_DEPTH`). */
  rewindDepth?: bigint
  /** The merkleizer thread below the main thread's priority (`MerkleizerStartOptions.background`, default true). */
  backgroundMerkleizer?: boolean
}

/**
 * Opens (or initializes) a datadir. On restart it loads the sealed flat state, rebuilds the state
 * trie from it and checks the root against the head header — a cheap integrity check that catches a
 * torn or foreign datadir before the node serves a single read.
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
  try {
    const blocks = new BlockStore(db, common)
    const stateStore = new StateStore(db)
    const wal = new MiniBlockWal(db)
    const artifacts = new BlockArtifactStore(db, options.retainArtifactBlocks ?? 10_000n, options.rewindDepth)
    const expectedGenesis = genesisBlock(genesis, config, common)
    const storedGenesis = await db.get('meta', GENESIS_KEY)

    let state: FlatState
    let head: SealedBlock
    if (storedGenesis === undefined) {
      state = expectedGenesis.state
      head = expectedGenesis.block
      const ops = [
        ...blocks.sealOps(head, storedContents(head)),
        ...(await stateStore.diffOps(fullStateDiff(state))),
        db.put('meta', GENESIS_KEY, hexToBytes(head.hash)),
        db.put('meta', CHAIN_ID_KEY, new TextEncoder().encode(config.chainId.toString())),
      ]
      await db.write(ops, true)
    } else {
      if (bytesToHex(storedGenesis) !== expectedGenesis.block.hash) {
        throw new DatadirError(
          `datadir ${datadir} holds a chain with genesis ${bytesToHex(storedGenesis)}, but the configured genesis hashes to ${expectedGenesis.block.hash}; use another --datadir or the original genesis`,
        )
      }
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
      state = await stateStore.load()
    }
    const { merkleizer, root } = await ThreadedMerkleizer.start(trieEntries(state), {
      historyBlocks: options.stateHistoryBlocks,
      ...(options.backgroundMerkleizer === undefined ? {} : { background: options.backgroundMerkleizer }),
    })
    if (bytesToHex(root) !== bytesToHex(head.header.stateRoot)) {
      await merkleizer.stop()
      throw new DatadirError(
        `datadir ${datadir}: flat state root ${bytesToHex(root)} does not match head block ${head.header.number} state root ${bytesToHex(head.header.stateRoot)}`,
      )
    }
    const headMiniBlockEnd = head.miniBlocks.first + BigInt(head.miniBlocks.count)
    const unsealed = (await wal.readAll()).filter((mb) => mb.number >= headMiniBlockEnd)
    const history = new StateHistory(state, head.header.number, options.stateHistoryBlocks)
    const chain = new ChainView(blocks, expectedGenesis.block.hash, head, history)
    const close = async (): Promise<void> => {
      await merkleizer.stop()
      await db.close()
    }
    return { db, blocks, stateStore, wal, artifacts, poolJournal: new PoolJournal(db), chain, merkleizer, unsealed, close }
  } catch (error) {
    await db.close()
    throw error
  }
}

/** The hash of the genesis block `genesis` makes (what `openChain` writes, without a datadir). */
export function genesisHash(genesis: GenesisFile, config: ChainConfig, common: Common): Hex {
  return genesisBlock(genesis, config, common).block.hash
}

/** The output root (v0) of the genesis block `genesis` makes: where the dev L1's dispute games start bisecting. */
export function genesisOutputRoot(genesis: GenesisFile, config: ChainConfig, common: Common): Hex {
  const { block, state } = genesisBlock(genesis, config, common)
  const passerStorageRoot = StateTrie.fromAccounts(trieEntries(state)).storageRoot(hexToBytes(L2_TO_L1_MESSAGE_PASSER_ADDRESS))
  return bytesToHex(outputRootV0(block.header.stateRoot, passerStorageRoot, hexToBytes(block.hash))) as Hex
}

function genesisBlock(genesis: GenesisFile, config: ChainConfig, common: Common): { block: SealedBlock; state: FlatState } {
  const state = genesisState(genesis)
  const stateRoot = StateTrie.fromAccounts(trieEntries(state)).root()
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
  const block: SealedBlock = { header, hash, transactions: [], receipts: [], miniBlocks: { first: 0n, count: 0, lastHash: hash } }
  return { block, state }
}

/** The state as a diff from nothing: how genesis is written through the normal state-store path. */
function fullStateDiff(state: FlatState): StateDiff {
  const accounts = new Map<Hex, AccountDiff>()
  for (const { address, account, storage } of state.entries()) accounts.set(address, { account, storageCleared: false, storage })
  return { accounts, codes: new Map(state.codes) }
}
