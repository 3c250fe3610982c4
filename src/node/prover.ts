/**
 * The prover agent, composed: its L1 wallet from `--prover.key-file`, the derived chain's outputs, and per game
 * VM the execution trace it plays below the split depth and the output publication it makes before claiming.
 *
 * - A VM without an output registry (`UnprovableVM`, the dev L1's until the step verifier lands) cannot step, so
 *   the prover plays the clock-only trace there (`prover/clock-only-trace.ts`) and publishes nothing.
 * - A VM with a registry is the transaction-trace verifier of trace-spec.md: outputs are published before they are
 *   claimed, and the execution half is played with the block trace (`prover/derived-trace.ts` over stepvm's
 *   `NodeTraceProvider`), re-executing derived blocks from the witnesses derivation keeps for the prover.
 */
import { readFile } from 'node:fs/promises'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import { type Address, createWalletClient, type Hex, type PublicClient } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import type { Common } from '@ethereumjs/common'
import type { ChainConfig } from '../chain/config.ts'
import { ensureOutputPublished, outputRegistryOf, outputRootRegistryAbi } from '../bridge/dispute/output-registry.ts'
import { publishedOutputReader } from '../bridge/dispute/published-output.ts'
import { DerivedTraceProvider } from '../prover/derived-trace.ts'
import type { ChainTraceRules } from '../prover/trace/block-trace.ts'
import { NodeTraceProvider, type TraceBlockSource } from '../prover/trace/provider.ts'
import { BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE } from '../bridge/l1-fetch.ts'
import { l1Transport } from '../bridge/l1-rpc-url.ts'
import { ClockOnlyTraceProvider } from '../prover/clock-only-trace.ts'
import type { DerivedChainSource, ExecutionTraceProvider, OutputPublisher } from '../prover/interface.ts'
import { createProverMetrics } from '../prover/metrics.ts'
import type { ProverOptions } from '../prover/options.ts'
import { Prover } from '../prover/prover.ts'
import { L1ConfigError, type L1Services } from './l1-services.ts'

export interface ProverParams {
  l1: L1Services
  keyFile: string
  options: ProverOptions
  chain: DerivedChainSource
  common: Common
  config: ChainConfig
  /** The derived blocks' transactions and witnesses (the block trace re-executes them). */
  blocks: TraceBlockSource
  logger: Logger
  metrics: Registry
}

export async function createProver(params: ProverParams): Promise<Prover> {
  const { l1, logger } = params
  const account = privateKeyToAccount(await loadProverKey(params.keyFile))
  const wallet = createWalletClient({ account, transport: l1Transport(l1.rpcUrl) })
  const registries = new Map<Address, Promise<Address | undefined>>()
  const registryOf = (vm: Address): Promise<Address | undefined> => {
    let registry = registries.get(vm)
    if (registry === undefined) {
      registry = outputRegistryOf(l1.client, vm)
      registries.set(vm, registry)
    }
    return registry
  }
  const clockOnly = new ClockOnlyTraceProvider(params.chain)
  const rules: ChainTraceRules = {
    blockTime: l1.rollup.blockTime,
    gasLimit: params.config.blockGasLimit,
    feeRecipient: params.config.feeRecipient,
    elasticityMultiplier: params.config.elasticityMultiplier,
    baseFeeMaxChangeDenominator: params.config.baseFeeMaxChangeDenominator,
    minBaseFee: params.config.minBaseFee,
    // What the L1 watcher's attributes use by default on a Prague+ L1 (and `deployTxStepVerifier` deploys with).
    blobBaseFeeUpdateFraction: BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE,
    genesisL1: l1.rollup.genesis.l1,
  }
  // One block-trace provider per subtree depth (games of one type share it; its cache holds a few block traces).
  const blockTraces = new Map<number, NodeTraceProvider>()
  const blockTrace = (traceDepth: number): NodeTraceProvider => {
    let provider = blockTraces.get(traceDepth)
    if (provider === undefined) {
      provider = new NodeTraceProvider({ common: params.common, rules, source: params.blocks, traceDepth })
      blockTraces.set(traceDepth, provider)
    }
    return provider
  }
  const traces = new Map<Address, DerivedTraceProvider>()
  const traceOf = (registry: Address): DerivedTraceProvider => {
    let trace = traces.get(registry)
    if (trace === undefined) {
      trace = new DerivedTraceProvider({
        chain: params.chain,
        publishedAt: publishedAtReader(l1.client, registry),
        publishedOutput: publishedOutputReader(l1.client, registry),
        blockTrace,
      })
      traces.set(registry, trace)
    }
    return trace
  }
  logger.info({ prover: account.address }, 'prover key loaded')
  return new Prover(params.options, {
    l1: l1.client,
    wallet,
    portal: l1.rollup.depositContractAddress,
    chain: params.chain,
    traceFor: async (vm): Promise<ExecutionTraceProvider> => {
      const registry = await registryOf(vm)
      return registry === undefined ? clockOnly : traceOf(registry)
    },
    publisherFor: async (vm): Promise<OutputPublisher | undefined> => {
      const registry = await registryOf(vm)
      if (registry === undefined) return undefined
      return (output) =>
        ensureOutputPublished({ public: l1.client, wallet }, registry, {
          header: output.header,
          messagePasserStorageRoot: output.messagePasserStorageRoot,
        })
    },
    logger: logger.child({ module: 'prover' }),
    metrics: createProverMetrics(params.metrics),
  })
}

/**
 * The registry's `publishedAt`, remembered once non-zero (the first publication's time never changes; a zero is
 * asked again: the output may be published later).
 */
function publishedAtReader(client: PublicClient, registry: Address): (root: Hex) => Promise<bigint> {
  const known = new Map<Hex, bigint>()
  return async (root) => {
    const key = root.toLowerCase() as Hex
    const cached = known.get(key)
    if (cached !== undefined) return cached
    const at = await client.readContract({
      address: registry,
      abi: outputRootRegistryAbi,
      functionName: 'publishedAt',
      args: [root],
    })
    if (at !== 0n) known.set(key, at)
    return at
  }
}

async function loadProverKey(path: string): Promise<Hex> {
  let text: string
  try {
    text = (await readFile(path, 'utf8')).trim()
  } catch (error) {
    throw new L1ConfigError(`--prover.key-file ${path}: cannot read (${error instanceof Error ? error.message : String(error)})`)
  }
  const hex = text.startsWith('0x') ? text : `0x${text}`
  if (!/^0x[0-9a-fA-F]{64}$/.test(hex)) throw new L1ConfigError(`--prover.key-file ${path}: expected 32 bytes of hex`)
  return hex.toLowerCase() as Hex
}
