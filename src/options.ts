import type { Hex } from './chain/state-diff.ts'
import { defaultIngestWorkers } from './sequencer/options.ts'

export type Role = 'sequencer' | 'replica' | 'prover'
export type LogFormat = 'json' | 'pretty'
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'
export type ExecutorMode = 'parallel' | 'sequential'
export type ReplicaMode = 'full' | 'validator'

/** Everything a node needs to start, validated. Defaults live in `DEFAULT_NODE_OPTIONS` only. */
export interface NodeOptions {
  role: Role
  /** undefined with `dev`: a fresh temporary datadir per run, like anvil. */
  datadir: string | undefined
  dev: boolean
  /** Path of a geth-style genesis.json; undefined with `dev` = the embedded dev genesis. */
  genesis: string | undefined
  rpc: {
    addr: string
    port: number
    gasCap: bigint
    maxBatch: number
    maxBodyBytes: number
    wsMaxConnections: number
    wsMaxSubscriptions: number
    logsMaxRange: bigint
    logsMaxResults: number
    syncTimeoutMs: number
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
  }
  sequencer: {
    keyFile: string | undefined
    address: Hex | undefined
    /** The sequencer's JSON-RPC URL, where a replica forwards transactions; undefined = learnt over p2p. */
    rpc: string | undefined
  }
  replica: {
    mode: ReplicaMode
    /** Stateless verification workers; undefined = cores − 1, at least 1. */
    verifyWorkers: number | undefined
  }
  miniBlockMs: number
  blockMs: number
  /** How mini-block transactions are executed: worker-thread parallel EVM, or one after another. */
  executor: ExecutorMode
  /** Execution worker threads of the parallel executor; undefined = cores − 1, at least 1. */
  workers: number | undefined
  /** Threads decoding transactions and recovering senders; 0 = the main thread. */
  ingestWorkers: number
  log: { level: LogLevel; format: LogFormat }
}

export const DEFAULT_NODE_OPTIONS: Readonly<NodeOptions> = Object.freeze<NodeOptions>({
  role: 'sequencer',
  datadir: undefined,
  dev: false,
  genesis: undefined,
  rpc: {
    addr: '127.0.0.1',
    port: 8545,
    gasCap: 50_000_000n,
    maxBatch: 500,
    maxBodyBytes: 5 * 1024 * 1024,
    wsMaxConnections: 1_000,
    wsMaxSubscriptions: 128,
    logsMaxRange: 10_000n,
    logsMaxResults: 10_000,
    syncTimeoutMs: 2_000,
    evmTimeoutMs: 5_000,
    callWorkers: undefined,
    callsPerClient: 64,
    callsInFlight: 256,
  },
  metricsPort: undefined,
  p2p: { addr: '127.0.0.1', port: undefined, bootnodes: [], keyFile: undefined },
  sequencer: { keyFile: undefined, address: undefined, rpc: undefined },
  replica: { mode: 'full', verifyWorkers: undefined },
  miniBlockMs: 10,
  blockMs: 1_000,
  executor: 'sequential',
  workers: undefined,
  ingestWorkers: defaultIngestWorkers(),
  log: { level: 'info', format: 'json' },
})
