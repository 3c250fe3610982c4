/**
 * Derivation for a role, composed: the pipeline over the node's L1 (blobs from `--l1.beacon`, or from
 * the dev anvil, which serves them), the node's chain as the safe chain, a driver feeding the role's
 * consumer, and the block builder the consumers build with. The `safe`/`finalized` tags and
 * `optimism_syncStatus` follow the driver.
 */
import type { Common } from '@ethereumjs/common'
import { hexToBytes } from '@ethereumjs/util'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import type { ChainConfig } from '../chain/config.ts'
import type { L2BlockAttributes } from '../chain/l2-block-attributes.ts'
import { decodeL2Transaction } from '../chain/l2-transaction.ts'
import { SequentialExecutor } from '../execution/executor.ts'
import { SequentialMiniBlockExecutor } from '../execution/parallel/index.ts'
import { buildDerivedBlock, type BuiltBlock, type DerivedChain } from '../derive/block-builder.ts'
import { ChainSafeChain } from '../derive/chain-safe-chain.ts'
import { DerivationDriver, type DerivedBlockConsumer } from '../derive/driver.ts'
import { anvilBlobSource, beaconBlobSource, createDerivationMetrics, DerivationPipeline, ViemL1Reader } from '../derive/index.ts'
import type { L1Services } from './l1-services.ts'

/** Polling when L1 has nothing new, and the longest backoff while it fails. */
const DRIVER_OPTIONS = { pollMs: 500, maxBackoffMs: 10_000 }

export interface DerivationParams {
  l1: L1Services
  opened: DerivedChain
  config: ChainConfig
  common: Common
  logger: Logger
  metrics: Registry
  /** The newest block already derived (a `--sync=l1` replica's head after a restart), or genesis. */
  start: bigint
  /**
   * Check each blob against its versioned hash (a KZG commitment, ~2.4 s per blob in pure JS, on this
   * thread). A `--sync=l1` replica must; the sequencer reads back blobs it posted itself, and a 2 s stall
   * of its mini-block loop per blob is worse than trusting its own L1 node for its safe head.
   */
  verifyBlobs: boolean
  consumer: (parts: {
    safeChain: ChainSafeChain
    build: (attributes: L2BlockAttributes) => Promise<BuiltBlock>
  }) => DerivedBlockConsumer
}

export interface Derivation {
  driver: DerivationDriver
  safeChain: ChainSafeChain
}

export async function createDerivation(params: DerivationParams): Promise<Derivation> {
  const { l1, opened, config, common, logger } = params
  const blobSource =
    l1.beacon !== undefined
      ? beaconBlobSource({ url: l1.beacon, verify: params.verifyBlobs })
      : l1.devL1 !== undefined
        ? anvilBlobSource(l1.devL1.rpcUrl, params.verifyBlobs)
        : undefined
  const reader = new ViemL1Reader(l1.client, l1.rollup, blobSource === undefined ? {} : { blobSource })
  const safeChain = new ChainSafeChain(opened.chain, l1.rollup)
  if (params.start > 0n) {
    const head = await opened.chain.blockByNumber(params.start)
    if (head !== undefined) safeChain.markSafe(params.start, safeChain.refOf(head).l1Origin)
  }
  const pipeline = new DerivationPipeline(
    { confirmations: BigInt(l1.confirmations) },
    {
      rollup: l1.rollup,
      l1: reader,
      safe: safeChain,
      logger: logger.child({ module: 'derivation' }),
      metrics: createDerivationMetrics(params.metrics),
    },
  )
  // Derived blocks execute on the head state; the sequencer builds them only before it produces.
  const blockHash = async (number: bigint): Promise<Uint8Array | undefined> => {
    const block = await opened.chain.blockByNumber(number)
    return block === undefined ? undefined : hexToBytes(block.hash)
  }
  const executor = new SequentialMiniBlockExecutor(await SequentialExecutor.create(common, opened.chain.state.live, blockHash))
  const txOptions = { common }
  const build = (attributes: L2BlockAttributes): Promise<BuiltBlock> =>
    buildDerivedBlock({ opened, executor, config, common, decode: (raw) => decodeL2Transaction(raw, txOptions) }, attributes)
  const driver = new DerivationDriver(
    DRIVER_OPTIONS,
    {
      pipeline,
      consumer: params.consumer({ safeChain, build }),
      finalizedL1: () => l1.watcher.finalized,
      onHeads: (heads) => opened.chain.setL1Heads(heads),
      logger: logger.child({ module: 'derivation' }),
    },
    params.start,
  )
  return { driver, safeChain }
}
