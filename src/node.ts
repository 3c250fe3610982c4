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
import { chainConfigFromGenesis, devGenesis, GenesisError, type GenesisFile } from './chain/genesis.ts'
import type { Hex } from './primitives/state-diff.ts'
import { ConfigError } from './config.ts'
import { CallWorkerPool, defaultCallWorkers } from './execution/calls/pool.ts'
import { privateKeyToAddress } from './crypto/native.ts'
import { createMetricsRegistry } from './metrics/registry.ts'
import { DiskFlatState } from './state/disk-flat-state.ts'
import { registerLiveStateMetrics } from './state/metrics.ts'
import {
  ethRpcOptions,
  l1Options,
  proverOptions,
  proposerOptions,
  replicaOptions,
  rpcServerOptions,
  sequencerOptions,
  type NodeOptions,
} from './options.ts'
import { P2pHost } from './p2p/index.ts'
import { ReplicaEthBackend } from './replica/eth-backend.ts'
import { Replica, type ReplicaStatus } from './replica/replica.ts'
import { TxForwarder } from './replica/tx-forwarder.ts'
import { replicaSyncServer } from './replica/sync-serving.ts'
import { Validator } from './replica/validator.ts'
import type { EthBackend } from './rpc/eth/backend.ts'
import { registerChainMethods } from './rpc/eth/chain-methods.ts'
import { registerDebugMethods } from './rpc/eth/debug-methods.ts'
import { registerFeeMethods } from './rpc/eth/fee-methods.ts'
import { registerLogAndSubscriptionMethods } from './rpc/eth/logs-and-subscriptions.ts'
import { registerSendMethods } from './rpc/eth/send-methods.ts'
import { registerStateMethods } from './rpc/eth/state-methods.ts'
import { registerOptimismMethods } from './rpc/optimism-methods.ts'
import { createRpcMetrics, MethodRegistry, registerIntrospectionMethods, RpcServer } from './rpc/index.ts'
import { SequencerEthBackend } from './sequencer/eth-backend.ts'
import { SequencerP2pService } from './sequencer/p2p-service.ts'
import { DEFAULT_STATE_SNAPSHOT_OPTIONS, StateSnapshots } from './storage/state-snapshots.ts'
import { SequencerAuthenticator, SyncClient } from './replica/sync-client.ts'
import { startFromSnapshot } from './node/snapshot-datadir.ts'
import { Sequencer } from './sequencer/sequencer.ts'
import { genesisHash, genesisOutputRoot, openChain, type OpenChainOptions, type OpenedChain } from './node/bootstrap.ts'
import { l1AnchorCheckpoint } from './node/anchor-checkpoint.ts'
import { loadGenesisFile, STREAM_ABOVE_BYTES } from './node/genesis-file.ts'
import { Services } from './node/services.ts'
import type { L1Services } from './node/l1-services.ts'
import { createDerivation } from './node/derivation.ts'
import { createBatcher } from './node/batcher.ts'
import { createProposer } from './node/proposer.ts'
import type { ProposerService, ProposerStatus } from './bridge/proposer/interface.ts'
import { fetchL1HeaderRlp } from './bridge/l1-header-rlp.ts'
import type { Batcher } from './da/batcher/batcher.ts'
import type { DerivationDriver } from './derive/driver.ts'
import { SequencerConsolidation } from './sequencer/l1-consolidation.ts'
import { L1SyncConsumer } from './derive/l1-sync.ts'
import { decodeWitness } from './stateless/witness.ts'
import { DerivedOutputs, recordingOutputs } from './node/prover-outputs.ts'
import { createProver } from './node/prover.ts'
import { decodeL2Transaction } from './chain/l2-transaction.ts'
import { NodeError, type NodeErrorOptions } from './primitives/errors.ts'
import { serveAdmin } from './admin-api.ts'
import { loadDashboardAssets } from './dashboard/assets.ts'

export interface RunningNode {
  rpcUrl: string
  wsUrl: string
  metricsUrl: string | undefined
  /** undefined for a validator, which keeps no chain data. */
  datadir: string | undefined
  stop(): Promise<void>
}

/** Roles that are not built yet: the CLI reports them and exits with code 2. */
export class RoleNotAvailableError extends NodeError<'ROLE_NOT_AVAILABLE', undefined> {
  override readonly name = 'RoleNotAvailableError'
  constructor(message: string, options?: NodeErrorOptions) {
    super('ROLE_NOT_AVAILABLE', message, { severity: 'critical', ...options })
  }
}

/** What every role derives from the options before building its parts. */
interface NodeBase {
  options: NodeOptions
  logger: Logger
  genesis: GenesisFile
  config: ChainConfig
  common: Common
  metrics: Registry
  /** The node's L1 (dev L1 or external) with its rollup config and watcher; undefined for a chain without L1. */
  l1: L1Services | undefined
}

