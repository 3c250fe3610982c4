import type { SealedBlock } from '../chain/block.ts'
import { NodeError } from '../primitives/errors.ts'
import { CodecError } from '../primitives/rlp-fields.ts'
import { emptyStateDiff } from '../primitives/state-diff.ts'
import type { BlockReader } from '../storage/chain-stores.ts'
import type { StateSnapshots } from '../storage/state-snapshots.ts'
import type { BlockAnnouncement } from './block-announcement.ts'
import type { P2pHost } from './host.ts'
import {
  decodeSyncRequest,
  encodeBlockBundles,
  encodeMiniBlockList,
  encodeStateRange,
  encodeSyncStatus,
  NOT_KEPT,
  syncProtocolId,
  type BlockBundle,
  type SyncRequest,
} from './sync-protocol.ts'

/** What a node serves the sync protocol from. */
export interface SyncServerModules {
  host: P2pHost
  /** The chain it serves: sealed blocks, their diffs and witnesses, the open block's mini-blocks. */
  opened: BlockReader
  /** Its sealed state, pinned for snapshot-syncing replicas. */
  snapshots: StateSnapshots
  chainId: bigint
  /**
   * `block`'s announcement with the sequencer's signature, which every requester checks: the sequencer signs
   * it afresh, a replica hands out the one it stored when it imported the block. Throws `SyncUnavailableError`
   * for a block it cannot vouch for.
   */
  announcement: (block: SealedBlock) => Promise<BlockAnnouncement>
  /**
   * The oldest block it can announce, resolving to undefined when it can announce none: a replica's oldest stored
   * signature. Its status says blocks before it are not served, as it says of pruned diffs, so a new replica
   * starts from a snapshot instead. Without it: every block it holds.
   */
  announcedFrom?: () => Promise<bigint | undefined>
  /** Where the requester should send transactions (the sequencer's JSON-RPC URL; empty while not known). */
  rpcUrl: () => string
  /**
   * The newest block whose witness is kept here once it exists: the sequencer's head (it keeps a witness as it
   * seals), a replica's verified head (it keeps the witness it verified a block with). Past it, a witness is
   * "not yet", not gone. Default: the head.
   */
  witnessHead?: () => bigint
}

/**
 * The serving side of the sync protocol, the same on every node that keeps a chain (the sequencer, a full
 * replica): status, sealed blocks with their state diffs, unsealed mini-blocks, snapshots of the sealed state,
 * witnesses. Nothing served needs trusting the server: announcements carry the sequencer's signature,
 * mini-blocks theirs, and the rest is checked against the signed header. The host applies the per-peer rate
 * limit and penalties to every request before it gets here.
 */
export class SyncServer {
  constructor(private readonly modules: SyncServerModules) {}

  async start(): Promise<void> {
    const { host, chainId } = this.modules
    await host.handle(syncProtocolId(chainId), async (request, from) => this.serve(this.decodeRequest(request, from)))
  }

  /** Releases the pinned snapshots (the host, and with it the handler, is stopped by its owner). */
  async stop(): Promise<void> {
    await this.modules.snapshots.close()
  }

  /** A request that does not decode is no honest replica's: the requester is penalized, and told why. */
  private decodeRequest(request: Uint8Array, from: string): SyncRequest {
    try {
      return decodeSyncRequest(request)
    } catch (err) {
      if (err instanceof CodecError) this.modules.host.penalize(from, `malformed sync request: ${err.message}`)
      throw err
    }
  }

  /** The encoded answer to `request`; throws `SyncUnavailableError` (sent as the error message) for what is not kept. */
  private async serve(request: SyncRequest): Promise<Uint8Array> {
    const { opened, snapshots, announcement } = this.modules
    const { chain, artifacts } = opened
    switch (request.kind) {
      case 'status': {
        const head = chain.head
        const newest = chain.latestMiniBlock
        const miniBlocks = newest !== undefined ? newest.number + 1n : head.miniBlocks.first + BigInt(head.miniBlocks.count)
        // The oldest block from which every block is served: its diff kept and, on a replica, its signature.
        const none = head.header.number + 1n
        const diffsFrom = (await artifacts.oldestDiff()) ?? none
        const signedFrom = this.modules.announcedFrom === undefined ? 0n : ((await this.modules.announcedFrom()) ?? none)
        const historyFrom = diffsFrom > signedFrom ? diffsFrom : signedFrom
        return encodeSyncStatus({
          head: head.header.number,
          headHash: head.hash,
          miniBlocks,
          rpcUrl: this.modules.rpcUrl(),
          historyFrom,
        })
      }
      case 'blocks': {
        const bundles: BlockBundle[] = []
        for (let n = request.from; n < request.from + BigInt(request.count); n++) {
          const block = await chain.blockByNumber(n)
          if (block === undefined) break
          const diff = await artifacts.diff(n)
          if (diff === undefined)
            throw new SyncUnavailableError(
              `the state diff of block ${n} is ${NOT_KEPT} (--history.witnesses): a replica this far behind starts over on a new datadir, from a snapshot`,
            )
          bundles.push({
            announcement: await announcement(block),
            transactions: block.transactions,
            receipts: block.receipts,
            diff,
          })
        }
        return encodeBlockBundles(bundles)
      }
      case 'miniBlocks': {
        // A replica has the open block's mini-blocks it applied; one that has none answers an empty list.
        const end = request.from + BigInt(request.count)
        return encodeMiniBlockList(chain.unsealedMiniBlocks.filter((mb) => mb.number >= request.from && mb.number < end))
      }
      case 'snapshot': {
        // The pivot's bundle carries no diff: the state comes whole, and the diff may be pruned long before the sync ends.
        const pivot = await snapshots.pin()
        return encodeBlockBundles([
          {
            announcement: await announcement(pivot),
            transactions: pivot.transactions,
            receipts: pivot.receipts,
            diff: emptyStateDiff(),
          },
        ])
      }
      case 'stateRange': {
        const after = request.after.length === 0 ? undefined : request.after
        return encodeStateRange(await snapshots.range(request.pivot, after, request.count))
      }
      case 'witness': {
        const witness = await artifacts.witness(request.block)
        if (witness !== undefined) return witness
        // Said precisely: a requester waits for a block not sealed yet, but must start anew past a pruned one.
        const block = request.block
        if (block > chain.head.header.number) throw new SyncUnavailableError(`no witness for block ${block}: not sealed yet`)
        if (block > (this.modules.witnessHead?.() ?? block))
          throw new SyncUnavailableError(`no witness for block ${block}: not verified here yet`)
        if (block === 0n) throw new SyncUnavailableError('no witness for block 0: genesis is not executed')
        throw new SyncUnavailableError(
          `the witness of block ${block} is ${NOT_KEPT} (it keeps the newest blocks' witnesses: --history.witnesses)`,
        )
      }
    }
  }
}

/** What a sync request asked for is not kept here; the peer gets the message as a remote error. */
export class SyncUnavailableError extends NodeError<'SYNC_UNAVAILABLE', undefined> {
  override readonly name = 'SyncUnavailableError'
  constructor(message: string) {
    super('SYNC_UNAVAILABLE', message)
  }
}
