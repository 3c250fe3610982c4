import type { Hex } from '../../primitives/state-diff.ts'

/** The preimage of a v0 output root: the block header (RLP) and the message passer's storage root. */
export interface OutputPreimage {
  header: Uint8Array
  messagePasserStorageRoot: Hex
}

export interface TraceQuery {
  /** The disputed L2 block (the game's `disputedBlock_`). */
  block: bigint
  /** The agreed output the block starts from. */
  starting: OutputPreimage
  /**
   * The disputed output, or 'unpublished' when its preimage was not in the registry by the time the
   * disputed claim was made (its trace is then the UNOPENED constant).
   */
  disputed: OutputPreimage | 'unpublished'
  /** Leaf index within the execution subtree (0 … 2^(maxGameDepth − splitDepth − 1) − 1). */
  traceIndex: bigint
}

export interface ExecutionTraceProvider {
  /** The claim (status byte set) at trace index `traceIndex` of block `block`'s trace judged against `disputed`. */
  claimAt(q: TraceQuery): Promise<Hex>
  /** The step's inputs at `traceIndex` (pre-state = index − 1, or the absolute prestate at 0). */
  stepInputs(q: TraceQuery & { claimIndex: bigint }): Promise<{ stateData: Hex; proof: Hex }>
}
