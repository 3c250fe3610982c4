/**
 * The sequencer's side of derivation (op-node's "consolidation"): every block derived from L1 is
 * compared with the block the sequencer sealed at that height. Equal: the block is safe.
 *
 * Before production starts (`adopting`), L1 wins, as op-node reorgs its unsafe chain to the safe one:
 * a derived block that differs from the sequencer's own (its batch never reached L1 and the sequencing
 * window replaced it with a deposit-only block while the sequencer was away) makes the sequencer rewind
 * to the block's parent, journal the dropped blocks' user transactions for the pool (the pool re-checks
 * them: what no longer applies is dropped), and build the derived block; blocks L1 forced past the head
 * are built and adopted the same way. Receipts clients held for the dropped blocks are void: those
 * blocks were only unsafe (preconfirmed), never safe.
 *
 * During production a difference stays the critical alarm: the running sequencer's batches are being
 * rejected by L1, which needs an operator (rewinding under live production would drop preconfirmed
 * blocks every few seconds without fixing the cause).
 */
import { bytesToHex, equalsBytes } from '@ethereumjs/util'
import type { Logger } from 'pino'
import type { SealedBlock } from '../chain/block.ts'
import { attributesTransactions } from '../chain/l2-block-attributes.ts'
import { rewindChain, type RewindableChain } from '../storage/chain-rewind.ts'
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
  private readonly chain: ChainView

  constructor(
    private readonly opened: RewindableChain,
    private readonly safeChain: ChainSafeChain,
    private readonly build: (attributes: L2BlockAttributes) => Promise<BuiltBlock>,
    private readonly logger: Logger,
  ) {
    this.chain = opened.chain
  }

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
    if (difference === undefined) return { ref: this.safeChain.refOf(own) }
    if (!this.adopting)
      throw criticalError(
        'DERIVE_INCONSISTENT',
        `block ${derived.number}: the sequencer's block ${own.hash} is not the one L1 derives (${difference})`,
      )
    await this.rewindTo(derived, difference)
    const built = await this.build(derived.attributes)
    return { ref: this.safeChain.refOf(built.block), depositOnly: built.depositsOnly }
  }

  /** L1 overruled the sequencer's blocks from `derived.number` on: drop them (see the file comment). */
  private async rewindTo(derived: DerivedBlock, difference: string): Promise<void> {
    const result = await rewindChain(this.opened, derived.number - 1n, { requeue: true })
    if (result.head.hash !== derived.parentHash)
      throw criticalError(
        'DERIVE_INCONSISTENT',
        `block ${derived.number}: L1 derives it on parent ${derived.parentHash}, the sequencer's block ${result.head.header.number} is ${result.head.hash}`,
      )
    this.logger.error(
      {
        alarm: true,
        reason: difference,
        rewoundTo: { number: result.head.header.number.toString(), hash: result.head.hash },
        dropped: result.dropped.map((block) => ({ number: block.number.toString(), hash: block.hash, txs: block.transactions })),
        requeuedTransactions: result.userTransactions.length,
      },
      `L1 overruled sequencer blocks ${result.dropped[0]?.number}–${result.dropped.at(-1)?.number} (their batches never landed within the sequencing window): rewound to block ${result.head.header.number}; their user transactions go back to the pool`,
    )
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
