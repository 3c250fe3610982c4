/**
 * A node's L1 side, composed: the dev L1 it spawns (or the external L1 and rollup.json it is given), the L2
 * genesis anchored to that rollup, the batcher key and the L1 watcher. The roles' wiring (sequencer origins,
 * batcher, derivation) takes it from here.
 *
 * Order: the L1 first, then the L2 genesis. With `--dev`, the dev genesis is anchored to the rollup: its
 * timestamp is the rollup's `l2_time` (the L1 deployment block's timestamp: an L2 block is never older than
 * its L1 origin) and it holds the bridge predeploys (L1Block, L2ToL1MessagePasser). A custom `--genesis` must
 * already be the rollup's L2 genesis: its hash is checked against rollup.json's `genesis.l2.hash`.
 */
import { readFile } from 'node:fs/promises'
import type { Common } from '@ethereumjs/common'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import { createPublicClient, http, type Hex, type PublicClient } from 'viem'
import { l2PredeployAlloc } from '../bridge/predeploys.ts'
import { l1Transport, l1UrlScrubber, redactL1Url } from '../bridge/l1-rpc-url.ts'
import { createL1WatcherMetrics } from '../bridge/l1-watcher-metrics.ts'
import { L1Watcher } from '../bridge/l1-watcher.ts'
import type { ChainConfig } from '../chain/config.ts'
import type { GenesisFile } from '../chain/genesis.ts'
import { parseRollupConfig, type RollupConfig } from '../chain/rollup-config.ts'
import { NodeError } from '../primitives/errors.ts'
import type { SafeHeadSource } from '../rpc/optimism-methods.ts'
import { type DevL1, startDevL1 } from './dev-l1.ts'
import { genesisHash, genesisOutputRoot } from './bootstrap.ts'

/** A flag combination or file the node refuses (same code as the CLI's config errors: exit 2). */
export class L1ConfigError extends NodeError<'CONFIG_INVALID', undefined> {
  override readonly name = 'L1ConfigError'
  constructor(message: string, hint?: string) {
    super('CONFIG_INVALID', message, { severity: 'critical', ...(hint === undefined ? {} : { hint }) })
  }
}

/** How the batcher posts: OP's `--data-availability-type`. */
export type BatcherDaType = 'calldata' | 'blobs' | 'auto'

/** What `startL1Services` needs of the node options (`l1Options(options)` in src/options.ts resolves them). */
export interface L1ServiceOptions {
  source: 'dev' | 'external'
  /** The external L1's RPC URL (a secret); undefined for the dev L1 (its URL is known once it runs). */
  rpc: string | undefined
  beacon: string | undefined
  /** The rollup.json to read (external L1); the dev L1 writes `<datadir>/rollup.json` itself. */
  rollupConfigPath: string | undefined
  confirmations: number
  pollMs: number
  devBlockTime: number
  batcher: { keyFile: string | undefined; daType: BatcherDaType }
}

export interface L1ServicesParams {
  options: L1ServiceOptions
  /** `--dev`: anchor the dev genesis to the rollup (timestamp, predeploys). */
  dev: boolean
  /** undefined: a temporary dev chain (the dev L1 keeps no state either). */
  datadir: string | undefined
  /** The genesis as loaded (the dev one, or `--genesis`), its chain config and common. */
  genesis: GenesisFile
  config: ChainConfig
  common: Common
  logger: Logger
  metrics: Registry
  /** Whether this node needs the batcher key (a sequencer). */
  batcherKey: boolean
  /**
   * Whether the watcher follows L1 (origins, derivation, consolidation). Off for a validator: it reads L1's
   * anchor once for its checkpoint and would otherwise poll L1 for nothing for as long as it runs.
   */
  follow: boolean
}

export interface L1Services {
  rollup: RollupConfig
  /** The L2 genesis the node must run: anchored to the rollup with `--dev`, else the one given. */
  genesis: GenesisFile
  watcher: L1Watcher
  /** The L1 RPC client (derivation and the batcher read L1 through it too). */
  client: PublicClient
  /** The L1 RPC URL, for clients that sign (the batcher). A secret unless it is the dev L1's: never log it. */
  rpcUrl: string
  /** L1 blocks to stay behind L1's head (`--l1.confirmations`). */
  confirmations: number
  /** What this node does with the batcher key: the data-availability type it posts with. */
  daType: BatcherDaType
  devL1: DevL1 | undefined
  /** The batcher's key: dev key #1 with the dev L1, `--batcher.key-file` otherwise, undefined when not asked for. */
  batcherKey: Hex | undefined
  beacon: string | undefined
  /**
   * The L2 safe/finalized heads and derivation's L1 block for `optimism_syncStatus`: genesis until derivation runs
   * (`genesisSafeHead`); the integrator replaces it with derivation's.
   */
  safeHead: SafeHeadSource
  /** What `mega_nodeInfo` may show: the dev L1's chain id, URL and pid. Never an external L1 (its URL is a secret). */
  publicInfo: { chainId: string; rpc: string; pid: number } | undefined
  stop(): Promise<void>
}

/** The dev genesis anchored to a rollup: L2 genesis time `l2Time` and the bridge predeploys. */
export function anchoredDevGenesis(genesis: GenesisFile, l2Time: bigint): GenesisFile {
  return { ...genesis, timestamp: `0x${l2Time.toString(16)}`, alloc: { ...genesis.alloc, ...l2PredeployAlloc() } }
}

