import type { Common } from '@ethereumjs/common'
import type { ChainConfig } from '../chain/config.ts'
import { decodeMiniBlock, recoverMiniBlockSigner, type MiniBlock } from '../chain/mini-block.ts'
import type { Hex } from '../primitives/state-diff.ts'
import {
  MAX_BLOCKS_PER_REQUEST,
  MAX_MINI_BLOCKS_PER_REQUEST,
  MAX_STATE_ENTRIES_PER_REQUEST,
  decodeBlockAnnouncement,
  decodeBlockBundles,
  decodeMiniBlockList,
  decodeStateRange,
  decodeSyncStatus,
  defaultP2pOptions,
  encodeSyncRequest,
  peerIdOfMultiaddr,
  recoverAnnouncementSigner,
  RequestPacer,
  syncProtocolId,
  type BlockAnnouncement,
  type BlockBundle,
  type P2pHost,
  type StateRangePage,
  type SyncRequest,
  type SyncStatus,
} from '../p2p/index.ts'
import { setTimeout as sleep } from 'node:timers/promises'
import { NodeError } from '../primitives/errors.ts'
import { CodecError } from '../primitives/rlp-fields.ts'
import { checkRawStateEntry } from '../storage/state-store.ts'

/** No peer to sync from is connected (the sequencer is down or not dialled yet). */
export class NoSyncPeerError extends NodeError<'NO_SYNC_PEER', undefined> {
  override readonly name = 'NoSyncPeerError'
  constructor(message: string) {
    super('NO_SYNC_PEER', message, { severity: 'temporary' })
  }
}

/** A mini-block or block announcement signed by someone other than the configured sequencer. */
export class ForeignSignerError extends NodeError<'FOREIGN_SIGNER', { signer: Hex; sequencer: Hex }> {
  override readonly name = 'ForeignSignerError'
  constructor(what: string, signer: Hex, sequencer: Hex) {
    super('FOREIGN_SIGNER', `${what} is signed by ${signer}, not the sequencer ${sequencer}`, { data: { signer, sequencer } })
  }
}

/**
 * Checks what the sequencer signs: a mini-block or announcement from anyone but the configured
 * sequencer is refused wherever it comes from (gossip or sync).
 */
export class SequencerAuthenticator {
  constructor(
    private readonly config: ChainConfig,
    private readonly common: Common,
    private readonly sequencer: Hex,
  ) {}

  /** Decodes a mini-block and checks its hash and signature; throws on any problem. */
  miniBlock(bytes: Uint8Array): MiniBlock {
    return this.checkMiniBlock(decodeMiniBlock(bytes))
  }

  checkMiniBlock(block: MiniBlock): MiniBlock {
    const signer = recoverMiniBlockSigner(block, this.config.chainId)
    if (signer !== this.sequencer) throw new ForeignSignerError(`mini-block ${block.number}`, signer, this.sequencer)
    return block
  }

  announcement(bytes: Uint8Array): BlockAnnouncement {
    return this.checkAnnouncement(decodeBlockAnnouncement(bytes, this.common))
  }

  checkAnnouncement(announcement: BlockAnnouncement): BlockAnnouncement {
    const signer = recoverAnnouncementSigner(announcement, this.config.chainId)
    if (signer !== this.sequencer)
      throw new ForeignSignerError(`block ${announcement.header.number} announcement`, signer, this.sequencer)
    return announcement
  }
}

/** The share of a peer's default request rate and burst this node uses up, leaving room for the peer's own clock. */
const PACE_SHARE = 0.8

/**
 * Requests over the sync protocol to the sequencer or any full replica serving it, with every answer
 * authenticated before it is returned (the sequencer's signature, whoever serves it); a peer that answers
 * with forged or malformed data is penalized.
 */
export class SyncClient {
  private readonly bootnodePeers: string[]
  /** The peer the last request went to. */
  private lastPeer: string | undefined
  private latestStatus: SyncStatus | undefined
  /** Below the rate a peer with default options serves (`requestRatePerSecond`, `requestBurst`): see `RequestPacer`. */
  private readonly pacer = new RequestPacer({
    perSecond: defaultP2pOptions.requestRatePerSecond * PACE_SHARE,
    burst: Math.floor(defaultP2pOptions.requestBurst * PACE_SHARE),
  })

  constructor(
    private readonly host: P2pHost,
    private readonly config: ChainConfig,
    private readonly common: Common,
    private readonly auth: SequencerAuthenticator,
    bootnodes: readonly string[],
  ) {
    this.bootnodePeers = bootnodes.map(peerIdOfMultiaddr).filter((id): id is string => id !== undefined)
  }

