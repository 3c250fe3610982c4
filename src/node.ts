import { readFile, mkdtemp, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Common } from '@ethereumjs/common'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import type { Logger } from 'pino'
import type { Registry } from 'prom-client'
import { createChainCommon, type ChainConfig } from './chain/config.ts'
import { DEV_SEQUENCER_KEY } from './chain/dev.ts'
import { chainConfigFromGenesis, devGenesis, type GenesisFile } from './chain/genesis.ts'
import type { Hex } from './chain/state-diff.ts'
import { ConfigError } from './config.ts'
import { CallWorkerPool, defaultCallWorkers } from './execution/calls/pool.ts'
import { privateKeyToAddress } from './execution/crypto.ts'
import { createMetricsRegistry } from './metrics/registry.ts'
import type { NodeOptions } from './options.ts'
import { P2pHost } from './p2p/index.ts'
import { ReplicaEthBackend } from './replica/eth-backend.ts'
import { defaultVerifyWorkers, type ReplicaOptions } from './replica/options.ts'
import { Replica, type ReplicaStatus } from './replica/replica.ts'
import { TxForwarder } from './replica/tx-forwarder.ts'
import { Validator } from './replica/validator.ts'
import { DEFAULT_ETH_RPC_OPTIONS, type EthBackend, type EthRpcOptions } from './rpc/eth/backend.ts'
import { registerChainMethods } from './rpc/eth/chain-methods.ts'
import { registerDebugMethods } from './rpc/eth/debug-methods.ts'
import { registerFeeMethods } from './rpc/eth/fee-methods.ts'
import { registerLogAndSubscriptionMethods } from './rpc/eth/logs-and-subscriptions.ts'
import { registerSendMethods } from './rpc/eth/send-methods.ts'
import { registerStateMethods } from './rpc/eth/state-methods.ts'
import { createRpcMetrics, MethodRegistry, RpcServer } from './rpc/index.ts'
import { SequencerEthBackend } from './sequencer/eth-backend.ts'
import { DEFAULT_SEQUENCER_OPTIONS } from './sequencer/options.ts'
import { SequencerP2pService } from './sequencer/p2p-service.ts'
import { Sequencer } from './sequencer/sequencer.ts'
import { openChain, type OpenedChain } from './storage/bootstrap.ts'

export interface RunningNode {
  rpcUrl: string
  wsUrl: string
  metricsUrl: string | undefined
  /** undefined for a validator, which keeps no chain data. */
  datadir: string | undefined
  stop(): Promise<void>
}

/** Roles that are not built yet: the CLI reports them and exits with code 2. */
export class RoleNotAvailableError extends Error {
  override name = 'RoleNotAvailableError'
}

/** What every role derives from the options before building its parts. */
interface NodeBase {
  options: NodeOptions
  logger: Logger
  genesis: GenesisFile
  config: ChainConfig
  common: Common
  metrics: Registry
}

/**
 * The composition root: builds one role's components from validated options and starts them in
 * dependency order (storage → execution → p2p → production or following → RPC); `stop()` tears
 * down in reverse.
 */
export async function startNode(options: NodeOptions, logger: Logger): Promise<RunningNode> {
  if (options.role === 'prover') throw new RoleNotAvailableError(`--role=${options.role} is not available in this version yet; run --role=sequencer or --role=replica`)
  const genesis = await loadGenesis(options)
  const config = chainConfigFromGenesis(genesis, options.dev ? 'megaeth-dev' : 'megaeth')
  const base: NodeBase = { options, logger, genesis, config, common: createChainCommon(config), metrics: createMetricsRegistry(options.role) }
  if (options.role === 'sequencer') return startSequencer(base)
  return options.replica.mode === 'validator' ? startValidator(base) : startReplica(base)
}

