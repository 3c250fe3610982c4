import {
  type BatcherDaType,
  DEFAULT_NODE_OPTIONS,
  type ExecutorMode,
  type LogFormat,
  type LogLevel,
  type NodeOptions,
  type ReplicaMode,
  type Role,
  spawnsDevL1,
  type SyncMode,
} from './options.ts'
import type { Hex } from './primitives/state-diff.ts'
import type { SnapshotMode } from './replica/snapshot-sync.ts'
import type { TrustedCheckpoint } from './replica/options.ts'
import { NodeError, type NodeErrorOptions } from './primitives/errors.ts'
import { parseDurationMs } from './util/duration.ts'
import { defaultP2pOptions } from './p2p/options.ts'
import { ConfigFileProblem, nearestKey, parseConfigFile } from './config-file.ts'
import type { InitOptions } from './init.ts'
import type { PruneStateOptions } from './node/prune-state.ts'
import { readFileSync } from 'node:fs'
import { dirname, isAbsolute, resolve } from 'node:path'

/** One precise line for the operator; the CLI prints it and exits with code 2. */
export class ConfigError extends NodeError<'CONFIG_INVALID', undefined> {
  override readonly name = 'ConfigError'
  constructor(message: string, options?: NodeErrorOptions) {
    super('CONFIG_INVALID', message, { severity: 'critical', ...options })
  }
}

interface FlagSpec {
  help: string
  /** Flags without a value (`--dev`); they also take `=true|false`. */
  boolean?: boolean
  apply(options: NodeOptions, value: string, flag: string): void
}

const ROLES: readonly Role[] = ['sequencer', 'replica', 'prover']
const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal']
const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty']
const EXECUTORS: readonly ExecutorMode[] = ['parallel', 'sequential']
const REPLICA_MODES: readonly ReplicaMode[] = ['full', 'validator']
const DA_TYPES: readonly BatcherDaType[] = ['calldata', 'blobs', 'auto']
const SYNC_MODES: readonly SyncMode[] = ['p2p', 'l1']
const SNAPSHOT_MODES: readonly SnapshotMode[] = ['auto', 'always', 'never']

