/** An in-memory L1 for derivation unit tests: blocks with deposits, config changes and inbox transactions; reorgs. */
import { keccak256, toHex } from 'viem'
import type { L1BlockRef, L1Origin, SystemConfigValues } from '../../src/chain/l1-origin.ts'
import type { DepositTransaction } from '../../src/chain/deposit-tx.ts'
import { userDepositSourceHash } from '../../src/chain/deposit-tx.ts'
import type { BatcherTransaction, L1Reader } from '../../src/derive/index.ts'
import type { Hex } from '../../src/primitives/state-diff.ts'
import type { RollupConfig } from '../../src/chain/rollup-config.ts'

export interface MemoryTx {
  readonly from: Hex
  readonly to: Hex
  readonly calldata: Uint8Array
  /** A type-3 transaction's blobs (its calldata is then ignored by derivation). */
  readonly blobs?: readonly Uint8Array[]
}

export class MemoryL1 implements L1Reader {
  readonly chain: { origin: L1Origin; txs: MemoryTx[] }[] = []
  readonly byHash = new Map<Hex, { origin: L1Origin; txs: MemoryTx[] }>()
  blobs: ((ref: L1BlockRef, hashes: readonly Hex[]) => Promise<Uint8Array[]>) | undefined = undefined
  private readonly blobStore = new Map<Hex, Uint8Array>()
  /** Reads that fail once when set (to test temporary errors). */
  failNext = 0
  private salt = 0

  constructor(
    private readonly config: SystemConfigValues,
    private readonly blockTime = 2n,
    genesisTime = 1_700_000_000n,
  ) {
    this.push({ parentHash: `0x${'00'.repeat(32)}`, number: 0n, timestamp: genesisTime }, [], config, [])
  }

  get head(): L1Origin {
    return this.chain[this.chain.length - 1]!.origin
  }

  at(number: bigint): L1Origin {
    return this.chain[Number(number)]!.origin
  }

  /** Mines a block with `deposits` user deposits, inbox `txs` and optionally a new system config. */
  mine(options: { deposits?: number; txs?: MemoryTx[]; config?: Partial<SystemConfigValues> } = {}): L1Origin {
    const parent = this.head
    const config = { ...parent.systemConfig, ...options.config }
    const hash = keccak256(toHex(`${parent.hash}-${++this.salt}`))
    const deposits: DepositTransaction[] = Array.from({ length: options.deposits ?? 0 }, (_, i) => ({
      sourceHash: userDepositSourceHash(hash, i),
      from: '0x00000000000000000000000000000000000000aa',
      to: '0x00000000000000000000000000000000000000bb',
      mint: 10n ** 18n + BigInt(i),
      value: 1n,
      gas: 100_000n,
      isSystemTx: false,
      data: '0x',
    }))
    return this.push(
      { parentHash: parent.hash, number: parent.number + 1n, timestamp: parent.timestamp + this.blockTime },
      deposits,
      config,
      options.txs ?? [],
      hash,
    )
  }

  mineEmpty(count: number): void {
    for (let i = 0; i < count; i++) this.mine()
  }

  /** Drops the newest `depth` blocks (mine again to build the new fork). */
  reorg(depth: number): void {
    for (let i = 0; i < depth; i++) this.byHash.delete(this.chain.pop()!.origin.hash)
  }

  private push(
    header: { parentHash: Hex; number: bigint; timestamp: bigint },
    deposits: DepositTransaction[],
    systemConfig: SystemConfigValues,
    txs: MemoryTx[],
    hash: Hex = keccak256(toHex(`genesis-${this.config.batcherHash}`)),
  ): L1Origin {
    const origin: L1Origin = {
      ...header,
      hash,
      baseFeePerGas: 7n,
      blobBaseFee: 1n,
      mixHash: keccak256(hash),
      deposits,
      systemConfig,
    }
    const block = { origin, txs }
    this.chain.push(block)
    this.byHash.set(hash, block)
    return origin
  }

  private maybeFail(): void {
    if (this.failNext > 0) {
      this.failNext--
      throw new Error('L1 node unavailable')
    }
  }

  async headNumber(): Promise<bigint> {
    this.maybeFail()
    return this.head.number
  }

  async blockRef(number: bigint): Promise<L1BlockRef | undefined> {
    this.maybeFail()
    const block = this.chain[Number(number)]
    if (block === undefined) return undefined
    const { hash, parentHash, timestamp } = block.origin
    return { number, hash, parentHash, timestamp }
  }

  async origin(ref: L1BlockRef): Promise<L1Origin> {
    this.maybeFail()
    const block = this.byHash.get(ref.hash)
    if (block === undefined) throw new Error(`unknown block ${ref.hash}`)
    return block.origin
  }

  async batcherTransactions(ref: L1BlockRef, inbox: Hex, batcher: Hex): Promise<BatcherTransaction[]> {
    this.maybeFail()
    const block = this.byHash.get(ref.hash)
    if (block === undefined) throw new Error(`unknown block ${ref.hash}`)
    return block.txs
      .filter((tx) => tx.to === inbox && tx.from === batcher)
      .map((tx, i) => ({
        hash: keccak256(toHex(`${ref.hash}-${i}`)),
        calldata: tx.calldata,
        blobHashes: tx.blobs?.map((blob) => {
          const hash = keccak256(blob)
          this.blobStore.set(hash, blob)
          return hash
        }),
      }))
  }

  /** Serves the blobs of mined transactions (a beacon node). */
  enableBlobs(): void {
    this.blobs = async (_ref, hashes) => hashes.map((hash) => this.blobStore.get(hash)!)
  }
}

/** The batcher, batch inbox and L1 system config the derivation unit tests run a `MemoryL1` with. */
export const TEST_BATCHER: Hex = '0x00000000000000000000000000000000000000ba'
export const TEST_INBOX: Hex = '0x00ff000000000000000000000000000000000042'
export const TEST_SYSTEM_CONFIG: SystemConfigValues = {
  batcherHash: `0x${'00'.repeat(12)}${TEST_BATCHER.slice(2)}` as Hex,
  baseFeeScalar: 1368,
  blobBaseFeeScalar: 810949,
  operatorFeeScalar: 0,
  operatorFeeConstant: 0n,
  gasLimit: 30_000_000n,
}

/** A rollup anchored at `l1`'s head with short windows (an 8-block sequencing window, a 4-block channel timeout). */
export function memoryRollup(l1: MemoryL1, overrides: Partial<RollupConfig> = {}): RollupConfig {
  const g = l1.head
  return {
    genesis: {
      l1: { number: g.number, hash: g.hash },
      l2: { number: 0n, hash: keccak256(toHex('l2 genesis')) },
      l2Time: g.timestamp,
      systemConfig: TEST_SYSTEM_CONFIG,
    },
    blockTime: 1n,
    maxSequencerDrift: 20n,
    seqWindowSize: 8n,
    channelTimeout: 4n,
    l1ChainId: 900n,
    l2ChainId: 6342n,
    batchInboxAddress: TEST_INBOX,
    depositContractAddress: '0x00000000000000000000000000000000000000d0',
    l1SystemConfigAddress: '0x00000000000000000000000000000000000000c0',
    ...overrides,
  }
}
