/**
 * Stage 6, batch → block attributes (op-node `attributes.go` `PreparePayloadAttributes`): the batch's
 * transactions after the deposits of `blockAttributes` (the L1-attributes deposit, and the origin's
 * user deposits in the first block of an epoch). The sequence number follows the parent: the same
 * origin counts on, a new origin starts at 0 and must be the child of the parent's origin.
 */
import type { L1Origin } from '../chain/l1-origin.ts'
import { blockAttributes, type L2BlockAttributes } from '../chain/l2-block-attributes.ts'
import type { SingularBatch } from '../da/batch.ts'
import { reorgError } from './errors.ts'
import type { SafeBlockRef } from './safe-chain.ts'

/** @throws DerivationError (`reset`) when `epoch` does not chain to the parent's origin */
export function batchAttributes(parent: SafeBlockRef, batch: SingularBatch, epoch: L1Origin): L2BlockAttributes {
  let sequenceNumber: bigint
  if (epoch.number === parent.l1Origin.number) {
    if (epoch.hash !== parent.l1Origin.hash)
      throw reorgError(`L1 origin ${epoch.number} is ${epoch.hash}, the safe head's is ${parent.l1Origin.hash}`)
    sequenceNumber = parent.sequenceNumber + 1n
  } else {
    if (epoch.parentHash !== parent.l1Origin.hash)
      throw reorgError(
        `L1 origin ${epoch.number} (${epoch.hash}) is not the child of the safe head's origin ${parent.l1Origin.hash}`,
      )
    sequenceNumber = 0n
  }
  return blockAttributes(epoch, sequenceNumber, batch.timestamp, batch.transactions)
}