async function startSequencer(base: NodeBase): Promise<RunningNode> {
  const { options, logger, config, common, metrics } = base
  const sequencerKey = await loadSequencerKey(options)
  const sequencerAddress = bytesToHex(privateKeyToAddress(sequencerKey)) as Hex
  if (options.sequencer.address !== undefined && options.sequencer.address !== sequencerAddress) {
    throw new ConfigError(`--sequencer.address ${options.sequencer.address} does not match the key in --sequencer.key-file (${sequencerAddress})`)
  }
  const data = await openDatadir(base)
  const { opened } = data
  const sequencer = await Sequencer.create({
    opened,
    config,
    common,
    sequencerKey,
    options: {
      ...DEFAULT_SEQUENCER_OPTIONS,
      miniBlockMs: options.miniBlockMs,
      blockMs: options.blockMs,
      ingestWorkers: options.ingestWorkers,
      syncSendTimeoutMs: options.rpc.syncTimeoutMs,
      executor: options.executor,
      execWorkers: options.workers ?? DEFAULT_SEQUENCER_OPTIONS.execWorkers,
    },
    logger,
    metrics,
  })
  // The call workers boot (a VM each) while the rest starts; calls sent before they are ready wait.
  const calls = callPool(base, opened)
  const host = await startP2p(base, data.datadir)
  let rpcUrl = ''
  const gossip = new SequencerP2pService(host, opened, config, sequencerKey, () => rpcUrl, logger.child({ module: 'p2p-service' }))
  await gossip.start()
  await sequencer.start()

  const backend = new SequencerEthBackend(sequencer, opened.chain, opened.merkleizer, opened.artifacts, common, calls, ethRpcOptions(options), () => ({
    ...nodeIdentity(base, host, sequencerAddress, rpcUrl),
    head: { block: toHex(opened.chain.head.header.number), miniBlock: toHex(opened.chain.latestMiniBlock?.number ?? 0n) },
  }))
  const rpc = await serveRpc(base, backend, () => (sequencer.failure === undefined ? { ready: true } : { ready: false, reason: `sealing failed: ${sequencer.failure.message}` }))
  rpcUrl = rpc.rpcUrl
  logger.info({ rpc: rpc.rpcUrl, metrics: rpc.metricsUrl, sequencer: sequencerAddress, p2p: host.multiaddrs() }, 'sequencer running')
  return running(base, rpc, data, 'closing RPC, finishing the mini-block in progress, sealing, closing the database', async () => {
    await calls.close()
    await sequencer.stop()
    gossip.stop()
    await host.stop()
  })
}

async function startReplica(base: NodeBase): Promise<RunningNode> {
  const { options, logger, config, common, metrics } = base
  const sequencerAddress = expectedSequencer(options)
  const data = await openDatadir(base)
  const { opened } = data
  // The call workers boot (a VM each) while the rest starts; calls sent before they are ready wait.
  const calls = callPool(base, opened)
  const host = await startP2p(base, data.datadir)
  const replica = await Replica.create({ opened, config, common, host, options: replicaOptions(options, sequencerAddress), bootnodes: options.p2p.bootnodes, logger, metrics })
  await replica.start()
  let rpcUrl = ''
  const backend = new ReplicaEthBackend(opened, config, common, calls, ethRpcOptions(options), new TxForwarder(() => replica.sequencerRpcUrl()), replica.decode, () => ({
    ...nodeIdentity(base, host, sequencerAddress, rpcUrl),
    mode: 'full',
    head: { block: toHex(opened.chain.head.header.number), miniBlock: toHex(opened.chain.latestMiniBlock?.number ?? 0n) },
    ...verificationInfo(replica.status()),
  }))
  const rpc = await serveRpc(base, backend, () => replicaReadiness(replica.status(), host))
  rpcUrl = rpc.rpcUrl
  logger.info({ rpc: rpc.rpcUrl, metrics: rpc.metricsUrl, sequencer: sequencerAddress, p2p: host.multiaddrs() }, 'replica running')
  return running(base, rpc, data, 'closing RPC, stopping the follower and verifiers, closing the database', async () => {
    await calls.close()
    await replica.stop()
    await host.stop()
  })
}

