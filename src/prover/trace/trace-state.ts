/**
 * The execution trace's state (`TraceState`), its ABI encoding (the `stateData` the step verifier
 * takes) and its commitment (the claim: keccak256 of the encoding with the VM status as top byte).
 * One function per fact of the format, mirrored by contracts/L1/TxStepVerifier.sol; see the trace
 * format in docs/DESIGN.md ("The execution trace of a disputed block").
 */
import { encodeAbiParameters, keccak256 as keccakHex } from 'viem'
import type { Hex } from '../../primitives/state-diff.ts'

/** Where a trace stands. Numbers are part of the format. */
export const TracePhase = {
  /** The disputed output could not be opened (unpublished, or published after it was claimed). */
  UNOPENED: 0,
  /** Opened, executing: `txIndex` transactions executed. */
  EXECUTING: 1,
  /** Sealed and the disputed output matches what was executed. */
  SEALED_VALID: 2,
  /** Sealed with a mismatch, or stopped at a transaction that makes the block invalid. */
  INVALID: 3,
} as const
export type TracePhase = (typeof TracePhase)[keyof typeof TracePhase]

/** OP's VMStatus, the claim's top byte. */
export const VmStatus = { VALID: 0, INVALID: 1, PANIC: 2, UNFINISHED: 3 } as const

export interface TraceState {
  phase: TracePhase
  /** The output root the trace judges (zero in the UNOPENED state, which is one constant). */
  disputedOutput: Hex
  /** keccak256 of the disputed header's RLP. */
  headerHash: Hex
  /** State root after `txIndex` transactions (after the start-of-block system calls at 0). */
  stateRoot: Hex
  txIndex: bigint
  /** Gas used by the first `txIndex` transactions. */
  gasUsed: bigint
  /** Root of the receipts trie of the first `txIndex` receipts (key rlp(i)). */
  receiptsRoot: Hex
  /** keccak256 of the 256-byte OR of those receipts' blooms. */
  logsBloomHash: Hex
}

const ZERO32 = `0x${'00'.repeat(32)}` as Hex

const TRACE_STATE_ABI = [
  {
    type: 'tuple',
    components: [
      { name: 'phase', type: 'uint8' },
      { name: 'disputedOutput', type: 'bytes32' },
      { name: 'headerHash', type: 'bytes32' },
      { name: 'stateRoot', type: 'bytes32' },
      { name: 'txIndex', type: 'uint64' },
      { name: 'gasUsed', type: 'uint64' },
      { name: 'receiptsRoot', type: 'bytes32' },
      { name: 'logsBloomHash', type: 'bytes32' },
    ],
  },
] as const

/** The phrase whose ABI encoding is the absolute prestate's preimage. */
export const ABSOLUTE_PRESTATE_PHRASE = 'megaeth-node tx trace v1'

/** `stateData` of the absolute prestate: `abi.encode("megaeth-node tx trace v1")`. */
export const ABSOLUTE_PRESTATE_DATA: Hex = encodeAbiParameters([{ type: 'string' }], [ABSOLUTE_PRESTATE_PHRASE])

/** The game's `absolutePrestate`: keccak256 of its preimage with status UNFINISHED. */
export const ABSOLUTE_PRESTATE: Hex = withStatus(keccakHex(ABSOLUTE_PRESTATE_DATA), VmStatus.UNFINISHED)

/** The one UNOPENED state: every field zero (nothing about an output nobody can open is known). */
export const UNOPENED_STATE: TraceState = {
  phase: TracePhase.UNOPENED,
  disputedOutput: ZERO32,
  headerHash: ZERO32,
  stateRoot: ZERO32,
  txIndex: 0n,
  gasUsed: 0n,
  receiptsRoot: ZERO32,
  logsBloomHash: ZERO32,
}

/** `abi.encode(TraceState)`: the verifier's `stateData`. */
export function encodeTraceState(state: TraceState): Hex {
  return encodeAbiParameters(TRACE_STATE_ABI, [state])
}

/** The VM status a state's claim carries. */
export function statusOf(phase: TracePhase): number {
  switch (phase) {
    case TracePhase.EXECUTING:
      return VmStatus.UNFINISHED
    case TracePhase.SEALED_VALID:
      return VmStatus.VALID
    default:
      return VmStatus.INVALID
  }
}

/** The claim committing to `state`. */
export function traceClaim(state: TraceState): Hex {
  return withStatus(keccakHex(encodeTraceState(state)), statusOf(state.phase))
}

/** `hash` with its top byte replaced by `status`. */
export function withStatus(hash: Hex, status: number): Hex {
  return `0x${status.toString(16).padStart(2, '0')}${hash.slice(4)}` as Hex
}
