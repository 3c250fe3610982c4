/**
 * P2P metrics. The host depends only on the `P2pMetrics` interface; `createP2pMetrics` backs it with
 * prom-client. Label values are topics and protocol ids our own code registers, and outcome codes:
 * bounded, never chosen by a remote.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import type { GossipValidationResult } from './gossip.ts'

/** `inbound`: we served the request; `outbound`: we made it. */
export type RequestSide = 'inbound' | 'outbound'

export interface P2pMetrics {
  setConnectedPeers(count: number): void
  observeGossipReceived(topic: string, result: GossipValidationResult): void
  observePublished(topic: string, bytes: number): void
  /** `outcome` is `ok` or a `P2pError` code. */
  observeRequest(protocol: string, side: RequestSide, outcome: string, seconds: number): void
  observePenalty(banned: boolean): void
}

export const noopP2pMetrics: P2pMetrics = {
  setConnectedPeers() {},
  observeGossipReceived() {},
  observePublished() {},
  observeRequest() {},
  observePenalty() {},
}

// Loopback round trips sit in the first buckets; multi-MiB responses over a WAN in the tail.
const REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

export function createP2pMetrics(registry: Registry): P2pMetrics {
  const registers = [registry]
  const peers = new Gauge({ name: 'megaeth_p2p_connected_peers', help: 'Peers with at least one open connection', registers })
  const received = new Counter({
    name: 'megaeth_p2p_gossip_received_total',
    help: 'Gossip messages received, by topic and validation result',
    labelNames: ['topic', 'result'],
    registers,
  })
  const published = new Counter({
    name: 'megaeth_p2p_gossip_published_total',
    help: 'Gossip messages published, by topic',
    labelNames: ['topic'],
    registers,
  })
  const publishedBytes = new Counter({
    name: 'megaeth_p2p_gossip_published_bytes_total',
    help: 'Gossip bytes published, by topic',
    labelNames: ['topic'],
    registers,
  })
  const requests = new Counter({
    name: 'megaeth_p2p_requests_total',
    help: 'Requests served (inbound) and made (outbound), by protocol and outcome (ok or error code)',
    labelNames: ['protocol', 'side', 'outcome'],
    registers,
  })
  const latency = new Histogram({
    name: 'megaeth_p2p_request_duration_seconds',
    help: 'Request duration until the whole response is sent (inbound) or received (outbound)',
    labelNames: ['protocol', 'side'],
    buckets: REQUEST_BUCKETS,
    registers,
  })
  const penalties = new Counter({
    name: 'megaeth_p2p_peer_penalties_total',
    help: 'Application penalties applied to peers',
    registers,
  })
  const bans = new Counter({
    name: 'megaeth_p2p_peer_bans_total',
    help: 'Peers disconnected and banned for accumulated penalties',
    registers,
  })
  return {
    setConnectedPeers(count) {
      peers.set(count)
    },
    observeGossipReceived(topic, result) {
      received.inc({ topic, result })
    },
    observePublished(topic, bytes) {
      published.inc({ topic })
      publishedBytes.inc({ topic }, bytes)
    },
    observeRequest(protocol, side, outcome, seconds) {
      requests.inc({ protocol, side, outcome })
      latency.observe({ protocol, side }, seconds)
    },
    observePenalty(banned) {
      penalties.inc()
      if (banned) bans.inc()
    },
  }
}