  async status(): Promise<SyncStatus> {
    this.latestStatus = await this.ask({ kind: 'status' }, decodeSyncStatus)
    return this.latestStatus
  }

  /** The last status answer, if any. */
  get lastStatus(): SyncStatus | undefined {
    return this.latestStatus
  }

  async blocks(from: bigint, count = MAX_BLOCKS_PER_REQUEST): Promise<BlockBundle[]> {
    return this.ask({ kind: 'blocks', from, count }, (bytes) => {
      const bundles = decodeBlockBundles(bytes, this.common)
      bundles.forEach((bundle) => this.auth.checkAnnouncement(bundle.announcement))
      return bundles
    })
  }

  async miniBlocks(from: bigint, count = MAX_MINI_BLOCKS_PER_REQUEST): Promise<MiniBlock[]> {
    return this.ask({ kind: 'miniBlocks', from, count }, (bytes) => {
      const blocks = decodeMiniBlockList(bytes)
      blocks.forEach((block) => this.auth.checkMiniBlock(block))
      return blocks
    })
  }

  /** A block's witness, as bytes; checked by verifying the block with it, not here. */
  async witness(block: bigint): Promise<Uint8Array> {
    return this.ask({ kind: 'witness', block }, (bytes) => bytes)
  }

  /** Asks the peer to pin its sealed state for a snapshot sync: the pivot block, signed (its bundle carries no diff). */
  async snapshot(): Promise<BlockBundle> {
    return this.ask({ kind: 'snapshot' }, (bytes) => {
      const [bundle, ...rest] = decodeBlockBundles(bytes, this.common)
      if (bundle === undefined || rest.length > 0) throw new CodecError('snapshot: expected the pivot block alone')
      this.auth.checkAnnouncement(bundle.announcement)
      return bundle
    })
  }

  /**
   * A page of the pivot's flat state after `after` (empty: from the start), each entry checked for
   * shape (`checkRawStateEntry`); whether they are the pivot's state is the state root's to say.
   */
  async stateRange(pivot: bigint, after: Uint8Array, count = MAX_STATE_ENTRIES_PER_REQUEST): Promise<StateRangePage> {
    return this.ask({ kind: 'stateRange', pivot, after, count }, (bytes) => {
      const page = decodeStateRange(bytes, after)
      for (const [k, v] of page.entries) checkRawStateEntry(k, v)
      return page
    })
  }

  /** The peer the last request went to (the one to blame when a snapshot's state does not match its root). */
  currentPeer(): string | undefined {
    return this.lastPeer
  }

  /** Penalizes a peer whose answers, taken together, proved false (a snapshot whose state misses its root). */
  blame(peer: string | undefined, reason: string): void {
    if (peer !== undefined) this.host.penalize(peer, reason)
  }

  /** One request; an answer that does not decode or authenticate penalizes the peer that sent it. */
  private async ask<T>(request: SyncRequest, decode: (bytes: Uint8Array) => T): Promise<T> {
    const wait = this.pacer.take()
    if (wait > 0) await sleep(wait)
    const peer = await this.peer()
    this.lastPeer = peer
    const bytes = await this.host.request(peer, syncProtocolId(this.config.chainId), encodeSyncRequest(request))
    try {
      return decode(bytes)
    } catch (error) {
      this.host.penalize(peer, `bad ${request.kind} response: ${error instanceof Error ? error.message : String(error)}`)
      throw error
    }
  }

  /**
   * The peer to ask: the connected bootnodes first (the operator's choice: the sequencer, or full replicas),
   * then the other connected peers; the first of them that said it serves the sync protocol (a validator, or a
   * replica started with `--sync.serve=false`, does not), else the first of them (identify may not have
   * answered yet). The order only changes as peers come and go, so a snapshot's pages go to the peer that
   * pinned it.
   */
  private async peer(): Promise<string> {
    const connected = this.host.connectedPeers()
    const bootnodes = this.bootnodePeers.filter((id) => connected.includes(id))
    const candidates = [...bootnodes, ...connected.filter((id) => !bootnodes.includes(id))]
    if (candidates.length === 0)
      throw new NoSyncPeerError(
        'no peer to sync from is connected (is the sequencer or a full replica up and in --p2p.bootnodes?)',
      )
    const protocol = syncProtocolId(this.config.chainId)
    for (const id of candidates) if (await this.host.serves(id, protocol)) return id
    return candidates[0]!
  }
}
