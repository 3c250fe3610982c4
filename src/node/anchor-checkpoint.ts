/**
 * A validator's checkpoint from L1 (issue 23): the block L1's anchor settles, checked here rather than taken from
 * a peer. The anchored output root is opened by its published preimage — `outputRootV0(stateRoot,
 * messagePasserStorageRoot, blockHash)` of the header and storage root published for it must be the root — and
 * the checkpoint is that header's block. At genesis the node's own genesis file opens it.
 */
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import type { Address, Hex, PublicClient } from 'viem'
import { readL1Anchor } from '../bridge/dispute/anchor.ts'
import { keccak256 } from '../crypto/native.ts'
import { readHeaderFields } from '../prover/trace/header-fields.ts'
import { ReplicaFailure } from '../replica/errors.ts'
import type { TrustedCheckpoint } from '../replica/options.ts'
import { outputRootV0 } from '../rpc/optimism-methods.ts'

export interface LocalGenesis {
  hash(): Hex
  outputRoot(): Hex
}

/**
 * Reads L1's anchor and returns its block once the anchored root is proven to be that block's output. A root L1
 * holds no preimage for, or one that does not open, is a `ReplicaFailure` (the validator halts and says what to
 * pass instead); an L1 that does not answer throws what viem throws (asked again).
 */
export function l1AnchorCheckpoint(
  client: PublicClient,
  portal: Address,
  genesis: LocalGenesis,
): () => Promise<TrustedCheckpoint> {
  return async () => {
    const anchor = await readL1Anchor(client, portal)
    const at = `L1's anchor (block ${anchor.block}, output root ${anchor.root})`
    if (anchor.block === 0n) {
      const ours = genesis.outputRoot()
      if (ours !== anchor.root.toLowerCase())
        throw new ReplicaFailure(
          'CHECKPOINT_MISMATCH',
          0n,
          `${at} is not this node's genesis output ${ours}: wrong --rollup.config or --genesis`,
        )
      return { number: 0n, hash: genesis.hash() }
    }
    if (anchor.preimage === undefined)
      throw new ReplicaFailure(
        'CHECKPOINT_UNAVAILABLE',
        anchor.block,
        `${at} has no published preimage on L1 (its games' VM keeps no output registry, or the root was never published), so its block hash cannot be checked: pass --replica.checkpoint=<number>:<block hash>`,
      )
    const header = hexToBytes(anchor.preimage.header)
    const fields = readHeaderFields(header)
    if (fields === undefined || fields.number !== anchor.block)
      throw new ReplicaFailure('CHECKPOINT_MISMATCH', anchor.block, `${at}: the published preimage is not a header of that block`)
    const blockHash = keccak256(header)
    const opened = bytesToHex(
      outputRootV0(fields.stateRoot, hexToBytes(anchor.preimage.messagePasserStorageRoot), blockHash),
    ) as Hex
    // The registry computed the root from this preimage; checked anyway: the event is what is read, not the root.
    if (opened !== anchor.root.toLowerCase())
      throw new ReplicaFailure('CHECKPOINT_MISMATCH', anchor.block, `${at}: its published preimage opens to ${opened}`)
    return { number: anchor.block, hash: bytesToHex(blockHash) as Hex }
  }
}
