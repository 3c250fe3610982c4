/**
 * `ExecutionTraceProvider` over a node's chain: the block's transactions and its execution witness
 * come from the node (`TraceBlockSource`), the trace is built once per (block, starting output,
 * disputed output) and kept in a small LRU — a dispute asks ~K + 1 points of one trace, and a few
 * games may run at once.
 */
import type { Common } from '@ethereumjs/common'
import type { Hex } from '../../primitives/state-diff.ts'
import type { ExecutionWitness } from '../../stateless/witness.ts'
import { buildBlockTrace, outputRootOf, traceLeaf, type BlockTrace, type ChainTraceRules } from './block-trace.ts'
import { TraceError } from './errors.ts'
import type { ExecutionTraceProvider, TraceQuery } from './interface.ts'
import { StepKind, encodeStepProof } from './step-proof.ts'
import { ABSOLUTE_PRESTATE_DATA, UNOPENED_STATE, encodeTraceState, traceClaim } from './trace-state.ts'

/** Where the provider reads the node's blocks. */
export interface TraceBlockSource {
  /** Canonical encodings of block `number`'s transactions as the node holds them; undefined when it does not. */
  transactions(number: bigint): Promise<readonly Uint8Array[] | undefined>
  /** The block's execution witness (what `debug_executionWitness` serves); undefined when not kept. */
  witness(number: bigint): Promise<ExecutionWitness | undefined>
  /** An L1 block's header (RLP) by hash, undefined when L1 does not have it (the blocks' L1 origins). */
  l1Header(hash: Hex): Promise<Uint8Array | undefined>
}

export interface NodeTraceProviderOptions {
  common: Common
  rules: ChainTraceRules
  source: TraceBlockSource
  /**
   * Depth of one block's trace: maxGameDepth − splitDepth − 1 (an execution subtree's root is a move on a split-depth
   * claim, so it spans 2^(maxGameDepth − splitDepth − 1) leaves); leaves are 0 … 2^traceDepth − 1.
   */
  traceDepth: number
  /** Traces kept (default 4). */
  cacheSize?: number
}

export class NodeTraceProvider implements ExecutionTraceProvider {
  private readonly cache = new Map<string, Promise<BlockTrace>>()

  constructor(private readonly opts: NodeTraceProviderOptions) {}

  async claimAt(q: TraceQuery): Promise<Hex> {
    this.checkIndex(q.traceIndex)
    if (q.disputed === 'unpublished') return traceClaim(UNOPENED_STATE)
    return traceClaim(traceLeaf(await this.trace(q), q.traceIndex).state)
  }

  async stepInputs(q: TraceQuery & { claimIndex: bigint }): Promise<{ stateData: Hex; proof: Hex }> {
    this.checkIndex(q.traceIndex)
    const first = q.traceIndex === 0n
    if (q.disputed === 'unpublished') {
      // The verifier finds the output unpublished before reading the body.
      const stateData = first ? ABSOLUTE_PRESTATE_DATA : encodeTraceState(UNOPENED_STATE)
      return { stateData, proof: encodeStepProof(q.claimIndex, first ? StepKind.OPEN : StepKind.NONE, '0x') }
    }
    // Leaves from the cached trace; the step's body from a build that makes that body alone (once per game).
    const trace = await this.trace(q)
    const { step } = traceLeaf(await this.build(q.block, q.starting, q.disputed, q.traceIndex), q.traceIndex)
    const stateData = first ? ABSOLUTE_PRESTATE_DATA : encodeTraceState(traceLeaf(trace, q.traceIndex - 1n).state)
    return { stateData, proof: encodeStepProof(q.claimIndex, step.kind, step.body) }
  }

  private checkIndex(index: bigint): void {
    if (index < 0n || index >= 1n << BigInt(this.opts.traceDepth))
      throw new TraceError('TRACE_INDEX_OUT_OF_RANGE', `trace index ${index} is outside 0 … 2^${this.opts.traceDepth} − 1`)
  }

  private trace(q: TraceQuery): Promise<BlockTrace> {
    if (q.disputed === 'unpublished') throw new TraceError('TRACE_BAD_QUERY', 'an unpublished output has no block trace')
    const disputed = q.disputed
    const key = `${q.block}:${outputRootOf(q.starting)}:${outputRootOf(disputed)}`
    const cached = this.cache.get(key)
    if (cached !== undefined) {
      // LRU: a hit moves to the back.
      this.cache.delete(key)
      this.cache.set(key, cached)
      return cached
    }
    // Leaves only: no step body (`stepInputs` builds the one it needs).
    const built = this.build(q.block, q.starting, disputed, -1n)
    this.cache.set(key, built)
    // A failed build is not kept: the node may hold the block later.
    built.catch(() => this.cache.delete(key))
    const limit = this.opts.cacheSize ?? 4
    while (this.cache.size > limit) this.cache.delete(this.cache.keys().next().value as string)
    return built
  }

  private async build(
    block: bigint,
    starting: TraceQuery['starting'],
    disputed: Exclude<TraceQuery['disputed'], 'unpublished'>,
    stepAt: bigint,
  ): Promise<BlockTrace> {
    const [transactions, witness] = await Promise.all([this.opts.source.transactions(block), this.opts.source.witness(block)])
    if (transactions === undefined || witness === undefined)
      throw new TraceError('TRACE_BLOCK_UNAVAILABLE', `the node does not hold block ${block} with its witness`)
    return buildBlockTrace({
      common: this.opts.common,
      rules: this.opts.rules,
      starting,
      disputed,
      block,
      transactions,
      witness,
      l1Header: (hash) => this.opts.source.l1Header(hash),
      stepAt,
    })
  }
}
