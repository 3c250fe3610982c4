/**
 * `L1Reader` over a viem client of an L1 RPC node: `eth_blockNumber`, `eth_getBlockByNumber` for refs,
 * `eth_getBlockByHash` (with transactions, filtered by `to` = inbox and `from` = batcher), and
 * `eth_getLogs` by block hash for the portal's deposits and SystemConfig's updates. Blobs come from an
 * optional `BlobSource`. Origins are read by `src/bridge/l1-fetch.ts`, as the sequencer's L1 watcher reads them.
 */
import { BlockNotFoundError } from 'viem'
import { getBlock, getBlockNumber } from 'viem/actions'
import { hexToBytes } from '@ethereumjs/util'
import { fetchL1Origin, type L1Client, type L1OriginOptions } from '../bridge/l1-fetch.ts'
import type { L1BlockRef, L1Origin, SystemConfigValues } from '../chain/l1-origin.ts'
import type { RollupConfig } from '../chain/rollup-config.ts'
import type { Hex } from '../primitives/state-diff.ts'
import type { BatcherTransaction, BlobSource, L1Reader } from './l1-reader.ts'

export interface ViemL1ReaderOptions {
  readonly blobSource?: BlobSource
  /** The L1's blob base fee update fraction at the blocks read (default: by the header's fork, as the watcher). */
  readonly blobBaseFeeUpdateFraction?: bigint
}

export class ViemL1Reader implements L1Reader {
  readonly blobs: ((ref: L1BlockRef, versionedHashes: readonly Hex[]) => Promise<Uint8Array[]>) | undefined
  private readonly originOptions: L1OriginOptions

  constructor(
    private readonly client: L1Client,
    private readonly rollup: Pick<RollupConfig, 'depositContractAddress' | 'l1SystemConfigAddress'>,
    options: ViemL1ReaderOptions = {},
  ) {
    const source = options.blobSource
    this.blobs = source === undefined ? undefined : (ref, hashes) => source.blobs(ref, hashes)
    this.originOptions =
      options.blobBaseFeeUpdateFraction === undefined ? {} : { blobBaseFeeUpdateFraction: options.blobBaseFeeUpdateFraction }
  }

  headNumber(): Promise<bigint> {
    return getBlockNumber(this.client, { cacheTime: 0 })
  }

  async blockRef(number: bigint): Promise<L1BlockRef | undefined> {
    try {
      const block = await getBlock(this.client, { blockNumber: number })
      return { number: block.number, hash: block.hash, parentHash: block.parentHash, timestamp: block.timestamp }
    } catch (error) {
      if (error instanceof BlockNotFoundError) return undefined
      throw error
    }
  }

  /**
   * The origin as the sequencer's L1 watcher reads it (`bridge/l1-fetch.ts`, one implementation): both
   * must agree to the byte — deposits, config updates, the blob base fee — or the L1-attributes differ.
   */
  origin(ref: L1BlockRef, configBefore: SystemConfigValues): Promise<L1Origin> {
    return fetchL1Origin(this.client, this.rollup, ref, configBefore, this.originOptions)
  }

  async batcherTransactions(ref: L1BlockRef, inbox: Hex, batcher: Hex): Promise<BatcherTransaction[]> {
    const block = await getBlock(this.client, { blockHash: ref.hash, includeTransactions: true })
    const to = inbox.toLowerCase()
    const from = batcher.toLowerCase()
    return block.transactions
      .filter((tx) => tx.to?.toLowerCase() === to && tx.from.toLowerCase() === from && tx.type !== 'eip7702')
      .map((tx) => ({
        hash: tx.hash,
        calldata: hexToBytes(tx.input),
        blobHashes: tx.type === 'eip4844' ? tx.blobVersionedHashes : undefined,
      }))
  }
}
