/**
 * The prover wins by `step` on a deposit (issue 17's "Done when", the deposit case; the transfer case is
 * test/e2e/prover-step.test.ts): a user deposits through the L1 portal (viem's op-stack `depositTransaction`: 2 ETH
 * minted on L2, 1 ETH of it sent on), the sequencer includes it after the L1-attributes deposit of its epoch's first
 * block, and a stranger posts a wrong output for that block — the honest header with a state root the deposit does
 * not produce, published before the game — and answers every honest move down to max depth with a trace that is the
 * chain's through the L1-attributes deposit and wrong from the user deposit's leaf on. A real `--role=prover`
 * bisects the outputs to the block, its execution trace to the deposit, steps with `TxStepVerifier` (which executes
 * the deposit: mint, nonce, value, receipt) and resolves the game. Asserted: the prover counters the stranger's
 * max-depth claim with a step that executes exactly the deposit (its index, type 0x7E and hash), CHALLENGER_WINS,
 * and every bond of the game is paid to the prover. What TxStepVerifier computed inside that step (from L1's call
 * trace) is the prover's trace after the deposit. Which output the block's trace judges depends on the block number:
 * the stranger's (odd blocks: its last split-depth claim is its wrong output, the prover attacks it) or the prover's
 * (even blocks: that claim is the honest output of the block before, the prover defends it); both were seen passing.
 *
 * Second game on the same stack (issue 17's second hole): a stranger publishes the honest header with only its
 * extraData changed — every executed value honest, so its trace as the verifier used to run it was the chain's and
 * sealed VALID — and plays exactly that trace. The opening now requires the canonical header shape: the prover's
 * trace is INVALID from leaf 0, it steps on the opening and takes every bond.
 *
 * Third game (the L1 origin): a stranger publishes the honest header with only its mixHash changed — PREVRANDAO must
 * be the L1 origin's mixHash, but no transfer or deposit reads it, so every executed value is honest and the opening
 * passes — and plays the chain's trace. The L1-attributes step now checks the origin's L1 header (fetched from anvil,
 * hashed against the deposit's L1 hash) and its mixHash against the L2 header's: the prover's trace is INVALID from
 * leaf 1, it steps on transaction 0 and takes every bond. (An invented origin hash or a skipped L1 block changes the
 * L1-attributes deposit, so the transactions root: the prover cannot build that trace until the membership gap
 * closes — docs/DESIGN.md; the verifier's verdicts on them are tested in tx-step-verifier.test.ts.)
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { RLP } from '@ethereumjs/rlp'
import { bytesToHex, keccak256, stringToHex, type Hex } from 'viem'
import type { NodeHandle } from '../helpers/node-process.ts'
import { accountOf, PROVER_DISPUTE, proverSuite, startProver, waitSafe } from '../helpers/prover.ts'
import { depositOnL1 } from '../helpers/rollup-l1.ts'
import {
  assertProverTakesEveryBond,
  blockTransactions,
  honestTraceStates,
  l2Inclusion,
  oddSafeBlock,
  playToStep,
  sameExecutionAs,
  transactionHash,
} from '../helpers/step-game.ts'
import { hexBytes } from '../helpers/witness.ts'

const suite = proverSuite('megaeth-prover-step-deposit-')
const proverAccount = accountOf(2)
const stranger = accountOf(3)
/** The depositor: dev key 6, an L1 EOA (its L2 sender is its own address, not aliased). */
const DEPOSITOR_KEY = 6
const recipient = '0x00000000000000000000000000000000000d0d0d'
/** The prover of the first test, kept for the second (one process set for both games). */
let prover: NodeHandle | undefined
let depositBlock: bigint | undefined

