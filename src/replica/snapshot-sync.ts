import { setTimeout as sleep } from 'node:timers/promises'
import { performance } from 'node:perf_hooks'
import type { Logger } from 'pino'
import { P2pRequestError, type BlockBundle, type StateRangePage } from '../p2p/index.ts'
import { bytesToHex } from '@ethereumjs/util'
import { NodeError } from '../primitives/errors.ts'
import { CodecError } from '../primitives/rlp-fields.ts'
import { checkBlockBody } from './block-importer.ts'
import type { SyncClient } from './sync-client.ts'

/** Where a snapshot sync puts what it fetches: a datadir being made a chain at the pivot (`node/snapshot-datadir.ts`). */
export interface SnapshotSink {
  /** Forgets every entry written so far: the sync starts over at a new pivot. */
  reset(): Promise<void>
  /** Stores a page of the pivot's flat state (entries in key order, shapes checked). */
  write(entries: ReadonlyArray<readonly [Uint8Array, Uint8Array]>): Promise<void>
  /**
   * Every entry is in: builds the state trie from them and, if its root is the pivot header's, makes
   * the datadir a chain whose head is the pivot. Throws `SnapshotStateMismatchError` otherwise. Says
   * where its time went (ms by step), for the log.
   */
  finish(pivot: BlockBundle): Promise<Record<string, number>>
}

export interface SnapshotSyncResult {
  pivot: bigint
  entries: number
  bytes: number
  /** Wall time of fetching the entries, and of each step of finishing (building and checking the trie, …). */
  fetchMs: number
  finishMs: Record<string, number>
}

/** The entries fetched for a pivot do not make the pivot header's state root: the peer served another state. */
export class SnapshotStateMismatchError extends NodeError<'SNAPSHOT_STATE_MISMATCH', { pivot: bigint }> {
  override readonly name = 'SnapshotStateMismatchError'
  constructor(pivot: bigint, root: string, expected: string) {
    super(
      'SNAPSHOT_STATE_MISMATCH',
      `the state fetched for block ${pivot} has root ${root}, but the block's header says ${expected}`,
      {
        data: { pivot },
        severity: 'critical',
        hint: 'the peer served a forged or torn snapshot: it was penalized; restart to sync from another peer',
      },
    )
  }
}

/** A snapshot sync that could not finish: no peer answered in time, or every pivot expired under it. */
export class SnapshotSyncError extends NodeError<'SNAPSHOT_SYNC_FAILED', undefined> {
  override readonly name = 'SnapshotSyncError'
  constructor(message: string, cause?: unknown) {
    super('SNAPSHOT_SYNC_FAILED', message, { severity: 'critical', cause })
  }
}

export interface SnapshotSyncOptions {
  /** Pivots tried before giving up (a pivot expires when the server drops its snapshot). */
  maxPivots: number
  /** How long requests may keep failing (peer unreachable, timeouts) before giving up. */
  patienceMs: number
  retryMs: number
  /** Progress is logged at most this often. */
  logEveryMs: number
}

export const DEFAULT_SNAPSHOT_SYNC_OPTIONS: SnapshotSyncOptions = {
  maxPivots: 3,
  patienceMs: 120_000,
  retryMs: 500,
  logEveryMs: 5_000,
}

/**
 * Snapshot sync (the start of a replica whose datadir is new and whose peers no longer keep the
 * blocks to catch up from): the peer pins its sealed state at a pivot block, the replica copies it
 * page by page, builds the state trie and checks its root against the pivot's header — which the
 * sequencer signed — before the datadir becomes a chain at the pivot. Nothing is trusted before that
 * check: a page only has its shape checked, and a state that misses the root is refused whole (the
 * peer penalized). Blocks after the pivot are then imported and verified as any replica's.
 *
 * A page refused by the server (its snapshot expired: idle too long, or too many pinned) starts over
 * at a new pivot; transport failures are retried in place.
 */
