export {
  P2pDialError,
  P2pError,
  P2pErrorCode,
  P2pKeyFileError,
  P2pMessageTooLargeError,
  P2pProtocolError,
  P2pRequestError,
  P2pResponseTooLargeError,
  P2pTimeoutError,
} from './errors.ts'
export type { ResponseBody } from './frames.ts'
export { P2pHost, type GossipSubscription, type P2pHostDeps, type PeerListener } from './host.ts'
export type { GossipValidationResult } from './gossip.ts'
export { createP2pMetrics, noopP2pMetrics, type P2pMetrics, type RequestSide } from './metrics.ts'
export { defaultP2pOptions, resolveP2pOptions, type P2pOptions } from './options.ts'
export type { RequestHandler } from './reqresp.ts'
export { topicName } from './topics.ts'
