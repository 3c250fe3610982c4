import { parentPort, workerData } from 'node:worker_threads'
import { KECCAK256_RLP, equalsBytes } from '@ethereumjs/util'
import { blockContents } from '../../chain/block-contents.ts'
import { encodeRlp } from '../../primitives/rlp-fields.ts'
import { encodeStateDiff } from '../../primitives/state-diff-codec.ts'
import type { StateDiff } from '../../primitives/state-diff.ts'
// Only the builder: the thread must not load the verifier's execution stack.
import type { BlockAccess } from '../../primitives/block-access.ts'
import { TrieNodeCollector, applyDiffRecordingWitness, type StateWitness } from '../../trie/witness-builder.ts'
import { toPlainError, type PlainError } from '../../primitives/errors.ts'
import { yieldToMainThread } from '../../util/thread-priority.ts'
import { StateTrie, type AccountProof, type StateTrieAccount, type TrieAccount } from '../../trie/state-trie.ts'
import { TrieHistory, type TrieHistoryStats } from '../../trie/trie-history.ts'
import { TrieNodeStore, type TrieNodeStoreStats } from '../../storage/trie-node-store.ts'
import { DEFAULT_HISTORY_BLOCKS, HISTORY_SLACK_BLOCKS } from './history.ts'

export type MerkleRequest = {
  id: number
  body:
    | { kind: 'build'; accounts: StateTrieAccount[]; historyBlocks?: number }
    | { kind: 'open'; root: Uint8Array; historyBlocks?: number }
    | { kind: 'accounts'; addresses: Uint8Array[] }
    | { kind: 'storeStats' }
    | { kind: 'close' }
    | { kind: 'apply'; diff: StateDiff; durable: boolean }
    | { kind: 'applyWithWitness'; diff: StateDiff; access: BlockAccess; durable: boolean }
    | { kind: 'blockContents'; miniBlocks: Uint8Array[] }
    | { kind: 'root' }
    | { kind: 'proof'; address: Uint8Array; slots: Uint8Array[] }
    | { kind: 'proofAt'; root: Uint8Array; address: Uint8Array; slots: Uint8Array[]; fromStore: boolean }
    | { kind: 'historyStats' }
}

/** A proof at a past root, or, when that root is no longer retained, the oldest root that is. */
export type ProofAtRoot =
  | { proof: AccountProof }
  | {
      proof: undefined
      /** The oldest root proofs can be made at (the current one when no history is kept yet). */
      oldestRoot: Uint8Array
      /** Blocks of history held: the oldest root is that many blocks behind the thread's current block. */
      blocks: number
    }

export type { TrieHistoryStats, TrieNodeStoreStats }

/** What the thread is started with (`workerData`). */
export interface MerkleizerThreadData {
  background?: boolean
  /** Directory of the persisted trie nodes (`TrieNodeStore`); without it the trie lives only in memory. */
  trieDir?: string
  /** Read cache of the node store, in bytes. */
  trieCacheBytes?: number
  /** Decoded nodes the trie may hold beyond its pinned upper levels before it forgets them (`MerkleizerStartOptions.trieNodeLimit`). */
  trieNodeLimit?: number
}

/**
 * Node levels of the account trie that stay decoded when the trie is trimmed: every walk crosses
 * them, and four levels are at most 1 + 16 + 256 + 4,096 branches (~5 MB).
 */
const PINNED_LEVELS = 4
/** Default of `trieNodeLimit`: ~0.5-1 GB of decoded nodes (a branch with its children and encoding is ~1 KB). */
export const DEFAULT_TRIE_NODE_LIMIT = 500_000

/** The state part of a block's witness, its lists RLP-encoded (see `joinEncodedWitness`). */
export interface EncodedStateWitness {
  root: Uint8Array
  codeHashes: StateWitness['codeHashes']
  encodedNodes: Uint8Array
  encodedKeys: Uint8Array
  /** The diff itself, RLP-encoded (`encodeStateDiff`), as the block's artifacts keep it. */
  encodedDiff: Uint8Array
}

export type MerkleResponse = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: PlainError }

/**
 * The worker side of `ThreadedMerkleizer`: one state trie, requests served strictly in order. With a
 * node store the trie is opened from a root over it (nodes loaded on first walk, synchronously), and
 * each update's new nodes are written before the root is answered: the seal that records the root
 * comes after, so a sealed head's root always resolves (see `storage/trie-node-store.ts`). A durable
 * update's nodes are fsynced first; the others' reach the OS (a killed process loses nothing) and a
 * power loss may cost the newest roots, which a restart detects (`open` finds no root) and rebuilds.
 */