/** The flags, geth/op-node style (`--rpc.port`); each is also read from `MEGAETH_<FLAG>` (e.g. MEGAETH_RPC_PORT). */
export const FLAGS: Record<string, FlagSpec> = {
  role: { help: 'sequencer | replica | prover', apply: (o, v, f) => (o.role = oneOf(v, ROLES, f)) },
  datadir: { help: 'data directory (default with --dev: a fresh temporary directory)', apply: (o, v) => (o.datadir = v) },
  'state.history': {
    help: 'recent blocks whose state stays readable by block number (undo layers in memory, their reverse diffs on disk so they survive a restart)',
    apply: (o, v, f) => (o.stateHistoryBlocks = int(v, f, 1)),
  },
  cache: {
    help: "memory for state caches in MB, like geth's --cache: 3/4 for accounts and code read from disk, 1/4 for trie nodes (the parallel executor loads the whole state instead)",
    apply: (o, v, f) => (o.cacheMb = int(v, f, 16)),
  },
  'state.rewind-depth': {
    help: 'recent blocks whose reverse diff is kept on disk: how far the chain can rewind when L1 overrules it',
    apply: (o, v, f) => (o.stateRewindDepth = int(v, f, 1)),
  },
  'history.witnesses': {
    help: 'recent blocks whose witness and state diff are kept on disk (replicas catch up and verify from them; a replica further behind starts from a snapshot)',
    apply: (o, v, f) => (o.witnessHistoryBlocks = int(v, f, 1)),
  },
  dev: {
    help: 'dev chain: embedded genesis, prefunded test-mnemonic accounts, well-known sequencer key',
    boolean: true,
    apply: (o, v, f) => (o.dev = bool(v, f)),
  },
  genesis: { help: 'path of a geth-style genesis.json', apply: (o, v) => (o.genesis = v) },
  'rpc.addr': { help: 'JSON-RPC listen address (HTTP and WebSocket)', apply: (o, v) => (o.rpc.addr = v) },
  'rpc.port': {
    help: 'JSON-RPC port, HTTP and WebSocket on the same port (0 = any free port)',
    apply: (o, v, f) => (o.rpc.port = port(v, f)),
  },
  'rpc.gascap': {
    help: 'gas cap of eth_call, eth_estimateGas and eth_createAccessList, and their gas when a call gives none',
    apply: (o, v, f) => (o.rpc.gasCap = BigInt(int(v, f, 21_000))),
  },
  'rpc.batch-limit': { help: 'most requests in one JSON-RPC batch', apply: (o, v, f) => (o.rpc.maxBatch = int(v, f, 1)) },
  'rpc.body-limit': { help: 'largest HTTP request body, in bytes', apply: (o, v, f) => (o.rpc.maxBodyBytes = int(v, f, 1024)) },
  'rpc.response-limit': {
    help: "largest JSON-RPC response, and a batch's responses together, in bytes (-32005 beyond)",
    apply: (o, v, f) => (o.rpc.maxResponseBytes = int(v, f, 1024)),
  },
  'rpc.ws-connections': {
    help: 'most concurrent WebSocket connections',
    apply: (o, v, f) => (o.rpc.wsMaxConnections = int(v, f, 1)),
  },
  'rpc.ws-connections-per-ip': {
    help: 'most concurrent WebSocket connections from one remote address (behind a proxy: set it to --rpc.ws-connections)',
    apply: (o, v, f) => (o.rpc.wsMaxConnectionsPerIp = int(v, f, 1)),
  },
  'rpc.ws-inflight': {
    help: 'most messages (calls or batches) one WebSocket connection may have being processed at once',
    apply: (o, v, f) => (o.rpc.wsMaxRequestsInFlight = int(v, f, 1)),
  },
  'rpc.ws-subscriptions': {
    help: 'most subscriptions per WebSocket connection',
    apply: (o, v, f) => (o.rpc.wsMaxSubscriptions = int(v, f, 1)),
  },
  'rpc.logs-range': { help: 'longest eth_getLogs block range', apply: (o, v, f) => (o.rpc.logsMaxRange = BigInt(int(v, f, 1))) },
  'rpc.logs-results': { help: 'most logs one eth_getLogs returns', apply: (o, v, f) => (o.rpc.logsMaxResults = int(v, f, 1)) },
  'rpc.filters': {
    help: 'most polling filters (eth_newFilter, eth_newBlockFilter, …) installed at once',
    apply: (o, v, f) => (o.rpc.filtersMax = int(v, f, 1)),
  },
  'rpc.filters-per-client': {
    help: 'most polling filters one client (peer address) has installed at once',
    apply: (o, v, f) => (o.rpc.filtersMaxPerClient = int(v, f, 1)),
  },
  'rpc.sync-timeout-ms': {
    help: 'default wait of eth_sendRawTransactionSync (EIP-7966)',
    apply: (o, v, f) => (o.rpc.syncTimeoutMs = int(v, f, 1)),
  },
  'rpc.evmtimeout': {
    help: 'wall-clock limit of eth_call, eth_estimateGas, eth_createAccessList: ms or a duration like 5s, 1m (0 = none)',
    apply: (o, v, f) => (o.rpc.evmTimeoutMs = duration(v, f)),
  },
  'rpc.call-workers': {
    help: 'worker threads running eth_call, eth_estimateGas, eth_createAccessList (default: cores, 2 to 4)',
    apply: (o, v, f) => (o.rpc.callWorkers = int(v, f, 1, 64)),
  },
  'rpc.calls-per-client': {
    help: 'calls (eth_call, eth_estimateGas, eth_createAccessList) one client address may have running or queued',
    apply: (o, v, f) => (o.rpc.callsPerClient = int(v, f, 1)),
  },
  'rpc.calls-in-flight': {
    help: 'calls running or queued, all clients together (beyond: -32005)',
    apply: (o, v, f) => (o.rpc.callsInFlight = int(v, f, 1)),
  },
  'metrics.port': {
    help: 'serve Prometheus /metrics on this port (off when unset)',
    apply: (o, v, f) => (o.metricsPort = port(v, f)),
  },
  'p2p.addr': { help: 'libp2p TCP listen address (0.0.0.0 to take peers from other hosts)', apply: (o, v) => (o.p2p.addr = v) },
  'p2p.port': {
    help: 'libp2p TCP port (default 30303; with --dev any free port; mega_nodeInfo shows the bound multiaddrs)',
    apply: (o, v, f) => (o.p2p.port = port(v, f)),
  },
  'p2p.bootnodes': {
    help: "comma-separated multiaddrs to dial and keep dialling (a replica: the sequencer's, with /p2p/<peer id>)",
    apply: (o, v, f) => (o.p2p.bootnodes = multiaddrs(v, f)),
  },
  'p2p.key-file': {
    help: "file holding the node's p2p identity, created if missing (default <datadir>/p2p-key)",
    apply: (o, v) => (o.p2p.keyFile = v),
  },
  'p2p.request-rate': {
    help: `sync requests per second one peer may sustain; past its burst they are refused "rate limited" (default ${defaultP2pOptions.requestRatePerSecond})`,
    apply: (o, v, f) => (o.p2p.requestRate = int(v, f, 1)),
  },
  'p2p.request-burst': {
    help: `sync requests one peer may send at once; as many refusals more get it banned (default ${defaultP2pOptions.requestBurst})`,
    apply: (o, v, f) => (o.p2p.requestBurst = int(v, f, 1)),
  },
  'sequencer.key-file': { help: 'file holding the sequencer private key (hex)', apply: (o, v) => (o.sequencer.keyFile = v) },
  'sequencer.address': {
    help: 'the sequencer address (checked against the key; replicas accept only its signatures)',
    apply: (o, v, f) => (o.sequencer.address = address(v, f)),
  },
  'sequencer.rpc': {
    help: "replica: the sequencer's JSON-RPC URL to forward transactions to (default: the one it announces over p2p)",
    apply: (o, v, f) => (o.sequencer.rpc = url(v, f)),
  },
  'replica.mode': {
    help: 'full (follows mini-blocks, serves JSON-RPC) | validator (stateless verification only, no state on disk)',
    apply: (o, v, f) => (o.replica.mode = oneOf(v, REPLICA_MODES, f)),
  },
  'replica.verify-workers': {
    help: 'worker threads verifying blocks statelessly (default: one per core)',
    apply: (o, v, f) => (o.replica.verifyWorkers = int(v, f, 1, 64)),
  },
  'replica.checkpoint': {
    help: "validator: the block it verifies from, <number>:<0x block hash> (checked against the sequencer's block; default: L1's anchor with --l1.rpc, else the sequencer's head, trusted)",
    apply: (o, v, f) => (o.replica.checkpoint = checkpoint(v, f)),
  },
  'sync.snapshot': {
    help: "replica with a new datadir: auto (start from a snapshot of the sequencer's state when it no longer keeps the blocks since genesis) | always | never",
    apply: (o, v, f) => (o.replica.snapshot = oneOf(v, SNAPSHOT_MODES, f)),
  },
  'sync.serve': {
    help: "full replica: answer other replicas' sync requests (status, blocks, mini-blocks, snapshots, witnesses), as the sequencer does, so a new replica can sync from it",
    boolean: true,
    apply: (o, v, f) => (o.replica.serve = bool(v, f)),
  },
  sync: {
    help: 'replica: p2p (follow the sequencer’s mini-blocks) | l1 (derive the chain from L1 batches; needs --l1.rpc, --rollup.config)',
    apply: (o, v, f) => (o.replica.sync = oneOf(v, SYNC_MODES, f)),
  },
  'l1.rpc': {
    help: 'L1 JSON-RPC URL, http(s) or ws(s) (a secret: never logged or echoed; logs show scheme://host:port/…)',
    apply: (o, v, f) => (o.l1.rpc = secretUrl(v, f)),
  },
  'l1.beacon': {
    help: 'L1 beacon API URL, to read blob batches (without it: calldata batches only)',
    apply: (o, v, f) => (o.l1.beacon = secretUrl(v, f, ['http:', 'https:'])),
  },
  'rollup.config': {
    help: 'op-node’s rollup.json of the chain (the dev L1 writes <datadir>/rollup.json; optimism_rollupConfig returns it)',
    apply: (o, v) => (o.l1.rollupConfig = v),
  },
  'l1.confirmations': {
    help: 'L1 blocks below the head before an L1 block is used (default 0 with the dev L1, else 4)',
    apply: (o, v, f) => (o.l1.confirmations = int(v, f, 0, 1024)),
  },
  'l1.poll-interval': {
    help: 'how often the L1 head is polled: ms or a duration like 1s (default 250ms with --dev, else 1s)',
    apply: (o, v, f) => (o.l1.pollMs = positiveDuration(v, f)),
  },
  'dev.l1': {
    help: 'with --dev: spawn a dev L1 (anvil, chain id 900) with the rollup contracts (default for a --dev sequencer); false = pure L2',
    boolean: true,
    apply: (o, v, f) => (o.l1.devL1 = bool(v, f)),
  },
  'dev.l1.block-time': {
    help: 'seconds between dev L1 blocks',
    apply: (o, v, f) => (o.l1.devBlockTime = int(v, f, 1, 60)),
  },
  'batcher.key-file': {
    help: 'file holding the batcher’s private key (32 bytes hex; default with the dev L1: test-mnemonic key #1)',
    apply: (o, v) => (o.batcher.keyFile = v),
  },
  'batcher.data-availability-type': {
    help: 'calldata | blobs | auto (op-batcher’s: the cheaper on L1 at the time; default auto, calldata with the dev L1)',
    apply: (o, v, f) => (o.batcher.daType = oneOf(v, DA_TYPES, f)),
  },
  'prover.key-file': {
    help: 'file holding the prover’s L1 private key (32 bytes hex): it pays the bonds of its moves and receives credits',
    apply: (o, v) => (o.prover.keyFile = v),
  },
  'prover.poll-interval': {
    help: 'how often the prover reads the dispute game factory and its games: ms or a duration like 2s',
    apply: (o, v, f) => (o.prover.pollMs = positiveDuration(v, f)),
  },
  'proposer.enabled': {
    help: 'sequencer: propose output roots to L1’s DisputeGameFactory, resolve the games, claim their bonds (default on with --dev and its L1)',
    boolean: true,
    apply: (o, v, f) => (o.proposer.enabled = bool(v, f)),
  },
  'proposer.key-file': {
    help: 'file holding the proposer’s private key (32 bytes hex, an account of its own; default with the dev L1: a dev key it funds)',
    apply: (o, v) => (o.proposer.keyFile = v),
  },
  'proposer.interval': {
    help: 'L2 blocks between proposals: the newest safe block that is a multiple of it is proposed (default 10 with --dev, else 3600)',
    apply: (o, v, f) => (o.proposer.intervalBlocks = int(v, f, 1)),
  },
  'proposer.poll-interval': {
    help: 'how often the proposer looks at L1 and the safe head: ms or a duration like 6s (default 1s with --dev, else 6s)',
    apply: (o, v, f) => (o.proposer.pollMs = positiveDuration(v, f)),
  },
  'miniblock-ms': { help: 'mini-block interval in ms', apply: (o, v, f) => (o.miniBlockMs = int(v, f, 1, 10_000)) },
  'miniblock-eager-ms': {
    help: 'a transaction waiting starts a mini-block once the previous one is this many ms old, before the --miniblock-ms tick; at least --miniblock-ms turns eager mini-blocks off',
    apply: (o, v, f) => (o.eagerMiniBlockMs = int(v, f, 0, 10_000)),
  },
  'block-ms': { help: 'EVM block interval in ms', apply: (o, v, f) => (o.blockMs = int(v, f, 1, 600_000)) },
  executor: {
    help: 'sequential | parallel: how mini-block transactions are executed (default sequential; parallel is experimental)',
    apply: (o, v, f) => (o.executor = oneOf(v, EXECUTORS, f)),
  },
  workers: {
    help: 'execution worker threads of the parallel executor (default: cores - 1, at least 1)',
    apply: (o, v, f) => (o.workers = int(v, f, 1, 64)),
  },
  'ingest-workers': {
    help: 'worker threads decoding transactions and recovering senders (0: in the main thread)',
    apply: (o, v, f) => (o.ingestWorkers = int(v, f, 0, 64)),
  },
  'log.level': {
    help: 'trace | debug | info | warn | error | fatal',
    apply: (o, v, f) => (o.log.level = oneOf(v, LOG_LEVELS, f)),
  },
  'log.format': { help: 'json | pretty', apply: (o, v, f) => (o.log.format = oneOf(v, LOG_FORMATS, f)) },
  'admin.port': {
    help: 'serve the admin API (JWT-authenticated JSON-RPC: admin_stopSequencer, admin_peers, …) on this port (off when unset)',
    apply: (o, v, f) => (o.admin.port = port(v, f)),
  },
  'admin.addr': { help: 'admin API listen address', apply: (o, v) => (o.admin.addr = v) },
  'admin.jwt-secret': {
    help: 'file holding the admin API’s 32-byte hex HS256 secret (required with --admin.port; with --dev <datadir>/admin-jwt.hex, generated if absent)',
    apply: (o, v) => (o.admin.jwtSecret = v),
  },
}

