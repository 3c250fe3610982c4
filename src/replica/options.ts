import { availableParallelism } from 'node:os'
import type { Hex } from '../chain/state-diff.ts'

export type ReplicaMode = 'full' | 'validator'

export interface ReplicaOptions {
  /** `full`: follows mini-blocks, keeps the state and serves JSON-RPC reads; `validator`: only verifies blocks statelessly. */
  mode: ReplicaMode
  /** Whose signatures on mini-blocks and block announcements are accepted. */
  sequencerAddress: Hex
  /** The sequencer's JSON-RPC URL for forwarded transactions; undefined = the one its sync status gives. */
  sequencerRpc: string | undefined
  /** Worker threads verifying blocks statelessly. */
  verifyWorkers: number
}

/** One verification worker per core but one (the main thread applies mini-blocks and serves RPC), at least 1. */
export function defaultVerifyWorkers(): number {
  return Math.max(1, availableParallelism() - 1)
}
