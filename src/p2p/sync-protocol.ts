/**
 * The request/response protocol replicas sync by, served by the sequencer and by full replicas
 * (`sync-server.ts`): the server's status, sealed blocks (header announcement, body, receipts, state
 * diff), unsealed mini-blocks, state snapshots, and block witnesses — the last can exceed gossip's
 * size cap, so everything a replica fetches goes here, not over gossip.
 *
 * Wire format: request RLP([kind, from, count]); responses as below. Nothing in a response is
 * trusted: announcements carry the sequencer's signature, mini-blocks theirs, and bodies, receipts,
 * diffs and witnesses are checked against the signed header by the replica.
 */
import type { Common } from '@ethereumjs/common'
import { bytesToHex } from '@ethereumjs/util'
import { decodeMiniBlock, encodeMiniBlock, type MiniBlock } from '../chain/mini-block.ts'
import { decodeReceipt, encodeReceipt, type TxReceipt } from '../chain/receipt.ts'
import {
  asBytes,
  asList,
  bytesToBigInt,
  CodecError,
  decodeRlp,
  decodeRlpView,
  encodeRlp,
  hexBytes,
  unpaddedBytes,
} from '../primitives/rlp-fields.ts'
import { decodeStateDiff, encodeStateDiff } from '../primitives/state-diff-codec.ts'
import type { Hex, StateDiff } from '../primitives/state-diff.ts'
import { announcementFields, announcementFromFields, type BlockAnnouncement } from './block-announcement.ts'
import { P2pRequestError } from './errors.ts'

export function syncProtocolId(chainId: bigint): string {
  return `/megaeth/${chainId}/sync/1`
}

/**
 * What a server's error answer says when a block's state diff or witness has left its retention window (the
 * newest 10,000 blocks by default). Error frames carry only a message: these words let a requester tell "gone for
 * good" (start from a newer block) from "not yet" or a passing failure (ask again). A full replica serving the
 * protocol sends the same words (they name the sequencer, the only server when they were chosen; requesters of
 * every version match them).
 */
export const NOT_KEPT = 'no longer kept by the sequencer'

/** Whether `error` is a sync answer saying the block's diff or witness is `NOT_KEPT`. */
export function isNotKeptAnswer(error: unknown): boolean {
  return error instanceof P2pRequestError && error.data.remoteMessage.includes(NOT_KEPT)
}

/** Most sealed blocks one `blocks` request returns (bodies and diffs can be megabytes each). */
export const MAX_BLOCKS_PER_REQUEST = 16
/** Most mini-blocks one `miniBlocks` request returns (an open EVM block has ~100). */
export const MAX_MINI_BLOCKS_PER_REQUEST = 512
/** Most flat-state entries one `stateRange` request returns (~5 MB of accounts; the server also caps the bytes). */
export const MAX_STATE_ENTRIES_PER_REQUEST = 65_536

export type SyncRequest =
  | { kind: 'status' }
  | { kind: 'blocks'; from: bigint; count: number }
  | { kind: 'miniBlocks'; from: bigint; count: number }
  | { kind: 'witness'; block: bigint }
  /** Pin a snapshot of the sealed state for a snapshot sync; the answer is its block's bundle (the pivot; no diff). */
  | { kind: 'snapshot' }
  /** The pivot's flat-state entries after `after` (raw store keys; empty: from the start). */
  | { kind: 'stateRange'; pivot: bigint; after: Uint8Array; count: number }

const KIND_CODES = { status: 0, blocks: 1, miniBlocks: 2, witness: 3, snapshot: 4, stateRange: 5 } as const
const KINDS = ['status', 'blocks', 'miniBlocks', 'witness', 'snapshot', 'stateRange'] as const
/** Longest flat-state key (a slot: tag, address, slot). */
const MAX_STATE_KEY_BYTES = 53

/** RLP([kind, from, count]), and `after` as a fourth field for `stateRange`. */
export function encodeSyncRequest(request: SyncRequest): Uint8Array {
  const kind = unpaddedBytes(BigInt(KIND_CODES[request.kind]))
  switch (request.kind) {
    case 'status':
    case 'snapshot':
      return encodeRlp([kind, unpaddedBytes(0n), unpaddedBytes(0n)])
    case 'witness':
      return encodeRlp([kind, unpaddedBytes(request.block), unpaddedBytes(0n)])
    case 'blocks':
    case 'miniBlocks':
      return encodeRlp([kind, unpaddedBytes(request.from), unpaddedBytes(BigInt(request.count))])
    case 'stateRange':
      return encodeRlp([kind, unpaddedBytes(request.pivot), unpaddedBytes(BigInt(request.count)), request.after])
  }
}

export function decodeSyncRequest(bytes: Uint8Array): SyncRequest {
  const fields = asList(decodeRlp(bytes, 'sync request'), undefined, 'sync request')
  const [kindBytes, fromBytes, countBytes, afterBytes] = fields
  const kind = KINDS[Number(bytesToBigInt(asBytes(kindBytes, 'kind')))]
  if (kind === undefined) throw new CodecError('sync request: unknown kind')
  if (fields.length !== (kind === 'stateRange' ? 4 : 3))
    throw new CodecError(`sync request: ${kind} takes ${kind === 'stateRange' ? 4 : 3} fields, got ${fields.length}`)
  const from = bytesToBigInt(asBytes(fromBytes, 'from'))
  const count = bytesToBigInt(asBytes(countBytes, 'count'))
  switch (kind) {
    case 'status':
    case 'snapshot':
      return { kind }
    case 'witness':
      return { kind, block: from }
    case 'blocks':
      return { kind, from, count: clampCount(count, MAX_BLOCKS_PER_REQUEST) }
    case 'miniBlocks':
      return { kind, from, count: clampCount(count, MAX_MINI_BLOCKS_PER_REQUEST) }
    case 'stateRange': {
      const after = asBytes(afterBytes, 'after')
      if (after.length > MAX_STATE_KEY_BYTES) throw new CodecError(`sync request: state key of ${after.length} bytes`)
      return { kind, pivot: from, after, count: clampCount(count, MAX_STATE_ENTRIES_PER_REQUEST) }
    }
  }
}

