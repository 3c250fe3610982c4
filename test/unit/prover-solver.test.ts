/**
 * The prover's honest strategy (`src/prover/solver.ts`) on hand-built claim trees: which claims it answers, how
 * (attack / defend / step), and which it leaves alone (its own side's levels, claims below a dishonest parent, moves
 * that already exist), with the clock-only execution trace below the split.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { encodeAbiParameters, type Hex, keccak256 } from 'viem'
import { ClockOnlyTraceProvider } from '../../src/prover/clock-only-trace.ts'
import { type Claim, executionContext, type GameSnapshot } from '../../src/prover/game-state.ts'
import type { DerivedOutput } from '../../src/prover/interface.ts'
import { movePosition } from '../../src/prover/position.ts'
import { solveGame, type Truth } from '../../src/prover/solver.ts'

const ZERO: Hex = '0x0000000000000000000000000000000000000000'
const ME: Hex = '0x00000000000000000000000000000000000000aa'
const THEM: Hex = '0x00000000000000000000000000000000000000bb'

const outputOf = (block: bigint): Hex => keccak256(encodeAbiParameters([{ type: 'uint256' }], [block]))
const garbage = (n: number): Hex => keccak256(encodeAbiParameters([{ type: 'string' }, { type: 'uint256' }], ['x', BigInt(n)]))

const chain = {
  outputAt: async (block: bigint): Promise<DerivedOutput> => ({
    block,
    root: outputOf(block),
    header: '0x',
    messagePasserStorageRoot: '0x',
  }),
}
const truth: Truth = { output: chain.outputAt, execution: new ClockOnlyTraceProvider(chain) }

/** A game of depth 6 split at 3 (8 output leaves) for block 8, anchored at block 0. */
function game(claims: Array<Pick<Claim, 'parentIndex' | 'value' | 'position'> & Partial<Claim>>): GameSnapshot {
  return {
    address: '0x00000000000000000000000000000000000000cc',
    gameType: 0,
    status: 0,
    rootClaim: claims[0]!.value,
    l1Head: '0x',
    l2BlockNumber: 8n,
    startingBlock: 0n,
    startingRoot: outputOf(0n),
    maxDepth: 6,
    splitDepth: 3,
    maxClockDuration: 60n,
    creditDelaySeconds: 4n,
    createdAt: 0n,
    resolvedAt: 0n,
    vm: ZERO,
    claims: claims.map((c, i) => ({
      index: BigInt(i),
      counteredBy: ZERO,
      claimant: THEM,
      bond: 1n,
      duration: 0n,
      timestamp: 0n,
      challengerDuration: 0n,
      resolved: false,
      ...c,
    })),
  }
}
const ROOT = 0xffffffffn

