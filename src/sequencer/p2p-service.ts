import type { Logger } from 'pino'
import type { SealedBlock } from '../chain/block.ts'
import type { ChainConfig } from '../chain/config.ts'
import { encodeMiniBlock, type MiniBlock } from '../chain/mini-block.ts'
import {
  blocksTopic,
  decodeSyncRequest,
  encodeBlockAnnouncement,
  encodeBlockBundles,
  encodeMiniBlockList,
  encodeStateRange,
  encodeSyncStatus,
  miniBlocksTopic,
  NOT_KEPT,
  signBlockAnnouncement,
  syncProtocolId,
  type BlockBundle,
  type P2pHost,
  type SyncRequest,
} from '../p2p/index.ts'
import type { BlockReader } from '../storage/chain-stores.ts'
import type { StateSnapshots } from '../storage/state-snapshots.ts'
import { NodeError } from '../primitives/errors.ts'
import { CodecError } from '../primitives/rlp-fields.ts'
import { emptyStateDiff } from '../primitives/state-diff.ts'

/** What the sequencer's p2p side works with. */
export interface SequencerP2pModules {
  host: P2pHost
  /** What it gossips and serves to syncing replicas. */
  opened: BlockReader
  /** The sealed state, pinned for snapshot-syncing replicas. */
  snapshots: StateSnapshots
  config: ChainConfig
  sequencerKey: Uint8Array
  /** Where replicas should forward transactions (known once the RPC server is listening). */
  rpcUrl: () => string
  logger: Logger
}

/**
 * The sequencer on the p2p network: gossips every durable mini-block and every sealed block's signed
 * announcement as they happen, and serves replicas' sync requests (status, sealed blocks with their
 * state diffs, unsealed mini-blocks, witnesses) from its stores.
 */
export class SequencerP2pService {
  private readonly unsubscribe: Array<() => void> = []

  private readonly host: P2pHost
  private readonly opened: BlockReader
  private readonly snapshots: StateSnapshots
  private readonly config: ChainConfig
  private readonly sequencerKey: Uint8Array
  private readonly rpcUrl: () => string
  private readonly logger: Logger

  constructor(modules: SequencerP2pModules) {
    this.host = modules.host
    this.opened = modules.opened
    this.snapshots = modules.snapshots
    this.config = modules.config
    this.sequencerKey = modules.sequencerKey
    this.rpcUrl = modules.rpcUrl
    this.logger = modules.logger
  }

  async start(): Promise<void> {
    const events = this.opened.chain.events
    const onMiniBlock = (block: MiniBlock): void => this.publish(miniBlocksTopic(this.config.chainId), encodeMiniBlock(block))
    const onBlock = (block: SealedBlock): void =>
      this.publish(blocksTopic(this.config.chainId), encodeBlockAnnouncement(this.announce(block)))
    events.on('miniBlock', onMiniBlock)
    events.on('block', onBlock)
    this.unsubscribe.push(
      () => events.off('miniBlock', onMiniBlock),
      () => events.off('block', onBlock),
    )
    await this.host.handle(syncProtocolId(this.config.chainId), async (request, from) =>
      this.serve(this.decodeRequest(request, from)),
    )
  }

  async stop(): Promise<void> {
    for (const off of this.unsubscribe.splice(0)) off()
    await this.snapshots.close()
  }

  private announce(block: SealedBlock) {
    return signBlockAnnouncement(block.header, block.miniBlocks, this.config.chainId, this.sequencerKey)
  }

  private publish(topic: string, data: Uint8Array): void {
    // Gossip is best effort: a replica that misses a message fetches it over sync.
    this.host.publish(topic, data).catch((err: unknown) => this.logger.warn({ err, topic }, 'gossip publish failed'))
  }

  /** A request that does not decode is no honest replica's: the requester is penalized, and told why. */
  private decodeRequest(request: Uint8Array, from: string): SyncRequest {
    try {
      return decodeSyncRequest(request)
    } catch (err) {
      if (err instanceof CodecError) this.host.penalize(from, `malformed sync request: ${err.message}`)
      throw err
    }
  }

  private async serve(request: SyncRequest): Promise<Uint8Array> {
    const { chain, artifacts } = this.opened
    switch (request.kind) {
      case 'status': {
        const head = chain.head
        const newest = chain.latestMiniBlock
        const miniBlocks = newest !== undefined ? newest.number + 1n : head.miniBlocks.first + BigInt(head.miniBlocks.count)
        const historyFrom = (await artifacts.oldestDiff()) ?? head.header.number + 1n
        return encodeSyncStatus({ head: head.header.number, headHash: head.hash, miniBlocks, rpcUrl: this.rpcUrl(), historyFrom })
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
          bundles.push({ announcement: this.announce(block), transactions: block.transactions, receipts: block.receipts, diff })
        }
        return encodeBlockBundles(bundles)
      }
      case 'miniBlocks': {
        const end = request.from + BigInt(request.count)
        return encodeMiniBlockList(chain.unsealedMiniBlocks.filter((mb) => mb.number >= request.from && mb.number < end))
      }
      case 'snapshot': {
        // The pivot's bundle carries no diff: the state comes whole, and the diff may be pruned long before the sync ends.
        const pivot = await this.snapshots.pin()
        const announcement = this.announce(pivot)
        return encodeBlockBundles([
          { announcement, transactions: pivot.transactions, receipts: pivot.receipts, diff: emptyStateDiff() },
        ])
      }
      case 'stateRange': {
        const after = request.after.length === 0 ? undefined : request.after
        return encodeStateRange(await this.snapshots.range(request.pivot, after, request.count))
      }
      case 'witness': {
        const witness = await artifacts.witness(request.block)
        if (witness !== undefined) return witness
        // Said precisely: a requester waits for a block not sealed yet, but must start anew past a pruned one.
        const block = request.block
        if (block > chain.head.header.number) throw new SyncUnavailableError(`no witness for block ${block}: not sealed yet`)
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
