/**
 * The sequencer's side of derivation (op-node's "consolidation"): every block derived from L1 is
 * compared with the block the sequencer sealed at that height. Equal: the block is safe. Different:
 * L1 says another chain than the one the sequencer served — the alarm is raised and derivation stops
 * checking (the sequencer's chain can no longer become safe). Before production starts, blocks L1
 * forced past the sequencer's head (sequencing window expired while it was away) are built and
 * adopted, so the sequencer continues the chain everyone else derives.
 */
import { bytesToHex, equalsBytes } from '@ethereumjs/util'
import type { SealedBlock } from '../chain/block.ts'
import { attributesTransactions } from '../chain/l2-block-attributes.ts'
import type { ChainView } from '../storage/chain-view.ts'
import type { BuiltBlock } from '../derive/block-builder.ts'
import type { ChainSafeChain } from '../derive/chain-safe-chain.ts'
import type { ConsumerResult, DerivedBlockConsumer } from '../derive/driver.ts'
import { criticalError } from '../derive/errors.ts'
import type { DerivedBlock, SafeBlockRef } from '../derive/safe-chain.ts'
import type { L2BlockAttributes } from '../chain/l2-block-attributes.ts'

export class SequencerConsolidation implements DerivedBlockConsumer {
  /** Until production starts, forced blocks past the head are built here (see `adopt`). */
  private adopting = true

  constructor(
    private readonly chain: ChainView,
    private readonly safeChain: ChainSafeChain,
    private readonly build: (attributes: L2BlockAttributes) => Promise<BuiltBlock>,
  ) {}

  /** Production starts: from now on the sequencer's own blocks are the only ones the chain takes. */
  stopAdopting(): void {
    this.adopting = false
  }

  async apply(derived: DerivedBlock): Promise<ConsumerResult> {
    const own = await this.chain.blockByNumber(derived.number)
    if (own === undefined) {
      if (!this.adopting || derived.number !== this.chain.head.header.number + 1n) return 'wait'
      const built = await this.build(derived.attributes)
      return { ref: this.safeChain.refOf(built.block), depositOnly: built.depositsOnly }
    }
    const difference = differenceFrom(own, derived)
    if (difference !== undefined)
      throw criticalError(
        'DERIVE_INCONSISTENT',
        `block ${derived.number}: the sequencer's block ${own.hash} is not the one L1 derives (${difference})`,
      )
    return { ref: this.safeChain.refOf(own) }
  }

  /** The sequencer's blocks stay as they are; only the safe head moved back (derivation re-checks them). */
  async rewind(_to: SafeBlockRef): Promise<void> {}
}

/** How `block` differs from what derivation says it must be, if it does. */
function differenceFrom(block: SealedBlock, derived: DerivedBlock): string | undefined {
  const { attributes } = derived
  if (block.header.timestamp !== attributes.timestamp)
    return `timestamp ${block.header.timestamp}, L1 says ${attributes.timestamp}`
  if (bytesToHex(block.header.parentHash) !== derived.parentHash) return `parent ${bytesToHex(block.header.parentHash)}`
  if (!equalsBytes(block.header.mixHash, attributes.prevRandao)) return 'PREVRANDAO differs from its L1 origin'
  const expected = attributesTransactions(attributes)
  if (expected.length !== block.transactions.length)
    return `${block.transactions.length} transactions, L1 says ${expected.length}`
  const index = expected.findIndex((raw, i) => !equalsBytes(raw, block.transactions[i]!))
  return index === -1 ? undefined : `transaction ${index} differs`
}
