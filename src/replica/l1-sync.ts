/**
 * A `--sync=l1` replica's side of derivation: it trusts nothing but L1, so every derived block is
 * built here (executed on the replica's own state) and becomes the chain. An L1 reorg that takes the
 * data of blocks already built cannot be undone (the state does not roll back): the replica reads L1
 * only `--l1.confirmations` blocks behind its head, and a deeper reorg stops it with a clear error.
 */
import type { ChainView } from '../storage/chain-view.ts'
import type { BuiltBlock } from '../derive/block-builder.ts'
import type { ChainSafeChain } from '../derive/chain-safe-chain.ts'
import type { ConsumerResult, DerivedBlockConsumer } from '../derive/driver.ts'
import { criticalError } from '../derive/errors.ts'
import type { DerivedBlock, SafeBlockRef } from '../derive/safe-chain.ts'
import type { L2BlockAttributes } from '../chain/l2-block-attributes.ts'

export class L1SyncConsumer implements DerivedBlockConsumer {
  constructor(
    private readonly chain: ChainView,
    private readonly safeChain: ChainSafeChain,
    private readonly build: (attributes: L2BlockAttributes) => Promise<BuiltBlock>,
  ) {}

  async apply(derived: DerivedBlock): Promise<ConsumerResult> {
    const head = this.chain.head
    if (derived.number !== head.header.number + 1n || derived.parentHash !== head.hash)
      throw criticalError(
        'DERIVE_INCONSISTENT',
        `derived block ${derived.number} (parent ${derived.parentHash}) does not extend this replica's head ${head.header.number} (${head.hash})`,
      )
    const built = await this.build(derived.attributes)
    return { ref: this.safeChain.refOf(built.block), depositOnly: built.depositsOnly }
  }

  async rewind(to: SafeBlockRef): Promise<void> {
    const head = this.chain.head.header.number
    if (to.number < head)
      throw criticalError(
        'DERIVE_RESET_FAILED',
        `an L1 reorg took the data of blocks ${to.number + 1n}–${head}, which this replica already built; it cannot roll back — restart it on a fresh datadir, and run with more --l1.confirmations`,
      )
  }
}
