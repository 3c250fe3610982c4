export {
  P2pBadRequestError,
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
export { RequestPacer } from './rate-limit.ts'
export type { RequestHandler } from './reqresp.ts'
export { topicName, blocksTopic, miniBlocksTopic } from './topics.ts'
export {
  decodeBlockAnnouncement,
  encodeBlockAnnouncement,
  recoverAnnouncementSigner,
  signBlockAnnouncement,
  type BlockAnnouncement,
} from './block-announcement.ts'
export {
  MAX_BLOCKS_PER_REQUEST,
  MAX_MINI_BLOCKS_PER_REQUEST,
  MAX_STATE_ENTRIES_PER_REQUEST,
  decodeBlockBundles,
  decodeMiniBlockList,
  decodeStateRange,
  decodeSyncRequest,
  decodeSyncStatus,
  encodeBlockBundles,
  encodeMiniBlockList,
  encodeStateRange,
  encodeSyncRequest,
  encodeSyncStatus,
  isNotKeptAnswer,
  NOT_KEPT,
  syncProtocolId,
  type BlockBundle,
  type StateRangePage,
  type SyncRequest,
  type SyncStatus,
} from './sync-protocol.ts'
export { peerIdOfMultiaddr } from './multiaddr.ts'
