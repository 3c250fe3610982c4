/**
 * A test-only man in the middle between a real dev sequencer and a replica, for fault injection.
 *
 * Two `P2pHost`s, so that nothing reaches the replica except what the relay chooses to publish:
 * - `upstream` dials the sequencer (its only bootnode and only peer), subscribes to both gossip
 *   topics and accepts everything (gossipsub then has nobody to forward the originals to: it never
 *   forwards back to the source);
 * - `downstream` is what the replica dials (its only bootnode): the relay publishes each upstream
 *   message there, tampered or not, and serves the sync protocol by forwarding each request to the
 *   sequencer through `upstream` and tampering with the answer.
 * With one host, gossipsub would forward every accepted original to the replica next to the
 * tampered copy (and a copy identical to an already-seen message could not be re-published at all).
 *
 * The mode is set at runtime with a first block: only mini-blocks, announcements, bundles and
 * witnesses of blocks ≥ that number are touched, so honest history before it stays honest. Every
 * change is deterministic and memoized (per mini-block hash, per block number), so gossip and sync
 * answers about the same block agree. Mini-blocks are chained by hash: once one is rewritten (new
 * hash), every later mini-block is re-parented onto the rewritten chain and re-sealed with the dev
 * sequencer key, so the replica sees one consistent signed history — with the fault in it.
 *
 * Independently of the mode, the relay's delivery of gossip can be made rough while staying honest
 * (`setDelivery`): messages of both topics shuffled within a window (announcements before their
 * mini-blocks, mini-blocks out of order), held and released in one burst (a flood after a stall), or
 * partly lost. In-order delivery, the default, is what the fault tests rely on.
 */
import { createBlockHeaderFromRLP, type BlockHeader } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import { RLP } from '@ethereumjs/rlp'
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import { bigIntToUnpaddedBytes, bytesToBigInt, bytesToHex, hexToBytes } from '@ethereumjs/util'
import { randomBytes } from 'node:crypto'
import { pino, type Logger } from 'pino'
import { createChainCommon, DEV_CHAIN_ID } from '../../src/chain/config.ts'
import { DEV_SEQUENCER_KEY } from '../../src/chain/dev.ts'
import {
  decodeMiniBlock,
  encodeMiniBlock,
  sealMiniBlock,
  type MiniBlock,
  type UnsignedMiniBlock,
} from '../../src/chain/mini-block.ts'
import type { Hex, StateDiff } from '../../src/primitives/state-diff.ts'
import { keccak256 } from '../../src/crypto/native.ts'
import {
  P2pHost,
  blocksTopic,
  decodeBlockAnnouncement,
  decodeBlockBundles,
  decodeMiniBlockList,
  decodeStateRange,
  decodeSyncRequest,
  encodeBlockAnnouncement,
  encodeBlockBundles,
  encodeMiniBlockList,
  encodeStateRange,
  miniBlocksTopic,
  peerIdOfMultiaddr,
  signBlockAnnouncement,
  syncProtocolId,
  type BlockAnnouncement,
  type BlockBundle,
  type GossipSubscription,
} from '../../src/p2p/index.ts'
import { decodeWitness, encodeWitness, type ExecutionWitness } from '../../src/stateless/index.ts'
import { rng, type Rng } from './rng.ts'

export type TamperMode =
  | 'honest'
  /** Announced headers (gossip and bundles) carry another state root, re-signed with the dev key. */
  | 'wrong-state-root'
  /** Every account balance in mini-block diffs (and bundle diffs) gets +1 wei; mini-blocks re-sealed with the dev key. */
  | 'tampered-state-diff'
  /** A mini-block's (and bundle's) first transaction is swapped for another validly signed one; re-sealed with the dev key. */
  | 'tampered-transaction'
  /** Mini-blocks and announcements signed by a random key instead of the sequencer's. */
  | 'forged-signature'
  /** Served witnesses lack the parent state root's node. */
  | 'witness-missing-node'
  /** Served witnesses carry an extra node that hashes into nothing (a real node with one byte flipped). */
  | 'witness-bogus-node'
  /** Snapshot-sync pages give their first account 1 wei more (the pivot must be at or after the mode's block). */
  | 'tampered-snapshot'

export const TAMPER_MODES: readonly TamperMode[] = [
  'honest',
  'wrong-state-root',
  'tampered-state-diff',
  'tampered-transaction',
  'forged-signature',
  'witness-missing-node',
  'witness-bogus-node',
  'tampered-snapshot',
]

