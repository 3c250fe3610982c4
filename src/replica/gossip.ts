import type { MiniBlock } from '../chain/mini-block.ts'
import type { BlockAnnouncement, GossipSubscription } from '../p2p/index.ts'
import type { SequencerAuthenticator } from './sync-client.ts'

/**
 * Gossip subscriptions whose validator authenticates each message (decode, hash, sequencer
 * signature): anything else is rejected before it is forwarded, and its sender penalized. The
 * decoded value is handed to `deliver` without decoding twice.
 */
function authenticated<T>(authenticate: (bytes: Uint8Array) => T, deliver: (value: T) => void): GossipSubscription {
  const checked = new WeakMap<Uint8Array, T>()
  return {
    validate(data) {
      try {
        checked.set(data, authenticate(data))
        return 'accept'
      } catch {
        return 'reject'
      }
    },
    onMessage(data) {
      deliver(checked.get(data) ?? authenticate(data))
    },
  }
}

export function miniBlockSubscription(auth: SequencerAuthenticator, deliver: (block: MiniBlock) => void): GossipSubscription {
  return authenticated((bytes) => auth.miniBlock(bytes), deliver)
}

export function announcementSubscription(
  auth: SequencerAuthenticator,
  deliver: (announcement: BlockAnnouncement) => void,
): GossipSubscription {
  return authenticated((bytes) => auth.announcement(bytes), deliver)
}
