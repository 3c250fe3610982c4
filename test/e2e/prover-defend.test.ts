// run-tests: pair — waits on L1 (anvil's 1 s blocks, games, batcher and proposer rounds) far more than it computes
/**
 * `--role=prover` defending an honest proposal (issue 17, "Done when"): the test proposes the sequencer's output of
 * a safe block; an adversary (test/helpers/dispute-adversary.ts) counters every claim it did not make with
 * arbitrary claims down to max depth; two provers play the same game. Neither prover ever counters the other's claim
 * (honest provers agree; a move one already made is not repeated), every adversary claim is countered, the clocks run
 * out (the dev VM cannot step) and the game resolves DEFENDER_WINS: the proposer's bond returns, the adversary's bonds
 * are the provers' credits, paid exactly.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { Address } from 'viem'
import { waitFor } from '../helpers/node-process.ts'
import { startAdversary } from '../helpers/dispute-adversary.ts'
import {
  accountOf,
  claimsOf,
  createGame,
  creditOf,
  creditsClaimed,
  gameStatus,
  outputAt,
  PROVER_DISPUTE,
  proverSuite,
  sameAddress as same,
  startProver,
  waitSafe,
} from '../helpers/prover.ts'

const suite = proverSuite('megaeth-prover-defend-')
const provers = [accountOf(2), accountOf(7)]
const attacker = accountOf(3)
const proposer = accountOf(8)

const isProver = (a: Address) => provers.some((p) => same(p.address, a))

test('two provers defend an honest root against an adversary down to max depth: DEFENDER_WINS, no prover counters the other', async () => {
  const s = suite.stack
  const dir = suite.dir
  suite.own(await startProver(s, dir, 'prover-a', 2))
  suite.own(await startProver(s, dir, 'prover-b', 7))
  const block = await waitSafe(s.sequencer.rpcUrl, 3n)
  const { game, bond: rootBond } = await createGame(s, proposer, await outputAt(s.sequencer.rpcUrl, block), block)
  const adversary = suite.own(startAdversary({ client: s.client, wallet: s.wallet, account: attacker, game, seed: 17 }))

  const maxDepth = Number(PROVER_DISPUTE.maxGameDepth)
  const depth = (p: bigint) => p.toString(2).length - 1
  await waitFor(
    'a prover’s claim at max depth',
    async () => (await claimsOf(s.client, game)).some((c) => depth(c.position) === maxDepth && isProver(c.claimant)),
    50_000,
    300,
  )
  await adversary.stop()
  const claims = await claimsOf(s.client, game)
  const byIndex = new Map(claims.map((c) => [c.index, c]))
  for (const claim of claims.slice(1)) {
    const parent = byIndex.get(claim.parentIndex)!
    if (isProver(claim.claimant))
      assert.ok(same(parent.claimant, attacker.address), `claim ${claim.index}: a prover countered ${parent.claimant}`)
  }
  const adversaryClaims = claims.filter((c) => same(c.claimant, attacker.address))
  assert.ok(adversaryClaims.length >= maxDepth / 2, `the adversary went deep (${adversaryClaims.length} claims)`)
  for (const claim of adversaryClaims)
    assert.ok(
      claims.some((c) => c.parentIndex === claim.index && isProver(c.claimant)),
      `the adversary's claim ${claim.index} is countered by a prover`,
    )

  await s.warp(Number(PROVER_DISPUTE.maxClockDuration) + 1)
  await waitFor('DEFENDER_WINS', async () => (await gameStatus(s.client, game)) === 2, 30_000, 300)
  assert.equal(await creditOf(s.client, game, attacker.address), 0n, 'the adversary’s bonds are lost')
  assert.equal(await creditOf(s.client, game, proposer.address), rootBond, 'the proposer’s bond returns')
  const proverBonds = claims.filter((c) => c.index !== 0n).reduce((sum, c) => sum + c.bond, 0n)
  const paid = await waitFor(
    'the provers claiming their credits',
    async () => {
      const credits = await creditsClaimed(s.client, game)
      const total = provers.reduce((sum, p) => sum + (credits.get(p.address) ?? 0n), 0n)
      return total === proverBonds ? total : undefined
    },
    30_000,
    300,
  )
  assert.equal(paid, proverBonds)
})