/** Validator mode: p2p, the stateless verifier and a minimal RPC (identity, health); nothing on disk. */
async function startValidator(base: NodeBase): Promise<RunningNode> {
  const { options, logger, config, common, metrics } = base
  const sequencerAddress = expectedSequencer(options)
  const host = await startP2p(base, undefined)
  const validator = Validator.create({ config, common, host, options: replicaOptions(options, sequencerAddress), bootnodes: options.p2p.bootnodes, logger, metrics })
  await validator.start()
  let rpcUrl = ''
  const registry = new MethodRegistry()
  registry.registerAll({
    eth_chainId: () => toHex(config.chainId),
    eth_blockNumber: () => toHex(validator.status().verified),
    mega_nodeInfo: () => ({ ...nodeIdentity(base, host, sequencerAddress, rpcUrl), mode: 'validator', ...verificationInfo(validator.status()) }),
  })
  const rpc = await serveRegistry(base, registry, () => replicaReadiness(validator.status(), host))
  rpcUrl = rpc.rpcUrl
  logger.info({ rpc: rpc.rpcUrl, sequencer: sequencerAddress, p2p: host.multiaddrs() }, 'validator running')
  return running(base, rpc, undefined, 'closing RPC, stopping the verifiers', async () => {
    await validator.stop()
    await host.stop()
  })
}

// --- shared parts ---------------------------------------------------------------------------------

interface Datadir {
  datadir: string
  temporary: boolean
  opened: OpenedChain
}

async function openDatadir(base: NodeBase): Promise<Datadir> {
  const { options, logger, genesis, config, common } = base
  const temporary = options.datadir === undefined
  const datadir = options.datadir ?? (await mkdtemp(join(tmpdir(), 'megaeth-dev-')))
  const opened = await openChain(datadir, genesis, config, common)
  logger.info({ datadir, chainId: config.chainId.toString(), head: opened.chain.head.header.number.toString(), unsealedMiniBlocks: opened.unsealed.length }, 'opened chain')
  return { datadir, temporary, opened }
}

function startP2p(base: NodeBase, datadir: string | undefined): Promise<P2pHost> {
  const { p2p, dev } = base.options
  const port = p2p.port ?? (dev ? 0 : 30303)
  const keyFile = p2p.keyFile ?? (datadir === undefined ? undefined : join(datadir, 'p2p-key'))
  return P2pHost.start(
    { listen: [`/ip4/${p2p.addr}/tcp/${port}`], bootnodes: p2p.bootnodes, ...(keyFile === undefined ? {} : { keyFile }) },
    { logger: base.logger, registry: base.metrics },
  )
}

/** With --dev the dev sequencer is implied; otherwise config validation required the flag. */
function expectedSequencer(options: NodeOptions): Hex {
  return options.sequencer.address ?? (bytesToHex(privateKeyToAddress(hexToBytes(DEV_SEQUENCER_KEY))) as Hex)
}

function replicaOptions(options: NodeOptions, sequencerAddress: Hex): ReplicaOptions {
  return { mode: options.replica.mode, sequencerAddress, sequencerRpc: options.sequencer.rpc, verifyWorkers: options.replica.verifyWorkers ?? defaultVerifyWorkers() }
}

function nodeIdentity(base: NodeBase, host: P2pHost, sequencerAddress: Hex, rpcUrl: string): Record<string, unknown> {
  return { role: base.options.role, chainId: toHex(base.config.chainId), peerId: host.peerId, p2pAddrs: host.multiaddrs(), peers: host.connectedPeers().length, sequencerAddress, rpc: rpcUrl }
}

function verificationInfo(status: ReplicaStatus): Record<string, unknown> {
  const failure = status.failure
  return {
    verified: {
      block: toHex(status.verified),
      failures: failure === undefined ? 0 : 1,
      ...(failure === undefined ? {} : { failure: { block: toHex(failure.block), code: failure.code, message: failure.message } }),
    },
  }
}