/**
 * The composition root: builds one role's services from validated options and starts them in
 * dependency order (datadir → p2p → production or following → RPC); `stop()` stops them in reverse,
 * so intake closes first and the database last.
 */
export async function startNode(options: NodeOptions, logger: Logger): Promise<RunningNode> {
  const loaded = await loadGenesis(options)
  const config = chainConfigFromGenesis(loaded, options.dev ? 'megaeth-dev' : 'megaeth')
  const common = createChainCommon(config)
  const metrics = createMetricsRegistry(options.role)
  const services = new Services()
  try {
    // The L1 first: with --dev the L2 genesis is anchored to the rollup (see node/l1-services.ts).
    const l1 = await openL1({ options, logger, genesis: loaded, config, common, metrics }, services)
    const base: NodeBase = { options, logger, genesis: l1?.genesis ?? loaded, config, common, metrics, l1 }
    if (options.role === 'sequencer') return await startSequencer(base, services)
    if (options.role === 'prover') {
      if (base.l1 === undefined) throw new ConfigError('--role=prover needs --l1.rpc and --rollup.config')
      return await startProver(base, base.l1, services)
    }
    if (options.replica.mode === 'validator') return await startValidator(base, services)
    return base.l1 !== undefined && options.replica.sync === 'l1'
      ? await startL1Replica(base, base.l1, services)
      : await startReplica(base, services)
  } catch (error) {
    await services.stop().catch((stopError: unknown) => logger.error({ err: stopError }, 'stopping a partly started node failed'))
    throw error
  }
}

async function startSequencer(base: NodeBase, services: Services): Promise<RunningNode> {
  const { options, logger, config, common, metrics } = base
  const sequencerKey = await loadSequencerKey(options)
  const sequencerAddress = bytesToHex(privateKeyToAddress(sequencerKey)) as Hex
  if (options.sequencer.address !== undefined && options.sequencer.address !== sequencerAddress) {
    throw new ConfigError(
      `--sequencer.address ${options.sequencer.address} does not match the key in --sequencer.key-file (${sequencerAddress})`,
    )
  }
  const data = await openDatadir(base, services)
  const { opened } = data
  // With L1: blocks derived from L1 are checked against the sequencer's own (its safe head), and
  // blocks L1 forced while it was away are adopted before it produces again.
  let consolidation: SequencerConsolidation | undefined
  const derivation =
    base.l1 === undefined
      ? undefined
      : await createDerivation({
          l1: base.l1,
          opened,
          config,
          common,
          logger,
          metrics,
          start: 'recorded',
          verifyBlobs: false,
          consumer: ({ safeChain, build }) =>
            (consolidation = new SequencerConsolidation(opened, safeChain, build, logger.child({ module: 'consolidation' }))),
        })
  const catchUpWithL1 = async (): Promise<void> => {
    try {
      await derivation?.driver.runUntilIdle()
    } catch (err) {
      if (derivation?.driver.failure === undefined)
        logger.warn({ err }, 'could not derive from L1 before producing; derivation keeps trying in the background')
      else logger.error({ err }, 'DERIVATION STOPPED before production: the chain is no longer checked against L1')
    }
    consolidation?.stopAdopting()
  }
  const sequencer = await Sequencer.create({
    opened,
    config,
    common,
    sequencerKey,
    options: sequencerOptions(options),
    logger,
    metrics,
    ...(base.l1 === undefined
      ? {}
      : { l1: { rollup: base.l1.rollup, origins: base.l1.watcher }, beforeProduction: catchUpWithL1 }),
  })
  // The eth_call workers boot (a VM each) on the first call; calls sent before one is ready wait.
  const calls = await openCallPool(base, services, opened)
  const host = await startP2p(base, services, data.datadir)
  let rpcUrl = ''
  await services.start(
    'p2p gossip',
    new SequencerP2pService({
      host,
      opened,
      snapshots: stateSnapshots(options, opened),
      config,
      sequencerKey,
      rpcUrl: () => rpcUrl,
      logger: logger.child({ module: 'p2p-service' }),
    }),
  )
  // The batcher starts once derivation knows the safe head (it posts what follows it), but is stopped
  // after the sequencer: a graceful stop posts the last sealed blocks too (see `drain`).
  let batcher: Batcher | undefined
  await services.start('batcher', {
    start: () => undefined,
    stop: async () => {
      if (batcher === undefined) return
      if (!(await batcher.drain(BATCHER_DRAIN_MS)))
        logger.warn({ postedThrough: batcher.postedThrough.toString() }, 'stopping with blocks not yet posted to L1')
      await batcher.stop()
    },
  })
  // Stopping it finishes the mini-block in progress and seals it before the database closes.
  await services.start('sequencer', sequencer)
  if (derivation !== undefined) await services.start('derivation', derivation.service)
  if (base.l1?.batcherKey !== undefined && derivation !== undefined) {
    batcher = createBatcher({
      l1: base.l1,
      batcherKey: base.l1.batcherKey,
      chain: opened.chain,
      safeHead: () => derivation.driver.safe(),
      logger,
      metrics,
    })
    batcher.start()
  }
  const proposer =
    derivation === undefined ? undefined : await startProposer(base, services, opened, () => derivation.driver.safe())

  const info = () => ({
    ...nodeIdentity(base, host, sequencerAddress, rpcUrl),
    head: { block: toHex(opened.chain.head.header.number), miniBlock: toHex(opened.chain.latestMiniBlock?.number ?? 0n) },
    // For the dashboard (geth's txpool_status counts): transactions waiting, executable and nonce-gapped.
    txpool: sequencer.pool.size(),
    ...(proposer === undefined ? {} : { proposer: proposerInfo(proposer.status()) }),
  })
  const backend = new SequencerEthBackend(ethRpcOptions(options), { sequencer, opened, common, calls, info })
  const rpc = await serveRpc(withSafeHead(base, derivation?.driver), services, backend, () =>
    sequencer.failure === undefined
      ? { ready: true }
      : { ready: false, reason: `block production halted: ${sequencer.failure.message}` },
  )
  rpcUrl = rpc.rpcUrl
  logger.info(
    { rpc: rpc.rpcUrl, metrics: rpc.metricsUrl, sequencer: sequencerAddress, p2p: host.multiaddrs() },
    'sequencer running',
  )
  await serveAdmin({ ...base, services, datadir: data.datadir, sequencer, host, head: headOf(opened), info })
  return running(base, rpc, data, services)
}

