/**
 * What an L2 block takes from L1: its L1 origin (OP's "epoch"), the user deposits logged in that L1
 * block, and the rollup's system config as of that block. The sequencer builds blocks from these and
 * derivation rebuilds them from the same values read back from L1, so both live here, below either.
 */
import type { DepositTransaction } from './deposit-tx.ts'
import type { Hex } from '../primitives/state-diff.ts'

/** An L1 block's identity and place (op-node's `L1BlockRef`). */
export interface L1BlockRef {
  readonly number: bigint
  /** 32 bytes, lowercase. */
  readonly hash: Hex
  readonly parentHash: Hex
  readonly timestamp: bigint
}

/** The `SystemConfig` values L2 blocks depend on (op-node's `eth.SystemConfig`), as of one L1 block. */
export interface SystemConfigValues {
  /** bytes32, version 0: the batcher address left-padded. Only its transactions to the inbox are read. */
  readonly batcherHash: Hex
  /** Ecotone fee scalars (`scalar` version 1 packs both). */
  readonly baseFeeScalar: number
  readonly blobBaseFeeScalar: number
  /** Isthmus operator fee parameters. */
  readonly operatorFeeScalar: number
  readonly operatorFeeConstant: bigint
  /** L2 block gas limit as SystemConfig sets it (the chain's blocks use the chain config's; see docs/DESIGN.md). */
  readonly gasLimit: bigint
}

/** Everything an L2 block needs from its L1 origin. */
export interface L1Origin extends L1BlockRef {
  readonly baseFeePerGas: bigint
  /** EIP-4844 blob base fee of the L1 block (1 when it has no blob fields). */
  readonly blobBaseFee: bigint
  /** The L1 block's `mixHash` (its PREVRANDAO): the L2 blocks of the epoch take it as theirs, as OP does. */
  readonly mixHash: Hex
  /** The portal's deposits logged in this L1 block, in log order, already turned into L2 transactions. */
  readonly deposits: readonly DepositTransaction[]
  /** The system config after this L1 block's `ConfigUpdate` logs. */
  readonly systemConfig: SystemConfigValues
}

/** `{ number, hash }` of a block, as op-node's JSON names a block id. */
export interface BlockId {
  readonly number: bigint
  readonly hash: Hex
}

export function l1BlockRefOf(origin: L1BlockRef): L1BlockRef {
  return { number: origin.number, hash: origin.hash, parentHash: origin.parentHash, timestamp: origin.timestamp }
}