/** --help's sections, by role; every flag is in exactly one (a unit test checks). */
export const FLAG_GROUPS: readonly { title: string; flags: readonly string[] }[] = [
  {
    title: 'common',
    flags: [
      'role',
      'datadir',
      'genesis',
      'cache',
      'state.history',
      'state.rewind-depth',
      'history.witnesses',
      'log.level',
      'log.format',
    ],
  },
  {
    title: 'sequencer',
    flags: [
      'sequencer.key-file',
      'sequencer.address',
      'miniblock-ms',
      'miniblock-eager-ms',
      'block-ms',
      'executor',
      'workers',
      'ingest-workers',
    ],
  },
  {
    title: 'replica',
    flags: [
      'replica.mode',
      'replica.verify-workers',
      'replica.checkpoint',
      'sync',
      'sync.snapshot',
      'sync.serve',
      'sequencer.rpc',
    ],
  },
  { title: 'prover', flags: ['prover.key-file', 'prover.poll-interval'] },
  {
    title: 'L1 / batcher',
    flags: [
      'l1.rpc',
      'l1.beacon',
      'rollup.config',
      'l1.confirmations',
      'l1.poll-interval',
      'batcher.key-file',
      'batcher.data-availability-type',
    ],
  },
  { title: 'proposer', flags: ['proposer.enabled', 'proposer.key-file', 'proposer.interval', 'proposer.poll-interval'] },
  {
    title: 'RPC',
    flags: [
      'rpc.addr',
      'rpc.port',
      'rpc.gascap',
      'rpc.batch-limit',
      'rpc.body-limit',
      'rpc.response-limit',
      'rpc.ws-connections',
      'rpc.ws-connections-per-ip',
      'rpc.ws-inflight',
      'rpc.ws-subscriptions',
      'rpc.logs-range',
      'rpc.logs-results',
      'rpc.filters',
      'rpc.filters-per-client',
      'rpc.sync-timeout-ms',
      'rpc.evmtimeout',
      'rpc.call-workers',
      'rpc.calls-per-client',
      'rpc.calls-in-flight',
    ],
  },
  { title: 'admin', flags: ['admin.port', 'admin.addr', 'admin.jwt-secret'] },
  { title: 'p2p', flags: ['p2p.addr', 'p2p.port', 'p2p.bootnodes', 'p2p.key-file', 'p2p.request-rate', 'p2p.request-burst'] },
  { title: 'metrics', flags: ['metrics.port'] },
  { title: 'dev', flags: ['dev', 'dev.l1', 'dev.l1.block-time'] },
]