async function startReplica(base: NodeBase, services: Services): Promise<RunningNode> {
  const { options, logger, config, common, metrics } = base
  const sequencerAddress = expectedSequencer(options)
  let started: P2pHost | undefined
  // The p2p host comes first: a new datadir may start from a snapshot of the sequencer's state.
  const data = await openDatadir(base, services, async (datadir) => {
    started = await startP2p(base, services, datadir)
    await startFromSnapshot({
      datadir,
      mode: options.replica.snapshot,
      sync: replicaSyncClient(base, started, sequencerAddress),
      genesis: base.genesis,
      config,
      common,
      logger: logger.child({ module: 'snapshot-sync' }),
    })
  })
  const host = started!
  const { opened } = data
  // The eth_call workers boot (a VM each) on the first call; calls sent before one is ready wait.
  const calls = await openCallPool(base, services, opened)
  const replica = await Replica.create({
    opened,
    config,
    common,
    host,
    options: replicaOptions(options, sequencerAddress),
    bootnodes: options.p2p.bootnodes,
    logger,
    metrics,
  })
  await services.start('follower and verifiers', replica)
  if (options.replica.serve)
    await services.start(
      'sync server',
      replicaSyncServer({ host, opened, snapshots: stateSnapshots(options, opened), chainId: config.chainId, replica }),
    )
  let rpcUrl = ''
  const info = () => ({
    ...nodeIdentity(base, host, sequencerAddress, rpcUrl),
    mode: 'full',
    head: { block: toHex(opened.chain.head.header.number), miniBlock: toHex(opened.chain.latestMiniBlock?.number ?? 0n) },
    ...verificationInfo(replica.status()),
  })
  const forwarder = new TxForwarder(() => replica.sequencerRpcUrl())
  const backend = new ReplicaEthBackend(ethRpcOptions(options), {
    opened,
    config,
    common,
    calls,
    forwarder,
    decode: replica.decode,
    info,
  })
  const rpc = await serveRpc(base, services, backend, () => replicaReadiness(replica.status(), host))
  rpcUrl = rpc.rpcUrl
  logger.info(
    { rpc: rpc.rpcUrl, metrics: rpc.metricsUrl, sequencer: sequencerAddress, p2p: host.multiaddrs() },
    'replica running',
  )
  await serveAdmin({ ...base, services, datadir: data.datadir, sequencer: undefined, host, head: headOf(opened), info })
  return running(base, rpc, data, services)
}

/**
 * `--sync=l1`: a replica that trusts nothing but L1. No p2p: every block is derived from the batches
 * and deposits on L1 and built here; transactions sent to it go to `--sequencer.rpc` if one is set.
 */
