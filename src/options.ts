import type { BatcherDaType, L1ServiceOptions } from './node/l1-services.ts'
import type { ProposerServiceOptions } from './node/proposer.ts'
import { DEFAULT_PROPOSER_OPTIONS, DEV_PROPOSER_OPTIONS } from './bridge/proposer/options.ts'
import { DEFAULT_L1_WATCHER_OPTIONS, DEV_L1_POLL_MS } from './bridge/l1-watcher-options.ts'
import { DEFAULT_CALL_POOL_LIMITS } from './execution/calls/pool.ts'
import type { Hex } from './primitives/state-diff.ts'
import { DEFAULT_ADMIN_ADDR } from './admin/options.ts'
import type { ReplicaMode, ReplicaOptions, TrustedCheckpoint } from './replica/options.ts'
import { defaultVerifyWorkers } from './replica/options.ts'
import type { SnapshotMode } from './replica/snapshot-sync.ts'
import { DEFAULT_ETH_RPC_OPTIONS, type EthRpcOptions } from './rpc/eth/backend.ts'
import { DEFAULT_RPC_SERVER_OPTIONS, type RpcServerOptions } from './rpc/options.ts'
import { DEFAULT_PROVER_OPTIONS, type ProverOptions } from './prover/options.ts'
import { DEFAULT_SEQUENCER_OPTIONS, type ExecutorMode, type SequencerOptions } from './sequencer/options.ts'

export type { ExecutorMode } from './sequencer/options.ts'
export type { ReplicaMode } from './replica/options.ts'
export type Role = 'sequencer' | 'replica' | 'prover'
export type { BatcherDaType }
/** Where a replica takes the chain from: the sequencer's mini-blocks over p2p, or derivation from L1. */
export type SyncMode = 'p2p' | 'l1'
export type LogFormat = 'json' | 'pretty'
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'

/**
 * Everything a node needs to start, validated: the operator's view (one field per flag). Each default
 * is its subsystem's (`DEFAULT_RPC_SERVER_OPTIONS`, `DEFAULT_ETH_RPC_OPTIONS`, `DEFAULT_SEQUENCER_OPTIONS`),
 * and the functions below turn these options back into each subsystem's: this file is the one place
 * where the two meet.
 */
