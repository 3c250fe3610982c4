/**
 * The sequencer's batcher, composed: the batcher key as a local account on the node's L1, the chain's
 * sealed blocks as its input, and derivation's safe head as where it (re)posts from.
 */
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import { createWalletClient, defineChain, http, type Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { l1Transport } from '../bridge/l1-rpc-url.ts'
import { Batcher } from '../da/batcher/batcher.ts'
import { createBatcherMetrics } from '../da/batcher/metrics.ts'
import type { ChainView } from '../storage/chain-view.ts'
import { L1ConfigError, type L1Services } from './l1-services.ts'

export function createBatcher(params: {
  l1: L1Services
  batcherKey: Hex
  chain: ChainView
  safeHead: () => bigint
  logger: Logger
  metrics: Registry
}): Batcher {
  const { l1 } = params
  // The sequencer derives its own safe head from what it posts: blobs it could not read back would
  // leave that head behind for good.
  const readsBlobs = l1.beacon !== undefined || l1.devL1 !== undefined
  if (l1.daType === 'blobs' && !readsBlobs)
    throw new L1ConfigError(
      '--batcher.data-availability-type=blobs needs --l1.beacon: the sequencer reads its own batches back to find its safe head',
      'pass --l1.beacon, or post calldata (--batcher.data-availability-type=calldata or auto)',
    )
  const daType = l1.daType === 'auto' && !readsBlobs ? 'calldata' : l1.daType
  if (daType !== l1.daType) params.logger.info('no --l1.beacon: the batcher posts calldata only (blobs could not be read back)')
  const chain = defineChain({
    id: Number(l1.rollup.l1ChainId),
    name: 'L1',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [] } },
  })
  const wallet = createWalletClient({
    account: privateKeyToAccount(params.batcherKey),
    chain,
    // An external L1 URL may carry credentials: l1Transport moves them into a header (and out of errors).
    transport: l1.devL1 === undefined ? l1Transport(l1.rpcUrl) : http(l1.rpcUrl, { retryCount: 0 }),
  })
  return new Batcher(
    { dataAvailabilityType: daType },
    {
      l1: l1.client,
      wallet,
      rollup: l1.rollup,
      blocks: params.chain,
      safeHead: params.safeHead,
      logger: params.logger.child({ module: 'batcher' }),
      metrics: createBatcherMetrics(params.metrics),
    },
  )
}