async function startL1Replica(base: NodeBase, l1: L1Services, services: Services): Promise<RunningNode> {
  const { options, logger, config, common, metrics } = base
  const data = await openDatadir(base, services)
  const { opened } = data
  const calls = await openCallPool(base, services, opened)
  const derivation = await createDerivation({
    l1,
    opened,
    config,
    common,
    logger,
    metrics,
    start: 'head',
    verifyBlobs: true,
    prepareTxs: true,
    consumer: ({ safeChain, build, builtHead, settled }) =>
      new L1SyncConsumer(opened, safeChain, build, logger.child({ module: 'l1-sync' }), { head: builtHead, settled }),
  })
  await services.start('derivation', derivation.service)
  const sequencerRpc = options.sequencer.rpc
  const { rpc, info } = await serveDerivedChain(base, l1, services, opened, calls, derivation.driver, {
    forwardTo: async () => sequencerRpc,
    extraInfo: () => ({ finalized: toHex(derivation.driver.finalized()) }),
  })
  logger.info(
    { rpc: rpc.rpcUrl, metrics: rpc.metricsUrl, head: opened.chain.head.header.number.toString() },
    'L1-derived replica running',
  )
  await serveAdmin({
    ...base,
    services,
    datadir: data.datadir,
    sequencer: undefined,
    host: undefined,
    head: headOf(opened),
    info,
  })
  return running(base, rpc, data, services)
}

/**
 * JSON-RPC over a chain derived from L1 (a `--sync=l1` replica, a prover): the replica's read methods, transactions
 * forwarded to `forwardTo` (none for a prover), ready while derivation has not failed.
 */
async function serveDerivedChain(
  base: NodeBase,
  l1: L1Services,
  services: Services,
  opened: OpenedChain,
  calls: CallWorkerPool,
  driver: DerivationDriver,
  params: { forwardTo: () => Promise<string | undefined>; extraInfo?: () => Record<string, unknown> },
): Promise<{ rpc: ServedRpc; info: () => Record<string, unknown> }> {
  const { options, config, common } = base
  let rpcUrl = ''
  const info = () => ({
    role: options.role,
    mode: 'l1',
    chainId: toHex(config.chainId),
    rpc: rpcUrl,
    ...(l1.publicInfo === undefined ? {} : { l1: l1.publicInfo }),
    head: { block: toHex(opened.chain.head.header.number) },
    safe: toHex(driver.safe()),
    ...(params.extraInfo?.() ?? {}),
    ...(driver.failure === undefined ? {} : { derivationFailure: driver.failure.message }),
  })
  const txOptions = { common }
  const backend = new ReplicaEthBackend(ethRpcOptions(options), {
    opened,
    config,
    common,
    calls,
    forwarder: new TxForwarder(params.forwardTo),
    decode: (raw) => decodeL2Transaction(raw, txOptions),
    info,
  })
  const rpc = await serveRpc(withSafeHead(base, driver), services, backend, () => {
    const failure = driver.failure
    return failure === undefined ? { ready: true } : { ready: false, reason: `deriving from L1: ${failure.message}` }
  })
  rpcUrl = rpc.rpcUrl
  return { rpc, info }
}

/**
 * `--role=prover`: a chain derived from L1 exactly as a `--sync=l1` replica derives it (read-only RPC, no p2p, no
 * transaction forwarding), the output of every derived block recorded as it is applied (a game bisects over
 * blocks long gone from the state history), and the agent playing the dispute games against that chain.
 */
async function startProver(base: NodeBase, l1: L1Services, services: Services): Promise<RunningNode> {
  const { options, logger, config, common, metrics } = base
  const data = await openDatadir(base, services)
  const { opened } = data
  const calls = await openCallPool(base, services, opened)
  const outputs = await DerivedOutputs.open(join(data.datadir, 'prover-outputs.jsonl'), opened.chain, logger)
  const derivation = await createDerivation({
    l1,
    opened,
    config,
    common,
    logger,
    metrics,
    start: 'head',
    verifyBlobs: true,
    prepareTxs: true,
    recordWitnesses: true,
    consumer: ({ safeChain, build, builtHead, settled }) =>
      recordingOutputs(
        new L1SyncConsumer(opened, safeChain, build, logger.child({ module: 'l1-sync' }), { head: builtHead, settled }),
        outputs,
        settled,
      ),
  })
  await services.start('derivation', derivation.service)
  const prover = await createProver({
    l1,
    keyFile: options.prover.keyFile!,
    options: proverOptions(options),
    chain: {
      safeHead: () => derivation.driver.safe(),
      currentL1: () => derivation.driver.currentL1()?.number,
      outputAt: (block) => outputs.outputAt(block),
      retainFrom: (block) => outputs.retainFrom(block),
    },
    common,
    config,
    blocks: {
      transactions: async (n) => (await opened.chain.blockByNumber(n))?.transactions,
      witness: async (n) => {
        const bytes = await opened.artifacts.witness(n)
        return bytes === undefined ? undefined : decodeWitness(bytes)
      },
      l1Header: (hash) => fetchL1HeaderRlp(l1.client, hash),
    },
    logger,
    metrics,
  })
  // Stopped before derivation: no move is made from a chain that is being closed.
  await services.start('prover', { start: () => prover.start(), stop: () => prover.stop() })
  // Read-only: a prover serves what it derived and forwards no transactions.
  const { rpc } = await serveDerivedChain(base, l1, services, opened, calls, derivation.driver, {
    forwardTo: async () => undefined,
  })
  logger.info({ rpc: rpc.rpcUrl, metrics: rpc.metricsUrl, head: opened.chain.head.header.number.toString() }, 'prover running')
  return running(base, rpc, data, services)
}

