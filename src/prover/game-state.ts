/**
 * A snapshot of one game as read from L1, and the pure functions over its claim tree the solver needs: which
 * outputs bracket the execution trace a position belongs to (the contract's `startingAndDisputedOutputs`, computed
 * off-chain for a claim not made yet).
 */
import type { Address, Hex } from 'viem'
import type { ExecutionContext } from './interface.ts'
import { depthOf, indexAtDepth, movePosition, traceAncestor, traceIndex } from './position.ts'

/** OP's `GameStatus`. */
export const GameStatus = { IN_PROGRESS: 0, CHALLENGER_WINS: 1, DEFENDER_WINS: 2 } as const

export interface Claim {
  index: bigint
  /** 2^32 − 1 for the root (OP's sentinel). */
  parentIndex: bigint
  counteredBy: Address
  claimant: Address
  bond: bigint
  value: Hex
  position: bigint
  /** Seconds the claim's side had used when the claim was made, and the time it was made. */
  duration: bigint
  timestamp: bigint
  /** The game's `getChallengerDuration(index)`: the time its challenger has used, capped at the max clock. */
  challengerDuration: bigint
  resolved: boolean
}

export interface GameSnapshot {
  address: Address
  gameType: number
  status: number
  rootClaim: Hex
  l1Head: Hex
  l2BlockNumber: bigint
  startingBlock: bigint
  startingRoot: Hex
  maxDepth: number
  splitDepth: number
  maxClockDuration: bigint
  creditDelaySeconds: bigint
  createdAt: bigint
  resolvedAt: bigint
  vm: Address
  claims: Claim[]
}

const ROOT_PARENT = 0xffffffffn

/** The claims on the path from `index` to the root, nearest first. */
function ancestry(game: GameSnapshot, index: bigint): Claim[] {
  const path: Claim[] = []
  let i = index
  for (;;) {
    const claim = game.claims[Number(i)]!
    path.push(claim)
    if (claim.parentIndex === ROOT_PARENT) return path
    i = claim.parentIndex
  }
}

/** The claim on the path from `start` to the root committing to the output trace index of `position`. */
function outputTraceAncestor(game: GameSnapshot, position: bigint, start: bigint): Claim {
  const target = traceAncestor(position)
  const found = ancestry(game, start).find((claim) => claim.position === target)
  if (found === undefined) throw new Error(`no claim at position ${target} above claim ${start}`)
  return found
}

/** The L2 block an output-half position commits to (the contract clamps indices past the game's block). */
export function outputBlockAt(game: GameSnapshot, position: bigint): bigint {
  const block = game.startingBlock + traceIndex(position, game.splitDepth) + 1n
  return block > game.l2BlockNumber ? game.l2BlockNumber : block
}

/**
 * The execution context of a claim at `position` (below the split depth) made against the claim at `parentIndex`,
 * as the game will see it once made. Mirrors `startingAndDisputedOutputs`.
 */
export function executionContext(game: GameSnapshot, parentIndex: bigint, position: bigint): ExecutionContext {
  const split = game.splitDepth
  // The execution root on the path and the split-depth claim it counters.
  let execRoot = position
  while (depthOf(execRoot) > split + 1) execRoot >>= 1n
  const path = ancestry(game, parentIndex)
  const output = path.find((claim) => depthOf(claim.position) === split)
  if (output === undefined) throw new Error(`claim ${parentIndex} has no split-depth ancestor`)
  let starting: { value: Hex; position: bigint }
  let disputed: { value: Hex; position: bigint; timestamp: bigint }
  if (execRoot === movePosition(output.position, true)) {
    disputed = output
    starting =
      indexAtDepth(output.position) === 0n
        ? { value: game.startingRoot, position: 0n }
        : outputTraceAncestor(game, output.position - 1n, output.parentIndex)
  } else {
    starting = { value: output.value, position: output.position }
    disputed = outputTraceAncestor(game, output.position + 1n, output.parentIndex)
  }
  return {
    game: game.address,
    startingOutput: starting.value,
    startingPosition: starting.position,
    disputedOutput: disputed.value,
    disputedPosition: disputed.position,
    disputedBlock: outputBlockAt(game, disputed.position),
    disputedClaimCreatedAt: disputed.timestamp,
    startingBlock: starting.position === 0n ? game.startingBlock : outputBlockAt(game, starting.position),
    depth: game.maxDepth - split,
  }
}

/** The index of `position` within its block's execution trace. */
export function executionIndex(game: GameSnapshot, position: bigint): bigint {
  return traceIndex(position, game.maxDepth) % (1n << BigInt(game.maxDepth - game.splitDepth))
}

/** Whether a claim (value, position, parent) already exists: the game reverts a duplicate move. */
export function hasClaim(game: GameSnapshot, parentIndex: bigint, position: bigint, value: Hex): boolean {
  return game.claims.some(
    (claim) =>
      claim.parentIndex === parentIndex && claim.position === position && claim.value.toLowerCase() === value.toLowerCase(),
  )
}
