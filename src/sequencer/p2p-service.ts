import type { Logger } from 'pino'
import type { SealedBlock } from '../chain/block.ts'
import type { ChainConfig } from '../chain/config.ts'
import { encodeMiniBlock, type MiniBlock } from '../chain/mini-block.ts'
import {
  blocksTopic,
  encodeBlockAnnouncement,
  miniBlocksTopic,
  signBlockAnnouncement,
  type BlockAnnouncement,
  type P2pHost,
} from '../p2p/index.ts'
import { SyncServer } from '../p2p/sync-server.ts'
import type { BlockReader } from '../storage/chain-stores.ts'
import type { StateSnapshots } from '../storage/state-snapshots.ts'

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
 * announcement as they happen, and serves replicas' sync requests (`SyncServer`) with announcements it
 * signs as it serves them.
 */
export class SequencerP2pService {
  private readonly unsubscribe: Array<() => void> = []
  private readonly server: SyncServer

  constructor(private readonly modules: SequencerP2pModules) {
    this.server = new SyncServer({
      host: modules.host,
      opened: modules.opened,
      snapshots: modules.snapshots,
      chainId: modules.config.chainId,
      announcement: async (block) => this.announce(block),
      rpcUrl: modules.rpcUrl,
    })
  }

  async start(): Promise<void> {
    const { opened, config } = this.modules
    const events = opened.chain.events
    const onMiniBlock = (block: MiniBlock): void => this.publish(miniBlocksTopic(config.chainId), encodeMiniBlock(block))
    const onBlock = (block: SealedBlock): void =>
      this.publish(blocksTopic(config.chainId), encodeBlockAnnouncement(this.announce(block)))
    events.on('miniBlock', onMiniBlock)
    events.on('block', onBlock)
    this.unsubscribe.push(
      () => events.off('miniBlock', onMiniBlock),
      () => events.off('block', onBlock),
    )
    await this.server.start()
  }

  async stop(): Promise<void> {
    for (const off of this.unsubscribe.splice(0)) off()
    await this.server.stop()
  }

  private announce(block: SealedBlock): BlockAnnouncement {
    return signBlockAnnouncement(block.header, block.miniBlocks, this.modules.config.chainId, this.modules.sequencerKey)
  }

  private publish(topic: string, data: Uint8Array): void {
    // Gossip is best effort: a replica that misses a message fetches it over sync.
    this.modules.host
      .publish(topic, data)
      .catch((err: unknown) => this.modules.logger.warn({ err, topic }, 'gossip publish failed'))
  }
}