/**
 * The sequencer's proposer (`--proposer.*`): proposes outputs of derivation's safe blocks, resolves its games and
 * claims its bonds. Started after derivation and stopped before it (and before the L1 it talks to).
 */
async function startProposer(
  base: NodeBase,
  services: Services,
  opened: OpenedChain,
  safeHead: () => bigint,
): Promise<ProposerService | undefined> {
  if (base.l1 === undefined) return undefined
  const proposer = await createProposer({
    l1: base.l1,
    options: proposerOptions(base.options),
    chain: opened.chain,
    safeHead,
    logger: base.logger,
    metrics: base.metrics,
  })
  await services.start('proposer', proposer)
  const status = proposer.status()
  if (!status.enabled) base.logger.info({ reason: status.reason }, 'proposer off')
  return proposer
}

/** The proposer's status in `mega_nodeInfo` (the dashboard's L1 panel): JSON-RPC quantities, no key material. */
function proposerInfo(status: ProposerStatus): Record<string, unknown> {
  return {
    enabled: status.enabled,
    ...(status.reason === undefined ? {} : { reason: status.reason }),
    ...(status.address === undefined ? {} : { address: status.address }),
    ...(status.latestProposed === undefined ? {} : { latestProposed: toHex(status.latestProposed) }),
    ...(status.gamesInProgress === undefined ? {} : { gamesInProgress: status.gamesInProgress }),
    ...(status.failure === undefined ? {} : { failure: status.failure }),
  }
}

/** How long a stopping sequencer waits for its last blocks to land on L1. */
const BATCHER_DRAIN_MS = 15_000

/** The derivation driver as a service: stopped before the chain it writes is closed. */
/** `base` with derivation's safe and finalized heads for `optimism_syncStatus` (genesis without derivation). */
function withSafeHead(base: NodeBase, driver: DerivationDriver | undefined): NodeBase {
  return driver === undefined || base.l1 === undefined ? base : { ...base, l1: { ...base.l1, safeHead: driver } }
}

/** Validator mode: p2p, the stateless verifier and a minimal RPC (identity, health); nothing on disk. */
async function startValidator(base: NodeBase, services: Services): Promise<RunningNode> {
  const { options, logger, config, common, metrics } = base
  const sequencerAddress = expectedSequencer(options)
  const host = await startP2p(base, services, undefined)
  const genesis = {
    hash: () => genesisHash(base.genesis, config, common),
    outputRoot: () => genesisOutputRoot(base.genesis, config, common),
  }
  const validator = await services.start(
    'verifiers',
    Validator.create({
      config,
      common,
      host,
      options: replicaOptions(options, sequencerAddress),
      bootnodes: options.p2p.bootnodes,
      logger,
      metrics,
      genesisHash: genesis.hash,
      // With an L1 the rollup's settled anchor is the checkpoint unless the operator names one.
      ...(base.l1 === undefined
        ? {}
        : { l1Anchor: l1AnchorCheckpoint(base.l1.client, base.l1.rollup.depositContractAddress, genesis) }),
    }),
  )
  let rpcUrl = ''
  const registry = new MethodRegistry()
  const info = () => ({
    ...nodeIdentity(base, host, sequencerAddress, rpcUrl),
    mode: 'validator',
    ...verificationInfo(validator.status()),
  })
  registry.registerAll({
    eth_chainId: () => toHex(config.chainId),
    eth_blockNumber: () => toHex(validator.status().verified),
    mega_nodeInfo: info,
  })
  const rpc = await serveRegistry(base, services, registry, () => replicaReadiness(validator.status(), host))
  rpcUrl = rpc.rpcUrl
  logger.info({ rpc: rpc.rpcUrl, sequencer: sequencerAddress, p2p: host.multiaddrs() }, 'validator running')
  await serveAdmin({ ...base, services, datadir: undefined, sequencer: undefined, host, head: undefined, info })
  return running(base, rpc, undefined, services)
}

