/**
 * The execution trace the prover plays against a VM without a step verifier (the dev L1's `UnprovableVM`: no output
 * registry, every step reverts). No step can decide such a game, so the clocks do: what matters is that the prover
 * answers every claim it disagrees with, consistently, with execution roots whose status byte the game accepts.
 *
 * Leaf i of disputed block b: `keccak256(abi.encode(tag, disputedOutput, b, i))` with the status byte UNFINISHED,
 * except the last leaf, which carries the verdict on the disputed output: VALID when it equals the output the prover
 * derived for b, INVALID otherwise (OP's rule for an execution root: INVALID when its maker disputes the output).
 * A deterministic function of the game's data and the derived chain, so two honest provers make the same claims
 * (and the game's duplicate check keeps them from repeating each other).
 */
import { encodeAbiParameters, type Hex, keccak256 } from 'viem'
import type { DerivedChainSource, ExecutionContext, ExecutionTraceProvider, StepInputs } from './interface.ts'

const TAG = 'megaeth-node clock-only trace v1'
/** OP's VMStatus bytes. */
const VALID = '00'
const INVALID = '01'
const UNFINISHED = '03'

export class ClockOnlyTraceProvider implements ExecutionTraceProvider {
  constructor(private readonly chain: Pick<DerivedChainSource, 'outputAt'>) {}

  async claimAt(context: ExecutionContext, index: bigint): Promise<Hex> {
    const last = (1n << BigInt(context.depth)) - 1n
    const hash = keccak256(
      encodeAbiParameters(
        [{ type: 'string' }, { type: 'bytes32' }, { type: 'uint256' }, { type: 'uint256' }],
        [TAG, context.disputedOutput, context.disputedBlock, index],
      ),
    )
    let status = UNFINISHED
    if (index >= last) {
      const ours = await this.chain.outputAt(context.disputedBlock)
      status = ours.root.toLowerCase() === context.disputedOutput.toLowerCase() ? VALID : INVALID
    }
    return `0x${status}${hash.slice(4)}` as Hex
  }

  /** No verifier: no step can be made (the game is decided by the clocks). */
  async stepInputs(): Promise<StepInputs | undefined> {
    return undefined
  }
}
