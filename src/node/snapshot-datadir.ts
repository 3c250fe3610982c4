import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import type { Common } from '@ethereumjs/common'
import { bytesToHex, equalsBytes } from '@ethereumjs/util'
import type { ChainConfig } from '../chain/config.ts'
import type { GenesisFile } from '../chain/genesis.ts'
import type { BlockBundle } from '../p2p/index.ts'
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
import { BlockArtifactStore } from '../storage/block-artifact-store.ts'
import { BlockStore, storedContents } from '../storage/block-store.ts'
import { NodeDb } from '../storage/db.ts'
import { StateStore } from '../storage/state-store.ts'
import {
  expectedGenesis,
  genesisBlockWithRoot,
  type ExpectedGenesis,
  genesisRecordOps,
  isChainDatadir,
  TRIE_DIR,
} from './bootstrap.ts'
import { genesisStateRootInThread } from './genesis-state-root.ts'
import { SnapshotStateTrie } from './snapshot-state-trie.ts'
import { StateTrieWriter } from './state-trie-writer.ts'

/**
 * A new datadir filled by a snapshot sync (`replica/snapshot-sync.ts`): the pages go straight into the
 * flat state store and into the state trie being built (`SnapshotStateTrie`, its storage tries' nodes
 * to `<datadir>/trie` as they come); `finish` completes the trie and, when its root is the pivot's,
 * writes genesis and the pivot block in one batch — the batch that makes the directory a chain, so a
 * sync interrupted before it leaves a datadir the next start simply syncs again from scratch.
 * `openChain` then opens it like any datadir, its head the pivot.
 */
export class SnapshotDatadir implements SnapshotSink {
  /** The configured genesis's block, computed on a thread of its own while the state is fetched (a large alloc takes minutes). */
  private genesisCheck: Promise<ExpectedGenesis> | undefined
  /** Stops that thread when the sync ends without it. */
  private readonly stopGenesisCheck = new AbortController()
  /** The trie of the entries written since the last reset, and where its nodes go. */
  private trie: { builder: SnapshotStateTrie; writer: StateTrieWriter } | undefined

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
    await this.closeTrie()
    await this.stateStore.clear()
    await rm(join(this.datadir, TRIE_DIR), { recursive: true, force: true })
    const writer = await StateTrieWriter.open(join(this.datadir, TRIE_DIR))
    this.trie = { builder: new SnapshotStateTrie(writer.sink), writer }
    this.expectedGenesis()
  }

  private expectedGenesis(): Promise<ExpectedGenesis> {
    if (this.genesisCheck === undefined) {
      this.genesisCheck = expectedGenesis(this.db, this.genesis, this.config, this.common, (genesis) =>
        genesisStateRootInThread(genesis, this.stopGenesisCheck.signal),
      )
      // Awaited by `finish`; a sync that fails first must not leave its rejection unhandled.
      this.genesisCheck.catch(() => undefined)
    }
    return this.genesisCheck
  }

  async write(entries: ReadonlyArray<readonly [Uint8Array, Uint8Array]>): Promise<void> {
    const { builder, writer } = this.openTrie()
    // The trie's share of the page is computed while LevelDB writes the page.
    const written = this.db.write(this.stateStore.rawEntryOps(entries), false)
    try {
      builder.add(entries)
    } finally {
      await written
    }
    await writer.flush()
  }

  async finish(pivot: BlockBundle): Promise<Record<string, number>> {
    const { header } = pivot.announcement
    const started = performance.now()
    const { builder, writer } = this.openTrie()
    let root: Uint8Array
    try {
      root = await writer.finish(builder.finish())
    } catch (error) {
      // The builder's refusal of slots without their account: the peer's state is broken, not ours.
      if (error instanceof RangeError) throw new SnapshotSyncError(`snapshot: ${error.message}`, error)
      throw error
    } finally {
      await this.closeTrie()
    }
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

  async close(): Promise<void> {
    this.stopGenesisCheck.abort(new SnapshotSyncError('snapshot sync: the datadir was closed before the genesis check ended'))
    await this.closeTrie()
    await this.db.close()
  }

  private openTrie(): { builder: SnapshotStateTrie; writer: StateTrieWriter } {
    if (this.trie === undefined) throw new Error('SnapshotDatadir: reset() opens the trie before entries are written')
    return this.trie
  }

  private async closeTrie(): Promise<void> {
    const trie = this.trie
    this.trie = undefined
    await trie?.writer.close()
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