/** The default --help prints for a flag, read from `DEFAULT_NODE_OPTIONS` (flags whose default depends on others say so in their help). */
const DEFAULT_OF: Readonly<Record<string, (o: Readonly<NodeOptions>) => unknown>> = {
  role: (o) => o.role,
  cache: (o) => o.cacheMb,
  'state.history': (o) => o.stateHistoryBlocks,
  'state.rewind-depth': (o) => o.stateRewindDepth,
  'history.witnesses': (o) => o.witnessHistoryBlocks,
  dev: (o) => o.dev,
  'rpc.addr': (o) => o.rpc.addr,
  'rpc.port': (o) => o.rpc.port,
  'rpc.gascap': (o) => o.rpc.gasCap,
  'rpc.batch-limit': (o) => o.rpc.maxBatch,
  'rpc.body-limit': (o) => o.rpc.maxBodyBytes,
  'rpc.response-limit': (o) => o.rpc.maxResponseBytes,
  'rpc.ws-connections': (o) => o.rpc.wsMaxConnections,
  'rpc.ws-connections-per-ip': (o) => o.rpc.wsMaxConnectionsPerIp,
  'rpc.ws-inflight': (o) => o.rpc.wsMaxRequestsInFlight,
  'rpc.ws-subscriptions': (o) => o.rpc.wsMaxSubscriptions,
  'rpc.logs-range': (o) => o.rpc.logsMaxRange,
  'rpc.logs-results': (o) => o.rpc.logsMaxResults,
  'rpc.filters': (o) => o.rpc.filtersMax,
  'rpc.filters-per-client': (o) => o.rpc.filtersMaxPerClient,
  'rpc.sync-timeout-ms': (o) => o.rpc.syncTimeoutMs,
  'rpc.evmtimeout': (o) => o.rpc.evmTimeoutMs,
  'rpc.calls-per-client': (o) => o.rpc.callsPerClient,
  'rpc.calls-in-flight': (o) => o.rpc.callsInFlight,
  'p2p.addr': (o) => o.p2p.addr,
  'replica.mode': (o) => o.replica.mode,
  sync: (o) => o.replica.sync,
  'sync.snapshot': (o) => o.replica.snapshot,
  'sync.serve': (o) => o.replica.serve,
  'dev.l1.block-time': (o) => o.l1.devBlockTime,
  'miniblock-ms': (o) => o.miniBlockMs,
  'miniblock-eager-ms': (o) => o.eagerMiniBlockMs,
  'block-ms': (o) => o.blockMs,
  executor: (o) => o.executor,
  'ingest-workers': (o) => o.ingestWorkers,
  'log.level': (o) => o.log.level,
  'prover.poll-interval': (o) => `${o.prover.pollMs}ms`,
  'admin.addr': (o) => o.admin.addr,
}