export interface NodeOptions {
  role: Role
  /** undefined with `dev`: a fresh temporary datadir per run, like anvil. */
  datadir: string | undefined
  /** Recent blocks whose state stays readable (`eth_getBalance(…, n)`, `eth_call` at n, output roots), as geth's `--history.state`. */
  stateHistoryBlocks: number
  /** Recent blocks whose reverse diff is kept: how deep a rewind to what L1 says can go (`storage/chain-rewind.ts`). */
  stateRewindDepth: number
  /** Recent blocks whose witness and state diff stay on disk (`--history.witnesses`): how far behind a replica can catch up. */
  witnessHistoryBlocks: number
  /** Memory for state caches in MB (`--cache`): accounts and code read from disk, trie nodes. */
  cacheMb: number
  dev: boolean
  /** Path of a geth-style genesis.json; undefined with `dev` = the embedded dev genesis. */
  genesis: string | undefined
  rpc: {
    addr: string
    port: number
    gasCap: bigint
    maxBatch: number
    maxBodyBytes: number
    /** Largest response, and a batch's responses together (-32005 beyond). */
    maxResponseBytes: number
    wsMaxConnections: number
    wsMaxConnectionsPerIp: number
    wsMaxRequestsInFlight: number
    wsMaxSubscriptions: number
    logsMaxRange: bigint
    logsMaxResults: number
    syncTimeoutMs: number
    /** Polling filters installed at once, in total and by one client (peer address). */
    filtersMax: number
    filtersMaxPerClient: number
    /** Wall-clock limit of eth_call / eth_estimateGas / eth_createAccessList (geth's --rpc.evmtimeout); 0 = none. */
    evmTimeoutMs: number
    /** Worker threads running those calls; undefined = cores, between 2 and 4. */
    callWorkers: number | undefined
    /** Calls one client (by address) may have running or queued. */
    callsPerClient: number
    /** Calls running or queued, all clients together. */
    callsInFlight: number
  }
  /** undefined = no metrics server. */
  metricsPort: number | undefined
  p2p: {
    /** Listen address of the libp2p TCP transport. */
    addr: string
    /** undefined = 30303, or any free port with `dev` (several dev nodes share a machine). */
    port: number | undefined
    bootnodes: string[]
    /** Where the node's p2p identity is kept; undefined = `<datadir>/p2p-key` (a temporary dev datadir: a fresh identity). */
    keyFile: string | undefined
    /** Inbound sync requests per second a peer may sustain; undefined = the p2p host's default. */
    requestRate: number | undefined
    /** Inbound sync requests a peer may send at once (and the refusals that ban it); undefined = the p2p host's default. */
    requestBurst: number | undefined
  }
  sequencer: {
    keyFile: string | undefined
    address: Hex | undefined
    /** The sequencer's JSON-RPC URL, where a replica forwards transactions; undefined = learnt over p2p. */
    rpc: string | undefined
  }
  replica: {
    mode: ReplicaMode
    /** Stateless verification workers; undefined = one per core. */
    verifyWorkers: number | undefined
    /** A validator's trusted block (`--replica.checkpoint`); undefined = L1's anchor, else the sequencer's head. */
    checkpoint: TrustedCheckpoint | undefined
    sync: SyncMode
    /** When a new datadir starts from a snapshot of the sequencer's state (`--sync.snapshot`). */
    snapshot: SnapshotMode
    /** A full replica serves the sync protocol to other replicas (`--sync.serve`). */
    serve: boolean
  }
  l1: {
    /** The L1 JSON-RPC URL: a secret (API keys, credentials), never logged or echoed; see `redactL1Url`. */
    rpc: string | undefined
    /** Beacon API URL for blob reads; undefined = calldata batches only. */
    beacon: string | undefined
    /** Path of op-node's rollup.json. */
    rollupConfig: string | undefined
    /** undefined = 0 with the dev L1, else 4. */
    confirmations: number | undefined
    /** undefined = 250 ms with `--dev`, else 1 s. */
    pollMs: number | undefined
    /** Spawn the dev L1 (anvil); undefined = yes for a `--dev` sequencer given no `--l1.rpc`. */
    devL1: boolean | undefined
    /** Seconds between dev L1 blocks. */
    devBlockTime: number
  }
  prover: {
    /** File with the prover's hex L1 private key (a secret): it pays bonds and receives credits. */
    keyFile: string | undefined
    /** How often the factory and the games are read (ms). */
    pollMs: number
  }
  batcher: {
    /** File with the batcher's hex private key (a secret); undefined with the dev L1 = dev key #1. */
    keyFile: string | undefined
    /** undefined = calldata with the dev L1 (it serves no beacon API to read blobs back), else auto. */
    daType: BatcherDaType | undefined
  }
  proposer: {
    /** undefined = on for a `--dev` sequencer with the dev L1 (or with --proposer.key-file), else off. */
    enabled: boolean | undefined
    /** File with the proposer's hex private key (a secret, its own account); undefined with the dev L1 = its dev key. */
    keyFile: string | undefined
    /** L2 blocks between proposals; undefined = 10 with --dev, else 3600. */
    intervalBlocks: number | undefined
    /** undefined = 1 s with --dev, else 6 s. */
    pollMs: number | undefined
  }
  miniBlockMs: number
  /** See `ProducerOptions.eagerMiniBlockMs`. */
  eagerMiniBlockMs: number
  blockMs: number
  /** How mini-block transactions are executed: worker-thread parallel EVM, or one after another. */
  executor: ExecutorMode
  /** Execution worker threads of the parallel executor; undefined = cores − 1, at least 1. */
  workers: number | undefined
  /** Threads decoding transactions and recovering senders; 0 = the main thread. */
  ingestWorkers: number
  log: { level: LogLevel; format: LogFormat }
  admin: {
    /** undefined = no admin API (the default). */
    port: number | undefined
    addr: string
    /** File with the 32-byte hex HS256 secret; undefined with `dev` = `<datadir>/admin-jwt.hex`, generated if absent. */
    jwtSecret: string | undefined
  }
}