export async function startL1Services(params: L1ServicesParams): Promise<L1Services> {
  const { options, logger } = params
  const hashAt = (l2Time: bigint): Hex => genesisHash(anchoredDevGenesis(params.genesis, l2Time), params.config, params.common)
  let devL1: DevL1 | undefined
  let rollup: RollupConfig
  if (options.source === 'dev') {
    devL1 = await startDevL1({
      datadir: params.datadir,
      l2ChainId: params.config.chainId,
      l2GasLimit: params.config.blockGasLimit,
      l2GenesisHash: hashAt,
      l2GenesisOutputRoot: (l2Time) =>
        genesisOutputRoot(anchoredDevGenesis(params.genesis, l2Time), params.config, params.common),
      logger: logger.child({ module: 'dev-l1' }),
      blockTime: options.devBlockTime,
    })
    rollup = devL1.rollup
  } else {
    rollup = await loadRollupConfig(options.rollupConfigPath!)
  }
  try {
    if (rollup.l2ChainId !== params.config.chainId)
      throw new L1ConfigError(
        `--rollup.config: l2_chain_id ${rollup.l2ChainId} is not this chain's id ${params.config.chainId}`,
        'pass the rollup.json of this chain',
      )
    const genesis = params.dev ? anchoredDevGenesis(params.genesis, rollup.genesis.l2Time) : params.genesis
    const hash = genesisHash(genesis, params.config, params.common)
    if (hash !== rollup.genesis.l2.hash)
      throw new L1ConfigError(
        `--rollup.config: genesis.l2.hash ${rollup.genesis.l2.hash} is not this node's genesis ${hash}`,
        params.dev
          ? 'with --dev the genesis is anchored at the rollup’s l2_time with the bridge predeploys; use the rollup.json of a --dev chain'
          : 'pass the genesis.json this rollup.json was made for',
      )
    const batcherKey = params.batcherKey
      ? (devL1?.batcherKey ?? (options.batcher.keyFile === undefined ? undefined : await loadKey(options.batcher.keyFile)))
      : undefined
    const rpcUrl = devL1?.rpcUrl ?? options.rpc!
    const client = createPublicClient({ transport: devL1 === undefined ? l1Transport(rpcUrl) : http(rpcUrl, { retryCount: 0 }) })
    const watcher = new L1Watcher({
      client,
      rollup,
      logger: logger.child({ module: 'l1-watcher' }),
      metrics: createL1WatcherMetrics(params.metrics),
      options: { pollMs: options.pollMs, confirmations: options.confirmations },
      scrub: devL1 === undefined ? l1UrlScrubber(rpcUrl) : (text) => text,
    })
    const l1 = devL1 === undefined ? redactL1Url(rpcUrl) : rpcUrl
    if (params.follow) {
      logger.info(
        {
          l1,
          l1ChainId: rollup.l1ChainId.toString(),
          genesisL1: rollup.genesis.l1.number.toString(),
          confirmations: options.confirmations,
        },
        'following L1',
      )
      if (options.beacon === undefined)
        logger.info('no --l1.beacon: batches are read from calldata only (blob batches are skipped)')
      const synced = watcher.start()
      if (devL1 !== undefined) await synced
      // An external L1 may be down at start: the node comes up and the watcher's failure says so until it answers.
      else
        synced.then(
          () => logger.info({ confirmedL1: watcher.confirmedHead?.number.toString() }, 'L1 followed up to its confirmed head'),
          () => undefined,
        )
    } else logger.info({ l1, l1ChainId: rollup.l1ChainId.toString() }, 'L1 read on demand (not followed)')
    return {
      rollup,
      genesis,
      watcher,
      client,
      rpcUrl,
      confirmations: options.confirmations,
      daType: options.batcher.daType,
      devL1,
      batcherKey,
      beacon: options.beacon,
      safeHead: genesisSafeHead(rollup, watcher),
      publicInfo:
        devL1 === undefined ? undefined : { chainId: `0x${devL1.chainId.toString(16)}`, rpc: devL1.rpcUrl, pid: devL1.pid },
      async stop() {
        await watcher.stop()
        await devL1?.stop()
      },
    }
  } catch (error) {
    await devL1?.stop()
    throw error
  }
}

/**
 * The `SafeHeadSource` of a node without derivation: the safe and finalized L2 heads stay at genesis and the
 * derivation L1 at the rollup's genesis L1 block. Derivation replaces it.
 */
export function genesisSafeHead(rollup: RollupConfig, watcher: Pick<L1Watcher, 'origin'>): SafeHeadSource {
  return {
    safe: () => 0n,
    finalized: () => 0n,
    currentL1: () => watcher.origin(rollup.genesis.l1.number),
  }
}

async function loadRollupConfig(path: string): Promise<RollupConfig> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw new L1ConfigError(`--rollup.config ${path}: cannot read (${error instanceof Error ? error.message : String(error)})`)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw new L1ConfigError(`--rollup.config ${path}: not JSON (${error instanceof Error ? error.message : String(error)})`)
  }
  try {
    return parseRollupConfig(json)
  } catch (error) {
    throw new L1ConfigError(
      `--rollup.config ${path}: ${error instanceof Error ? error.message : String(error)}`,
      'pass op-node’s rollup.json for this chain (optimism_rollupConfig of a running node returns it)',
    )
  }
}

async function loadKey(path: string): Promise<Hex> {
  let text: string
  try {
    text = (await readFile(path, 'utf8')).trim()
  } catch (error) {
    throw new L1ConfigError(`--batcher.key-file ${path}: cannot read (${error instanceof Error ? error.message : String(error)})`)
  }
  const hex = text.startsWith('0x') ? text : `0x${text}`
  if (!/^0x[0-9a-fA-F]{64}$/.test(hex)) throw new L1ConfigError(`--batcher.key-file ${path}: expected 32 bytes of hex`)
  return hex.toLowerCase() as Hex
}
