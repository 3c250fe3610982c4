/**
 * The node's own chain as derivation's `SafeChain`: block refs come from the stored blocks (their
 * L1-attributes deposit names the origin and sequence number), the safe head is the newest block
 * derivation has confirmed or built, and the system config of a block is what its L1-attributes
 * carried. Shared by the sequencer (which compares derived blocks with its own) and a `--sync=l1`
 * replica (which builds them).
 */
import type { SealedBlock } from '../chain/block.ts'
import type { BlockId, SystemConfigValues } from '../chain/l1-origin.ts'
import type { L1BlockInfo, L1BlockInfoIsthmus } from '../chain/l1-info.ts'
import { blockL1Info } from '../chain/l2-block-attributes.ts'
import type { RollupConfig } from '../chain/rollup-config.ts'
import type { ChainView } from '../storage/chain-view.ts'
import type { SafeBlockRef, SafeChain } from './safe-chain.ts'

export class ChainSafeChain implements SafeChain {
  /** The L1 block a safe block was derived from, where known (the starting block's: its origin). */
  private readonly derived = new Map<bigint, BlockId>()
  private safe = 0n

  constructor(
    private readonly chain: ChainView,
    private readonly rollup: RollupConfig,
    /** Blocks built but not in the chain view yet (`DerivedCommitQueue.queued`): they are safe blocks too. */
    private readonly queued?: (number: bigint) => SealedBlock | undefined,
  ) {}

  /** Derivation starts after block `number`, derived from L1 block `from` (a restarted `--sync=l1` replica's head). */
  markSafe(number: bigint, from: BlockId): void {
    this.safe = number
    this.derived.set(number, from)
  }

  async safeHead(): Promise<SafeBlockRef> {
    const ref = await this.blockRef(this.safe)
    if (ref === undefined) throw new Error(`safe block ${this.safe} is not in the chain`)
    return ref
  }

  async blockRef(number: bigint): Promise<SafeBlockRef | undefined> {
    const block = this.queued?.(number) ?? (await this.chain.blockByNumber(number))
    return block === undefined ? undefined : this.refOf(block)
  }

  async systemConfig(number: bigint): Promise<SystemConfigValues> {
    const block = this.queued?.(number) ?? (await this.chain.blockByNumber(number))
    const info = block === undefined ? undefined : blockL1Info(block.transactions)
    if (info === undefined) return this.rollup.genesis.systemConfig
    return {
      batcherHash: info.batcherHash,
      baseFeeScalar: info.baseFeeScalar,
      blobBaseFeeScalar: info.blobBaseFeeScalar,
      operatorFeeScalar: isIsthmus(info) ? info.operatorFeeScalar : 0,
      operatorFeeConstant: isIsthmus(info) ? info.operatorFeeConstant : 0n,
      // L1-attributes do not carry the gas limit, and our blocks do not use it (see docs/DESIGN.md).
      gasLimit: this.rollup.genesis.systemConfig.gasLimit,
    }
  }

  async derivedFrom(number: bigint): Promise<BlockId | undefined> {
    return this.derived.get(number)
  }

  refOf(block: SealedBlock): SafeBlockRef {
    const info = blockL1Info(block.transactions)
    return {
      number: block.header.number,
      hash: block.hash,
      timestamp: block.header.timestamp,
      l1Origin: info === undefined ? this.rollup.genesis.l1 : { number: info.number, hash: info.hash },
      sequenceNumber: info?.sequenceNumber ?? 0n,
    }
  }
}

function isIsthmus(info: L1BlockInfo | L1BlockInfoIsthmus): info is L1BlockInfoIsthmus {
  return 'operatorFeeScalar' in info
}