export const DEFAULT_NODE_OPTIONS: Readonly<NodeOptions> = Object.freeze<NodeOptions>({
  role: 'sequencer',
  datadir: undefined,
  stateHistoryBlocks: 128,
  stateRewindDepth: 10_000,
  witnessHistoryBlocks: 10_000,
  cacheMb: 1024,
  dev: false,
  genesis: undefined,
  rpc: {
    addr: DEFAULT_RPC_SERVER_OPTIONS.host,
    port: DEFAULT_RPC_SERVER_OPTIONS.port,
    gasCap: DEFAULT_ETH_RPC_OPTIONS.gasCap,
    maxBatch: DEFAULT_RPC_SERVER_OPTIONS.maxBatchSize,
    maxBodyBytes: DEFAULT_RPC_SERVER_OPTIONS.maxBodyBytes,
    maxResponseBytes: DEFAULT_RPC_SERVER_OPTIONS.maxResponseBytes,
    wsMaxConnections: DEFAULT_RPC_SERVER_OPTIONS.maxWsConnections,
    wsMaxConnectionsPerIp: DEFAULT_RPC_SERVER_OPTIONS.maxWsConnectionsPerIp,
    wsMaxRequestsInFlight: DEFAULT_RPC_SERVER_OPTIONS.maxWsRequestsInFlight,
    wsMaxSubscriptions: DEFAULT_RPC_SERVER_OPTIONS.maxSubscriptionsPerConnection,
    logsMaxRange: DEFAULT_ETH_RPC_OPTIONS.maxLogsRange,
    logsMaxResults: DEFAULT_ETH_RPC_OPTIONS.maxLogsResults,
    syncTimeoutMs: DEFAULT_ETH_RPC_OPTIONS.syncSendTimeoutMs,
    filtersMax: DEFAULT_ETH_RPC_OPTIONS.maxFilters,
    filtersMaxPerClient: DEFAULT_ETH_RPC_OPTIONS.maxFiltersPerClient,
    evmTimeoutMs: DEFAULT_CALL_POOL_LIMITS.timeoutMs,
    callWorkers: undefined,
    callsPerClient: DEFAULT_CALL_POOL_LIMITS.maxPerClient,
    callsInFlight: DEFAULT_CALL_POOL_LIMITS.maxInFlight,
  },
  metricsPort: undefined,
  p2p: { addr: '127.0.0.1', port: undefined, bootnodes: [], keyFile: undefined, requestRate: undefined, requestBurst: undefined },
  sequencer: { keyFile: undefined, address: undefined, rpc: undefined },
  replica: { mode: 'full', verifyWorkers: undefined, checkpoint: undefined, sync: 'p2p', snapshot: 'auto', serve: true },
  l1: {
    rpc: undefined,
    beacon: undefined,
    rollupConfig: undefined,
    confirmations: undefined,
    pollMs: undefined,
    devL1: undefined,
    devBlockTime: 2,
  },
  batcher: { keyFile: undefined, daType: undefined },
  prover: { keyFile: undefined, pollMs: DEFAULT_PROVER_OPTIONS.pollMs },
  proposer: { enabled: undefined, keyFile: undefined, intervalBlocks: undefined, pollMs: undefined },
  miniBlockMs: DEFAULT_SEQUENCER_OPTIONS.miniBlockMs,
  eagerMiniBlockMs: DEFAULT_SEQUENCER_OPTIONS.eagerMiniBlockMs,
  blockMs: DEFAULT_SEQUENCER_OPTIONS.blockMs,
  executor: DEFAULT_SEQUENCER_OPTIONS.executor,
  workers: undefined,
  ingestWorkers: DEFAULT_SEQUENCER_OPTIONS.ingestWorkers,
  log: { level: 'info', format: 'json' },
  admin: { port: undefined, addr: DEFAULT_ADMIN_ADDR, jwtSecret: undefined },
})

/** The node's L1, resolved from the flags (`L1ServiceOptions`), and where a replica takes its chain from. */
export interface L1Options extends L1ServiceOptions {
  /** Where this node takes its chain from (replicas): p2p, or L1 derivation. */
  sync: SyncMode
}

/** Whether the node spawns the dev L1: asked for, or by default a `--dev` sequencer given no L1 of its own. */
export function spawnsDevL1(options: NodeOptions): boolean {
  return (
    options.l1.devL1 ??
    (options.dev && options.role === 'sequencer' && options.l1.rpc === undefined && options.l1.rollupConfig === undefined)
  )
}