/** What a replica needs to know where it stands. */
export interface SyncStatus {
  head: bigint
  headHash: Hex
  /**
   * Mini-blocks published so far: the newest is number `miniBlocks − 1`. A count, not the newest
   * number, because a fresh chain has none (and RLP integers cannot say −1).
   */
  miniBlocks: bigint
  /** Where the sequencer takes transactions (replicas forward to it unless told otherwise). */
  rpcUrl: string
  /**
   * The oldest block whose bundle (its state diff) is still served: a replica behind it cannot catch up
   * block by block and starts from a state snapshot. `head + 1` when no diff is kept.
   */
  historyFrom: bigint
}

export function encodeSyncStatus(status: SyncStatus): Uint8Array {
  return encodeRlp([
    unpaddedBytes(status.head),
    hexBytes(status.headHash),
    unpaddedBytes(status.miniBlocks),
    new TextEncoder().encode(status.rpcUrl),
    unpaddedBytes(status.historyFrom),
  ])
}

export function decodeSyncStatus(bytes: Uint8Array): SyncStatus {
  const [head, hash, miniBlocks, url, historyFrom] = asList(decodeRlp(bytes, 'sync status'), 5, 'sync status')
  return {
    head: bytesToBigInt(asBytes(head, 'head')),
    headHash: bytesToHex(asBytes(hash, 'head hash', 32)) as Hex,
    miniBlocks: bytesToBigInt(asBytes(miniBlocks, 'mini-block count')),
    rpcUrl: new TextDecoder().decode(asBytes(url, 'rpc url')),
    historyFrom: bytesToBigInt(asBytes(historyFrom, 'history from')),
  }
}

/** A sealed block with everything a full replica needs to import it without its mini-blocks. */
export interface BlockBundle {
  announcement: BlockAnnouncement
  transactions: Uint8Array[]
  receipts: TxReceipt[]
  /** The block's merged state diff. */
  diff: StateDiff
}

export function encodeBlockBundles(bundles: readonly BlockBundle[]): Uint8Array {
  return encodeRlp(
    bundles.map((b) => [
      announcementFields(b.announcement),
      b.transactions,
      b.receipts.map(encodeReceipt),
      encodeStateDiff(b.diff),
    ]),
  )
}

export function decodeBlockBundles(bytes: Uint8Array, common: Common): BlockBundle[] {
  return asList(decodeRlp(bytes, 'block bundles'), undefined, 'block bundles').map((value) => {
    const [announcement, txs, receipts, diff] = asList(value, 4, 'block bundle')
    return {
      announcement: announcementFromFields(announcement!, common),
      transactions: asList(txs, undefined, 'transactions').map((tx, i) => asBytes(tx, `transaction ${i}`)),
      receipts: asList(receipts, undefined, 'receipts').map((r) => decodeReceipt(r)),
      diff: decodeStateDiff(diff!),
    }
  })
}

export function encodeMiniBlockList(blocks: readonly MiniBlock[]): Uint8Array {
  return encodeRlp(blocks.map(encodeMiniBlock))
}

export function decodeMiniBlockList(bytes: Uint8Array): MiniBlock[] {
  return asList(decodeRlp(bytes, 'mini-blocks'), undefined, 'mini-blocks').map((item, i) =>
    decodeMiniBlock(asBytes(item, `mini-block ${i}`)),
  )
}

/** One page of a pivot's flat state: RLP([more, [[key, value], …]]). */
export interface StateRangePage {
  entries: Array<[Uint8Array, Uint8Array]>
  /** Whether entries follow the last one. */
  more: boolean
}

export function encodeStateRange(page: StateRangePage): Uint8Array {
  return encodeRlp([unpaddedBytes(page.more ? 1n : 0n), page.entries])
}

/**
 * Decodes a page and checks its shape: keys strictly increasing, all after `after`. Whether the
 * entries are the pivot's state is for the state root to say once every page is in.
 */
export function decodeStateRange(bytes: Uint8Array, after: Uint8Array): StateRangePage {
  // Entries are views into `bytes`: a page is written to the store and dropped whole.
  const [moreBytes, list] = asList(decodeRlpView(bytes, 'state range'), 2, 'state range')
  const more = bytesToBigInt(asBytes(moreBytes, 'more'))
  if (more > 1n) throw new CodecError('state range: more is not a flag')
  let previous = after
  const entries = asList(list, undefined, 'state range entries').map((item, i): [Uint8Array, Uint8Array] => {
    const [k, v] = asList(item, 2, `state entry ${i}`)
    const key = asBytes(k, `state entry ${i} key`)
    if (key.length > MAX_STATE_KEY_BYTES) throw new CodecError(`state range: key ${i} of ${key.length} bytes`)
    if (Buffer.compare(key, previous) <= 0) throw new CodecError(`state range: key ${i} is not after the one before`)
    previous = key
    return [key, asBytes(v, `state entry ${i} value`)]
  })
  return { entries, more: more === 1n }
}

function clampCount(count: bigint, max: number): number {
  return count > BigInt(max) ? max : Number(count)
}