// --- shared parts ---------------------------------------------------------------------------------

/**
 * The L1 services (dev L1 or external L1, rollup config, watcher) when the options ask for an L1: a service
 * started before the datadir and stopped after it. The roles' L1 wiring (origins, batcher, derivation) builds on it.
 */
async function openL1(base: Omit<NodeBase, 'l1'>, services: Services): Promise<L1Services | undefined> {
  const l1 = l1Options(base.options)
  if (l1 === undefined) return undefined
  // Loaded only when used: viem and the bridge stay out of a pure-L2 node's start-up.
  const { startL1Services } = await import('./node/l1-services.ts')
  return services.open(
    'L1',
    () =>
      startL1Services({
        options: l1,
        dev: base.options.dev,
        datadir: base.options.datadir,
        genesis: base.genesis,
        config: base.config,
        common: base.common,
        logger: base.logger,
        metrics: base.metrics,
        batcherKey: base.options.role === 'sequencer',
        follow: !(base.options.role === 'replica' && base.options.replica.mode === 'validator'),
      }),
    (opened) => opened.stop(),
  )
}

/** 1 MiB in bytes. */
const MIB = 1024 * 1024

/**
 * `--cache` split between the flat state's account and code cache (3/4) and the trie thread's node
 * cache (1/4). A sequencer on the parallel executor loads the whole flat state instead: each worker
 * starts from a snapshot of every account.
 */
function stateCaches(options: NodeOptions): Pick<OpenChainOptions, 'stateCacheBytes' | 'trieCacheBytes'> {
  const bytes = options.cacheMb * MIB
  const trieCacheBytes = Math.floor(bytes / 4)
  if (options.role === 'sequencer' && options.executor === 'parallel') return { trieCacheBytes }
  return { trieCacheBytes, stateCacheBytes: bytes - trieCacheBytes }
}

interface Datadir {
  datadir: string
  opened: OpenedChain
}

/** Opens the datadir (a temporary one with --dev and no --datadir, removed on stop): the first service, closed last. */
async function openDatadir(base: NodeBase, services: Services, prepare?: (datadir: string) => Promise<void>): Promise<Datadir> {
  const { options, logger, genesis, config, common } = base
  const temporary = options.datadir === undefined
  const datadir = options.datadir ?? (await mkdtemp(join(tmpdir(), 'megaeth-dev-')))
  const removeTemporary = () => (temporary ? rm(datadir, { recursive: true, force: true }) : undefined)
  await prepare?.(datadir).catch(async (error: unknown) => {
    await removeTemporary()
    throw error
  })
  const opened = await services.open(
    'database',
    () =>
      openChain(datadir, genesis, config, common, {
        stateHistoryBlocks: options.stateHistoryBlocks,
        retainArtifactBlocks: BigInt(options.witnessHistoryBlocks),
        ...stateCaches(options),
        // Only L1 can overrule blocks: a chain without one never rewinds, so it keeps no reverse diffs.
        rewindDepth: base.l1 === undefined ? 0n : BigInt(options.stateRewindDepth),
        // A `--sync=l1` replica or a prover awaits every root it asks for and has no mini-block loop to protect.
        backgroundMerkleizer: !(
          options.role === 'prover' ||
          (options.role !== 'sequencer' &&
            options.replica.mode !== 'validator' &&
            base.l1 !== undefined &&
            options.replica.sync === 'l1')
        ),
      }).catch(async (error: unknown) => {
        await removeTemporary()
        throw error
      }),
    async (chain) => {
      await chain.close()
      await removeTemporary()
    },
  )
  const live = opened.chain.state.live
  if (live instanceof DiskFlatState) registerLiveStateMetrics(base.metrics, live)
  logger.info(
    {
      datadir,
      chainId: config.chainId.toString(),
      head: opened.chain.head.header.number.toString(),
      unsealedMiniBlocks: opened.unsealed.length,
      // 'persisted': the head's trie opened from <datadir>/trie; 'rebuilt': from the flat state (an older datadir).
      stateTrie: opened.trie.source,
      stateTrieMs: Math.round(opened.trie.ms),
      genesisCheckMs: Math.round(opened.startup.genesisCheckMs),
      flatStateMs: Math.round(opened.startup.flatStateMs),
    },
    'opened chain',
  )
  return { datadir, opened }
}