/** The resolved L1 options, or undefined for a node without L1 (the pure-L2 dev chain, or no `--l1.rpc`). */
export function l1Options(options: NodeOptions): L1Options | undefined {
  const dev = spawnsDevL1(options)
  if (!dev && options.l1.rpc === undefined) return undefined
  return {
    source: dev ? 'dev' : 'external',
    rpc: dev ? undefined : options.l1.rpc,
    beacon: options.l1.beacon,
    rollupConfigPath: dev ? undefined : options.l1.rollupConfig,
    // The dev L1 does not reorg (anvil), so its blocks are used at once.
    confirmations: options.l1.confirmations ?? (dev ? 0 : DEFAULT_L1_WATCHER_OPTIONS.confirmations),
    pollMs: options.l1.pollMs ?? (options.dev ? DEV_L1_POLL_MS : DEFAULT_L1_WATCHER_OPTIONS.pollMs),
    devBlockTime: options.l1.devBlockTime,
    // auto (op-batcher's fee-driven choice) needs readers able to fetch blobs; the dev L1 has no beacon API.
    batcher: { keyFile: options.batcher.keyFile, daType: options.batcher.daType ?? (dev ? 'calldata' : 'auto') },
    sync: options.replica.sync,
  }
}

/**
 * The sequencer's proposer (`--proposer.*`): on by default for a `--dev` sequencer on its dev L1 (or given a key),
 * paced for dev chains with `--dev` (a proposal every 10 blocks), else like OP mainnet (hourly).
 */
export function proposerOptions(options: NodeOptions): ProposerServiceOptions {
  const { proposer } = options
  const base = options.dev ? DEV_PROPOSER_OPTIONS : DEFAULT_PROPOSER_OPTIONS
  return {
    ...base,
    enabled: proposer.enabled ?? (options.dev && (spawnsDevL1(options) || proposer.keyFile !== undefined)),
    keyFile: proposer.keyFile,
    intervalBlocks: proposer.intervalBlocks === undefined ? base.intervalBlocks : BigInt(proposer.intervalBlocks),
    pollIntervalMs: proposer.pollMs ?? base.pollIntervalMs,
  }
}

export function sequencerOptions(options: NodeOptions): SequencerOptions {
  return {
    ...DEFAULT_SEQUENCER_OPTIONS,
    miniBlockMs: options.miniBlockMs,
    eagerMiniBlockMs: options.eagerMiniBlockMs,
    blockMs: options.blockMs,
    ingestWorkers: options.ingestWorkers,
    executor: options.executor,
    execWorkers: options.workers ?? DEFAULT_SEQUENCER_OPTIONS.execWorkers,
  }
}

export function replicaOptions(options: NodeOptions, sequencerAddress: Hex): ReplicaOptions {
  return {
    mode: options.replica.mode,
    sequencerAddress,
    sequencerRpc: options.sequencer.rpc,
    verifyWorkers: options.replica.verifyWorkers ?? defaultVerifyWorkers(),
    checkpoint: options.replica.checkpoint,
  }
}

export function ethRpcOptions(options: NodeOptions): EthRpcOptions {
  return {
    ...DEFAULT_ETH_RPC_OPTIONS,
    gasCap: options.rpc.gasCap,
    maxLogsRange: options.rpc.logsMaxRange,
    maxLogsResults: options.rpc.logsMaxResults,
    syncSendTimeoutMs: options.rpc.syncTimeoutMs,
    maxFilters: options.rpc.filtersMax,
    maxFiltersPerClient: options.rpc.filtersMaxPerClient,
  }
}

export function rpcServerOptions(options: NodeOptions): Partial<RpcServerOptions> {
  return {
    host: options.rpc.addr,
    port: options.rpc.port,
    maxBatchSize: options.rpc.maxBatch,
    maxBodyBytes: options.rpc.maxBodyBytes,
    maxResponseBytes: options.rpc.maxResponseBytes,
    maxWsConnections: options.rpc.wsMaxConnections,
    maxWsConnectionsPerIp: options.rpc.wsMaxConnectionsPerIp,
    maxWsRequestsInFlight: options.rpc.wsMaxRequestsInFlight,
    maxSubscriptionsPerConnection: options.rpc.wsMaxSubscriptions,
  }
}

export function proverOptions(options: NodeOptions): ProverOptions {
  return { ...DEFAULT_PROVER_OPTIONS, pollMs: options.prover.pollMs }
}
