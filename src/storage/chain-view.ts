import { EventEmitter } from 'node:events'
import type { SealedBlock } from '../chain/block.ts'
import type { L2Transaction } from '../chain/l2-transaction.ts'
import type { MiniBlock } from '../chain/mini-block.ts'
import type { TxReceipt } from '../chain/receipt.ts'
import type { Hex } from '../primitives/state-diff.ts'
import type { PinnedState, StateHistory } from '../state/state-history.ts'
import type { StateReader } from '../state/state-reader.ts'
import type { BlockStore } from './block-store.ts'
import type { LogQuery } from './log-index.ts'

/** A transaction as the RPC layer sees it: where it landed, and its receipt. */
export interface IncludedTx {
  tx: L2Transaction
  receipt: TxReceipt
  /** `null` until its EVM block is sealed (MegaETH's realtime receipts do the same). */
  blockHash: Hex | null
}

/**
 * A transaction of a mini-block, its ethereumjs object built on first `.tx` access: only RPC lookups
 * and `miniBlocks` subscribers need one, and building it for every transaction cost the sequencer's
 * main thread more than executing a transfer.
 */
export interface TxSource {
  readonly tx: L2Transaction
}

/** A `TxSource` that decodes `raw` on first use. */
export function lazyTxSource(raw: Uint8Array, decode: (raw: Uint8Array) => L2Transaction): TxSource {
  let tx: L2Transaction | undefined
  return {
    get tx(): L2Transaction {
      tx ??= decode(raw)
      return tx
    },
  }
}

export interface ChainEventMap {
  miniBlock: [block: MiniBlock, txs: readonly TxSource[]]
  block: [block: SealedBlock]
  /** The chain was rewound: `head` is the new head, the blocks after it are gone (see `storage/chain-rewind.ts`). */
  rewind: [head: SealedBlock]
}

/** How much of the chain stays decoded in memory for RPC; the rest is read from LevelDB. */
export interface RecentWindow {
  blocks: number
  /** Transactions in those blocks; the newest block always stays, however large. */
  transactions: number
}

/**
 * 256 blocks, but at most 32,768 transactions: a decoded transaction with its receipt holds ~0.9 KB of
 * heap (heap snapshots of a soak: the live heap followed the transactions in this window, 0.87 KB
 * each), so a window of blocks alone would follow throughput, ~450 MB at 2,000 tx/s. The budget caps
 * it near 30 MB.
 */
export const DEFAULT_RECENT_WINDOW: Readonly<RecentWindow> = Object.freeze({ blocks: 256, transactions: 32_768 })

/**
 * The node's view of its chain: sealed blocks (LevelDB, with a window of recent ones decoded in
 * memory), the unsealed mini-blocks on top, and the state at each. Shared by every role: the
 * sequencer feeds it what it produces, a replica what it receives; JSON-RPC only reads it.
 */
export class ChainView {
  readonly events = new EventEmitter<ChainEventMap>()
  private readonly recent = new Map<bigint, SealedBlock>()
  private readonly recentByHash = new Map<Hex, SealedBlock>()
  /** Transactions in the blocks of `recent`. */
  private recentTransactions = 0
  private readonly pendingTxs = new Map<Hex, { source: TxSource; receipt: TxReceipt }>()
  private pendingMiniBlocks: MiniBlock[] = []
  private sealedHead: SealedBlock
  private tip: MiniBlock | undefined
  private frozen: SealedBlock | undefined
  private l1Heads: { safe: bigint; finalized: bigint } | undefined

  constructor(
    private readonly blocks: BlockStore,
    readonly genesisHash: Hex,
    head: SealedBlock,
    readonly state: StateHistory,
    private readonly window: Readonly<RecentWindow> = DEFAULT_RECENT_WINDOW,
  ) {
    this.events.setMaxListeners(0)
    this.sealedHead = head
    this.remember(head)
  }

