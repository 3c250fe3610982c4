// run-tests: pair — waits on L1 (anvil's 1 s blocks, games, batcher and proposer rounds) far more than it computes
/**
 * `--role=prover` against a wrong output root (issue 17, "Done when"): a stranger creates a game through the factory
 * with a root that is not the derived chain's output; a running prover attacks it, is killed with -9 while the
 * stranger answers, is restarted on the same datadir and — reading the game from L1 only — answers the stranger's
 * new claim; the stranger goes silent, the clocks run out (anvil time warp), and the prover resolves the game bottom-up:
 * CHALLENGER_WINS, every bond of the game (the stranger's included) is the prover's credit, and `claimCredit` pays
 * exactly that. A game for a block the prover has not derived is not touched (it logs that it waits).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { keccak256, stringToHex, type Address } from 'viem'
import { faultDisputeGameAbi } from '../../src/bridge/generated/FaultDisputeGame.ts'
import { waitFor } from '../helpers/node-process.ts'
import {
  accountOf,
  claimsOf,
  createGame,
  creditOf,
  creditsClaimed,
  gameStatus,
  metricValue,
  outputAt,
  PROVER_DISPUTE,
  proverSuite,
  sameAddress,
  startProver,
  waitSafe,
} from '../helpers/prover.ts'

const suite = proverSuite('megaeth-prover-challenge-')
const proverAccount = accountOf(2)
const stranger = accountOf(3)

test('a prover attacks a wrong root, survives kill -9 mid-game, wins CHALLENGER_WINS and is paid every bond', async () => {
  const s = suite.stack
  const dir = suite.dir
  const t0 = Date.now()
  const phase = (what: string) => process.stderr.write(`# ${what} at ${Date.now() - t0} ms\n`)
  const prover = suite.own(await startProver(s, dir, 'prover', 2))
  const block = await waitSafe(s.sequencer.rpcUrl, 3n)
  const honest = await outputAt(s.sequencer.rpcUrl, block)
  phase(`block ${block} safe`)
  const { game, bond: rootBond } = await createGame(s, stranger, keccak256(stringToHex('not the output')), block)

  // A game for a block the prover has not derived yet (the sequencer has not even made it): no move, a log line.
  const ahead = await createGame(s, stranger, keccak256(stringToHex('ahead')), 255n)

  const mine = (a: Address) => sameAddress(a, proverAccount.address)
  const attack = await waitFor(
    'the prover’s attack on the root',
    async () => (await claimsOf(s.client, game)).find((c) => c.parentIndex === 0n && mine(c.claimant)),
    30_000,
    200,
  )
  phase('attacked')
  // The attack claims the derived output the root disputes (positions past the game's block clamp to it).
  assert.equal(attack.position, 2n)
  assert.equal(attack.value, honest)
  // The game ahead may be found a poll after the attack landed: wait for the prover to say it waits on it, then check
  // it made no move there.
  await waitFor(
    'the prover to wait on the game ahead of its chain',
    () => /waiting before playing a game/.test(prover.logs().stdout),
    30_000,
    200,
  )
  assert.equal((await claimsOf(s.client, ahead.game)).length, 1, 'no move on a game whose block is not derived')

  // Mid-game: the prover dies, the stranger counters its claim while it is down.
  await prover.kill9()
  const garbage = keccak256(stringToHex('stranger answers'))
  const bond2 = await s.client.readContract({
    address: game,
    abi: faultDisputeGameAbi,
    functionName: 'getRequiredBond',
    args: [4n],
  })
  const hash = await s.wallet.writeContract({
    account: stranger,
    chain: null,
    address: game,
    abi: faultDisputeGameAbi,
    functionName: 'move',
    args: [attack.value, attack.index, garbage, true],
    value: bond2,
  })
  assert.equal((await s.client.waitForTransactionReceipt({ hash })).status, 'success')

  phase('killed, stranger answered')
  // Restarted on the same datadir, it finds the game on L1 and answers the new claim.
  const restarted = suite.own(await startProver(s, dir, 'prover', 2))
  const answer = await waitFor(
    'the restarted prover’s answer',
    async () => (await claimsOf(s.client, game)).find((c) => c.parentIndex === 2n && mine(c.claimant)),
    30_000,
    200,
  )
  // Position 8 commits to block 32 of the anchor's range, or the game's block if that is lower.
  assert.equal(answer.value, await outputAt(s.sequencer.rpcUrl, block < 32n ? block : 32n))

  phase('answered after restart')
  // The stranger goes silent: its clock runs out and the prover resolves the game.
  await s.warp(Number(PROVER_DISPUTE.maxClockDuration) + 1)
  await waitFor('CHALLENGER_WINS', async () => (await gameStatus(s.client, game)) === 1, 30_000, 300)
  phase('resolved')
  const claims = await claimsOf(s.client, game)
  assert.equal(claims.length, 4, 'root, attack, the stranger’s answer, the prover’s answer: nothing else')
  const all = claims.reduce((sum, c) => sum + c.bond, 0n)
  assert.equal(claims[0]!.bond, rootBond)
  assert.equal(await creditOf(s.client, game, stranger.address), 0n, 'the stranger keeps nothing')
  // Credit: every bond (the stranger's root and answer, the prover's own two back); claimCredit pays it exactly.
  const paid = await waitFor(
    'the prover claiming its credit',
    async () => (await creditsClaimed(s.client, game)).get(proverAccount.address),
    30_000,
    300,
  )
  phase('credit claimed')
  assert.equal(paid, all)
  assert.equal(await creditOf(s.client, game, proverAccount.address), 0n)
  const warnings = () =>
    restarted
      .logs()
      .stdout.split('\n')
      .filter((l) => l.includes('"level":40') && l.includes('"module":"prover"'))
      .join('\n')
      .slice(-3000)
  // The restarted prover's metrics (counters start at its restart): it moved once, won the game, was paid.
  await waitFor(
    'the prover’s metrics',
    async () => (await metricValue(restarted.metricsUrl, 'megaeth_prover_games_won_total')) === 1,
    10_000,
    300,
  )
  assert.equal(await metricValue(restarted.metricsUrl, 'megaeth_prover_games_lost_total'), 0)
  assert.equal(await metricValue(restarted.metricsUrl, 'megaeth_prover_games_seen_total'), 2)
  // The claim is on L1 (above) a moment before the prover has its receipt and counts it.
  await waitFor(
    'the prover to count the credit it claimed',
    async () => (await metricValue(restarted.metricsUrl, 'megaeth_prover_credit_claimed_wei_total')) === Number(all),
    10_000,
    300,
  ).catch(async (error: unknown) => {
    const counted = await metricValue(restarted.metricsUrl, 'megaeth_prover_credit_claimed_wei_total')
    throw new Error(`${String(error)}: counted ${counted} of ${all}\n${warnings()}`)
  })
  assert.equal(await metricValue(restarted.metricsUrl, 'megaeth_prover_games_waiting'), 1, 'the game ahead of its chain')
})
