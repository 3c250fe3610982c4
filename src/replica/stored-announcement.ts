import type { SealedBlock } from '../chain/block.ts'
import type { BlockAnnouncement } from '../p2p/index.ts'
import { SyncUnavailableError } from '../p2p/sync-server.ts'
import type { BlockStore } from '../storage/block-store.ts'

/**
 * A block this replica imported, announced again with the signature the sequencer gave it (stored with the block
 * by `importBlock` or the snapshot pivot's batch): what it serves other replicas, who accept nothing else. A block
 * without one (genesis, which nobody announces) is not served: the replica cannot vouch for it, and a requester
 * would refuse anything it signed itself.
 */
export async function storedAnnouncement(blocks: Pick<BlockStore, 'signature'>, block: SealedBlock): Promise<BlockAnnouncement> {
  const signature = await blocks.signature(block.hash)
  if (signature === undefined)
    throw new SyncUnavailableError(
      `block ${block.header.number} has no sequencer signature here (genesis, or a block this node did not import from the sequencer): this peer serves only blocks the sequencer signed; ask the sequencer`,
    )
  return { header: block.header, miniBlocks: block.miniBlocks, signature }
}