  /** The newest sealed EVM block (the freeze point, once frozen). */
  get head(): SealedBlock {
    return this.frozen ?? this.sealedHead
  }

  /**
   * With L1: the newest block derived from L1 (`safe`) and from finalized L1 blocks (`finalized`), as
   * derivation reports them. Without L1 (or before derivation reports) both tags name the sealed head:
   * a pure-L2 chain has nothing else to wait for.
   */
  setL1Heads(heads: { safe: bigint; finalized: bigint }): void {
    this.l1Heads = heads
  }

  /** The block number the `safe` tag names. */
  get safeNumber(): bigint {
    return minBigint(this.l1Heads?.safe ?? this.head.header.number, this.head.header.number)
  }

  /** The block number the `finalized` tag names. */
  get finalizedNumber(): bigint {
    return minBigint(this.l1Heads?.finalized ?? this.head.header.number, this.safeNumber)
  }

  /** The newest mini-block, sealed or not (none once frozen). */
  get latestMiniBlock(): MiniBlock | undefined {
    return this.frozen === undefined ? this.tip : undefined
  }

  /** Mini-blocks not yet part of a sealed EVM block, oldest first. */
  get unsealedMiniBlocks(): readonly MiniBlock[] {
    return this.frozen === undefined ? this.pendingMiniBlocks : []
  }

  /** The EVM block number mini-blocks are currently being added to. */
  get pendingBlockNumber(): bigint {
    if (this.frozen !== undefined) return this.frozen.header.number + 1n
    return this.tip !== undefined && this.tip.blockNumber > this.sealedHead.header.number
      ? this.tip.blockNumber
      : this.sealedHead.header.number + 1n
  }

  /**
   * From now on the view ends at sealed block `number`: later blocks, unsealed mini-blocks and their
   * transactions disappear and `latest` state is that block's. A replica that refused a block
   * freezes at its last verified one, so it never serves state it could not verify.
   */
  async freezeAt(number: bigint): Promise<void> {
    const block = await this.blockByNumber(number)
    if (block === undefined) throw new Error(`cannot freeze at block ${number}: not sealed`)
    this.frozen = block
  }

  addMiniBlock(block: MiniBlock, txs: readonly TxSource[]): void {
    this.pendingMiniBlocks.push(block)
    this.tip = block
    txs.forEach((source, i) => this.pendingTxs.set(block.receipts[i]!.transactionHash, { source, receipt: block.receipts[i]! }))
    this.events.emit('miniBlock', block, txs)
  }

  addSealedBlock(block: SealedBlock): void {
    const { first, count } = block.miniBlocks
    const last = first + BigInt(count)
    this.pendingMiniBlocks = this.pendingMiniBlocks.filter((mb) => mb.number < first || mb.number >= last)
    for (const receipt of block.receipts) this.pendingTxs.delete(receipt.transactionHash)
    this.sealedHead = block
    this.state.durable(block.header.number)
    this.remember(block)
    this.events.emit('block', block)
  }

  /**
   * The stores were rewound to `head` (`rewindChain`): the view forgets the blocks after it and any
   * unsealed mini-blocks (they were built on the dropped blocks), and serves `head` as the newest block.
   */
  rewindTo(head: SealedBlock): void {
    const number = head.header.number
    for (const [n, block] of this.recent) if (n > number) this.forget(n, block)
    this.pendingMiniBlocks = []
    this.pendingTxs.clear()
    this.tip = undefined
    if (this.frozen !== undefined && this.frozen.header.number > number) this.frozen = head
    this.sealedHead = head
    this.state.durable(number)
    this.remember(head)
    this.events.emit('rewind', head)
  }

  /** What the in-memory window of recent sealed blocks holds (the rest of the chain is read from LevelDB). */
  get recentWindow(): RecentWindow {
    return { blocks: this.recent.size, transactions: this.recentTransactions }
  }

