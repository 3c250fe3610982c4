import type { P2pHost } from '../p2p/index.ts'
import { SyncServer } from '../p2p/sync-server.ts'
import type { StateSnapshots } from '../storage/state-snapshots.ts'
import type { ReplicaChain } from './block-importer.ts'
import type { Replica } from './replica.ts'
import { storedAnnouncements } from './stored-announcement.ts'

export interface ReplicaSyncServerParams {
  host: P2pHost
  opened: ReplicaChain
  snapshots: StateSnapshots
  chainId: bigint
  replica: Replica
}

/**
 * A full replica serving the sync protocol (`--sync.serve`), so a new replica can catch up or snapshot-sync
 * from it instead of the sequencer: blocks go out with the sequencer's signature it stored on import, its status
 * gives its own head and history, the transactions URL is the sequencer's (as far as it knows it), and a block's
 * witness is served once this replica verified the block with it.
 */
export function replicaSyncServer(params: ReplicaSyncServerParams): SyncServer {
  const { opened, replica } = params
  return new SyncServer({
    host: params.host,
    opened,
    snapshots: params.snapshots,
    chainId: params.chainId,
    ...storedAnnouncements(opened.blocks),
    rpcUrl: () => replica.knownSequencerRpcUrl() ?? '',
    witnessHead: () => replica.status().verified,
  })
}
