/**
 * op-challenger's honest strategy over one game snapshot, as a pure function of the game and the prover's truth:
 *
 * - the prover's side is the defender's if it agrees with the root claim, else the challenger's; it never counters
 *   a claim at its own side's levels (its own claims, and an honest sibling's);
 * - it answers a claim of the other side only when that claim's parent is on the honest path (a claim the honest
 *   strategy itself would have made, from the root down): agree → defend, disagree → attack;
 * - it never repeats a move that already exists (same parent, position and value: another honest prover made it,
 *   and the game would revert it);
 * - at max depth it steps against the uncountered claim instead (attack when it disagrees, defend when it agrees),
 *   if the execution trace provider can build the step's inputs;
 * - where its trace cannot back a claim (the membership gap), it makes no claim.
 */
import type { Hex } from 'viem'
import type { DerivedOutput, ExecutionContext, ExecutionTraceProvider } from './interface.ts'
import { type Claim, executionContext, executionIndex, type GameSnapshot, hasClaim, outputBlockAt } from './game-state.ts'
import { depthOf, movePosition } from './position.ts'

export interface Truth {
  /** The derived chain's output of an L2 block. */
  output(block: bigint): Promise<DerivedOutput>
  /** The execution half's trace; undefined: the prover plays the output half only. */
  execution: ExecutionTraceProvider | undefined
}

export type Action =
  | {
      kind: 'move'
      parentIndex: bigint
      parentValue: Hex
      position: bigint
      value: Hex
      isAttack: boolean
      /** The output this move claims (above the split): its preimage is published first. */
      output: DerivedOutput | undefined
    }
  | { kind: 'step'; claimIndex: bigint; isAttack: boolean; context: ExecutionContext; preIndex: bigint }

export interface Solution {
  agreeWithRoot: boolean
  actions: Action[]
  /** Claims the prover could not judge: its execution trace cannot back that block (the membership gap). */
  gaps: bigint[]
}

const ROOT_PARENT = 0xffffffffn

export async function solveGame(game: GameSnapshot, truth: Truth): Promise<Solution> {
  const outputs = new Map<bigint, DerivedOutput>()
  const outputOf = async (block: bigint): Promise<DerivedOutput> => {
    let output = outputs.get(block)
    if (output === undefined) {
      output = await truth.output(block)
      outputs.set(block, output)
    }
    return output
  }
  /** The honest value at `position` for a claim against `parentIndex`; undefined when the trace cannot back it. */
  const honestAt = async (parentIndex: bigint, position: bigint): Promise<{ value: Hex; output?: DerivedOutput } | undefined> => {
    if (position === 1n) return { value: (await outputOf(game.l2BlockNumber)).root }
    if (depthOf(position) <= game.splitDepth) {
      const output = await outputOf(outputBlockAt(game, position))
      return { value: output.root, output }
    }
    if (truth.execution === undefined) return undefined
    const value = await truth.execution.claimAt(executionContext(game, parentIndex, position), executionIndex(game, position))
    return value === undefined ? undefined : { value }
  }
  const agrees = async (claim: Claim): Promise<boolean | undefined> => {
    const honest = await honestAt(claim.parentIndex, claim.position)
    return honest === undefined ? undefined : honest.value.toLowerCase() === claim.value.toLowerCase()
  }

  const root = game.claims[0]!
  const agreeWithRoot = (await agrees(root)) === true
  const ourParity = agreeWithRoot ? 0 : 1
  // op-challenger's honest-claim tracker: a claim at the prover's levels is honest when it is exactly the move the
  // honest strategy makes against an honest-path claim of the other side.
  const onHonestPath = new Map<bigint, boolean>()
  const honestClaim = async (claim: Claim): Promise<boolean> => {
    const known = onHonestPath.get(claim.index)
    if (known !== undefined) return known
    let honest: boolean
    if (claim.parentIndex === ROOT_PARENT) honest = agreeWithRoot
    else {
      const parent = game.claims[Number(claim.parentIndex)]!
      const parentAgreed = await agrees(parent)
      honest =
        parentAgreed !== undefined &&
        (parent.parentIndex === ROOT_PARENT || (await honestClaim(game.claims[Number(parent.parentIndex)]!))) &&
        claim.position === movePosition(parent.position, !parentAgreed) &&
        (await agrees(claim)) === true
    }
    onHonestPath.set(claim.index, honest)
    return honest
  }

  const actions: Action[] = []
  const gaps: bigint[] = []
  for (const claim of game.claims) {
    const depth = depthOf(claim.position)
    if (depth % 2 === ourParity) continue
    if (claim.parentIndex !== ROOT_PARENT && !(await honestClaim(game.claims[Number(claim.parentIndex)]!))) continue
    const agreed = await agrees(claim)
    if (agreed === undefined) {
      gaps.push(claim.index)
      continue
    }
    if (depth === game.maxDepth) {
      if (claim.counteredBy !== ZERO_ADDRESS) continue
      const isAttack = !agreed
      const index = executionIndex(game, claim.position)
      actions.push({
        kind: 'step',
        claimIndex: claim.index,
        isAttack,
        context: executionContext(game, claim.parentIndex, claim.position),
        preIndex: isAttack ? index - 1n : index,
      })
      continue
    }
    // The root and an execution-trace root cannot be defended: agreeing with either leaves nothing to answer.
    if (agreed && (claim.parentIndex === ROOT_PARENT || depth === game.splitDepth + 1)) continue
    const position = movePosition(claim.position, !agreed)
    const honest = await honestAt(claim.index, position)
    if (honest === undefined) {
      gaps.push(claim.index)
      continue
    }
    if (hasClaim(game, claim.index, position, honest.value)) continue
    actions.push({
      kind: 'move',
      parentIndex: claim.index,
      parentValue: claim.value,
      position,
      value: honest.value,
      isAttack: !agreed,
      output: honest.output,
    })
  }
  return { agreeWithRoot, actions, gaps }
}

const ZERO_ADDRESS = '0x0000000000000000000000000000000000000000'