function startP2p(base: NodeBase, services: Services, datadir: string | undefined): Promise<P2pHost> {
  const { p2p, dev } = base.options
  const port = p2p.port ?? (dev ? 0 : 30303)
  const keyFile = p2p.keyFile ?? (datadir === undefined ? undefined : join(datadir, 'p2p-key'))
  const open = () =>
    P2pHost.start(
      {
        listen: [`/ip4/${p2p.addr}/tcp/${port}`],
        bootnodes: p2p.bootnodes,
        ...(keyFile === undefined ? {} : { keyFile }),
        requestRatePerSecond: p2p.requestRate,
        requestBurst: p2p.requestBurst,
      },
      { logger: base.logger, registry: base.metrics },
    )
  return services.open('p2p host', open, (host) => host.stop())
}

/** The node's sealed state, pinned for replicas that snapshot-sync from it. */
function stateSnapshots(options: NodeOptions, opened: OpenedChain): StateSnapshots {
  return new StateSnapshots(opened.db, opened.blocks, opened.stateStore, {
    ...DEFAULT_STATE_SNAPSHOT_OPTIONS,
    // A quarter of the diff window: a replica's sync ends with the diffs after its pivot still served.
    shareBlocks: Math.floor(options.witnessHistoryBlocks / 4),
  })
}

/** Sync requests to the sequencer, its signatures checked (what a replica starting from a snapshot asks with). */
function replicaSyncClient(base: NodeBase, host: P2pHost, sequencer: Hex): SyncClient {
  const auth = new SequencerAuthenticator(base.config, base.common, sequencer)
  return new SyncClient(host, base.config, base.common, auth, base.options.p2p.bootnodes)
}

/** With --dev the dev sequencer is implied; otherwise config validation required the flag. */
function expectedSequencer(options: NodeOptions): Hex {
  return options.sequencer.address ?? (bytesToHex(privateKeyToAddress(hexToBytes(DEV_SEQUENCER_KEY))) as Hex)
}

function nodeIdentity(base: NodeBase, host: P2pHost, sequencerAddress: Hex, rpcUrl: string): Record<string, unknown> {
  return {
    role: base.options.role,
    chainId: toHex(base.config.chainId),
    peerId: host.peerId,
    p2pAddrs: host.multiaddrs(),
    peers: host.connectedPeers().length,
    sequencerAddress,
    rpc: rpcUrl,
    // Only the dev L1 the node spawned: an external --l1.rpc is a secret and never echoed.
    ...(base.l1?.publicInfo === undefined ? {} : { l1: base.l1.publicInfo }),
  }
}

function verificationInfo(status: ReplicaStatus): Record<string, unknown> {
  const { failure, checkpoint } = status
  return {
    // A validator's trusted block: verification covers the blocks after it.
    ...(checkpoint === undefined
      ? {}
      : { checkpoint: { block: toHex(checkpoint.number), hash: checkpoint.hash, source: checkpoint.source } }),
    verified: {
      block: toHex(status.verified),
      failures: failure === undefined ? 0 : 1,
      ...(failure === undefined
        ? {}
        : { failure: { block: toHex(failure.data.block), code: failure.code, message: failure.message } }),
    },
  }
}

function replicaReadiness(status: ReplicaStatus, host: P2pHost): { ready: true } | { ready: false; reason: string } {
  if (status.failure !== undefined)
    return {
      ready: false,
      reason: `verification failed at block ${status.failure.data.block}: ${status.failure.code}: ${status.failure.message}`,
    }
  if (host.connectedPeers().length === 0) return { ready: false, reason: 'not connected to the sequencer' }
  if (!status.caughtUp) return { ready: false, reason: 'catching up with the sequencer' }
  return { ready: true }
}

/** The eth_call workers, a service: closed after the RPC server (no new calls) and before the chain they read. */
function openCallPool(base: NodeBase, services: Services, opened: OpenedChain): Promise<CallWorkerPool> {
  const blockHash = async (n: bigint) => {
    const block = await opened.chain.blockByNumber(n)
    return block === undefined ? undefined : hexToBytes(block.hash)
  }
  const { rpc } = base.options
  const { chainId, name, forks } = base.config
  const open = async () =>
    new CallWorkerPool({ kind: 'chain', chainId, name, forks }, blockHash, {
      workers: rpc.callWorkers ?? defaultCallWorkers(),
      timeoutMs: rpc.evmTimeoutMs,
      maxPerClient: rpc.callsPerClient,
      maxInFlight: rpc.callsInFlight,
    })
  return services.open('call workers', open, (pool) => pool.close())
}

interface ServedRpc {
  rpcUrl: string
  wsUrl: string
  metricsUrl: string | undefined
}