export type ParsedCommand =
  | { kind: 'help' }
  | { kind: 'init'; init: InitOptions }
  | { kind: 'prune-state'; prune: PruneStateOptions }
  | { kind: 'version' }
  | { kind: 'run'; options: NodeOptions }
  /** `workers`: execution workers for `executor: 'parallel'` (undefined = cores − 1, at least 1). */
  | { kind: 'blocktest'; paths: string[]; executor: ExecutorMode; workers: number | undefined; stateless: boolean }

/**
 * Flags beat environment variables beat defaults. Every problem is one `ConfigError` naming the flag
 * or variable and what it accepts.
 */
export function parseCommand(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  stdoutIsTty: boolean,
): ParsedCommand {
  if (argv[0] === 'blocktest') return parseBlocktest(argv.slice(1))
  if (argv[0] === 'init') return parseInit(argv.slice(1))
  if (argv[0] === 'prune-state') return parsePruneState(argv.slice(1))
  const options = structuredClone(DEFAULT_NODE_OPTIONS) as NodeOptions
  options.log.format = stdoutIsTty ? 'pretty' : 'json'
  // Defaults, then the file, then the environment, then the flags: each overrides the one before.
  const configFile = configFileOf(argv, env)
  if (configFile !== undefined) applyConfigFile(options, configFile)
  for (const [name, spec] of Object.entries(FLAGS)) {
    const variable = envName(name)
    const value = env[variable]
    if (value !== undefined && value !== '') spec.apply(options, value, variable)
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--help' || arg === '-h') return { kind: 'help' }
    if (arg === '--version') return { kind: 'version' }
    if (!arg.startsWith('--'))
      throw new ConfigError(`unexpected argument ${JSON.stringify(arg)}: flags look like --name=value (see --help)`)
    const eq = arg.indexOf('=')
    const name = arg.slice(2, eq === -1 ? undefined : eq)
    if (name === 'config') {
      // Read before the other sources (see configFileOf); here only skipped.
      if (eq === -1) i++
      continue
    }
    const spec = FLAGS[name]
    if (spec === undefined) {
      const nearest = nearestKey(name, Object.keys(FLAGS))
      throw new ConfigError(`unknown flag --${name}${nearest === undefined ? '' : ` (did you mean --${nearest}?)`} (see --help)`)
    }
    let value: string
    if (eq !== -1) value = arg.slice(eq + 1)
    else if (spec.boolean === true) value = 'true'
    else {
      const next = argv[i + 1]
      if (next === undefined || next.startsWith('--')) throw new ConfigError(`flag --${name} needs a value`)
      value = next
      i++
    }
    spec.apply(options, value, `--${name}`)
  }
  validate(options)
  return { kind: 'run', options }
}

/** `--config <file>` (or `--config=<file>`) from the command line, else `MEGAETH_CONFIG`. */
function configFileOf(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg.startsWith('--config=')) return nonEmpty(arg.slice('--config='.length), '--config')
    if (arg === '--config') {
      const next = argv[i + 1]
      if (next === undefined || next.startsWith('--')) throw new ConfigError('flag --config needs a value: a TOML file')
      return next
    }
  }
  const fromEnv = env[CONFIG_ENV]
  return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv
}

const CONFIG_ENV = 'MEGAETH_CONFIG'

/** Flags that name a file or directory: relative values in a config file are resolved against its directory. */
const PATH_KEYS: ReadonlySet<string> = new Set([
  'datadir',
  'genesis',
  'p2p.key-file',
  'sequencer.key-file',
  'rollup.config',
  'batcher.key-file',
  'prover.key-file',
  'proposer.key-file',
  'admin.jwt-secret',
])

function nonEmpty(value: string, flag: string): string {
  if (value === '') throw new ConfigError(`${flag} needs a value`)
  return value
}

/** Applies the file's keys to `options`; every error names the file, the line and the key. */
function applyConfigFile(options: NodeOptions, path: string): void {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new ConfigError(`--config ${path}: cannot read (${error instanceof Error ? error.message : String(error)})`)
  }
  let entries
  try {
    entries = parseConfigFile(path, text, Object.keys(FLAGS))
  } catch (error) {
    if (error instanceof ConfigFileProblem) throw new ConfigError(error.message)
    throw error
  }
  for (const entry of entries) {
    const location = entry.line > 0 ? `${path}:${entry.line}` : path
    // A relative path in the file is relative to the file, so a chain directory with its config moves as one.
    const value = PATH_KEYS.has(entry.key) && !isAbsolute(entry.value) ? resolve(dirname(path), entry.value) : entry.value
    // The flag parsers' messages start with the name they are given: here the key and where it is.
    FLAGS[entry.key]!.apply(options, value, `${location}: ${entry.key}`)
  }
}

