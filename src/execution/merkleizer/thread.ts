import { parentPort, workerData } from 'node:worker_threads'
import { blockContents } from '../../chain/block-contents.ts'
import { encodeRlp } from '../../primitives/rlp-fields.ts'
import { encodeStateDiff } from '../../primitives/state-diff-codec.ts'
import type { StateDiff } from '../../primitives/state-diff.ts'
// Only the builder: the thread must not load the verifier's execution stack.
import type { BlockAccess } from '../../primitives/block-access.ts'
import { TrieNodeCollector, applyDiffRecordingWitness, type StateWitness } from '../../trie/witness-builder.ts'
import { toPlainError, type PlainError } from '../../primitives/errors.ts'
import { yieldToMainThread } from '../../util/thread-priority.ts'
import { StateTrie, type AccountProof, type StateTrieAccount } from '../../trie/state-trie.ts'
import { TrieHistory, type TrieHistoryStats } from '../../trie/trie-history.ts'
import { DEFAULT_HISTORY_BLOCKS, HISTORY_SLACK_BLOCKS } from './history.ts'

export type MerkleRequest = {
  id: number
  body:
    | { kind: 'build'; accounts: StateTrieAccount[]; historyBlocks?: number }
    | { kind: 'apply'; diff: StateDiff }
    | { kind: 'applyWithWitness'; diff: StateDiff; access: BlockAccess }
    | { kind: 'blockContents'; miniBlocks: Uint8Array[] }
    | { kind: 'root' }
    | { kind: 'proof'; address: Uint8Array; slots: Uint8Array[] }
    | { kind: 'proofAt'; root: Uint8Array; address: Uint8Array; slots: Uint8Array[] }
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

export type { TrieHistoryStats }

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

/** The worker side of `ThreadedMerkleizer`: one state trie, requests served strictly in order. */
export function serveMerkleRequests(): void {
  const port = parentPort
  if (port === null) throw new Error('merkleizer thread started outside a worker')
  // Block sealing and proofs are background work next to the main thread's (see thread-priority.ts),
  // except where the main thread waits on every answer (`MerkleizerStartOptions.background`).
  if ((workerData as { background?: boolean } | null)?.background !== false) yieldToMainThread()
  // Wired in from the start: a trie's node reporter is fixed when it is built, and idle reports cost one call.
  const collector = new TrieNodeCollector()
  let history = new TrieHistory(DEFAULT_HISTORY_BLOCKS + HISTORY_SLACK_BLOCKS)
  let trie = new StateTrie({ onNodeRead: collector.onNodeRead, history })
  port.on('message', ({ id, body }: MerkleRequest) => {
    try {
      let value: unknown
      switch (body.kind) {
        case 'build':
          // A rebuilt trie starts its history afresh: the old records describe another trie's past.
          history = new TrieHistory((body.historyBlocks ?? history.retain - HISTORY_SLACK_BLOCKS) + HISTORY_SLACK_BLOCKS)
          trie = StateTrie.fromAccounts(body.accounts, { onNodeRead: collector.onNodeRead, history })
          value = trie.root()
          break
        case 'apply':
          value = trie.applyDiff(body.diff)
          break
        case 'applyWithWitness': {
          // Encoded here, off the main thread: a busy block's witness runs to megabytes.
          const { root, nodes, codeHashes, keys } = applyDiffRecordingWitness(trie, collector, body.diff, body.access)
          value = {
            root,
            codeHashes,
            encodedNodes: encodeRlp(nodes),
            encodedKeys: encodeRlp(keys),
            encodedDiff: encodeRlp(encodeStateDiff(body.diff)),
          } satisfies EncodedStateWitness
          break
        }
        case 'blockContents':
          value = blockContents(body.miniBlocks)
          break
        case 'root':
          value = trie.root()
          break
        case 'proof':
          value = trie.getProof(body.address, body.slots)
          break
        case 'proofAt': {
          const proof = trie.getProofAt(body.root, body.address, body.slots)
          value = (
            proof === undefined
              ? { proof, oldestRoot: history.oldestRoot() ?? trie.root(), blocks: history.stats().blocks }
              : { proof }
          ) satisfies ProofAtRoot
          break
        }
        case 'historyStats':
          value = history.stats() satisfies TrieHistoryStats
          break
      }
      port.postMessage({ id, ok: true, value } satisfies MerkleResponse)
    } catch (error) {
      port.postMessage({ id, ok: false, error: toPlainError(error) } satisfies MerkleResponse)
    }
  })
}