/**
 * How the relay delivers gossip downstream (what it delivers is the mode's business):
 * - `in-order`: each message as soon as it is processed, in the sequencer's order (the default);
 * - `shuffle`: up to `window` messages are held and one at random goes out whenever the window is
 *   full (held ones are flushed after `flushMs` of silence), both topics mixed;
 * - `burst`: everything is held for `holdMs`, then published at once, in order (a flood);
 * - `lossy`: each message is dropped with probability `fraction` (gossip is best effort).
 * `seed` makes the choices replayable.
 */
export type Delivery =
  | { kind: 'in-order' }
  | { kind: 'shuffle'; window: number; flushMs?: number; seed: number }
  | { kind: 'burst'; holdMs: number }
  | { kind: 'lossy'; fraction: number; seed: number }

/** What the relay's delivery did to gossip, for assertions and reports. */
export interface DeliveryStats {
  /** Messages published after one that arrived later than them (shuffle). */
  reordered: number
  /** Bursts released, and the largest one. */
  bursts: number
  largestBurst: number
  /** Messages dropped on purpose (lossy). */
  lost: number
}

export interface TamperingRelayOptions {
  /** The sequencer's multiaddr, ending in `/p2p/<peerId>` (its `mega_nodeInfo.p2pAddrs`). */
  sequencer: string
  chainId?: bigint
  /** Default: silent. */
  logger?: Logger
  /** How long `start` waits for the connection to the sequencer. */
  connectTimeoutMs?: number
}

/** What the relay did, for assertions and failure messages. */
export interface RelayStats {
  /** Gossip messages received from the sequencer, by topic kind. */
  received: { miniBlocks: number; announcements: number }
  /** Gossip messages published downstream. */
  published: { miniBlocks: number; announcements: number }
  /** Sync requests served, by kind. */
  requests: Record<string, number>
  /** Sync requests that failed upstream (the error went back to the replica). */
  requestErrors: number
  /** Block numbers whose data (mini-block, announcement, bundle or witness) the relay actually altered. */
  tamperedBlocks: Set<bigint>
  /** Lowest mini-block number the relay altered (any mode touching mini-blocks). */
  firstTamperedMiniBlock: bigint | undefined
  /** How many items were altered, by what. */
  tampered: { miniBlocks: number; announcements: number; bundles: number; witnesses: number; stateRanges: number }
}

const MINI_BLOCK_CACHE_LIMIT = 20_000

export class TamperingRelay {
  private mode: TamperMode = 'honest'
  private from = 0n
  /** Highest block number seen in anything from the sequencer (mini-blocks, announcements, bundles). */
  private seenBlock = 0n
  /** Original mini-block hash → what the relay passes on for it (memoized so gossip and sync agree). */
  private readonly miniBlocks = new Map<string, MiniBlock>()
  /** Original mini-block hash → the hash of its rewritten version, for re-parenting the next one. */
  private readonly rewritten = new Map<string, Uint8Array>()
  private readonly forgeryKey = new Uint8Array(randomBytes(32))
  private readonly swapKey = new Uint8Array(randomBytes(32))
  private swapNonce = 0n
  private readonly sequencerKey = hexToBytes(DEV_SEQUENCER_KEY)
  private readonly common: Common
  private publishQueue: Promise<void> = Promise.resolve()
  private stopped = false
  private delivery: Delivery = { kind: 'in-order' }
  private deliveryRng: Rng = rng(0)
  /** Messages held by `shuffle` or `burst`, each with its arrival index. */
  private held: Array<{ index: number; topic: string; data: Uint8Array; published: () => void }> = []
  private arrivals = 0
  /** Highest arrival index published so far (reordering is counted against it). */
  private newestPublished = -1
  private holdTimer: NodeJS.Timeout | undefined
  readonly deliveryStats: DeliveryStats = { reordered: 0, bursts: 0, largestBurst: 0, lost: 0 }
  readonly stats: RelayStats = {
    received: { miniBlocks: 0, announcements: 0 },
    published: { miniBlocks: 0, announcements: 0 },
    requests: {},
    requestErrors: 0,
    tamperedBlocks: new Set(),
    firstTamperedMiniBlock: undefined,
    tampered: { miniBlocks: 0, announcements: 0, bundles: 0, witnesses: 0, stateRanges: 0 },
  }

  private constructor(
    private readonly upstream: P2pHost,
    private readonly downstream: P2pHost,
    private readonly sequencerPeer: string,
    private readonly chainId: bigint,
    private readonly logger: Logger,
  ) {
    this.common = createChainCommon({ chainId, name: 'megaeth-dev' })
  }

