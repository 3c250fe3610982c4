/**
 * `megaeth-node prune-state`: deletes the state-trie nodes no retained root reaches, offline (geth's
 * `snapshot prune-state`). The trie store is content-addressed and never overwrites, so every block
 * leaves the nodes it replaced behind and `<datadir>/trie` only grows; this takes it back to the
 * nodes of the state the node will open.
 *
 * Mark and sweep: every node reachable from the retained roots (the account trie and each account's
 * storage trie) goes into a Bloom filter sized for the store's node count, then one pass over the
 * store deletes, in bounded batches, each node the filter does not hold, and a compaction returns the
 * space. A Bloom filter because a node is keyed by its hash (nothing in the key says which root it
 * belongs to, so liveness is only known by walking), and an exact set of tens of millions of 32-byte
 * keys would take gigabytes where the filter takes ~2 bytes a node; its false positives only keep a
 * little garbage. Afterwards the retained roots are walked again: every node must still be there.
 *
 * What is retained — exactly the head block's state root. A node opens `<datadir>/trie` at one root
 * only: the sealed head's, at start-up (`bootstrap.ts`, `openHeadTrie`). Nothing else reads an older
 * root from the store: a rewind (`storage/chain-rewind.ts`: an L1 reorg, an adopted derivation)
 * applies the blocks' reverse diffs to the head's trie, which rebuilds the older nodes it needs
 * instead of reading them, whatever the safe or finalized head; proofs at recent roots come from the
 * in-memory history (`trie/trie-history.ts`) and, after a restart, from this store (`getProofAt` with
 * `fromStore`): those older roots are what pruning gives up — such a proof answers "historical state
 * not available" (a root with nodes missing is not provable), as on a pruned geth; the genesis root is
 * checked from the chain database's record, not the trie. And no crash can take the chain back to an
 * older root afterwards: a sequencer fsyncs every seal, and a derived chain's unsynced seals are made
 * durable before anything is deleted (`durableStoredHead`), so the head read here is the one every
 * later start opens. Should its root ever be missing (the trie directory lost, or a power cut that ate
 * a derived block's unsynced nodes), the start rebuilds the trie from the flat state, as it always has.
 *
 * Crash safety: only nodes unreachable from the head's root are deleted, each batch on its own, so a
 * crash or kill at any point leaves a store in which the head's root still has every node below it:
 * the next start opens it as if nothing happened, and a second run finishes the job (test:
 * test/e2e/prune-state.test.ts kills one at a failpoint between batches); a deletion lost to a power
 * cut only brings garbage back. The chain database is only read (but for the head's fsync); it is held
 * open throughout so that its lock keeps a node from starting mid-prune.
 */
import { existsSync } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { bytesToHex } from '@ethereumjs/util'
import type { Logger } from 'pino'
import { NodeError, isNodeError } from '../primitives/errors.ts'
import type { Hex } from '../primitives/state-diff.ts'
import { durableStoredHead, type StoredHead } from '../storage/block-store.ts'
import { NodeDb } from '../storage/db.ts'
import { TrieNodeStore } from '../storage/trie-node-store.ts'
import { storedStateTrieNodes } from '../trie/state-trie-walker.ts'
import { BloomFilter } from '../util/bloom-filter.ts'
import { failpoint } from '../util/failpoints.ts'
import { DatadirError, TRIE_DIR } from './bootstrap.ts'

export interface PruneStateOptions {
  datadir: string
  /** Deletions per LevelDB batch (default 10,000: ~0.5 MB of keys). */
  batchNodes?: number
  /** Walk the retained roots again after the sweep (default true). */
  verify?: boolean
  /** The Bloom filter's false-positive rate: the share of garbage kept (default 0.1%, ~1.8 bytes a node). */
  falsePositiveRate?: number
}

