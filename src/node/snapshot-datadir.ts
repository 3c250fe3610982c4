import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import type { Common } from '@ethereumjs/common'
import { bytesToHex, equalsBytes, KECCAK256_NULL } from '@ethereumjs/util'
import type { ChainConfig } from '../chain/config.ts'
import type { GenesisFile } from '../chain/genesis.ts'
import type { BlockBundle } from '../p2p/index.ts'
import type { Hex } from '../primitives/state-diff.ts'
import type { Logger } from 'pino'
import {
  SnapshotStateMismatchError,
  SnapshotSyncError,
  snapshotSync,
  wantsSnapshot,
  type SnapshotMode,
  type SnapshotSink,
  type SnapshotSyncResult,
} from '../replica/snapshot-sync.ts'
import { announcedBlock } from '../replica/block-importer.ts'
import type { SyncClient } from '../replica/sync-client.ts'
import { trieEntry } from '../state/trie-entries.ts'
import { BlockArtifactStore } from '../storage/block-artifact-store.ts'
import { BlockStore, storedContents } from '../storage/block-store.ts'
import { NodeDb } from '../storage/db.ts'
import { StateStore } from '../storage/state-store.ts'
import type { StateTrieAccount } from '../trie/index.ts'
import {
  expectedGenesis,
  genesisBlockWithRoot,
  type ExpectedGenesis,
  genesisRecordOps,
  isChainDatadir,
  TRIE_DIR,
} from './bootstrap.ts'
import { writeStateTrie } from './state-trie-writer.ts'

const NO_SLOTS: ReadonlyMap<Hex, Uint8Array> = new Map()

/**
 * A new datadir filled by a snapshot sync (`replica/snapshot-sync.ts`): the pages go straight into the
 * flat state store; `finish` builds the state trie from it into `<datadir>/trie` and, when its root is
 * the pivot's, writes genesis and the pivot block in one batch — the batch that makes the directory a
 * chain, so a sync interrupted before it leaves a datadir the next start syncs again from scratch.
 * `openChain` then opens it like any datadir, its head the pivot.
 */
export class SnapshotDatadir implements SnapshotSink {
  /** The configured genesis's block, computed while the state is fetched (a large alloc takes minutes). */
  private genesisCheck: Promise<ExpectedGenesis> | undefined

  private constructor(
    private readonly datadir: string,
    private readonly db: NodeDb,
    private readonly genesis: GenesisFile,
    private readonly config: ChainConfig,
    private readonly common: Common,
  ) {}

  /** Opens `datadir` for a snapshot sync; undefined when it already holds a chain (a snapshot fills only a new one). */
  static async open(
    datadir: string,
    genesis: GenesisFile,
    config: ChainConfig,
    common: Common,
  ): Promise<SnapshotDatadir | undefined> {
    await mkdir(datadir, { recursive: true })
    const db = await NodeDb.open(join(datadir, 'chaindata'))
    if (await isChainDatadir(db)) {
      await db.close()
      return undefined
    }
    return new SnapshotDatadir(datadir, db, genesis, config, common)
  }

  private get stateStore(): StateStore {
    return new StateStore(this.db)
  }

  async reset(): Promise<void> {
    await this.stateStore.clear()
    await rm(join(this.datadir, TRIE_DIR), { recursive: true, force: true })
    this.expectedGenesis()
  }

  private expectedGenesis(): Promise<ExpectedGenesis> {
    if (this.genesisCheck === undefined) {
      this.genesisCheck = expectedGenesis(this.db, this.genesis, this.config, this.common)
      // Awaited by `finish`; a sync that fails first must not leave its rejection unhandled.
      this.genesisCheck.catch(() => undefined)
    }
    return this.genesisCheck
  }

  async write(entries: ReadonlyArray<readonly [Uint8Array, Uint8Array]>): Promise<void> {
    await this.db.write(this.stateStore.rawEntryOps(entries), false)
  }