  static async start(options: TamperingRelayOptions): Promise<TamperingRelay> {
    const chainId = options.chainId ?? DEV_CHAIN_ID
    const logger = options.logger ?? pino({ level: 'silent' })
    const sequencerPeer = peerIdOfMultiaddr(options.sequencer)
    if (sequencerPeer === undefined) throw new Error(`tampering relay: ${options.sequencer} does not end in /p2p/<peerId>`)
    const upstream = await P2pHost.start(
      { bootnodes: [options.sequencer], redialIntervalMs: 250 },
      { logger: logger.child({ relay: 'upstream' }) },
    )
    let downstream: P2pHost | undefined
    try {
      downstream = await P2pHost.start({}, { logger: logger.child({ relay: 'downstream' }) })
      const relay = new TamperingRelay(upstream, downstream, sequencerPeer, chainId, logger)
      await relay.wire()
      const deadline = Date.now() + (options.connectTimeoutMs ?? 15_000)
      while (!upstream.connectedPeers().includes(sequencerPeer)) {
        if (Date.now() > deadline) throw new Error(`tampering relay: not connected to the sequencer ${sequencerPeer}`)
        await new Promise((resolve) => setTimeout(resolve, 25))
      }
      return relay
    } catch (error) {
      await Promise.allSettled([upstream.stop(), downstream?.stop()])
      throw error
    }
  }

  /** The multiaddr a replica puts in `--p2p.bootnodes`. */
  get bootnode(): string {
    return this.downstream.multiaddrs()[0]!
  }

  /** The peer id replicas see the relay as. */
  get peerId(): string {
    return this.downstream.peerId
  }

  /** Peers connected downstream (the replicas). */
  get downstreamPeers(): string[] {
    return this.downstream.connectedPeers()
  }

  get currentMode(): { mode: TamperMode; from: bigint } {
    return { mode: this.mode, from: this.from }
  }

  /** Highest block number the relay has seen from the sequencer (sealed or still open). */
  get latestBlockSeen(): bigint {
    return this.seenBlock
  }

  /** Tampers with everything about blocks ≥ `fromBlock` from now on (`honest`: nothing). */
  setMode(mode: TamperMode, fromBlock = 0n): void {
    this.mode = mode
    this.from = fromBlock
    this.logger.info({ mode, fromBlock: fromBlock.toString() }, 'tampering relay mode set')
  }

  /**
   * Switches to `mode` starting `margin` blocks after the newest block the relay has seen: that block
   * may be open with some of its mini-blocks already passed on honestly, the next one has none yet.
   * Returns the first tampered block number.
   */
  armAfterLatest(mode: TamperMode, margin = 2n): bigint {
    if (this.seenBlock === 0n) throw new Error('tampering relay: nothing seen from the sequencer yet')
    const first = this.seenBlock + margin
    this.setMode(mode, first)
    return first
  }