function replicaReadiness(status: ReplicaStatus, host: P2pHost): { ready: true } | { ready: false; reason: string } {
  if (status.failure !== undefined) return { ready: false, reason: `verification failed at block ${status.failure.block}: ${status.failure.code}: ${status.failure.message}` }
  if (host.connectedPeers().length === 0) return { ready: false, reason: 'not connected to the sequencer' }
  if (!status.caughtUp) return { ready: false, reason: 'catching up with the sequencer' }
  return { ready: true }
}

function callPool(base: NodeBase, opened: OpenedChain): CallWorkerPool {
  const blockHash = async (n: bigint) => {
    const block = await opened.chain.blockByNumber(n)
    return block === undefined ? undefined : hexToBytes(block.hash)
  }
  const { rpc } = base.options
  return new CallWorkerPool({ kind: 'chain', chainId: base.config.chainId, name: base.config.name }, blockHash, {
    workers: rpc.callWorkers ?? defaultCallWorkers(),
    timeoutMs: rpc.evmTimeoutMs,
    maxPerClient: rpc.callsPerClient,
    maxInFlight: rpc.callsInFlight,
  })
}

function ethRpcOptions(options: NodeOptions): EthRpcOptions {
  return {
    ...DEFAULT_ETH_RPC_OPTIONS,
    gasCap: options.rpc.gasCap,
    maxLogsRange: options.rpc.logsMaxRange,
    maxLogsResults: options.rpc.logsMaxResults,
    syncSendTimeoutMs: options.rpc.syncTimeoutMs,
  }
}

interface ServedRpc {
  rpcUrl: string
  wsUrl: string
  metricsUrl: string | undefined
  stop(): Promise<void>
}

/** The eth/realtime/mega/debug namespaces over `backend`, served with health probes and metrics. */
async function serveRpc(base: NodeBase, backend: EthBackend, readyz: () => { ready: true } | { ready: false; reason: string }): Promise<ServedRpc> {
  const { logger } = base
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
  const served = await serveRegistry(base, registry, readyz)
  return {
    ...served,
    async stop() {
      await served.stop()
      filters.stop()
    },
  }
}

async function serveRegistry(base: NodeBase, registry: MethodRegistry, readyz: () => { ready: true } | { ready: false; reason: string }): Promise<ServedRpc> {
  const { options, logger, metrics } = base
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
    { logger: logger.child({ module: 'rpc' }), metrics: createRpcMetrics(metrics), health: { healthz: () => true, readyz } },
  )
  const address = await rpc.start()
  const metricsServer = options.metricsPort === undefined ? undefined : await serveMetrics(metrics, options.rpc.addr, options.metricsPort)
  return {
    rpcUrl: `http://${address.host}:${address.port}`,
    wsUrl: `ws://${address.host}:${address.port}`,
    metricsUrl: metricsServer?.url,
    async stop() {
      await rpc.stop()
      await metricsServer?.close()
    },
  }
}

/** The handle `startNode` returns: stops RPC first (no new work), then the role, then storage. */
function running(base: NodeBase, rpc: ServedRpc, data: Datadir | undefined, stopping: string, stopRole: () => Promise<void>): RunningNode {
  const { logger } = base
  let stopped = false
  return {
    rpcUrl: rpc.rpcUrl,
    wsUrl: rpc.wsUrl,
    metricsUrl: rpc.metricsUrl,
    datadir: data?.datadir,
    async stop() {
      if (stopped) return
      stopped = true
      logger.info(`stopping: ${stopping}`)
      await rpc.stop()
      await stopRole()
      if (data !== undefined) {
        await data.opened.close()
        if (data.temporary) await rm(data.datadir, { recursive: true, force: true })
      }
      logger.info('stopped')
    },
  }
}

function toHex(n: bigint): string {
  return `0x${n.toString(16)}`
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
