import type { MiniBlock } from '../chain/mini-block.ts'
import type { BlockAnnouncement, GossipSubscription } from '../p2p/index.ts'
import type { SequencerAuthenticator } from './sync-client.ts'

/**
 * Gossip subscriptions whose validator authenticates each message (decode, hash, sequencer
 * signature): anything else is rejected before it is forwarded, and its sender penalized. An
 * authentic message this replica is already past (`stale`: a replay of old history, or one that
 * arrived late) is ignored: not forwarded, so replays do not travel the mesh, and not penalized,
 * since an honest relay may just be slow. The decoded value is handed to `deliver` without decoding
 * twice.
 */
function authenticated<T>(
  authenticate: (bytes: Uint8Array) => T,
  stale: (value: T) => boolean,
  deliver: (value: T) => void,
): GossipSubscription {
  const checked = new WeakMap<Uint8Array, T>()
  return {
    validate(data) {
      let value: T
      try {
        value = authenticate(data)
      } catch {
        return 'reject'
      }
      if (stale(value)) return 'ignore'
      checked.set(data, value)
      return 'accept'
    },
    onMessage(data) {
      deliver(checked.get(data) ?? authenticate(data))
    },
  }
}

/** `next`: the number of the next mini-block the replica needs; older ones are stale. */
export function miniBlockSubscription(
  auth: SequencerAuthenticator,
  next: () => bigint,
  deliver: (block: MiniBlock) => void,
): GossipSubscription {
  return authenticated(
    (bytes) => auth.miniBlock(bytes),
    (block) => block.number < next(),
    deliver,
  )
}

/** `head`: the newest block the replica has; announcements up to it are stale. */
export function announcementSubscription(
  auth: SequencerAuthenticator,
  head: () => bigint,
  deliver: (announcement: BlockAnnouncement) => void,
): GossipSubscription {
  return authenticated(
    (bytes) => auth.announcement(bytes),
    (announcement) => announcement.header.number <= head(),
    deliver,
  )
}
