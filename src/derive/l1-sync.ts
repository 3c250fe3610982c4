/**
 * A `--sync=l1` replica's side of derivation: it trusts nothing but L1, so every derived block is
 * built here (executed on the replica's own state) and becomes the chain. An L1 reorg that takes the
 * data of blocks already built rewinds the chain to the newest block L1 still backs (`rewindChain`:
 * stores, flat state and state trie) and the pipeline rebuilds from there on the new L1 chain. Past
 * `--state.rewind-depth` blocks the rewind fails with a critical error naming the fix.
 */
import type { Logger } from 'pino'
import type { SealedBlock } from '../chain/block.ts'
import { rewindChain, type RewindableChain } from '../storage/chain-rewind.ts'
import type { ChainView } from '../storage/chain-view.ts'
import type { BuiltBlock } from './block-builder.ts'
import type { ChainSafeChain } from './chain-safe-chain.ts'
import type { ConsumerResult, DerivedBlockConsumer } from './driver.ts'
import { criticalError } from './errors.ts'
import type { DerivedBlock, SafeBlockRef } from './safe-chain.ts'
import type { L2BlockAttributes } from '../chain/l2-block-attributes.ts'

export class L1SyncConsumer implements DerivedBlockConsumer {
  private readonly chain: ChainView

  constructor(
    private readonly opened: RewindableChain,
    private readonly safeChain: ChainSafeChain,
    private readonly build: (attributes: L2BlockAttributes) => Promise<BuiltBlock>,
    private readonly logger: Logger,
    /** Where the next build goes (its parent's write may still be queued) and the wait for those writes. */
    private readonly built: { head: () => SealedBlock; settled: () => Promise<void> },
  ) {
    this.chain = opened.chain
  }

  async apply(derived: DerivedBlock): Promise<ConsumerResult> {
    const head = this.built.head()
    if (derived.number !== head.header.number + 1n || derived.parentHash !== head.hash)
      throw criticalError(
        'DERIVE_INCONSISTENT',
        `derived block ${derived.number} (parent ${derived.parentHash}) does not extend this replica's head ${head.header.number} (${head.hash})`,
      )
    const built = await this.build(derived.attributes)
    return { ref: this.safeChain.refOf(built.block), depositOnly: built.depositsOnly }
  }

  async rewind(to: SafeBlockRef): Promise<void> {
    // Rewinding reads and rewrites the stores: every built block must be in them first.
    await this.built.settled()
    if (to.number >= this.chain.head.header.number) return
    const result = await rewindChain(this.opened, to.number)
    if (result.head.hash !== to.hash)
      throw criticalError(
        'DERIVE_RESET_FAILED',
        `rewound to block ${to.number} (${result.head.hash}), derivation expects ${to.hash}`,
      )
    this.logger.warn(
      {
        alarm: true,
        rewoundTo: { number: to.number.toString(), hash: to.hash },
        dropped: result.dropped.map((block) => ({ number: block.number.toString(), hash: block.hash, txs: block.transactions })),
      },
      `an L1 reorg took the batches of blocks ${result.dropped[0]?.number}–${result.dropped.at(-1)?.number}: rewound to block ${to.number}, rebuilding from the new L1 chain`,
    )
  }
}
