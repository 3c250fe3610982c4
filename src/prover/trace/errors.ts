import { NodeError } from '../../primitives/errors.ts'

export type TraceErrorCode =
  /** The node does not hold the block (or its witness) a trace needs. */
  | 'TRACE_BLOCK_UNAVAILABLE'
  /**
   * The disputed header's transactions root is not the one of the block the node derived: the
   * membership gap (DESIGN.md), no trace can be built.
   */
  | 'TRACE_MEMBERSHIP_GAP'
  /** The witness lacks bytecode or a trie node the re-execution needs. */
  | 'TRACE_MISSING_CODE'
  /** The trace index is outside the execution subtree. */
  | 'TRACE_INDEX_OUT_OF_RANGE'
  /** A query that cannot be answered as asked (e.g. step inputs of an unopened trace's index other than its opening). */
  | 'TRACE_BAD_QUERY'
  /**
   * The L1-attributes deposit names an L1 origin whose header the node cannot get from L1 (reorged away, or never an L1
   * block): the step needs it whenever the epoch rule holds.
   */
  | 'TRACE_L1_ORIGIN_UNAVAILABLE'

export class TraceError extends NodeError<TraceErrorCode, undefined> {
  override readonly name = 'TraceError'
  constructor(code: TraceErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
  }
}
