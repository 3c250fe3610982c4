/**
 * The one place the prover publishes an output's preimage before claiming it (trace-spec.md: every honest party
 * publishes before it claims, so the step verifier can open the output). The publisher is the output registry's
 * `ensureOutputPublished` bound to the game's registry, or none when the game's VM has no registry (`UnprovableVM`:
 * no step at all, nothing to open).
 */
import type { Hex } from 'viem'
import type { DerivedOutput, OutputPublisher } from './interface.ts'

export async function publishBeforeClaim(publisher: OutputPublisher | undefined, output: DerivedOutput): Promise<void> {
  if (publisher === undefined) return
  const root: Hex = await publisher(output)
  // The registry recomputes the root from the preimage: a different one means the prover's own output is wrong.
  if (root.toLowerCase() !== output.root.toLowerCase())
    throw new Error(`the registry computed output ${root} for block ${output.block}, the prover derived ${output.root}`)
}
