/**
 * What the prover consumes: the chain it derived from L1 (outputs of derived blocks), the execution trace of one
 * disputed block (`ExecutionTraceProvider`, see docs/trace-spec: `stepvm` implements it over the step verifier),
 * and the publication of an output's preimage before the prover claims it (the output registry, when the game's VM
 * has one).
 */
import type { Hex } from 'viem'

/** An output of a block the prover derived: the v0 root and what opens it (header RLP, message passer root). */
export interface DerivedOutput {
  block: bigint
  root: Hex
  /** The block's header, RLP-encoded: what the output registry takes. */
  header: Hex
  messagePasserStorageRoot: Hex
}

/** The prover's own chain, derived from L1 only. */
export interface DerivedChainSource {
  /** The newest block derived from L1 (the safe head); undefined before derivation started. */
  safeHead(): bigint | undefined
  /** The number of the L1 block derivation has read through; undefined before it read any. */
  currentL1(): bigint | undefined
  /** The output of a derived block at or below the safe head (its state must still be in the state history). */
  outputAt(block: bigint): Promise<DerivedOutput>
  /**
   * No game will ask for an output below `block` again (games bisect from their starting block, and a new game
   * starts at the anchor, which only moves forward): the source may forget those outputs.
   */
  retainFrom(block: bigint): Promise<void>
}

/** Which block's trace a claim below the split depth belongs to (the game's `startingAndDisputedOutputs`). */
export interface ExecutionContext {
  game: Hex
  /** The agreed output the disputed block starts from, and its position (0: the anchor). */
  startingOutput: Hex
  startingPosition: bigint
  /** The output the execution trace judges, and its position in the output half. */
  disputedOutput: Hex
  disputedPosition: bigint
  disputedBlock: bigint
  /** When the disputed output's claim was made (the game's `disputedClaimCreatedAt`): a preimage published later does not open it. */
  disputedClaimCreatedAt: bigint
  /** The L2 block of the starting output. */
  startingBlock: bigint
  /** Depth of the execution subtree (maxGameDepth − splitDepth). */
  depth: number
}

/** The inputs of `step` against a max-depth claim: the pre-state's preimage and the verifier's proof. */
export interface StepInputs {
  stateData: Hex
  proof: Hex
}

/**
 * The execution half's trace of one disputed block, per trace-spec.md. `claimAt` answers undefined when the
 * provider cannot back a claim (the membership gap: a published header whose transactions are not the derived
 * block's): the prover then makes no claim there.
 */
export interface ExecutionTraceProvider {
  /** The honest claim at trace index `index` (0 … 2^depth − 1) of the context's block. */
  claimAt(context: ExecutionContext, index: bigint): Promise<Hex | undefined>
  /**
   * What `step` needs against the max-depth claim at `claimIndex`, whose pre-state is the state at `preIndex`
   * (−1: the absolute prestate); undefined when the VM cannot step here (no verifier).
   */
  stepInputs(context: ExecutionContext, preIndex: bigint, claimIndex: bigint): Promise<StepInputs | undefined>
}

/** Publishes an output's preimage before the prover claims it; the output root it published. */
export type OutputPublisher = (output: DerivedOutput) => Promise<Hex>