export interface PruneStateReport {
  head: { number: bigint; stateRoot: Hex }
  /** Nodes (and bytes of encodings) in the store before. */
  nodesBefore: number
  bytesBefore: number
  /** Nodes the walk from the retained roots visited (a subtree two storage tries share counts once per trie). */
  marked: number
  deleted: number
  deletedBytes: number
  /** The trie directory's size on disk before and after (compacted). */
  diskBytesBefore: number
  diskBytesAfter: number
  bloomBytes: number
  /** Nodes found by the walk after the sweep (undefined: not verified). */
  verified: number | undefined
  /** Wall time of each phase. */
  ms: { count: number; mark: number; sweep: number; compact: number; verify: number }
}

export type PruneStateErrorCode = 'PRUNE_MISSING_NODE'

/** The walk after the sweep misses a node: the store no longer holds the head's whole state. */
export class PruneStateError extends NodeError<PruneStateErrorCode, undefined> {
  override readonly name = 'PruneStateError'
  constructor(message: string, hint: string, cause: unknown) {
    super('PRUNE_MISSING_NODE', message, { severity: 'critical', hint, cause })
  }
}

const DEFAULT_BATCH_NODES = 10_000
const DEFAULT_FALSE_POSITIVE_RATE = 0.001
/** Entries per `scan` step. */
const SCAN_CHUNK = 4096
/** Nodes walked between two looks at the clock (and two turns of the event loop, so logs go out). */
const WALK_STRIDE = 65_536
const PROGRESS_MS = 5_000

/** The roots whose nodes are kept: the head's alone (see the file comment for why nothing older). */
function retainedRoots(head: StoredHead): Uint8Array[] {
  return [head.stateRoot]
}

export async function pruneState(options: PruneStateOptions, log: Logger): Promise<PruneStateReport> {
  const { datadir } = options
  const chaindata = join(datadir, 'chaindata')
  const trieDir = join(datadir, TRIE_DIR)
  if (!existsSync(chaindata)) throw new DatadirError(`${datadir} holds no chain (no ${chaindata})`)
  if (!existsSync(trieDir))
    throw new DatadirError(`${datadir} has no persisted state trie (${trieDir}): nothing to prune`, {
      hint: 'a datadir from before persisted tries writes it at its next start',
    })
  // Opened first and held to the end: a running node holds this lock, and holding it keeps one from starting.
  const db = await NodeDb.open(chaindata)
  try {
    const head = await durableStoredHead(db)
    if (head === undefined) throw new DatadirError(`${datadir}: the chain has no head block`)
    // No read cache: the walks read each node once, and the verification must read the disk.
    const store = await TrieNodeStore.open(trieDir, { cacheBytes: 0 })
    try {
      return await prune(store, head, trieDir, options, log)
    } finally {
      await store.close()
    }
  } finally {
    await db.close()
  }
}

