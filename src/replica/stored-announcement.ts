import type { SealedBlock } from '../chain/block.ts'
import type { BlockAnnouncement } from '../p2p/index.ts'
import { SyncUnavailableError, type SyncServerModules } from '../p2p/sync-server.ts'
import type { BlockStore } from '../storage/block-store.ts'

/**
 * A block this replica imported, announced again with the signature the sequencer gave it (stored with the block
 * by `importBlock` or the snapshot pivot's batch): what it serves other replicas, who accept nothing else. A block
 * without one (genesis, which nobody announces; a block imported before replicas kept signatures) is not served:
 * the replica cannot vouch for it, and a requester would refuse anything it signed itself.
 */
export async function storedAnnouncement(blocks: Pick<BlockStore, 'signature'>, block: SealedBlock): Promise<BlockAnnouncement> {
  const number = block.header.number
  const signature = await blocks.signature(number)
  if (signature === undefined)
    throw new SyncUnavailableError(
      `block ${number} has no sequencer signature here (genesis, or imported before replicas kept signatures): this peer serves only blocks the sequencer signed; sync them from the sequencer`,
    )
  return { header: block.header, miniBlocks: block.miniBlocks, signature }
}

/** How a replica's `SyncServer` announces blocks: with the signatures it stored, from the oldest it keeps. */
export function storedAnnouncements(
  blocks: Pick<BlockStore, 'signature' | 'oldestSignature'>,
): Pick<SyncServerModules, 'announcement' | 'announcedFrom'> {
  return { announcement: (block) => storedAnnouncement(blocks, block), announcedFrom: () => blocks.oldestSignature() }
}