export async function snapshotSync(
  sync: SyncClient,
  sink: SnapshotSink,
  logger: Logger,
  options: SnapshotSyncOptions = DEFAULT_SNAPSHOT_SYNC_OPTIONS,
): Promise<SnapshotSyncResult> {
  const retrying = <T>(what: string, request: () => Promise<T>): Promise<T> => retry(what, request, logger, options)
  for (let attempt = 1; ; attempt++) {
    const started = performance.now()
    const bundle = await retrying('snapshot pivot', () => sync.snapshot())
    const pivot = bundle.announcement.header.number
    const { header } = bundle.announcement
    checkBlockBody(header, bundle.transactions, bundle.receipts)
    logger.info({ pivot: pivot.toString(), stateRoot: bytesToHex(header.stateRoot) }, 'snapshot sync: pivot')
    await sink.reset()
    let entries = 0
    let bytes = 0
    let loggedAt = performance.now()
    let expired: unknown
    // One page is always asked for ahead: the peer reads and sends the next while this one is written.
    const ask = (after: Uint8Array): Promise<StateRangePage> => {
      const page = retrying(`state after ${entries} entries`, () => sync.stateRange(pivot, after))
      // Awaited on the next turn of the loop; until then a rejection must not count as unhandled.
      page.catch(() => undefined)
      return page
    }
    let next = ask(new Uint8Array(0))
    for (;;) {
      let page: StateRangePage
      try {
        page = await next
      } catch (error) {
        // The server answered with a refusal (its snapshot is gone): a new pivot, not a retry.
        if (!(error instanceof P2pRequestError)) throw error
        expired = error
        break
      }
      const last = page.entries.at(-1)
      const more = page.more && last !== undefined
      if (more) next = ask(last[0])
      await sink.write(page.entries)
      entries += page.entries.length
      for (const [k, v] of page.entries) bytes += k.length + v.length
      if (performance.now() - loggedAt >= options.logEveryMs) {
        loggedAt = performance.now()
        logger.info({ pivot: pivot.toString(), entries, mb: Math.round(bytes / 1e6) }, 'snapshot sync: fetching state')
      }
      if (!more) break
    }
    if (expired !== undefined) {
      if (attempt >= options.maxPivots)
        throw new SnapshotSyncError(`snapshot sync: ${attempt} pivots expired before their state was fetched`, expired)
      logger.warn({ pivot: pivot.toString(), err: errorText(expired) }, 'snapshot sync: pivot dropped by the peer; starting over')
      continue
    }
    const fetchMs = performance.now() - started
    const peer = sync.currentPeer()
    let finishMs: Record<string, number>
    try {
      finishMs = await sink.finish(bundle)
    } catch (error) {
      if (error instanceof SnapshotStateMismatchError) sync.blame(peer, error.message)
      throw error
    }
    return { pivot, entries, bytes, fetchMs, finishMs }
  }
}

/** When a replica with a new datadir starts from a snapshot (`--sync.snapshot`). */
export type SnapshotMode = 'auto' | 'always' | 'never'

/** How long `auto` waits for the sequencer's status before starting from genesis instead. */
const AUTO_STATUS_PATIENCE_MS = 10_000

/**
 * Whether a replica with a new datadir should start from a snapshot: `always`; `auto` when the peer no
 * longer serves block 1's state diff (it could not catch up block by block from genesis) — a peer that
 * does not answer within seconds leaves it to the block-by-block start, as before snapshots.
 */
export async function wantsSnapshot(sync: SyncClient, mode: SnapshotMode, logger: Logger): Promise<boolean> {
  if (mode !== 'auto') return mode === 'always'
  try {
    const status = await retry('status', () => sync.status(), logger, {
      ...DEFAULT_SNAPSHOT_SYNC_OPTIONS,
      patienceMs: AUTO_STATUS_PATIENCE_MS,
    })
    return status.historyFrom > 1n
  } catch (error) {
    logger.warn({ err: errorText(error) }, 'snapshot sync: the sequencer did not answer; starting from genesis')
    return false
  }
}

/** `request`, retried while it fails for up to `patienceMs`; a refusal by the server (`P2pRequestError`) is not retried. */
async function retry<T>(what: string, request: () => Promise<T>, logger: Logger, options: SnapshotSyncOptions): Promise<T> {
  const deadline = performance.now() + options.patienceMs
  for (;;) {
    try {
      return await request()
    } catch (error) {
      if (error instanceof P2pRequestError || error instanceof SnapshotSyncError) throw error
      // An answer that does not decode is a lie (the peer is penalized for it), not bad luck: the same peer would repeat it.
      if (error instanceof CodecError)
        throw new SnapshotSyncError(`snapshot sync: ${what}: the peer's answer is malformed: ${error.message}`, error)
      if (performance.now() >= deadline)
        throw new SnapshotSyncError(
          `snapshot sync: ${what} kept failing for ${options.patienceMs / 1000} s: ${errorText(error)}`,
          error,
        )
      logger.debug({ err: errorText(error) }, `snapshot sync: ${what} failed; retrying`)
      await sleep(options.retryMs)
    }
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