function parseBlocktest(argv: readonly string[]): ParsedCommand {
  const paths: string[] = []
  // The block-test default stays the reference (sequential) executor; --executor=parallel checks the other.
  let executor: ExecutorMode = 'sequential'
  let workers: number | undefined
  let stateless = false
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (!arg.startsWith('--')) {
      paths.push(arg)
      continue
    }
    if (arg === '--stateless') {
      stateless = true
      continue
    }
    const eq = arg.indexOf('=')
    const name = arg.slice(2, eq === -1 ? undefined : eq)
    if (name !== 'executor' && name !== 'workers')
      throw new ConfigError(
        `blocktest: unknown flag ${arg} (supported: --executor=parallel|sequential, --workers=N, --stateless)`,
      )
    let value: string
    if (eq !== -1) value = arg.slice(eq + 1)
    else {
      const next = argv[i + 1]
      if (next === undefined || next.startsWith('--')) throw new ConfigError(`blocktest: flag --${name} needs a value`)
      value = next
      i++
    }
    if (name === 'executor') executor = oneOf(value, EXECUTORS, '--executor')
    else workers = int(value, '--workers', 1, 64)
  }
  if (paths.length === 0) throw new ConfigError('blocktest: give at least one fixture file or directory')
  return { kind: 'blocktest', paths, executor, workers, stateless }
}

function validate(options: NodeOptions): void {
  if (!options.dev && options.genesis === undefined) throw new ConfigError('--genesis is required unless --dev is set')
  const validator = options.role === 'replica' && options.replica.mode === 'validator'
  if (!options.dev && !validator && options.datadir === undefined)
    throw new ConfigError('--datadir is required unless --dev is set')
  if (options.role === 'sequencer' && !options.dev && options.sequencer.keyFile === undefined) {
    throw new ConfigError('--sequencer.key-file is required for --role=sequencer unless --dev is set')
  }
  validateL1(options)
  validateProver(options)
  if (options.admin.port !== undefined && options.admin.jwtSecret === undefined && !options.dev)
    throw new ConfigError(
      '--admin.port needs --admin.jwt-secret: a file with a 32-byte hex secret (the admin API is never served without authentication)',
    )
  if (options.admin.port !== undefined && options.admin.jwtSecret === undefined && options.datadir === undefined && validator)
    throw new ConfigError('--admin.port on a validator (no datadir) needs --admin.jwt-secret, even with --dev')
  // A full replica verifies the chain it keeps from its own verified head; a checkpoint is where a stateless
  // validator starts. Taking it silently elsewhere would suggest a check that is not made.
  if (options.replica.checkpoint !== undefined && !validator)
    throw new ConfigError(
      '--replica.checkpoint applies to --replica.mode=validator only (a full replica verifies the chain it keeps from genesis)',
    )
  if (options.blockMs < options.miniBlockMs)
    throw new ConfigError(`--block-ms (${options.blockMs}) must be at least --miniblock-ms (${options.miniBlockMs})`)
  if (options.role === 'replica') {
    if (options.p2p.bootnodes.length === 0 && options.replica.sync !== 'l1')
      throw new ConfigError(
        "--role=replica needs --p2p.bootnodes: the sequencer's multiaddr with /p2p/<peer id> (its mega_nodeInfo lists them)",
      )
    if (!options.dev && options.sequencer.address === undefined)
      throw new ConfigError(
        '--role=replica needs --sequencer.address unless --dev is set (with --dev the dev sequencer is implied)',
      )
    if (options.replica.mode === 'validator' && options.datadir !== undefined)
      throw new ConfigError(
        '--replica.mode=validator keeps no chain data: drop --datadir (use --p2p.key-file to keep a stable peer id)',
      )
  }
}

/** A prover derives the chain from an L1 it is given and signs with its own key; the key belongs to it alone. */
function validateProver(options: NodeOptions): void {
  if (options.role !== 'prover') {
    if (options.prover.keyFile !== undefined) throw new ConfigError('--prover.key-file applies to --role=prover only')
    return
  }
  if (options.l1.rpc === undefined || options.l1.rollupConfig === undefined)
    throw new ConfigError(
      '--role=prover needs --l1.rpc and --rollup.config: it derives the chain from L1 and plays the games there',
    )
  if (options.prover.keyFile === undefined)
    throw new ConfigError('--role=prover needs --prover.key-file: the L1 key that pays its bonds and receives its credits')
}

/** The L1 flags go together: each combination that cannot work is named with what to do instead. */
function validateL1(options: NodeOptions): void {
  const { l1, batcher } = options
  const dev = spawnsDevL1(options)
  if (l1.devL1 === true) {
    if (!options.dev) throw new ConfigError('--dev.l1 needs --dev (a real chain takes --l1.rpc and --rollup.config)')
    if (options.role !== 'sequencer')
      throw new ConfigError(
        "--dev.l1: only a sequencer spawns the dev L1; a replica takes the sequencer's: --l1.rpc (its mega_nodeInfo.l1.rpc) and --rollup.config (<its datadir>/rollup.json)",
      )
    if (l1.rpc !== undefined || l1.rollupConfig !== undefined)
      throw new ConfigError('--dev.l1 spawns and deploys its own L1: drop --l1.rpc and --rollup.config, or set --dev.l1=false')
  }
  if (!dev) {
    if (l1.rpc !== undefined && l1.rollupConfig === undefined)
      throw new ConfigError('--l1.rpc needs --rollup.config (op-node’s rollup.json of this chain)')
    if (l1.rollupConfig !== undefined && l1.rpc === undefined)
      throw new ConfigError('--rollup.config needs --l1.rpc (the L1 the rollup settles on)')
  }
  const hasL1 = dev || l1.rpc !== undefined
  if (options.replica.sync === 'l1') {
    if (options.role !== 'replica') throw new ConfigError('--sync applies to --role=replica only')
    if (!hasL1)
      throw new ConfigError('--role=replica --sync=l1 needs --l1.rpc and --rollup.config: derivation reads the chain from L1')
  }
  if (!hasL1) {
    const stray = (
      [
        ['--l1.beacon', l1.beacon],
        ['--l1.confirmations', l1.confirmations],
        ['--l1.poll-interval', l1.pollMs],
        ['--batcher.key-file', batcher.keyFile],
        ['--batcher.data-availability-type', batcher.daType],
      ] as const
    ).find(([, value]) => value !== undefined)
    if (stray !== undefined)
      throw new ConfigError(
        `${stray[0]} needs an L1: --l1.rpc with --rollup.config${options.dev ? ', or the dev L1 (--dev.l1)' : ''}`,
      )
  }
  if (options.role !== 'sequencer' && (batcher.keyFile !== undefined || batcher.daType !== undefined))
    throw new ConfigError('--batcher.* flags apply to --role=sequencer only (the sequencer runs the batcher)')
  if (options.role === 'sequencer' && hasL1 && !dev && !options.dev && batcher.keyFile === undefined)
    throw new ConfigError('--batcher.key-file is required for a sequencer with an L1 unless --dev is set')
  validateProposer(options, hasL1, dev)
}