export function serveMerkleRequests(): void {
  const port = parentPort
  if (port === null) throw new Error('merkleizer thread started outside a worker')
  const data = (workerData ?? {}) as MerkleizerThreadData
  // Block sealing and proofs are background work next to the main thread's (see thread-priority.ts),
  // except where the main thread waits on every answer (`MerkleizerStartOptions.background`).
  if (data.background !== false) yieldToMainThread()
  // Wired in from the start: a trie's node reporter is fixed when it is built, and idle reports cost one call.
  const collector = new TrieNodeCollector()
  let history = new TrieHistory(DEFAULT_HISTORY_BLOCKS + HISTORY_SLACK_BLOCKS)
  let trie = new StateTrie({ onNodeRead: collector.onNodeRead, history })
  let store: TrieNodeStore | undefined

  const nodeLimit = data.trieNodeLimit ?? DEFAULT_TRIE_NODE_LIMIT
  /** Nodes created (and persisted) since the last trim: held decoded like the loaded ones. */
  let createdSinceTrim = 0
  const retention = (historyBlocks: number | undefined): number =>
    (historyBlocks ?? history.retain - HISTORY_SLACK_BLOCKS) + HISTORY_SLACK_BLOCKS
  /** The state at `root`, over the store; its history starts afresh (the records describe another trie's past). */
  const openAt = (root: Uint8Array, historyBlocks: number | undefined, nodes: TrieNodeStore): void => {
    history = new TrieHistory(retention(historyBlocks))
    trie = new StateTrie({ onNodeRead: collector.onNodeRead, history, open: { root, source: nodes } })
    createdSinceTrim = 0
  }
  /**
   * Writes what the last update created, then, past the node limit, forgets all but the pinned upper
   * levels (they load again from the store, its read cache first). A no-op for a trie kept wholly in
   * memory.
   */
  const persist = async (durable: boolean): Promise<void> => {
    if (store === undefined) return
    const nodes = trie.commit()
    await store.putNodes(nodes, durable)
    createdSinceTrim += nodes.length
    if (createdSinceTrim + trie.loadedNodes() > nodeLimit) {
      trie.trim(PINNED_LEVELS)
      createdSinceTrim = 0
    }
  }

  const serve = async (body: MerkleRequest['body']): Promise<unknown> => {
    switch (body.kind) {
      case 'build': {
        history = new TrieHistory(retention(body.historyBlocks))
        trie = StateTrie.fromAccounts(body.accounts, { onNodeRead: collector.onNodeRead, history })
        const root = trie.root()
        if (store !== undefined) {
          await persist(true)
          // Reopened from its root: the built trie (the whole state's nodes) is dropped, and later
          // walks load only what they touch.
          openAt(root, body.historyBlocks, store)
        }
        return root
      }
      case 'open': {
        if (store === undefined) throw new Error('merkleizer: open without a trie node store')
        // The root was written last (`TrieNodeStore.putNodes`): present means complete.
        if (!isEmptyRoot(body.root) && !store.has(body.root)) return false
        openAt(body.root, body.historyBlocks, store)
        return true
      }
      case 'apply': {
        const root = trie.applyDiff(body.diff)
        await persist(body.durable)
        return root
      }
      case 'applyWithWitness': {
        // Encoded here, off the main thread: a busy block's witness runs to megabytes.
        const { root, nodes, codeHashes, keys } = applyDiffRecordingWitness(trie, collector, body.diff, body.access)
        await persist(body.durable)
        return {
          root,
          codeHashes,
          encodedNodes: encodeRlp(nodes),
          encodedKeys: encodeRlp(keys),
          encodedDiff: encodeRlp(encodeStateDiff(body.diff)),
        } satisfies EncodedStateWitness
      }
      case 'blockContents':
        return blockContents(body.miniBlocks)
      case 'root':
        return trie.root()
      case 'proof':
        return trie.getProof(body.address, body.slots)
      case 'proofAt': {
        const proof = trie.getProofAt(body.root, body.address, body.slots, body.fromStore)
        return (
          proof === undefined
            ? { proof, oldestRoot: history.oldestRoot() ?? trie.root(), blocks: history.stats().blocks }
            : { proof }
        ) satisfies ProofAtRoot
      }
      case 'accounts':
        return body.addresses.map((address): TrieAccount | undefined => trie.account(address))
      case 'historyStats':
        return history.stats() satisfies TrieHistoryStats
      case 'storeStats':
        return store?.stats()
      case 'close': {
        const closing = store
        store = undefined
        await closing?.close()
        return undefined
      }
    }
  }

  // Requests queue behind the store's opening and behind each other: updates persist asynchronously,
  // and the next request must see the trie the previous one left.
  const opened = data.trieDir === undefined ? undefined : TrieNodeStore.open(data.trieDir, { cacheBytes: data.trieCacheBytes })
  // A failed open is reported to every request (awaiting `opened` rethrows it), not as an unhandled rejection.
  let queue: Promise<void> =
    opened === undefined
      ? Promise.resolve()
      : opened.then(
          (nodes) => void (store = nodes),
          () => undefined,
        )
  port.on('message', ({ id, body }: MerkleRequest) => {
    queue = queue.then(async () => {
      try {
        await opened
        const value = await serve(body)
        port.postMessage({ id, ok: true, value } satisfies MerkleResponse)
      } catch (error) {
        port.postMessage({ id, ok: false, error: toPlainError(error) } satisfies MerkleResponse)
      }
    })
  })
}

function isEmptyRoot(root: Uint8Array): boolean {
  return equalsBytes(root, KECCAK256_RLP)
}
