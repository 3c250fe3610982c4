/**
 * `L1Reader` over a viem client of an L1 RPC node: `eth_blockNumber`, `eth_getBlockByNumber` for refs,
 * `eth_getBlockByHash` (with transactions, filtered by `to` = inbox and `from` = batcher), and
 * `eth_getLogs` by block hash for the portal's deposits and SystemConfig's updates. Blobs come from an
 * optional `BlobSource`. (`src/bridge/l1-fetch.ts` reads the same things for the sequencer's L1 watcher;
 * the two are to be merged.)
 */
import { type Chain, type Client, type Transport, BlockNotFoundError } from 'viem'
import { getBlock, getBlockNumber, getLogs } from 'viem/actions'
import { hexToBytes } from '@ethereumjs/util'
import type { L1BlockRef, L1Origin, SystemConfigValues } from '../chain/l1-origin.ts'
import type { RollupConfig } from '../chain/rollup-config.ts'
import { depositFromLog, TRANSACTION_DEPOSITED_TOPIC } from '../chain/deposit-log.ts'
import type { DepositTransaction } from '../chain/deposit-tx.ts'
import type { Hex } from '../primitives/state-diff.ts'
import { criticalError } from './errors.ts'
import type { BatcherTransaction, BlobSource, L1Reader } from './l1-reader.ts'
import { applyConfigUpdate, CONFIG_UPDATE_TOPIC } from './system-config-log.ts'

/** EIP-7691's (Prague) `BLOB_BASE_FEE_UPDATE_FRACTION`; Cancun's was 3,338,477. */
export const PRAGUE_BLOB_BASE_FEE_UPDATE_FRACTION = 5_007_716n

export interface ViemL1ReaderOptions {
  readonly blobSource?: BlobSource
  /** The L1's blob base fee update fraction at the blocks read (default Prague's). */
  readonly blobBaseFeeUpdateFraction?: bigint
}

export class ViemL1Reader implements L1Reader {
  readonly blobs: ((ref: L1BlockRef, versionedHashes: readonly Hex[]) => Promise<Uint8Array[]>) | undefined
  private readonly fraction: bigint
  private readonly portal: Hex
  private readonly systemConfig: Hex

  constructor(
    private readonly client: Client<Transport, Chain | undefined>,
    rollup: Pick<RollupConfig, 'depositContractAddress' | 'l1SystemConfigAddress'>,
    options: ViemL1ReaderOptions = {},
  ) {
    const source = options.blobSource
    this.blobs = source === undefined ? undefined : (ref, hashes) => source.blobs(ref, hashes)
    this.fraction = options.blobBaseFeeUpdateFraction ?? PRAGUE_BLOB_BASE_FEE_UPDATE_FRACTION
    this.portal = rollup.depositContractAddress.toLowerCase() as Hex
    this.systemConfig = rollup.l1SystemConfigAddress.toLowerCase() as Hex
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

  async origin(ref: L1BlockRef, configBefore: SystemConfigValues): Promise<L1Origin> {
    const [block, logs] = await Promise.all([
      getBlock(this.client, { blockHash: ref.hash }),
      getLogs(this.client, { blockHash: ref.hash, address: [this.portal, this.systemConfig] }),
    ])
    const deposits: DepositTransaction[] = []
    let systemConfig = configBefore
    for (const log of logs) {
      const address = log.address.toLowerCase()
      const topic = log.topics[0]?.toLowerCase()
      if (address === this.portal && topic === TRANSACTION_DEPOSITED_TOPIC) {
        try {
          deposits.push(
            depositFromLog({ topics: log.topics as Hex[], data: log.data, blockHash: ref.hash, logIndex: log.logIndex }),
          )
        } catch (error) {
          throw criticalError(
            'DERIVE_BAD_L1_DATA',
            `deposit log ${log.logIndex} of L1 block ${ref.number} does not decode`,
            error,
          )
        }
      } else if (address === this.systemConfig && topic === CONFIG_UPDATE_TOPIC) {
        systemConfig = applyConfigUpdate(systemConfig, { topics: log.topics as Hex[], data: log.data })
      }
    }
    return {
      number: block.number,
      hash: block.hash,
      parentHash: block.parentHash,
      timestamp: block.timestamp,
      baseFeePerGas: block.baseFeePerGas ?? 0n,
      blobBaseFee: block.excessBlobGas === undefined ? 1n : blobBaseFee(block.excessBlobGas, this.fraction),
      mixHash: block.mixHash,
      deposits,
      systemConfig,
    }
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

/** EIP-4844's `fake_exponential(MIN_BASE_FEE_PER_BLOB_GAS = 1, excess, fraction)`. */
export function blobBaseFee(excessBlobGas: bigint, fraction: bigint): bigint {
  let i = 1n
  let output = 0n
  let accumulator = fraction
  while (accumulator > 0n) {
    output += accumulator
    accumulator = (accumulator * excessBlobGas) / (fraction * i)
    i++
  }
  return output / fraction
}
