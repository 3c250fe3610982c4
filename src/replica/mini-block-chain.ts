import { bytesToHex } from '@ethereumjs/util'
import type { MiniBlock } from '../chain/mini-block.ts'
import type { BlockAnnouncement } from '../p2p/index.ts'
import { ReplicaFailure } from './errors.ts'

/**
 * The signed announcement names its block's last mini-block hash (what the next mini-block extends):
 * if the replica applied that mini-block, it must be the one named. A mismatch means the sequencer
 * signed two histories; a mini-block the replica never received (a block from a sync bundle) or an
 * announcement without the hash (a block stored before blocks kept it) leaves nothing to compare.
 */
export function checkAnnouncedLastHash(
  { header, miniBlocks }: BlockAnnouncement,
  applied: readonly Pick<MiniBlock, 'number' | 'hash'>[],
): void {
  const { first, count, lastHash } = miniBlocks
  if (lastHash === undefined || count === 0) return
  const lastNumber = first + BigInt(count) - 1n
  const last = applied.find((mb) => mb.number === lastNumber)
  if (last === undefined || bytesToHex(last.hash) === lastHash) return
  throw new ReplicaFailure(
    'MINI_BLOCKS_MISMATCH',
    header.number,
    `block ${header.number}: announced as ending in mini-block hash ${lastHash}, but the mini-block ${lastNumber} applied here hashes to ${bytesToHex(last.hash)}`,
  )
}