  private remember(block: SealedBlock): void {
    const number = block.header.number
    const known = this.recent.get(number)
    if (known !== undefined) this.forget(number, known)
    this.recent.set(number, block)
    this.recentByHash.set(block.hash, block)
    this.recentTransactions += block.transactions.length
    // Blocks are remembered in increasing order (a rewind drops the newest), so the first is the oldest.
    for (const [oldest, old] of this.recent) {
      if (this.recent.size <= 1) break
      if (this.recent.size <= this.window.blocks && this.recentTransactions <= this.window.transactions) break
      this.forget(oldest, old)
    }
  }

  private forget(number: bigint, block: SealedBlock): void {
    this.recent.delete(number)
    this.recentByHash.delete(block.hash)
    this.recentTransactions -= block.transactions.length
  }

  async blockByNumber(number: bigint): Promise<SealedBlock | undefined> {
    if (number > this.head.header.number) return undefined
    return this.recent.get(number) ?? (await this.blocks.block(number))
  }

  async blockByHash(hash: Hex): Promise<SealedBlock | undefined> {
    const cached = this.recentByHash.get(hash)
    if (cached !== undefined) return cached.header.number <= this.head.header.number ? cached : undefined
    const number = await this.blocks.numberOf(hash)
    return number === undefined ? undefined : this.blockByNumber(number)
  }

  async transaction(hash: Hex, decode: (raw: Uint8Array) => L2Transaction): Promise<IncludedTx | undefined> {
    const pending = this.frozen === undefined ? this.pendingTxs.get(hash) : undefined
    if (pending !== undefined) return { tx: pending.source.tx, receipt: pending.receipt, blockHash: null }
    const location = await this.blocks.txLocation(hash)
    if (location === undefined) return undefined
    const block = await this.blockByNumber(location.blockNumber)
    if (block === undefined) return undefined
    return { tx: decode(block.transactions[location.index]!), receipt: block.receipts[location.index]!, blockHash: block.hash }
  }

  /**
   * A transaction's receipt and its block's hash (`null` until sealed), without decoding its block: the
   * index entry carries the receipt. Entries written before it did are answered through the block.
   */
  async receipt(hash: Hex): Promise<{ receipt: TxReceipt; blockHash: Hex | null } | undefined> {
    const pending = this.frozen === undefined ? this.pendingTxs.get(hash) : undefined
    if (pending !== undefined) return { receipt: pending.receipt, blockHash: null }
    const location = await this.blocks.txLocation(hash)
    if (location === undefined || location.blockNumber > this.head.header.number) return undefined
    const recent = this.recent.get(location.blockNumber)
    if (recent !== undefined) return { receipt: recent.receipts[location.index]!, blockHash: recent.hash }
    if (location.receipt === undefined) {
      const block = await this.blockByNumber(location.blockNumber)
      return block === undefined ? undefined : { receipt: block.receipts[location.index]!, blockHash: block.hash }
    }
    const blockHash = await this.blocks.hashOf(location.blockNumber)
    return blockHash === undefined ? undefined : { receipt: location.receipt, blockHash }
  }

  /** Sealed blocks that may hold logs matching `query` (log index); undefined = every block in range. */
  candidateLogBlocks(query: LogQuery): Promise<bigint[] | undefined> {
    return this.blocks.candidateLogBlocks(query)
  }

  /** State at the newest mini-block (`latest`/`pending`). */
  latestState(): StateReader {
    return this.frozen === undefined ? this.state.live : this.state.at(this.frozen.header.number)
  }

  /** State at the end of sealed block `number`. */
  stateAtBlock(number: bigint): StateReader {
    return this.state.at(number)
  }

  /**
   * `latestState()` (no `number`) or `stateAtBlock(number)` as it is now, unchanged by the
   * mini-blocks applied until it is released (see `StateHistory.pin`).
   */
  pinState(number?: bigint): PinnedState {
    return this.state.pin(number ?? this.frozen?.header.number)
  }
}

function minBigint(a: bigint, b: bigint): bigint {
  return a < b ? a : b
}
