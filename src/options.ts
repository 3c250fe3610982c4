import type { Hex } from './chain/state-diff.ts'

export type Role = 'sequencer' | 'replica' | 'prover'
export type LogFormat = 'json' | 'pretty'
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'
export type ExecutorMode = 'parallel' | 'sequential'

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
  }
  /** undefined = no metrics server. */
  metricsPort: number | undefined
  p2p: { port: number; bootnodes: string[] }
  sequencer: { keyFile: string | undefined; address: Hex | undefined }
  miniBlockMs: number
  blockMs: number
  workers: number
  /** How mini-block transactions are executed: worker-thread parallel EVM, or one after another. */
  executor: ExecutorMode
  /** Execution worker threads of the parallel executor; undefined = cores − 1, at least 1. */
  execWorkers: number | undefined
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
  },
  metricsPort: undefined,
  p2p: { port: 30303, bootnodes: [] },
  sequencer: { keyFile: undefined, address: undefined },
  miniBlockMs: 10,
  blockMs: 1_000,
  workers: 1,
  executor: 'sequential',
  execWorkers: undefined,
  log: { level: 'info', format: 'json' },
})
