/**
 * gossipsub configuration.
 *
 * Signature policy: `StrictNoSign`. Our payloads carry their own signature by the sequencer key, which
 * is what replicas must trust; a libp2p signature would only attest which peer first published, would
 * cost an Ed25519 sign per publish and a verify per message per hop (hundreds per second at a 10 ms
 * mini-block cadence) and ~100 bytes per message. Without signatures, messages carry no author, so
 * the message id is the SHA-256 of the data (gossipsub's default for StrictNoSign): identical payloads
 * are one message whoever relays them.
 *
 * Scoring: gossipsub computes per-topic counters only for topics listed in `scoreParams.topics`, and
 * those are fixed at construction while our topics come from `subscribe()` later; `scoreTopic` adds a
 * topic's parameters to the live `PeerScore` so rejected messages count (P4) for it.
 */
import { GossipSub, type GossipSubComponents } from '@chainsafe/libp2p-gossipsub'
import { createTopicScoreParams, validateTopicScoreParams, type TopicScoreParams } from '@chainsafe/libp2p-gossipsub/score'
import { StrictNoSign, type PeerId } from '@libp2p/interface'
import { GOSSIP_FRAME_HEADROOM_BYTES } from './options.ts'

/**
 * Per-topic score parameters. P4 (invalid messages) dominates: its value is the square of the
 * decaying count of rejected messages, so with weight −20 one rejected message scores −20 (below
 * gossipsub's default gossip threshold −10; positive topic contributions are capped at +10 by the
 * default `topicScoreCap`) and three score −180 (below the graylist threshold −80: the peer's RPCs are
 * then ignored). The count decays by 0.97 per second, so a single mistake is forgotten in ~75 s.
 * P3/P3b (mesh delivery rate) are off: on our topics one sequencer produces everything and relays
 * forward it, so a relay's delivery rate says nothing about its honesty. P1/P2 give small positive
 * credit for time in mesh and first deliveries.
 */
const TOPIC_SCORE_PARAMS: Partial<TopicScoreParams> = {
  topicWeight: 1,
  timeInMeshWeight: 0.01,
  timeInMeshQuantum: 1_000,
  timeInMeshCap: 300,
  firstMessageDeliveriesWeight: 0.1,
  firstMessageDeliveriesDecay: 0.9,
  firstMessageDeliveriesCap: 50,
  meshMessageDeliveriesWeight: 0,
  meshFailurePenaltyWeight: 0,
  invalidMessageDeliveriesWeight: -20,
  invalidMessageDeliveriesDecay: 0.97,
}

/** A subscriber's verdict on a message: `reject` penalizes the sender, `ignore` just drops it. */
export type GossipValidationResult = 'accept' | 'reject' | 'ignore'

export interface GossipConfig {
  maxMessageBytes: number
  /** P5: an application score per peer (≤ 0 here: minus its active penalties), weighted ×10 by gossipsub's default. */
  appSpecificScore(peer: string): number
  /**
   * A peer sent a gossip frame over the frame cap. gossipsub drops the stream and forgets the peer's
   * subscriptions before any validator sees a message, so without this the sender pays nothing and
   * may open a new stream and send another.
   */
  onOversizedFrame(peer: string): void
}

/** it-length-prefixed's errors for a frame over `maxDataLength` or a length prefix too long to be one (by name: no exported classes). */
const OVERSIZED_FRAME_ERRORS = new Set(['InvalidDataLengthError', 'InvalidDataLengthLengthError'])

/** The libp2p service factory (typed as `GossipSub`, not the generic `PubSub`, so the host can reach the score). */
export function gossipService(config: GossipConfig): (components: GossipSubComponents) => GossipSub {
  return (components) => {
    const gossip = new GossipSub(components, {
      globalSignaturePolicy: StrictNoSign,
      // A node alone on a topic (a sequencer before any replica) publishes into the void, not into an exception.
      allowPublishToZeroTopicPeers: true,
      ignoreDuplicatePublishError: true,
      emitSelf: false,
      // gossipsub caps the length-prefixed RPC frame, not the message: leave room for the envelope.
      maxInboundDataLength: config.maxMessageBytes + GOSSIP_FRAME_HEADROOM_BYTES,
      // P6 (IP colocation) off: it lowers the score of every peer sharing an IP with more than 10
      // others, counting banned peers retained for an hour, so a Sybil rotating identities from one
      // address (or any crowd on loopback) got the honest sequencer graylisted with it. Bans are per
      // peer here (application penalties).
      scoreParams: { appSpecificScore: config.appSpecificScore, IPColocationFactorWeight: 0 },
    })
    watchOversizedFrames(gossip, config.onOversizedFrame)
    return gossip
  }
}

/**
 * Reports inbound gossip frames over the cap. gossipsub (14.x) decodes each peer's inbound stream
 * with it-length-prefixed capped at `maxInboundDataLength`; the decoder's error ends the stream's read
 * loop, whose one exit for errors is the private `handlePeerReadStreamError`. Wrapped here (element
 * access is TypeScript's sanctioned way to reach a private member) rather than forked: the original
 * still runs, only oversized frames are reported.
 */
function watchOversizedFrames(gossip: GossipSub, onOversizedFrame: (peer: string) => void): void {
  const original = gossip['handlePeerReadStreamError'].bind(gossip)
  gossip['handlePeerReadStreamError'] = (err: unknown, peerId: PeerId): void => {
    if (err instanceof Error && OVERSIZED_FRAME_ERRORS.has(err.name)) onOversizedFrame(peerId.toString())
    original(err, peerId)
  }
}

export function scoreTopic(gossip: GossipSub, topic: string): void {
  const params = createTopicScoreParams(TOPIC_SCORE_PARAMS)
  // gossipsub validates parameters given at construction only; these bypass that.
  validateTopicScoreParams(params)
  gossip.score.params.topics[topic] = params
}