describe('prover solver', () => {
  it('attacks a wrong root with the derived output at the attack position', async () => {
    const solution = await solveGame(game([{ parentIndex: ROOT, value: garbage(1), position: 1n }]), truth)
    assert.equal(solution.agreeWithRoot, false)
    assert.deepEqual(
      solution.actions.map((a) => a.kind === 'move' && [a.parentIndex, a.position, a.value, a.isAttack]),
      [[0n, 2n, outputOf(4n), true]], // position 2 commits to output leaf 3: block 4
    )
  })

  it('leaves a correct, unattacked root alone and answers an attack on it', async () => {
    assert.deepEqual((await solveGame(game([{ parentIndex: ROOT, value: outputOf(8n), position: 1n }]), truth)).actions, [])
    const attacked = await solveGame(
      game([
        { parentIndex: ROOT, value: outputOf(8n), position: 1n },
        { parentIndex: 0n, value: garbage(2), position: 2n },
      ]),
      truth,
    )
    assert.equal(attacked.agreeWithRoot, true)
    assert.deepEqual(
      attacked.actions.map((a) => a.kind === 'move' && [a.parentIndex, a.position, a.value, a.isAttack]),
      [[1n, 4n, outputOf(2n), true]],
    )
  })

  it('defends a true claim of the other side and never counters its own side or repeats a move', async () => {
    // Root wrong (the prover challenges); the prover's attack (index 1) holds block 4's output; the other side
    // answers with the true output of block 2 (index 2): the prover agrees, so it defends (position 10: block 3).
    const claims: Parameters<typeof game>[0] = [
      { parentIndex: ROOT, value: garbage(1), position: 1n },
      { parentIndex: 0n, value: outputOf(4n), position: 2n, claimant: ME },
      { parentIndex: 1n, value: outputOf(2n), position: 4n },
    ]
    const solution = await solveGame(game(claims), truth)
    assert.deepEqual(
      solution.actions.map((a) => a.kind === 'move' && [a.parentIndex, a.position, a.value, a.isAttack]),
      [[2n, movePosition(4n, false), outputOf(3n), false]],
    )
    // The same move already made (by an honest sibling): nothing to do.
    const done = await solveGame(game([...claims, { parentIndex: 2n, value: outputOf(3n), position: 10n }]), truth)
    assert.deepEqual(done.actions, [])
  })

  it('ignores claims below a dishonest parent', async () => {
    // A wrong claim at the prover's level (index 1, not what it would have played) and the other side's answer to it.
    const solution = await solveGame(
      game([
        { parentIndex: ROOT, value: garbage(1), position: 1n },
        { parentIndex: 0n, value: garbage(2), position: 2n },
        { parentIndex: 1n, value: garbage(3), position: 4n },
      ]),
      truth,
    )
    // Only the root is answered (its attack differs from index 1's value); index 2 hangs below a dishonest claim.
    assert.deepEqual(
      solution.actions.map((a) => a.kind === 'move' && a.parentIndex),
      [0n],
    )
  })

  it('answers an execution root with the clock-only trace and steps at max depth only against uncountered claims', async () => {
    // A wrong root challenged down the left edge: the prover (odd depths) claims the true outputs of blocks 4 and 1.
    const claims: Parameters<typeof game>[0] = [
      { parentIndex: ROOT, value: garbage(1), position: 1n },
      { parentIndex: 0n, value: outputOf(4n), position: 2n, claimant: ME },
      { parentIndex: 1n, value: garbage(2), position: 4n },
      { parentIndex: 2n, value: outputOf(1n), position: 8n, claimant: ME },
      // The other side disputes block 1's output with an execution root (INVALID, as an attack must).
      { parentIndex: 3n, value: `0x01${garbage(3).slice(4)}` as Hex, position: 16n },
    ]
    const g = game(claims)
    const context = executionContext(g, 4n, 32n)
    assert.equal(context.disputedOutput, outputOf(1n))
    assert.equal(context.disputedBlock, 1n)
    assert.equal(context.startingOutput, outputOf(0n))
    // The prover's trace of a correct output ends VALID, so it disagrees with that root and attacks it.
    const first = await solveGame(g, truth)
    assert.equal(first.actions.length, 1)
    const move = first.actions[0]!
    assert.ok(move.kind === 'move' && move.position === 32n && move.isAttack)
    assert.equal(move.value, await truth.execution!.claimAt(context, 1n))
    assert.equal(move.value.slice(0, 4), '0x03', 'a leaf before the last is UNFINISHED')
    // Down to max depth (6): the other side's claim there is stepped against (an attack on index 0: the absolute
    // prestate), unless someone already countered it.
    const deep: Parameters<typeof game>[0] = [
      ...claims,
      { parentIndex: 4n, value: move.value, position: 32n, claimant: ME },
      { parentIndex: 5n, value: garbage(4), position: 64n },
    ]
    const steps = (await solveGame(game(deep), truth)).actions
    assert.deepEqual(
      steps.map((a) => a.kind === 'step' && [a.claimIndex, a.isAttack, a.preIndex]),
      [[6n, true, -1n]],
    )
    const countered = deep.map((c, i) => (i === 6 ? { ...c, counteredBy: ME as Hex } : c))
    assert.deepEqual((await solveGame(game(countered), truth)).actions, [])
  })
})
