/**
 * The prover agent, composed: its L1 wallet from `--prover.key-file`, the derived chain's outputs, and per game
 * VM the execution trace it plays below the split depth and the output publication it makes before claiming.
 *
 * - A VM without an output registry (`UnprovableVM`, the dev L1's until the step verifier lands) cannot step, so
 *   the prover plays the clock-only trace there (`prover/clock-only-trace.ts`) and publishes nothing.
 * - A VM with a registry is the transaction-trace verifier of trace-spec.md: outputs are published before they are
 *   claimed; its execution trace provider plugs in here (until then the prover plays the output half only).
 */
import { readFile } from 'node:fs/promises'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import { type Address, createWalletClient, type Hex } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { ensureOutputPublished, outputRegistryOf } from '../bridge/dispute/output-registry.ts'
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
  const announced = new Set<Address>()
  logger.info({ prover: account.address }, 'prover key loaded')
  return new Prover(params.options, {
    l1: l1.client,
    wallet,
    portal: l1.rollup.depositContractAddress,
    chain: params.chain,
    traceFor: async (vm): Promise<ExecutionTraceProvider | undefined> => {
      if ((await registryOf(vm)) === undefined) return clockOnly
      if (!announced.has(vm)) {
        announced.add(vm)
        logger.warn(
          { vm },
          'this VM verifies steps, but this prover has no transaction-trace provider: it plays the output half only',
        )
      }
      return undefined
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
