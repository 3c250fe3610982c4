/**
 * The prover wins by `step` (the issue's acceptance test, the ETH-transfer case): a stranger posts a wrong output
 * root for the block holding a user's transfer — the honest header with its state root changed, published in the
 * output registry before the game — and answers every honest move down to max depth with a trace that is the
 * chain's up to the transfer and wrong after it. A real `--role=prover` process bisects the outputs to that block,
 * then its execution trace (re-executed from the witness its derivation kept) to the transfer, steps with
 * `TxStepVerifier` against the stranger's max-depth claim, and resolves the game: CHALLENGER_WINS. Asserted: the
 * stranger's leaf is countered by the prover, at the leaf whose step executes the transfer. The deposit case is
 * test/e2e/prover-step-deposit.test.ts; the shared set-up is test/helpers/step-game.ts.
 *
 * Second game on the same stack (issue 17's first hole): a stranger whose trace is the chain's at leaf 0 (opened) and
 * wrong from leaf 1 on (after the L1-attributes deposit) — before TxStepVerifier executed that deposit, nobody could
 * step there and the stranger's false output survived. Now the prover steps on transaction 0 and takes every bond.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createWalletClient, http, keccak256, parseEther, stringToHex } from 'viem'
import { L1_BLOCK_ADDRESS } from '../../src/chain/l1-info.ts'
import { decodeDepositTx } from '../../src/chain/deposit-tx.ts'
import { accountOf, gameStatus, PROVER_DISPUTE, proverSuite, startProver, waitSafe } from '../helpers/prover.ts'
import { type NodeHandle, waitFor } from '../helpers/node-process.ts'
import { assertProverTakesEveryBond, blockTransactions, l2Inclusion, oddSafeBlock, playToStep } from '../helpers/step-game.ts'

const suite = proverSuite('megaeth-prover-step-')
const proverAccount = accountOf(2)
const stranger = accountOf(3)
const user = accountOf(5)
/** The prover of the first test, kept for the second (one process set for both games). */
let prover: NodeHandle | undefined
let transferBlock: bigint | undefined

test('a prover steps against a wrong transfer execution with TxStepVerifier and wins CHALLENGER_WINS', async () => {
  const s = suite.stack
  const t0 = Date.now()
  const phase = (what: string) => process.stderr.write(`# ${what} at ${Date.now() - t0} ms\n`)
  const started = suite.own(await startProver(s, suite.dir, 'prover', 2))
  prover = started
  const url = s.sequencer.rpcUrl

  // The disputed transaction: a user's ETH transfer.
  const l2 = createWalletClient({ account: user, transport: http(url, { retryCount: 0 }) })
  const hash = await l2.sendTransaction({ chain: null, to: '0x00000000000000000000000000000000000b0b0b', value: parseEther('1') })
  const { block, index: txIndex } = await l2Inclusion(url, hash, 20_000)
  transferBlock = block
  await waitSafe(url, block, 60_000)
  phase(`transfer in block ${block} (tx ${txIndex}) safe`)

  const { dispute } = await playToStep(s, {
    stranger,
    prover: started,
    block,
    tx: txIndex,
    wrongStateRoot: keccak256(stringToHex('not the state after the transfer')),
    proverAddress: proverAccount.address,
    own: (adversary) => suite.own(adversary),
    phase,
  })
  assert.match(started.logs().stdout, /stepped against a max-depth claim/)

  await s.warp(Number(PROVER_DISPUTE.maxClockDuration) + 1)
  await waitFor('CHALLENGER_WINS', async () => (await gameStatus(s.client, dispute.game)) === 1, 30_000, 300)
  phase('resolved')
})

test('a stranger wrong right after the L1-attributes deposit loses to the prover’s step on transaction 0', async () => {
  const s = suite.stack
  const t0 = Date.now()
  const phase = (what: string) => process.stderr.write(`# ${what} at ${Date.now() - t0} ms\n`)
  const url = s.sequencer.rpcUrl
  prover ??= suite.own(await startProver(s, suite.dir, 'prover', 2))
  const block = await oddSafeBlock(url, transferBlock === undefined ? [] : [transferBlock])
  const raw = (await blockTransactions(url, block))[0]!
  assert.equal(raw[0], 0x7e, 'transaction 0 is a deposit')
  assert.equal(decodeDepositTx(raw).to?.toLowerCase(), L1_BLOCK_ADDRESS, 'into L1Block: the L1-attributes deposit')
  phase(`disputing block ${block}`)

  const { dispute } = await playToStep(s, {
    stranger,
    prover,
    block,
    tx: 0n,
    wrongStateRoot: keccak256(stringToHex('not the state after the L1 attributes')),
    proverAddress: proverAccount.address,
    own: (adversary) => suite.own(adversary),
    phase,
  })

  await assertProverTakesEveryBond(s, dispute.game, stranger.address, proverAccount.address, phase)
})