  /** Changes how gossip is delivered from now on; whatever the previous delivery held goes out first, in order. */
  setDelivery(delivery: Delivery): void {
    this.delivery = delivery
    if (delivery.kind === 'shuffle' || delivery.kind === 'lossy') this.deliveryRng = rng(delivery.seed)
    this.logger.info({ delivery }, 'tampering relay delivery set')
    this.publishQueue = this.publishQueue.then(() => this.release(this.held.length, 'in-order'))
  }

  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    clearTimeout(this.holdTimer)
    await Promise.allSettled([this.downstream.stop(), this.upstream.stop()])
  }

  // --- wiring ---------------------------------------------------------------------------------------

  private async wire(): Promise<void> {
    const miniTopic = miniBlocksTopic(this.chainId)
    const blockTopic = blocksTopic(this.chainId)
    const relayTo = (topic: string, transform: (data: Uint8Array) => Uint8Array, published: () => void): GossipSubscription => ({
      validate: () => 'accept',
      onMessage: (data) => {
        // One queue for both topics: the replica sees messages in the order the sequencer sent them.
        this.publishQueue = this.publishQueue.then(async () => {
          if (this.stopped) return
          let out: Uint8Array
          try {
            out = transform(data)
          } catch (error) {
            this.logger.error({ err: error, topic }, 'tampering relay: could not process a gossip message')
            return
          }
          await this.deliver(topic, out, published)
        })
      },
    })
    this.upstream.subscribe(
      miniTopic,
      relayTo(
        miniTopic,
        (data) => {
          this.stats.received.miniBlocks++
          const original = decodeMiniBlock(data)
          const out = this.passMiniBlock(original)
          return out === original ? data : encodeMiniBlock(out)
        },
        () => this.stats.published.miniBlocks++,
      ),
    )
    this.upstream.subscribe(
      blockTopic,
      relayTo(
        blockTopic,
        (data) => {
          this.stats.received.announcements++
          const original = decodeBlockAnnouncement(data, this.common)
          const out = this.passAnnouncement(original)
          return out === original ? data : encodeBlockAnnouncement(out)
        },
        () => this.stats.published.announcements++,
      ),
    )
    // Downstream subscribes too, so the replica has the relay in its mesh; nothing is expected from it.
    const nothing: GossipSubscription = { validate: () => 'ignore', onMessage: () => undefined }
    this.downstream.subscribe(miniTopic, nothing)
    this.downstream.subscribe(blockTopic, nothing)
    await this.downstream.handle(syncProtocolId(this.chainId), (request) => this.serve(request))
  }

  // --- delivery -------------------------------------------------------------------------------------

  /** Called in arrival order (on the publish queue) with each processed gossip message. */
  private async deliver(topic: string, data: Uint8Array, published: () => void): Promise<void> {
    const index = this.arrivals++
    const delivery = this.delivery
    switch (delivery.kind) {
      case 'in-order':
        return this.publishOne({ index, topic, data, published })
      case 'lossy':
        if (this.deliveryRng.next() < delivery.fraction) {
          this.deliveryStats.lost++
          return
        }
        return this.publishOne({ index, topic, data, published })
      case 'shuffle': {
        this.held.push({ index, topic, data, published })
        while (this.held.length >= delivery.window) await this.release(1, 'random')
        this.armHoldTimer(delivery.flushMs ?? 200, 'random')
        return
      }
      case 'burst':
        this.held.push({ index, topic, data, published })
        if (this.holdTimer === undefined) this.armHoldTimer(delivery.holdMs, 'burst')
        return
    }
  }

  /** Releases the held messages after `ms` (shuffle: of silence; burst: after the first one held). */
  private armHoldTimer(ms: number, how: 'random' | 'burst'): void {
    if (how === 'random') clearTimeout(this.holdTimer)
    this.holdTimer = setTimeout(() => {
      this.holdTimer = undefined
      this.publishQueue = this.publishQueue.then(() => this.release(this.held.length, how === 'burst' ? 'burst' : 'random'))
    }, ms)
  }

  /** Publishes `count` held messages: one picked at random each time, or the oldest first (in order / as one burst). */
  private async release(count: number, how: 'random' | 'in-order' | 'burst'): Promise<void> {
    if (this.stopped) return
    const out =
      how === 'random'
        ? Array.from(
            { length: Math.min(count, this.held.length) },
            () => this.held.splice(this.deliveryRng.int(this.held.length), 1)[0]!,
          )
        : this.held.splice(0, count)
    if (how === 'burst' && out.length > 0) {
      this.deliveryStats.bursts++
      this.deliveryStats.largestBurst = Math.max(this.deliveryStats.largestBurst, out.length)
      // All at once, not one after the other: the replica gets a flood.
      await Promise.all(out.map((message) => this.publishOne(message)))
      return
    }
    for (const message of out) await this.publishOne(message)
  }

  private async publishOne(message: { index: number; topic: string; data: Uint8Array; published: () => void }): Promise<void> {
    if (this.stopped) return
    if (message.index < this.newestPublished) this.deliveryStats.reordered++
    else this.newestPublished = message.index
    try {
      await this.downstream.publish(message.topic, message.data)
      message.published()
    } catch (error) {
      this.logger.warn({ err: error, topic: message.topic }, 'tampering relay: publish failed')
    }
  }

  private async serve(request: Uint8Array): Promise<Uint8Array> {
    const decoded = decodeSyncRequest(request)
    this.stats.requests[decoded.kind] = (this.stats.requests[decoded.kind] ?? 0) + 1
    let answer: Uint8Array
    try {
      answer = await this.upstream.request(this.sequencerPeer, syncProtocolId(this.chainId), request)
    } catch (error) {
      this.stats.requestErrors++
      // The handler's throw goes back to the replica as an error frame, as the sequencer's own would.
      throw new Error(`relayed ${decoded.kind} request failed: ${error instanceof Error ? error.message : String(error)}`)
    }
    switch (decoded.kind) {
      case 'status':
        return answer
      case 'miniBlocks': {
        const list = decodeMiniBlockList(answer)
        const out = list.map((mb) => this.passMiniBlock(mb))
        return out.every((mb, i) => mb === list[i]) ? answer : encodeMiniBlockList(out)
      }
      case 'blocks': {
        const bundles = decodeBlockBundles(answer, this.common)
        const out = bundles.map((bundle) => this.passBundle(bundle))
        return out.every((bundle, i) => bundle === bundles[i]) ? answer : encodeBlockBundles(out)
      }
      case 'witness':
        return this.passWitness(decoded.block, answer)
      case 'snapshot':
        return answer
      case 'stateRange':
        return this.passStateRange(decoded.pivot, decoded.after, answer)
    }
  }

  private passStateRange(pivot: bigint, after: Uint8Array, answer: Uint8Array): Uint8Array {
    if (!this.tampers(pivot) || this.mode !== 'tampered-snapshot') return answer
    const page = decodeStateRange(answer, after)
    const index = page.entries.findIndex(([key]) => key[0] === 0x61)
    if (index < 0) return answer
    const [nonce, balance, codeHash] = RLP.decode(page.entries[index]![1]) as Uint8Array[]
    const richer = bytesToBigInt(balance!) + 1n
    page.entries[index]![1] = RLP.encode([nonce!, bigIntToUnpaddedBytes(richer), codeHash!])
    this.markTampered(pivot, 'stateRanges')
    return encodeStateRange(page)
  }

  // --- tampering ------------------------------------------------------------------------------------

  private tampers(block: bigint): boolean {
    return this.mode !== 'honest' && block >= this.from
  }

  private seen(block: bigint): void {
    if (block > this.seenBlock) this.seenBlock = block
  }

  private markTampered(block: bigint, what: keyof RelayStats['tampered'], miniBlock?: bigint): void {
    this.stats.tamperedBlocks.add(block)
    this.stats.tampered[what]++
    const first = this.stats.firstTamperedMiniBlock
    if (miniBlock !== undefined && (first === undefined || miniBlock < first)) this.stats.firstTamperedMiniBlock = miniBlock
  }

  /** The mini-block to pass on for `original`: itself (same object) when untouched. */
  private passMiniBlock(original: MiniBlock): MiniBlock {
    const key = bytesToHex(original.hash)
    const known = this.miniBlocks.get(key)
    if (known !== undefined) return known
    this.seen(original.blockNumber)
    let out = original
    const { hash: _hash, signature: _signature, ...body } = original
    const unsigned: UnsignedMiniBlock = { ...body }
    let changed = false
    // Keep the rewritten chain linked: the parent may have been rewritten (and re-hashed) already.
    const parent = this.rewritten.get(bytesToHex(original.parentHash))
    if (parent !== undefined) {
      unsigned.parentHash = parent
      changed = true
    }
    const tamper = this.tampers(original.blockNumber)
    if (tamper && this.mode === 'tampered-state-diff') {
      const diff = bumpBalances(original.stateDiff)
      if (diff !== undefined) {
        unsigned.stateDiff = diff
        changed = true
        this.markTampered(original.blockNumber, 'miniBlocks', original.number)
      }
    }
    if (tamper && this.mode === 'tampered-transaction' && original.transactions.length > 0) {
      unsigned.transactions = [this.otherTransaction(), ...original.transactions.slice(1)]
      changed = true
      this.markTampered(original.blockNumber, 'miniBlocks', original.number)
    }
    if (changed) {
      out = sealMiniBlock(unsigned, this.chainId, this.sequencerKey)
      this.rewritten.set(key, out.hash)
    }
    if (tamper && this.mode === 'forged-signature') {
      // Same content and hash, signed by someone else.
      out = sealMiniBlock(unsigned, this.chainId, this.forgeryKey)
      this.markTampered(original.blockNumber, 'miniBlocks', original.number)
    }
    this.miniBlocks.set(key, out)
    if (this.miniBlocks.size > MINI_BLOCK_CACHE_LIMIT) this.miniBlocks.delete(this.miniBlocks.keys().next().value!)
    return out
  }

  private passAnnouncement(original: BlockAnnouncement): BlockAnnouncement {
    const number = original.header.number
    this.seen(number)
    // Signatures are deterministic (RFC 6979): gossip and sync get byte-identical tampered announcements.
    let out = original
    // A rewritten last mini-block is announced as such (re-signed), as a sequencer signing the
    // rewritten history would: the replica's own checks, not this link, are what each mode tests.
    const { lastHash } = original.miniBlocks
    const relinked = lastHash === undefined ? undefined : this.rewritten.get(lastHash)
    const miniBlocks =
      relinked === undefined ? original.miniBlocks : { ...original.miniBlocks, lastHash: bytesToHex(relinked) as Hex }
    if (this.tampers(number) && this.mode === 'wrong-state-root') {
      const header = withStateRoot(original.header, keccak256(original.header.stateRoot), this.common)
      out = signBlockAnnouncement(header, miniBlocks, this.chainId, this.sequencerKey)
      this.markTampered(number, 'announcements')
    } else if (this.tampers(number) && this.mode === 'forged-signature') {
      out = signBlockAnnouncement(original.header, miniBlocks, this.chainId, this.forgeryKey)
      this.markTampered(number, 'announcements')
    } else if (relinked !== undefined) {
      out = signBlockAnnouncement(original.header, miniBlocks, this.chainId, this.sequencerKey)
    }
    return out
  }

  private passBundle(original: BlockBundle): BlockBundle {
    const number = original.announcement.header.number
    const announcement = this.passAnnouncement(original.announcement)
    let out: BlockBundle = announcement === original.announcement ? original : { ...original, announcement }
    if (this.tampers(number) && this.mode === 'tampered-state-diff') {
      const diff = bumpBalances(original.diff)
      if (diff !== undefined) {
        out = { ...out, diff }
        this.markTampered(number, 'bundles')
      }
    }
    if (this.tampers(number) && this.mode === 'tampered-transaction' && original.transactions.length > 0) {
      out = { ...out, transactions: [this.otherTransaction(), ...original.transactions.slice(1)] }
      this.markTampered(number, 'bundles')
    }
    return out
  }

  private passWitness(block: bigint, answer: Uint8Array): Uint8Array {
    if (!this.tampers(block) || (this.mode !== 'witness-missing-node' && this.mode !== 'witness-bogus-node')) return answer
    const witness = decodeWitness(answer)
    const parentRlp = witness.headers.at(-1)
    if (parentRlp === undefined) throw new Error(`tampering relay: witness of block ${block} has no parent header`)
    const parentRoot = bytesToHex(
      createBlockHeaderFromRLP(parentRlp, { common: this.common, skipConsensusFormatValidation: true }).stateRoot,
    )
    const rootIndex = witness.state.findIndex((node) => bytesToHex(keccak256(node)) === parentRoot)
    if (rootIndex < 0) throw new Error(`tampering relay: witness of block ${block} lacks its root node ${parentRoot}`)
    let tampered: ExecutionWitness
    if (this.mode === 'witness-missing-node') {
      tampered = { ...witness, state: witness.state.filter((_, i) => i !== rootIndex) }
    } else {
      // A real node with its last byte flipped: valid-looking, but its hash is referenced by nothing.
      const bogus = Uint8Array.from(witness.state[rootIndex]!)
      bogus[bogus.length - 1] ^= 0xff
      tampered = { ...witness, state: [...witness.state, bogus] }
    }
    this.markTampered(block, 'witnesses')
    return encodeWitness(tampered)
  }

  /** A validly signed transaction that the sequencer never saw (unique per call). */
  private otherTransaction(): Uint8Array {
    const tx = createFeeMarket1559Tx(
      {
        chainId: this.chainId,
        nonce: this.swapNonce++,
        maxFeePerGas: 10n ** 10n,
        maxPriorityFeePerGas: 1n,
        gasLimit: 21_000n,
        to: '0x000000000000000000000000000000000000dead',
        value: 1n,
      },
      { common: this.common },
    ).sign(this.swapKey)
    return tx.serialize()
  }
}

/** A copy of `diff` with +1 wei on every surviving account; undefined when it has none. */
function bumpBalances(diff: StateDiff): StateDiff | undefined {
  let bumped = false
  const accounts = new Map(
    [...diff.accounts].map(([address, change]) => {
      if (change.account === null) return [address, change] as const
      bumped = true
      return [
        address,
        { ...change, account: { ...change.account, balance: change.account.balance + 1n }, storage: new Map(change.storage) },
      ] as const
    }),
  )
  return bumped ? { accounts, codes: new Map(diff.codes) } : undefined
}

function withStateRoot(header: BlockHeader, stateRoot: Uint8Array, common: Common): BlockHeader {
  const fields = RLP.decode(header.serialize()) as Uint8Array[]
  fields[3] = stateRoot
  return createBlockHeaderFromRLP(RLP.encode(fields), { common, skipConsensusFormatValidation: true })
}
