import { availableParallelism } from 'node:os'
import type { Hex } from '../primitives/state-diff.ts'

export type ReplicaMode = 'full' | 'validator'

/** A block a validator starts from: every block after it is verified, this one is taken on the operator's word. */
export interface TrustedCheckpoint {
  number: bigint
  hash: Hex
}

export interface ReplicaOptions {
  /** `full`: follows mini-blocks, keeps the state and serves JSON-RPC reads; `validator`: only verifies blocks statelessly. */
  mode: ReplicaMode
  /** Whose signatures on mini-blocks and block announcements are accepted. */
  sequencerAddress: Hex
  /** The sequencer's JSON-RPC URL for forwarded transactions; undefined = the one its sync status gives. */
  sequencerRpc: string | undefined
  /** Worker threads verifying blocks statelessly. */
  verifyWorkers: number
  /** A validator's `--replica.checkpoint`; undefined = L1's anchor when the node has an L1, else the sequencer's head. */
  checkpoint: TrustedCheckpoint | undefined
}

/**
 * One verification worker per core: verifying is what a replica is for, and its main thread's work
 * (applying mini-block diffs, serving reads) is light next to re-executing blocks. Blocks verify
 * independently, so workers scale until the cores run out.
 */
export function defaultVerifyWorkers(): number {
  return Math.max(1, availableParallelism())
}