/** `--proposer.*`: the sequencer's duty, on an L1; an external L1 needs the proposer's own key. */
function validateProposer(options: NodeOptions, hasL1: boolean, devL1: boolean): void {
  const { proposer } = options
  const given = Object.values(proposer).some((value) => value !== undefined)
  if (!given) return
  if (options.role !== 'sequencer')
    throw new ConfigError(
      '--proposer.* flags apply to --role=sequencer only (the sequencer proposes its outputs; a prover defends them)',
    )
  if (!hasL1) throw new ConfigError('--proposer.* needs an L1: --l1.rpc with --rollup.config, or the dev L1 (--dev)')
  if (proposer.enabled === true && !devL1 && proposer.keyFile === undefined)
    throw new ConfigError(
      '--proposer.enabled needs --proposer.key-file with an external L1 (an account of its own, funded for bonds)',
    )
}

export function envName(flag: string): string {
  return `MEGAETH_${flag.replace(/[.-]/g, '_').toUpperCase()}`
}

export function helpText(): string {
  const lines = [
    'megaeth-node — real-time Ethereum L2 node (sequencer, replica, prover)',
    '',
    'usage: megaeth-node [--config file.toml] [--flag=value …]',
    '       megaeth-node init --datadir=<dir> [--chain-id=N] [--prefund=<address>,…]',
    '                                                write a new chain: genesis, keys, admin secret, config.toml',
    '       megaeth-node deploy-l1 --dev --l1.rpc=<url> --rollup.config=<file> --batcher.key-file=<file>',
    '                                                deploy the dev rollup on an external L1 (the Docker devnet)',
    '       megaeth-node withdraw status|prove|finalize --tx=<L2 tx hash> --l1.rpc=<url> --l2.rpc=<url> [--key-file=<file>]',
    '                                                a withdrawal to L1: where it stands, prove it, finalize it',
    '       megaeth-node blocktest [--executor=sequential|parallel] [--workers=N] <fixture file or dir>…',
    '                                                run ethereum/tests BlockchainTests',
    '       megaeth-node prune-state --datadir=<dir> [--batch-nodes=N] [--verify=false]',
    "                                                delete the state-trie nodes the head's state no longer uses",
    "                                                (node stopped; keeps the head block's state; see README)",
    '',
    'Each flag is also read from MEGAETH_<FLAG> (--rpc.port → MEGAETH_RPC_PORT) and from the --config file',
    '(MEGAETH_CONFIG), where --rpc.port is `port` under `[rpc]`, or `"rpc.port" = …`. Flags beat the',
    'environment, which beats the file, which beats the defaults. Relative paths in the file are relative to it.',
  ]
  for (const group of FLAG_GROUPS) {
    lines.push('', `${group.title}:`)
    for (const name of group.flags) {
      const spec = FLAGS[name]!
      const value = DEFAULT_OF[name]?.(DEFAULT_NODE_OPTIONS)
      // Flags whose help already explains a computed default (`default: cores - 1`) keep their words.
      const fallback = value === undefined || /\bdefault\b/.test(spec.help) ? '' : ` (default: ${String(value)})`
      lines.push(`  --${name.padEnd(32)} ${spec.help}${fallback}`)
    }
  }
  lines.push(
    '',
    'other:',
    `  --${'config'.padEnd(32)} a TOML file of flag values (keys: the flag names)`,
    `  --${'help'.padEnd(32)} this text`,
    `  --${'version'.padEnd(32)} print the version`,
  )
  return lines.join('\n')
}

/**
 * `megaeth-node init`: where to write the new chain and its chain id. Without --chain-id a random
 * one (printed), so two chains made by `init` do not share replay protection by accident.
 */
function parseInit(argv: readonly string[]): ParsedCommand {
  const init: InitOptions = { datadir: '', chainId: undefined, prefund: [] }
  const flags = subcommandFlags('init', argv)
  if (flags === 'help') return { kind: 'help' }
  for (const [name, value] of flags) {
    if (name === 'datadir') init.datadir = nonEmpty(value, '--datadir')
    else if (name === 'chain-id') init.chainId = BigInt(int(value, '--chain-id', 1))
    else if (name === 'prefund') init.prefund = value.split(',').map((a) => address(a.trim(), '--prefund'))
    else if (name === 'l1.rpc' || name === 'rollup.config')
      throw new ConfigError(
        `init: --${name}: init writes the L2 side only (genesis, keys, config) and deploys no L1 contracts; ` +
          'deploy the rollup, then add l1.rpc and rollup.config to the written config.toml (or run --dev for a dev L1)',
      )
    else throw new ConfigError(`init: unknown flag --${name} (supported: --datadir, --chain-id, --prefund)`)
  }
  if (init.datadir === '') throw new ConfigError('init: --datadir is required (the directory the new chain is written to)')
  return { kind: 'init', init }
}