  async finish(pivot: BlockBundle): Promise<Record<string, number>> {
    const { header } = pivot.announcement
    const started = performance.now()
    const root = await writeStateTrie(this.trieEntries(), join(this.datadir, TRIE_DIR))
    const trieMs = performance.now() - started
    if (!equalsBytes(root, header.stateRoot)) {
      await this.reset()
      throw new SnapshotStateMismatchError(header.number, bytesToHex(root), bytesToHex(header.stateRoot))
    }
    const waiting = performance.now()
    const expected = await this.expectedGenesis()
    const genesisWaitMs = performance.now() - waiting
    const genesisBlock = genesisBlockWithRoot(this.genesis, this.config, this.common, expected.stateRoot)
    const head = announcedBlock(pivot.announcement, pivot.transactions, pivot.receipts)
    const blocks = new BlockStore(this.db, this.common)
    // Genesis first: the pivot's seal moves the head pointer past it in the same batch.
    const ops = [
      ...genesisRecordOps(this.db, blocks, genesisBlock, this.config, expected.digest),
      ...(header.number === 0n
        ? []
        : [...blocks.sealOps(head, storedContents(head)), ...blocks.signatureOps(header.number, pivot.announcement.signature)]),
      ...new BlockArtifactStore(this.db, 0n).verifiedOps(header.number),
    ]
    if (header.number === 0n && head.hash !== genesisBlock.hash)
      throw new SnapshotSyncError(`the peer's genesis ${head.hash} is not the configured genesis ${genesisBlock.hash}`)
    await this.db.write(ops, true)
    return { trieMs: Math.round(trieMs), genesisWaitMs: Math.round(genesisWaitMs) }
  }

  close(): Promise<void> {
    return this.db.close()
  }

  /**
   * The stored accounts with their slots, in the trie's shape. A contract whose code is missing, or
   * slots of an account that does not exist, would hash to the right root and still be a broken state:
   * both are refused here.
   */
  private async *trieEntries(): AsyncGenerator<StateTrieAccount> {
    const store = this.stateStore
    const storage = await store.loadStorage()
    let withSlots = 0
    for await (const { address, account } of store.accounts()) {
      if (!equalsBytes(account.codeHash, KECCAK256_NULL) && store.readCode(bytesToHex(account.codeHash) as Hex) === undefined)
        throw new SnapshotSyncError(`snapshot: account ${address} has code ${bytesToHex(account.codeHash)} the peer did not send`)
      const slots = storage.get(address)
      if (slots !== undefined) withSlots++
      yield trieEntry({ address, account, storage: slots ?? NO_SLOTS })
    }
    if (withSlots !== storage.size)
      throw new SnapshotSyncError(`snapshot: ${storage.size - withSlots} accounts have storage slots but no account entry`)
  }
}

export interface SnapshotStartParams {
  datadir: string
  mode: SnapshotMode
  sync: SyncClient
  genesis: GenesisFile
  config: ChainConfig
  common: Common
  logger: Logger
}

/**
 * A replica's start from a snapshot, when its datadir is new and `mode` asks for one (see
 * `wantsSnapshot`): the datadir is left a chain at the pivot for `openChain`. Returns what the sync did,
 * or undefined when the replica starts as before (from genesis, or from the chain it holds).
 */
export async function startFromSnapshot(params: SnapshotStartParams): Promise<SnapshotSyncResult | undefined> {
  const { datadir, mode, sync, logger } = params
  if (mode === 'never') return undefined
  const sink = await SnapshotDatadir.open(datadir, params.genesis, params.config, params.common)
  if (sink === undefined) return undefined
  try {
    if (!(await wantsSnapshot(sync, mode, logger))) return undefined
    const result = await snapshotSync(sync, sink, logger)
    logger.info(
      {
        pivot: result.pivot.toString(),
        entries: result.entries,
        mb: Math.round(result.bytes / 1e6),
        fetchMs: Math.round(result.fetchMs),
        ...result.finishMs,
      },
      'snapshot sync: state verified against the pivot header; following from there',
    )
    return result
  } finally {
    await sink.close()
  }
}
