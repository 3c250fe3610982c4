/**
 * The game tree's generalized-index positions (the contract's `LibPosition`), as pure functions: the root is 1,
 * the children of `p` are `2p` and `2p + 1`, and a position commits to the trace index of its rightmost
 * descendant at the tree's full depth.
 */

export function depthOf(position: bigint): number {
  return position.toString(2).length - 1
}

export function indexAtDepth(position: bigint): bigint {
  return position - (1n << BigInt(depthOf(position)))
}

/** The position a move against `position` takes: attack → `2p`, defend → `2(p | 1)`. */
export function movePosition(position: bigint, isAttack: boolean): bigint {
  return (isAttack ? position : position | 1n) << 1n
}

/** The rightmost descendant of `position` at depth `maxDepth`. */
export function rightIndex(position: bigint, maxDepth: number): bigint {
  return ((position + 1n) << BigInt(maxDepth - depthOf(position))) - 1n
}

/** The trace index `position` commits to in a tree of depth `maxDepth`. */
export function traceIndex(position: bigint, maxDepth: number): bigint {
  return indexAtDepth(rightIndex(position, maxDepth))
}

/** The highest ancestor committing to the same trace index: climb while a right child (the root stops it). */
export function traceAncestor(position: bigint): bigint {
  let ancestor = position
  while (ancestor > 1n && (ancestor & 1n) === 1n) ancestor >>= 1n
  return ancestor
}