async function prune(
  store: TrieNodeStore,
  head: StoredHead,
  trieDir: string,
  options: PruneStateOptions,
  log: Logger,
): Promise<PruneStateReport> {
  const roots = retainedRoots(head)
  const headInfo = { number: head.number, stateRoot: bytesToHex(head.stateRoot) as Hex }
  for (const root of roots)
    if (!store.has(root))
      throw new DatadirError(`${trieDir} does not hold the head's state root ${bytesToHex(root)}`, {
        hint: 'start the node once (it rebuilds the state trie from the flat state), stop it, then prune',
      })
  const diskBytesBefore = await directoryBytes(trieDir)
  log.info(
    { head: headInfo.number.toString(), stateRoot: headInfo.stateRoot, diskBytes: diskBytesBefore },
    'prune-state: counting nodes',
  )

  let started = performance.now()
  let nodesBefore = 0
  let bytesBefore = 0
  for await (const chunk of store.scan(SCAN_CHUNK)) {
    nodesBefore += chunk.length
    for (const node of chunk) bytesBefore += node.bytes
  }
  const countMs = performance.now() - started

  // Sized for every stored node: the reachable ones are fewer, so the rate is at most the configured one.
  const bloom = BloomFilter.forItems(nodesBefore, options.falsePositiveRate ?? DEFAULT_FALSE_POSITIVE_RATE)
  log.info(
    { nodes: nodesBefore, bytes: bytesBefore, bloomBytes: bloom.byteLength, ms: Math.round(countMs) },
    'prune-state: marking',
  )
  started = performance.now()
  const marked = await walkRoots(store, roots, (hash) => bloom.add(hash), log, 'prune-state: marking')
  const markMs = performance.now() - started

  log.info({ marked, ms: Math.round(markMs) }, 'prune-state: sweeping')
  started = performance.now()
  const batchNodes = options.batchNodes ?? DEFAULT_BATCH_NODES
  let scanned = 0
  let deleted = 0
  let deletedBytes = 0
  let doomed: Uint8Array[] = []
  let lastProgress = started
  const flush = async (): Promise<void> => {
    await store.deleteNodes(doomed)
    deleted += doomed.length
    doomed = []
    // Failpoint `prune-state.delete-batch`: a batch is deleted and the next not yet (crash-safety test).
    failpoint('prune-state.delete-batch')
  }
  for await (const chunk of store.scan(SCAN_CHUNK)) {
    for (const node of chunk) {
      if (bloom.has(node.hash)) continue
      doomed.push(node.hash)
      deletedBytes += node.bytes
      if (doomed.length >= batchNodes) await flush()
    }
    scanned += chunk.length
    if (performance.now() - lastProgress >= PROGRESS_MS) {
      lastProgress = performance.now()
      log.info({ scanned, of: nodesBefore, deleted }, 'prune-state: sweeping')
    }
  }
  if (doomed.length > 0) await flush()
  const sweepMs = performance.now() - started

  log.info({ scanned, deleted, deletedBytes, ms: Math.round(sweepMs) }, 'prune-state: compacting')
  started = performance.now()
  await store.compact()
  const compactMs = performance.now() - started
  const diskBytesAfter = await directoryBytes(trieDir)

  let verified: number | undefined
  let verifyMs = 0
  if (options.verify !== false) {
    started = performance.now()
    verified = await verifyRoots(store, roots, trieDir, log)
    verifyMs = performance.now() - started
  }
  return {
    head: headInfo,
    nodesBefore,
    bytesBefore,
    marked,
    deleted,
    deletedBytes,
    diskBytesBefore,
    diskBytesAfter,
    bloomBytes: bloom.byteLength,
    verified,
    ms: { count: countMs, mark: markMs, sweep: sweepMs, compact: compactMs, verify: verifyMs },
  }
}

/** Walks the retained roots after the sweep; a missing node is a `PruneStateError` with what to do. */
async function verifyRoots(store: TrieNodeStore, roots: Uint8Array[], trieDir: string, log: Logger): Promise<number> {
  try {
    return await walkRoots(store, roots, () => undefined, log, 'prune-state: verifying')
  } catch (error) {
    if (!isNodeError(error, 'TRIE_MISSING_NODE')) throw error
    throw new PruneStateError(
      `after pruning, ${trieDir} misses a node of the head's state: ${error.message}`,
      `remove ${trieDir}: the next start rebuilds the state trie from the flat state (and report this)`,
      error,
    )
  }
}

/** Every stored node of `roots`, each to `visit`; answers how many. Yields to the event loop as it goes. */
async function walkRoots(
  store: TrieNodeStore,
  roots: Uint8Array[],
  visit: (hash: Uint8Array) => void,
  log: Logger,
  message: string,
): Promise<number> {
  let walked = 0
  let lastProgress = performance.now()
  for (const root of roots) {
    for (const node of storedStateTrieNodes(root, store)) {
      visit(node.hash)
      walked++
      if (walked % WALK_STRIDE !== 0) continue
      if (performance.now() - lastProgress >= PROGRESS_MS) {
        lastProgress = performance.now()
        log.info({ walked }, message)
      }
      await nextTurn()
    }
  }
  return walked
}

/**
 * Bytes of the files directly in `dir` (a LevelDB directory has no subdirectories). LevelDB compacts in
 * the background from the moment it opens, so a file listed may be gone when it is looked at: it counts 0.
 */
async function directoryBytes(dir: string): Promise<number> {
  let total = 0
  for (const name of await readdir(dir)) {
    try {
      total += (await stat(join(dir, name))).size
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    }
  }
  return total
}