test('a prover steps against a wrong deposit execution with TxStepVerifier, wins CHALLENGER_WINS and takes every bond', async () => {
  const s = suite.stack
  const t0 = Date.now()
  const phase = (what: string) => process.stderr.write(`# ${what} at ${Date.now() - t0} ms\n`)
  const url = s.sequencer.rpcUrl
  // The disputed transaction: a user deposit made on L1 through the portal, while the prover starts.
  const [started, { l1Block, l2Hash }] = await Promise.all([
    startProver(s, suite.dir, 'prover', 2).then((p) => suite.own(p)),
    depositOnL1(s.l1, DEPOSITOR_KEY, recipient),
  ])
  prover = started
  phase(`prover started, deposited in L1 block ${l1Block}`)
  const { block, index: txIndex, type } = await l2Inclusion(url, l2Hash, 30_000)
  assert.equal(type, '0x7e', 'the disputed transaction is a deposit')
  assert.ok(txIndex >= 1n, 'the user deposit follows the block’s L1-attributes deposit')
  depositBlock = block
  await waitSafe(url, block, 60_000)
  phase(`deposit in block ${block} (tx ${txIndex}) safe`)

  const { executed, dispute } = await playToStep(s, {
    stranger,
    prover: started,
    block,
    tx: txIndex,
    wrongStateRoot: keccak256(stringToHex('not the state after the deposit')),
    proverAddress: proverAccount.address,
    own: (adversary) => suite.own(adversary),
    phase,
  })
  // The step executed the deposit: the block's transaction at the stepped index is the deposit made on L1.
  const raw = (await blockTransactions(url, block))[Number(executed)]!
  assert.equal(raw[0], 0x7e, 'a deposit’s type byte')
  assert.equal(transactionHash(raw), l2Hash, 'the deposit made on L1')

  const claims = await assertProverTakesEveryBond(s, dispute.game, stranger.address, proverAccount.address, phase)
  assert.equal(claims.length, Number(PROVER_DISPUTE.maxGameDepth) + 1, 'one line of play, root to the stepped leaf')
})

/** The header RLP with field `index` replaced (12: extraData, 13: mixHash). */
function withField(header: Hex, index: number, value: Uint8Array): Hex {
  const fields = RLP.decode(hexBytes(header)) as Uint8Array[]
  fields[index] = value
  return bytesToHex(RLP.encode(fields))
}

test('a stranger whose header differs only in extraData loses at the opening step', async () => {
  const s = suite.stack
  const t0 = Date.now()
  const phase = (what: string) => process.stderr.write(`# ${what} at ${Date.now() - t0} ms\n`)
  const url = s.sequencer.rpcUrl
  prover ??= suite.own(await startProver(s, suite.dir, 'prover', 2))
  const block = await oddSafeBlock(url, depositBlock === undefined ? [] : [depositBlock])
  // The chain's own trace of the block: the stranger copies it, with its own output and header hash in every leaf.
  const honest = await honestTraceStates(s, prover, block)
  assert.equal(honest.at(-1)!.phase, 2, 'the chain’s own output seals VALID')
  phase(`disputing block ${block} (${honest.length} leaves)`)

  const { onL1, dispute } = await playToStep(s, {
    stranger,
    prover,
    block,
    tx: -1n,
    wrongHeader: (header) => withField(header, 12, new TextEncoder().encode('not canonical')),
    claim: sameExecutionAs(honest),
    proverAddress: proverAccount.address,
    own: (adversary) => suite.own(adversary),
    phase,
  })
  // What the verifier computed in the played step: the opening of the stranger's output, INVALID.
  assert.equal(onL1.vmPostState.slice(0, 4), '0x01', 'the opening finds the stranger’s header INVALID')

  await assertProverTakesEveryBond(s, dispute.game, stranger.address, proverAccount.address, phase)
})

test('a stranger whose header differs only in mixHash loses at the L1-attributes step', async () => {
  const s = suite.stack
  const t0 = Date.now()
  const phase = (what: string) => process.stderr.write(`# ${what} at ${Date.now() - t0} ms\n`)
  const url = s.sequencer.rpcUrl
  prover ??= suite.own(await startProver(s, suite.dir, 'prover', 2))
  const block = await oddSafeBlock(url, depositBlock === undefined ? [] : [depositBlock])
  const honest = await honestTraceStates(s, prover, block)
  assert.equal(honest.at(-1)!.phase, 2, 'the chain’s own output (its mixHash its L1 origin’s) seals VALID')
  phase(`disputing block ${block} (${honest.length} leaves)`)

  const { onL1, executed, dispute } = await playToStep(s, {
    stranger,
    prover,
    block,
    tx: 0n,
    wrongHeader: (header) => withField(header, 13, hexBytes(keccak256(stringToHex('not the L1 origin’s mixHash')))),
    claim: sameExecutionAs(honest),
    proverAddress: proverAccount.address,
    own: (adversary) => suite.own(adversary),
    phase,
  })
  assert.equal(executed, 0n, 'the step executed the L1-attributes deposit')
  // What the verifier computed in the played step: the origin check finds the stranger's mixHash wrong, INVALID.
  assert.equal(onL1.vmPostState.slice(0, 4), '0x01', 'the L1-attributes step finds the stranger’s mixHash INVALID')

  await assertProverTakesEveryBond(s, dispute.game, stranger.address, proverAccount.address, phase)
})
