import { readFile, mkdtemp, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import { createChainCommon } from './chain/config.ts'
import { DEV_SEQUENCER_KEY } from './chain/dev.ts'
import { chainConfigFromGenesis, devGenesis, type GenesisFile } from './chain/genesis.ts'
import type { Hex } from './chain/state-diff.ts'
import { ConfigError } from './config.ts'
import { CallExecutorPool } from './execution/call.ts'
import { privateKeyToAddress } from './execution/crypto.ts'
import { createMetricsRegistry } from './metrics/registry.ts'
import type { NodeOptions } from './options.ts'
import { DEFAULT_ETH_RPC_OPTIONS, type EthRpcOptions } from './rpc/eth/backend.ts'
import { registerChainMethods } from './rpc/eth/chain-methods.ts'
import { registerFeeMethods } from './rpc/eth/fee-methods.ts'
import { registerLogAndSubscriptionMethods } from './rpc/eth/logs-and-subscriptions.ts'
import { registerSendMethods } from './rpc/eth/send-methods.ts'
import { registerStateMethods } from './rpc/eth/state-methods.ts'
import { registerDebugMethods } from './rpc/eth/debug-methods.ts'
import { createRpcMetrics, MethodRegistry, RpcServer } from './rpc/index.ts'
import { SequencerEthBackend } from './sequencer/eth-backend.ts'
import { DEFAULT_SEQUENCER_OPTIONS } from './sequencer/options.ts'
import { Sequencer } from './sequencer/sequencer.ts'
import { openChain } from './storage/bootstrap.ts'

export interface RunningNode {
  rpcUrl: string
  wsUrl: string
  metricsUrl: string | undefined
  datadir: string
  stop(): Promise<void>
}

/** Roles that are not built yet: the CLI reports them and exits with code 2. */
export class RoleNotAvailableError extends Error {
  override name = 'RoleNotAvailableError'
}

/**
 * The composition root: builds one role's components from validated options and starts them in
 * dependency order (storage → execution → production → RPC); `stop()` tears down in reverse.
 */
export async function startNode(options: NodeOptions, logger: Logger): Promise<RunningNode> {
  if (options.role !== 'sequencer') throw new RoleNotAvailableError(`--role=${options.role} is not available in this version yet; run --role=sequencer`)
  const genesis = await loadGenesis(options)
  const config = chainConfigFromGenesis(genesis, options.dev ? 'megaeth-dev' : 'megaeth')
  const common = createChainCommon(config)
  const sequencerKey = await loadSequencerKey(options)
  const sequencerAddress = bytesToHex(privateKeyToAddress(sequencerKey)) as Hex
  if (options.sequencer.address !== undefined && options.sequencer.address !== sequencerAddress) {
    throw new ConfigError(`--sequencer.address ${options.sequencer.address} does not match the key in --sequencer.key-file (${sequencerAddress})`)
  }

  const temporaryDatadir = options.datadir === undefined
  const datadir = options.datadir ?? (await mkdtemp(join(tmpdir(), 'megaeth-dev-')))
  const metrics = createMetricsRegistry(options.role)
  const opened = await openChain(datadir, genesis, config, common)
  logger.info({ datadir, chainId: config.chainId.toString(), head: opened.chain.head.header.number.toString(), unsealedMiniBlocks: opened.unsealed.length }, 'opened chain')

  const sequencer = await Sequencer.create({
    opened,
    config,
    common,
    sequencerKey,
    options: {
      ...DEFAULT_SEQUENCER_OPTIONS,
      miniBlockMs: options.miniBlockMs,
      blockMs: options.blockMs,
      ingestWorkers: options.workers,
      syncSendTimeoutMs: options.rpc.syncTimeoutMs,
      executor: options.executor,
      execWorkers: options.execWorkers ?? DEFAULT_SEQUENCER_OPTIONS.execWorkers,
    },
    logger,
    metrics,
  })
  await sequencer.start()

  const ethOptions: EthRpcOptions = {
    ...DEFAULT_ETH_RPC_OPTIONS,
    gasCap: options.rpc.gasCap,
    maxLogsRange: options.rpc.logsMaxRange,
    maxLogsResults: options.rpc.logsMaxResults,
    syncSendTimeoutMs: options.rpc.syncTimeoutMs,
  }
  const blockHash = async (n: bigint) => {
    const block = await opened.chain.blockByNumber(n)
    return block === undefined ? undefined : hexToBytes(block.hash)
  }
  let rpcAddress = { host: options.rpc.addr, port: options.rpc.port }
  const backend = new SequencerEthBackend(sequencer, opened.chain, opened.merkleizer, opened.artifacts, common, new CallExecutorPool(common, blockHash), ethOptions, () => ({
    role: options.role,
    chainId: `0x${config.chainId.toString(16)}`,
    peerId: null,
    p2pAddrs: [],
    sequencerAddress,
    head: { block: `0x${opened.chain.head.header.number.toString(16)}`, miniBlock: `0x${(opened.chain.latestMiniBlock?.number ?? 0n).toString(16)}` },
    rpc: `http://${rpcAddress.host}:${rpcAddress.port}`,
  }))
  const registry = new MethodRegistry()
  registerChainMethods(registry, backend)
  registerStateMethods(registry, backend)
  registerFeeMethods(registry, backend)
  registerSendMethods(registry, backend)
  registerDebugMethods(registry, backend)
  const filters = registerLogAndSubscriptionMethods(registry, backend, {
    onListenerError: (err, where) => logger.error({ err, where }, 'filter or subscription listener failed'),
  })
  filters.start()

  const rpc = new RpcServer(
    {
      host: options.rpc.addr,
      port: options.rpc.port,
      maxBatchSize: options.rpc.maxBatch,
      maxBodyBytes: options.rpc.maxBodyBytes,
      maxWsConnections: options.rpc.wsMaxConnections,
      maxSubscriptionsPerConnection: options.rpc.wsMaxSubscriptions,
    },
    registry,
    {
      logger: logger.child({ module: 'rpc' }),
      metrics: createRpcMetrics(metrics),
      health: {
        healthz: () => true,
        readyz: () => (sequencer.failure === undefined ? { ready: true } : { ready: false, reason: `sealing failed: ${sequencer.failure.message}` }),
      },
    },
  )
  rpcAddress = await rpc.start()
  const metricsServer = options.metricsPort === undefined ? undefined : await serveMetrics(metrics, options.rpc.addr, options.metricsPort)
  const rpcUrl = `http://${rpcAddress.host}:${rpcAddress.port}`
  logger.info({ rpc: rpcUrl, metrics: metricsServer?.url, sequencer: sequencerAddress }, 'sequencer running')

  let stopped = false
  return {
    rpcUrl,
    wsUrl: `ws://${rpcAddress.host}:${rpcAddress.port}`,
    metricsUrl: metricsServer?.url,
    datadir,
    async stop() {
      if (stopped) return
      stopped = true
      logger.info('stopping: closing RPC, finishing the mini-block in progress, sealing, closing the database')
      await rpc.stop()
      filters.stop()
      await sequencer.stop()
      await metricsServer?.close()
      await opened.close()
      if (temporaryDatadir) await rm(datadir, { recursive: true, force: true })
      logger.info('stopped')
    },
  }
}

async function loadGenesis(options: NodeOptions): Promise<GenesisFile> {
  if (options.genesis === undefined) return devGenesis()
  let text: string
  try {
    text = await readFile(options.genesis, 'utf8')
  } catch (error) {
    throw new ConfigError(`--genesis ${options.genesis}: cannot read (${error instanceof Error ? error.message : String(error)})`)
  }
  try {
    const parsed = JSON.parse(text) as GenesisFile
    if (typeof parsed !== 'object' || parsed === null || typeof parsed.config !== 'object' || typeof parsed.alloc !== 'object') {
      throw new Error('expected an object with "config" and "alloc"')
    }
    return parsed
  } catch (error) {
    throw new ConfigError(`--genesis ${options.genesis}: not a genesis file (${error instanceof Error ? error.message : String(error)})`)
  }
}

async function loadSequencerKey(options: NodeOptions): Promise<Uint8Array> {
  if (options.sequencer.keyFile === undefined) return hexToBytes(DEV_SEQUENCER_KEY)
  let text: string
  try {
    text = (await readFile(options.sequencer.keyFile, 'utf8')).trim()
  } catch (error) {
    throw new ConfigError(`--sequencer.key-file ${options.sequencer.keyFile}: cannot read (${error instanceof Error ? error.message : String(error)})`)
  }
  const hex = text.startsWith('0x') ? text : `0x${text}`
  if (!/^0x[0-9a-fA-F]{64}$/.test(hex)) throw new ConfigError(`--sequencer.key-file ${options.sequencer.keyFile}: expected 32 bytes of hex`)
  return hexToBytes(hex as Hex)
}

async function serveMetrics(registry: Registry, host: string, port: number): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end('not found: metrics are at /metrics\n')
      return
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (error: unknown) => res.writeHead(500).end(String(error)),
    )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve())
  })
  const address = server.address()
  const bound = typeof address === 'object' && address !== null ? address.port : port
  return {
    url: `http://${host}:${bound}/metrics`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
