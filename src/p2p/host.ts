/**
 * The P2P host: a libp2p node (TCP, noise, yamux, identify, gossipsub) that moves opaque bytes.
 * Higher layers bring codecs and validation: they subscribe to gossip topics with a validator, and
 * register request/response handlers per protocol id.
 */
import type { GossipSub, GossipsubMessage } from '@chainsafe/libp2p-gossipsub'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify, type Identify } from '@libp2p/identify'
import { TopicValidatorResult, type IncomingStreamData, type Libp2p, type Message, type PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import { BootnodeDialer } from './bootnodes.ts'
import { P2pBadRequestError, P2pDialError, P2pError, P2pErrorCode, P2pMessageTooLargeError, errorMessage } from './errors.ts'
import { gossipService, scoreTopic, type GossipValidationResult } from './gossip.ts'
import { loadOrCreateIdentity } from './identity.ts'
import { createP2pMetrics, noopP2pMetrics, type P2pMetrics } from './metrics.ts'
import { resolveP2pOptions, type P2pOptions } from './options.ts'
import { PeerPenalties } from './penalties.ts'
import { RequestRateLimiter } from './rate-limit.ts'
import { refuseRequest, sendRequest, serveRequest, type RequestHandler } from './reqresp.ts'

export interface GossipSubscription {
  /**
   * Decides a message before it is delivered or forwarded. `reject` drops it and lowers the score of
   * `from` (the peer that relayed it: messages carry no libp2p author); `ignore` drops it without
   * penalty (e.g. stale but honest). A throw counts as `ignore` and is logged.
   */
  validate(data: Uint8Array, from: string): GossipValidationResult | Promise<GossipValidationResult>
  /** Receives each accepted message once. */
  onMessage(data: Uint8Array, from: string): void | Promise<void>
}

export interface P2pHostDeps {
  logger: Logger
  /** Registry for the `megaeth_p2p_*` metrics; none: not measured. */
  registry?: Registry
}

export type PeerListener = (peer: string) => void

type Node = Libp2p<{ identify: Identify; pubsub: GossipSub }>

const TOPIC_VALIDATOR_RESULT = {
  accept: TopicValidatorResult.Accept,
  reject: TopicValidatorResult.Reject,
  ignore: TopicValidatorResult.Ignore,
} as const satisfies Record<GossipValidationResult, TopicValidatorResult>

export class P2pHost {
  readonly peerId: string
  private readonly subscriptions = new Map<string, GossipSubscription>()
  private readonly connectedListeners = new Set<PeerListener>()
  private readonly disconnectedListeners = new Set<PeerListener>()
  private readonly bootnodes: BootnodeDialer
  private stopped = false

  private constructor(
    private readonly node: Node,
    private readonly options: P2pOptions,
    private readonly penalties: PeerPenalties,
    private readonly rateLimiter: RequestRateLimiter,
    private readonly logger: Logger,
    private readonly metrics: P2pMetrics,
  ) {
    this.peerId = node.peerId.toString()
    this.bootnodes = new BootnodeDialer(
      node,
      options.bootnodes.map((addr) => multiaddr(addr)),
      options.redialIntervalMs,
      logger,
    )
    node.addEventListener('peer:connect', (event) => this.onConnectionChange(event.detail, this.connectedListeners))
    node.addEventListener('peer:disconnect', (event) => this.onConnectionChange(event.detail, this.disconnectedListeners))
    node.services.pubsub.addEventListener('gossipsub:message', (event) => this.deliver(event.detail))
  }

  /** Loads (or creates) the identity, starts listening and starts dialling the bootnodes (without waiting for them). */
  static async start(options: Partial<P2pOptions>, deps: P2pHostDeps): Promise<P2pHost> {
    const opts = resolveP2pOptions(options)
    const privateKey = await loadOrCreateIdentity(opts.keyFile)
    const penalties = new PeerPenalties({
      threshold: opts.penaltyThreshold,
      windowMs: opts.penaltyWindowMs,
      banMs: opts.banDurationMs,
    })
    const isBanned = (peer: PeerId): boolean => penalties.isBanned(peer.toString())
    // The gossip service is built before the host that penalizes: bound once both exist.
    let host: P2pHost | undefined
    const onOversizedFrame = (peer: string): void => host?.onOversizedGossipFrame(peer)
    const node = await createLibp2p({
      // Not started by createLibp2p: listeners are attached first so no early connection goes unseen.
      start: false,
      privateKey,
      addresses: { listen: opts.listen },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionGater: {
        denyDialPeer: isBanned,
        denyInboundEncryptedConnection: isBanned,
        denyOutboundEncryptedConnection: isBanned,
      },
      services: {
        identify: identify(),
        pubsub: gossipService({
          maxMessageBytes: opts.maxMessageBytes,
          appSpecificScore: (peer) => -penalties.active(peer),
          onOversizedFrame,
        }),
      },
    })
    const logger = deps.logger.child({ module: 'p2p' })
    host = new P2pHost(
      node,
      opts,
      penalties,
      new RequestRateLimiter({ perSecond: opts.requestRatePerSecond, burst: opts.requestBurst }),
      logger,
      deps.registry === undefined ? noopP2pMetrics : createP2pMetrics(deps.registry),
    )
    await node.start()
    host.bootnodes.start()
    logger.info({ peerId: host.peerId, addrs: host.multiaddrs() }, 'p2p listening')
    return host
  }

  /** Closes every connection and listener; idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    this.bootnodes.stop()
    await this.node.stop()
    this.metrics.setConnectedPeers(0)
  }

  /** Listen addresses with the bound ports and our `/p2p/<peerId>`: what other nodes put in their bootnodes. */
  multiaddrs(): string[] {
    return this.node.getMultiaddrs().map((addr) => addr.toString())
  }

  connectedPeers(): string[] {
    return this.node.getPeers().map((peer) => peer.toString())
  }

  /**
   * Whether `peer` said it serves `protocol` (in the identify exchange that follows a connection); false while it
   * has not said, or for a peer never seen.
   */
  async serves(peer: string, protocol: string): Promise<boolean> {
    try {
      return (await this.node.peerStore.get(parsePeerId(peer))).protocols.includes(protocol)
    } catch (err) {
      if (err instanceof Error && err.name === 'NotFoundError') return false
      throw err
    }
  }

  /** Calls `listener` with each peer that gets its first connection to us; returns the unsubscribe function. */
  onPeerConnected(listener: PeerListener): () => void {
    return addListener(this.connectedListeners, listener)
  }

  /** Calls `listener` with each peer that loses its last connection to us; returns the unsubscribe function. */
  onPeerDisconnected(listener: PeerListener): () => void {
    return addListener(this.disconnectedListeners, listener)
  }

  // --- gossip ---

  subscribe(topic: string, subscription: GossipSubscription): void {
    if (this.subscriptions.has(topic)) throw new Error(`p2p: already subscribed to ${topic}`)
    this.subscriptions.set(topic, subscription)
    const pubsub = this.node.services.pubsub
    scoreTopic(pubsub, topic)
    pubsub.topicValidators.set(topic, (peer, message) => this.validate(topic, subscription, peer, message))
    pubsub.subscribe(topic)
  }

  /** Sends to the topic's peers; `recipients` is how many (0 when alone: not an error). */
  async publish(topic: string, data: Uint8Array): Promise<{ recipients: number }> {
    if (data.length > this.options.maxMessageBytes)
      throw new P2pMessageTooLargeError(topic, data.length, this.options.maxMessageBytes)
    const pubsub = this.node.services.pubsub
    // Alone on the topic (a sequencer without replicas): gossipsub would still hash the message and
    // keep it in its caches, 100 times a second; a peer that subscribes later catches up over sync.
    if (pubsub.getSubscribers(topic).length === 0) return { recipients: 0 }
    const { recipients } = await pubsub.publish(topic, data)
    this.metrics.observePublished(topic, data.length)
    return { recipients: recipients.length }
  }

  /** Peers in our gossip mesh for `topic`: those we forward its messages to. */
  meshPeers(topic: string): string[] {
    return this.node.services.pubsub.getMeshPeers(topic)
  }

  /** gossipsub's score of `peer` (negative: misbehaved; see `gossip.ts`). */
  peerScore(peer: string): number {
    return this.node.services.pubsub.getScore(peer)
  }

  private async validate(
    topic: string,
    subscription: GossipSubscription,
    peer: PeerId,
    message: Message,
  ): Promise<TopicValidatorResult> {
    const from = peer.toString()
    let result: GossipValidationResult
    if (message.data.length > this.options.maxMessageBytes) {
      result = 'reject'
    } else {
      try {
        result = await subscription.validate(message.data, from)
      } catch (err) {
        this.logger.error({ topic, from, err }, 'gossip validator threw; message ignored')
        result = 'ignore'
      }
    }
    this.metrics.observeGossipReceived(topic, result)
    if (result === 'reject') {
      this.logger.debug({ topic, from, bytes: message.data.length }, 'gossip message rejected')
      // gossipsub's own score (P4) only graylists: the peer stays connected, its traffic dropped
      // unvalidated. The application penalty gets it disconnected and refused.
      this.penalize(from, `rejected gossip on ${topic}`, this.options.gossipRejectPenalty)
    }
    return TOPIC_VALIDATOR_RESULT[result]
  }

  private deliver({ msg, propagationSource }: GossipsubMessage): void {
    const subscription = this.subscriptions.get(msg.topic)
    if (subscription === undefined) return
    const from = propagationSource.toString()
    // Through a promise so a throwing or rejecting consumer is logged, never an unhandled rejection.
    Promise.resolve()
      .then(() => subscription.onMessage(msg.data, from))
      .catch((err: unknown) => this.logger.error({ topic: msg.topic, from, err }, 'gossip consumer failed'))
  }

  // --- request/response ---

  /** Serves `protocol`: each inbound stream carries one request; a throwing handler sends its message back as a `P2pRequestError`. */
  async handle(protocol: string, handler: RequestHandler): Promise<void> {
    await this.node.handle(protocol, (incoming) => void this.serve(protocol, handler, incoming))
  }

  /** One request to `peer` (a peer id), dialling it if needed; resolves with the whole response. Rejects only with `P2pError`s. */
  async request(peer: string, protocol: string, data: Uint8Array, options: { timeoutMs?: number } = {}): Promise<Uint8Array> {
    const started = performance.now()
    try {
      const response = await sendRequest(this.node, parsePeerId(peer), protocol, data, {
        timeoutMs: options.timeoutMs ?? this.options.requestTimeoutMs,
        maxExchangeMs: Math.max(options.timeoutMs ?? 0, this.options.maxExchangeMs),
        maxResponseBytes: this.options.maxResponseBytes,
      })
      this.metrics.observeRequest(protocol, 'outbound', 'ok', seconds(started))
      return response
    } catch (err) {
      this.metrics.observeRequest(
        protocol,
        'outbound',
        err instanceof P2pError ? err.code : P2pErrorCode.ProtocolError,
        seconds(started),
      )
      throw err
    }
  }

  private async serve(protocol: string, handler: RequestHandler, { stream, connection }: IncomingStreamData): Promise<void> {
    const started = performance.now()
    const from = connection.remotePeer.toString()
    const limits = {
      maxRequestBytes: this.options.maxRequestBytes,
      idleTimeoutMs: this.options.requestTimeoutMs,
      maxExchangeMs: this.options.maxExchangeMs,
    }
    const verdict = this.rateLimiter.take(from)
    if (verdict !== 'serve') {
      this.metrics.observeRequest(protocol, 'inbound', P2pErrorCode.RateLimited, seconds(started))
      if (verdict === 'ban') this.penalize(from, 'kept requesting while rate limited', this.options.penaltyThreshold)
      // Refused without reading the request or running the handler: the cheapest answer that still
      // tells an honest requester why (it backs off), where a reset would look like a network fault.
      const message = `rate limited: over ${this.options.requestRatePerSecond} requests per second`
      await refuseRequest(stream, protocol, message, limits).catch((err: unknown) =>
        this.logger.debug({ protocol, from, err: errorMessage(err) }, 'refusal not delivered'),
      )
      return
    }
    let outcome: string = 'ok'
    try {
      const handlerError = await serveRequest(stream, protocol, from, handler, limits)
      if (handlerError !== undefined) {
        outcome = P2pErrorCode.RequestFailed
        this.logger.warn({ protocol, from, err: handlerError }, 'request handler failed')
      }
    } catch (err) {
      // serveRequest throws only P2pErrors.
      outcome = (err as P2pError).code
      this.logger.debug({ protocol, from, err: errorMessage(err) }, 'inbound request failed')
      // Only what no honest requester sends; timeouts and resets may be the network's doing.
      if (err instanceof P2pBadRequestError) this.penalize(from, err.message)
    }
    this.metrics.observeRequest(protocol, 'inbound', outcome, seconds(started))
  }

  // --- peers ---

  /** Connected peers with the remote addresses and direction of their connections (admin_peers). */
  peers(): { id: string; addrs: string[]; direction: string }[] {
    return this.node.getPeers().map((peer) => {
      const connections = this.node.getConnections(peer)
      return {
        id: peer.toString(),
        addrs: connections.map((c) => c.remoteAddr.toString()),
        direction: connections[0]?.direction ?? 'unknown',
      }
    })
  }

  /**
   * Connects to `addr` (a multiaddr with `/p2p/<peer id>`) and keeps it connected like a bootnode
   * (admin_addPeer). Rejects with `P2pDialError` when the first dial fails; retries go on regardless.
   */
  async addPeer(addr: string): Promise<string> {
    let parsed: ReturnType<typeof multiaddr>
    try {
      parsed = multiaddr(addr)
    } catch (err) {
      throw new P2pDialError(addr, { cause: err })
    }
    const peer = parsed.getPeerId()
    if (peer === null) throw new P2pDialError(addr, { cause: new Error('the multiaddr names no /p2p/<peer id>') })
    try {
      await this.bootnodes.add(parsed)
    } catch (err) {
      throw new P2pDialError(peer, { cause: err })
    }
    return peer
  }

  /** Disconnects `peer` and stops keeping it connected (admin_removePeer); false when it was neither. */
  async removePeer(peer: string): Promise<boolean> {
    const id = parsePeerId(peer)
    const kept = this.bootnodes.remove(id)
    const connected = this.node.getConnections(id).length > 0
    if (connected) await this.node.hangUp(id)
    return kept || connected
  }

  /**
   * Application-level penalty (e.g. a response that failed validation), worth `weight` ordinary ones.
   * Enough of them within the penalty window disconnect the peer and refuse it, both directions, for
   * `banDurationMs`. Active penalties also lower the peer's gossip score.
   */
  penalize(peer: string, reason: string, weight = 1): void {
    // Already banned (messages and streams still in flight when it was): nothing more to count.
    if (this.penalties.isBanned(peer)) return
    const banned = this.penalties.penalize(peer, weight)
    this.metrics.observePenalty(banned)
    this.logger.warn({ peer, reason, banned }, banned ? 'peer banned' : 'peer penalized')
    if (!banned) return
    this.node
      .hangUp(peerIdFromString(peer))
      .catch((err: unknown) => this.logger.debug({ peer, err: errorMessage(err) }, 'hang up failed'))
  }

  /**
   * A gossip frame over the frame cap: gossipsub dropped that inbound stream and forgot the peer's
   * subscriptions, while the connection stays up, a gossip peer in name only. It costs a reject's
   * penalty, and the connection is hung up so both sides start afresh: an honest peer (one whose
   * `maxMessageBytes` is larger than ours) reconnects; a rogue that does it again is banned.
   */
  private onOversizedGossipFrame(peer: string): void {
    this.penalize(peer, 'gossip frame over the frame cap', this.options.gossipRejectPenalty)
    if (this.penalties.isBanned(peer)) return
    this.node
      .hangUp(peerIdFromString(peer))
      .catch((err: unknown) => this.logger.debug({ peer, err: errorMessage(err) }, 'hang up failed'))
  }

  private onConnectionChange(peer: PeerId, listeners: Set<PeerListener>): void {
    this.metrics.setConnectedPeers(this.node.getPeers().length)
    for (const listener of listeners) {
      try {
        listener(peer.toString())
      } catch (err) {
        this.logger.error({ err }, 'peer listener failed')
      }
    }
  }
}

function addListener(listeners: Set<PeerListener>, listener: PeerListener): () => void {
  listeners.add(listener)
  return () => listeners.delete(listener)
}

function parsePeerId(peer: string): PeerId {
  try {
    return peerIdFromString(peer)
  } catch (err) {
    throw new P2pDialError(peer, { cause: err })
  }
}

function seconds(since: number): number {
  return (performance.now() - since) / 1000
}