/** The eth/realtime/mega/debug namespaces over `backend`, served with health probes and metrics. */
async function serveRpc(
  base: NodeBase,
  services: Services,
  backend: EthBackend,
  readyz: () => { ready: true } | { ready: false; reason: string },
): Promise<ServedRpc> {
  const { logger } = base
  const registry = new MethodRegistry()
  registerChainMethods(registry, backend)
  registerStateMethods(registry, backend)
  registerFeeMethods(registry, backend)
  registerSendMethods(registry, backend)
  registerDebugMethods(registry, backend)
  registerOptimismMethods(registry, {
    chain: backend.chain,
    rollup: base.l1?.rollup,
    l1: base.l1?.watcher,
    // Derivation's heads (`withSafeHead`); genesis for a role that does not derive (see genesisSafeHead).
    safeHead: base.l1?.safeHead ?? { safe: () => 0n, finalized: () => 0n, currentL1: () => undefined },
  })
  const filters = registerLogAndSubscriptionMethods(registry, backend, {
    onListenerError: (err, where) => logger.error({ err, where }, 'filter or subscription listener failed'),
  })
  await services.start('filters and subscriptions', filters)
  return serveRegistry(base, services, registry, readyz)
}

async function serveRegistry(
  base: NodeBase,
  services: Services,
  registry: MethodRegistry,
  readyz: () => { ready: true } | { ready: false; reason: string },
): Promise<ServedRpc> {
  const { options, logger, metrics } = base
  registerIntrospectionMethods(registry)
  const metricsPort = options.metricsPort
  const metricsServer =
    metricsPort === undefined
      ? undefined
      : await services.open(
          'metrics server',
          () => serveMetrics(metrics, options.rpc.addr, metricsPort),
          (server) => server.close(),
        )
  const rpc = new RpcServer(rpcServerOptions(options), registry, {
    logger: logger.child({ module: 'rpc' }),
    metrics: createRpcMetrics(metrics),
    health: { healthz: () => true, readyz },
    // The live dashboard at /dashboard: static files that use the public RPC above (src/dashboard/).
    assets: await loadDashboardAssets(),
  })
  const address = await services.open(
    'RPC',
    () => rpc.start(),
    () => rpc.stop(),
  )
  return {
    rpcUrl: `http://${address.host}:${address.port}`,
    wsUrl: `ws://${address.host}:${address.port}`,
    metricsUrl: metricsServer?.url,
  }
}

/** The handle `startNode` returns: stops the role's services in reverse (RPC first: no new work; the database last). */
function running(base: NodeBase, rpc: ServedRpc, data: Datadir | undefined, services: Services): RunningNode {
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
      logger.info(`stopping: ${services.stopOrder().join(', ')}`)
      await services.stop()
      logger.info('stopped')
    },
  }
}

/** The sealed head, for the admin API (admin_startSequencer names it). */
function headOf(opened: OpenedChain): () => { number: bigint; hash: Hex } {
  return () => ({ number: opened.chain.head.header.number, hash: opened.chain.head.hash })
}

function toHex(n: bigint): string {
  return `0x${n.toString(16)}`
}

async function loadGenesis(options: NodeOptions): Promise<GenesisFile> {
  if (options.genesis === undefined) return devGenesis()
  let genesis: GenesisFile
  try {
    genesis = await loadGenesisFile(options.genesis, { datadir: options.datadir })
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    if (error instanceof GenesisError) throw new ConfigError(`--genesis ${options.genesis}: ${reason}`)
    const code = (error as NodeJS.ErrnoException).code
    if (code !== undefined) throw new ConfigError(`--genesis ${options.genesis}: cannot read (${reason})`)
    throw new ConfigError(`--genesis ${options.genesis}: not a genesis file (${reason})`)
  }
  // The L1 side hashes the genesis in memory (the rollup's genesis hash, --dev's anchoring): not a streamed one yet.
  if (genesis.allocFile !== undefined && l1Options(options) !== undefined)
    throw new ConfigError(
      `--genesis ${options.genesis}: a genesis over ${STREAM_ABOVE_BYTES / MIB} MiB is streamed from its file, which the L1 side cannot use yet; run without an L1 (--dev.l1=false, no --l1.rpc)`,
    )
  return genesis
}

async function loadSequencerKey(options: NodeOptions): Promise<Uint8Array> {
  if (options.sequencer.keyFile === undefined) return hexToBytes(DEV_SEQUENCER_KEY)
  let text: string
  try {
    text = (await readFile(options.sequencer.keyFile, 'utf8')).trim()
  } catch (error) {
    throw new ConfigError(
      `--sequencer.key-file ${options.sequencer.keyFile}: cannot read (${error instanceof Error ? error.message : String(error)})`,
    )
  }
  const hex = text.startsWith('0x') ? text : `0x${text}`
  if (!/^0x[0-9a-fA-F]{64}$/.test(hex))
    throw new ConfigError(`--sequencer.key-file ${options.sequencer.keyFile}: expected 32 bytes of hex`)
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