/** `megaeth-node prune-state --datadir=<dir>`: the datadir of a stopped node, and the sweep's knobs. */
function parsePruneState(argv: readonly string[]): ParsedCommand {
  const prune: PruneStateOptions = { datadir: '' }
  const flags = subcommandFlags('prune-state', argv)
  if (flags === 'help') return { kind: 'help' }
  for (const [name, value] of flags) {
    if (name === 'datadir') prune.datadir = nonEmpty(value, '--datadir')
    else if (name === 'batch-nodes') prune.batchNodes = int(value, '--batch-nodes', 1, 1_000_000)
    else if (name === 'verify') prune.verify = bool(value, '--verify')
    else throw new ConfigError(`prune-state: unknown flag --${name} (supported: --datadir, --batch-nodes, --verify)`)
  }
  if (prune.datadir === '') throw new ConfigError('prune-state: --datadir is required (the datadir of the stopped node)')
  return { kind: 'prune-state', prune }
}

/**
 * A subcommand's flags as name/value pairs (`--name=value` or `--name value`), or 'help' when asked
 * for; anything else on the line is an error naming the subcommand.
 */
function subcommandFlags(command: string, argv: readonly string[]): Array<[name: string, value: string]> | 'help' {
  const flags: Array<[string, string]> = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--help' || arg === '-h') return 'help'
    if (!arg.startsWith('--')) throw new ConfigError(`${command}: unexpected argument ${JSON.stringify(arg)}`)
    const eq = arg.indexOf('=')
    const name = arg.slice(2, eq === -1 ? undefined : eq)
    if (eq !== -1) flags.push([name, arg.slice(eq + 1)])
    else {
      const next = argv[i + 1]
      if (next === undefined || next.startsWith('--')) throw new ConfigError(`${command}: flag --${name} needs a value`)
      flags.push([name, next])
      i++
    }
  }
  return flags
}

function oneOf<T extends string>(value: string, allowed: readonly T[], flag: string): T {
  if (!(allowed as readonly string[]).includes(value))
    throw new ConfigError(`${flag}: ${JSON.stringify(value)} is not one of ${allowed.join(', ')}`)
  return value as T
}

function bool(value: string, flag: string): boolean {
  if (value === 'true' || value === '1') return true
  if (value === 'false' || value === '0') return false
  throw new ConfigError(`${flag}: expected true or false, got ${JSON.stringify(value)}`)
}

function int(value: string, flag: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\d+$/.test(value)) throw new ConfigError(`${flag}: expected a whole number, got ${JSON.stringify(value)}`)
  const n = Number(value)
  if (n < min || n > max) throw new ConfigError(`${flag}: ${n} is out of range [${min}, ${max}]`)
  return n
}

function duration(value: string, flag: string): number {
  const ms = parseDurationMs(value)
  if (ms === undefined)
    throw new ConfigError(`${flag}: expected milliseconds or a duration like 5s, 500ms, 1m30s, got ${JSON.stringify(value)}`)
  return ms
}

function multiaddrs(value: string, flag: string): string[] {
  const addrs = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
  for (const addr of addrs) {
    if (!/^\/(ip4|ip6|dns|dns4|dns6)\/[^/]+\/tcp\/\d+\/p2p\/[1-9A-HJ-NP-Za-km-z]+$/.test(addr)) {
      throw new ConfigError(`${flag}: ${JSON.stringify(addr)} is not a multiaddr like /ip4/127.0.0.1/tcp/30303/p2p/<peer id>`)
    }
  }
  return addrs
}

function url(value: string, flag: string): string {
  try {
    const parsed = new URL(value)
    if (parsed.protocol === 'http:' || parsed.protocol === 'https:') return value
  } catch {
    // reported below
  }
  throw new ConfigError(`${flag}: expected an http(s) URL, got ${JSON.stringify(value)}`)
}

/** A URL that may carry credentials or an API key: checked, never quoted back. */
function secretUrl(value: string, flag: string, protocols = ['http:', 'https:', 'ws:', 'wss:']): string {
  try {
    if (protocols.includes(new URL(value).protocol)) return value
  } catch {
    // reported below
  }
  throw new ConfigError(
    `${flag}: expected an ${protocols.map((p) => p.slice(0, -1)).join(', ')} URL (the value is not shown: it may hold credentials)`,
  )
}

function positiveDuration(value: string, flag: string): number {
  const ms = duration(value, flag)
  if (ms <= 0) throw new ConfigError(`${flag}: must be more than 0`)
  return ms
}

function port(value: string, flag: string): number {
  return int(value, flag, 0, 65_535)
}

/** `<number>:<0x-prefixed 32-byte block hash>`: a block the operator trusts, by number and hash. */
function checkpoint(value: string, flag: string): TrustedCheckpoint {
  const match = /^(\d+):(0x[0-9a-fA-F]{64})$/.exec(value)
  if (match === null)
    throw new ConfigError(`${flag}: expected <block number>:<0x-prefixed 32-byte block hash>, got ${JSON.stringify(value)}`)
  return { number: BigInt(match[1]!), hash: match[2]!.toLowerCase() as Hex }
}

function address(value: string, flag: string): Hex {
  if (!/^0x[0-9a-fA-F]{40}$/.test(value))
    throw new ConfigError(`${flag}: ${JSON.stringify(value)} is not a 0x-prefixed 20-byte address`)
  return value.toLowerCase() as Hex
}
