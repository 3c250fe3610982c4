/**
 * The prover's execution trace over the chain it derived: the agent's `ExecutionTraceProvider` (contexts read from
 * the game, `undefined` where the prover cannot back a claim) on top of stepvm's block trace (`trace/provider.ts`,
 * queried by output preimages).
 *
 * Building the query of one execution subtree (trace-spec.md, "What the prover can and cannot compute"):
 * - the starting output: the prover's own derived output of the starting block. An honest prover only plays
 *   below a starting output it agreed with, so any other starting root is one it cannot open: no claim.
 * - the disputed output: first, was it published no later than the disputed claim was made? The verifier opens
 *   nothing else, so neither does the trace (the UNOPENED constant), whoever's output it is. If it was, its
 *   preimage is the derived one when the root is the derived output, else the registry's `OutputPublished`
 *   event of that root. A published header whose transactions root is not the derived block's is the membership
 *   gap: the prover cannot build that trace and makes no claim.
 */
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import type { Hex } from 'viem'
import type { PublishedOutput } from '../bridge/dispute/published-output.ts'
import type { DerivedChainSource, DerivedOutput, ExecutionContext, ExecutionTraceProvider, StepInputs } from './interface.ts'
import { readHeaderFields } from './trace/header-fields.ts'
import type { ExecutionTraceProvider as BlockTraceProvider, OutputPreimage, TraceQuery } from './trace/interface.ts'

export interface DerivedTraceModules {
  chain: Pick<DerivedChainSource, 'outputAt'>
  /** When the registry first published `root` (0n: never). */
  publishedAt(root: Hex): Promise<bigint>
  /** The registry's preimage of a published root; undefined when it has no `OutputPublished` event. */
  publishedOutput(root: Hex): Promise<PublishedOutput | undefined>
  /** The block trace for subtrees of `traceDepth` levels (maxGameDepth − splitDepth − 1). */
  blockTrace(traceDepth: number): BlockTraceProvider
}

type BlockQuery = Omit<TraceQuery, 'traceIndex'>

export class DerivedTraceProvider implements ExecutionTraceProvider {
  constructor(private readonly modules: DerivedTraceModules) {}

  async claimAt(context: ExecutionContext, index: bigint): Promise<Hex | undefined> {
    const query = await this.query(context)
    if (query === undefined) return undefined
    return (await this.trace(context).claimAt({ ...query, traceIndex: index })) as Hex
  }

  /** The step's trace index is the post-state's: the pre-state's + 1 (the absolute prestate is −1). */
  async stepInputs(context: ExecutionContext, preIndex: bigint, claimIndex: bigint): Promise<StepInputs | undefined> {
    const query = await this.query(context)
    if (query === undefined) return undefined
    const inputs = await this.trace(context).stepInputs({ ...query, traceIndex: preIndex + 1n, claimIndex })
    return { stateData: inputs.stateData as Hex, proof: inputs.proof as Hex }
  }

  /** The subtree's depth in the context counts from the split-depth claim; the block's trace is one level less. */
  private trace(context: ExecutionContext): BlockTraceProvider {
    return this.modules.blockTrace(context.depth - 1)
  }

  private async query(context: ExecutionContext): Promise<BlockQuery | undefined> {
    const { chain } = this.modules
    const starting = await chain.outputAt(context.startingBlock)
    if (!sameRoot(starting.root, context.startingOutput)) return undefined
    const block = context.disputedBlock
    const base = { block, starting: preimageOf(starting) }
    const publishedAt = await this.modules.publishedAt(context.disputedOutput)
    if (publishedAt === 0n || publishedAt > context.disputedClaimCreatedAt) return { ...base, disputed: 'unpublished' }
    const derived = await chain.outputAt(block)
    if (sameRoot(derived.root, context.disputedOutput)) return { ...base, disputed: preimageOf(derived) }
    const published = await this.modules.publishedOutput(context.disputedOutput)
    if (published === undefined) return undefined
    const theirs = readHeaderFields(hexToBytes(published.header))
    const ours = readHeaderFields(hexToBytes(derived.header))
    if (theirs === undefined || ours === undefined) return undefined
    if (bytesToHex(theirs.transactionsRoot) !== bytesToHex(ours.transactionsRoot)) return undefined
    return {
      ...base,
      disputed: { header: hexToBytes(published.header), messagePasserStorageRoot: published.messagePasserStorageRoot },
    }
  }
}

function preimageOf(output: DerivedOutput): OutputPreimage {
  return { header: hexToBytes(output.header), messagePasserStorageRoot: output.messagePasserStorageRoot }
}

function sameRoot(a: Hex, b: Hex): boolean {
  return a.toLowerCase() === b.toLowerCase()
}
