/**
 * A validator's checkpoint from L1 (issue 23): the block L1's anchor settles, checked here rather than taken from
 * a peer. The anchored output root is opened by its published preimage — `outputRootV0(stateRoot,
 * messagePasserStorageRoot, blockHash)` of the header and storage root published for it must be the root — and
 * the checkpoint is that header's block. At genesis the node's own genesis file opens it.
 */
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import type { Address, Hex, PublicClient } from 'viem'
import { type L1Anchor, readL1Anchor } from '../bridge/dispute/anchor.ts'
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
 * Reads L1's anchor and returns its block once `openAnchor` proves the anchored root is that block's output;
 * undefined when the rollup has no anchor (its portal names no AnchorStateRegistry). An L1 that does not answer
 * throws what viem throws (the validator asks again).
 */
export function l1AnchorCheckpoint(
  client: PublicClient,
  portal: Address,
  genesis: LocalGenesis,
): () => Promise<TrustedCheckpoint | undefined> {
  return async () => {
    const anchor = await readL1Anchor(client, portal)
    return anchor === undefined ? undefined : openAnchor(anchor, genesis)
  }
}

/**
 * The block `anchor` settles, proven from its preimage (or this node's genesis at block 0). A root L1 holds no
 * preimage for, or one that does not open to it, is a `ReplicaFailure`: the validator halts and says what to pass
 * instead.
 */
export function openAnchor(anchor: L1Anchor, genesis: LocalGenesis): TrustedCheckpoint {
  const root = anchor.root.toLowerCase()
  const at = `L1's anchor (block ${anchor.block}, output root ${root})`
  if (anchor.block === 0n) {
    const ours = genesis.outputRoot()
    if (ours !== root)
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
  const opened = bytesToHex(outputRootV0(fields.stateRoot, hexToBytes(anchor.preimage.messagePasserStorageRoot), blockHash))
  // The registry computed the root from this preimage; checked anyway: what is read is the event, not the root.
  if (opened !== root)
    throw new ReplicaFailure('CHECKPOINT_MISMATCH', anchor.block, `${at}: its published preimage opens to ${opened}`)
  return { number: anchor.block, hash: bytesToHex(blockHash) as Hex }
}
