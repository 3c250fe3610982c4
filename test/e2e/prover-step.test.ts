// run-tests: pair — waits on L1 (anvil's 1 s blocks, games, batcher and proposer rounds) far more than it computes
/**
 * The prover wins by `step` (issues 17 and 18's acceptance tests and the holes they found), seven played games on one stack
 * with one real `--role=prover` process. In each, a stranger posts a wrong output root for a block — the honest header
 * with something changed, published in the output registry before the game — and answers every honest move down to
 * max depth with a trace that is the chain's up to a chosen transaction and wrong after it
 * (test/helpers/step-adversary.ts). The prover bisects the outputs to that block, then its execution trace
 * (re-executed from the witness its derivation kept) to that transaction, steps with the dev L1's `TxStepVerifier`
 * against the stranger's max-depth claim, and resolves the game: CHALLENGER_WINS. The shared set-up is
 * test/helpers/step-game.ts.
 *
 * - A user's ETH transfer, its execution wrong: the step executes the transfer.
 * - A contract creation (the user deploys contracts/Token.sol) and an ERC-20 transfer of that token, each its
 *   execution wrong: the step executes it with the EVM interpreter on L1 (ContractTxStep); every bond to the prover.
 * - A stranger wrong right after the L1-attributes deposit (before TxStepVerifier executed that deposit nobody could
 *   step there and the false output survived): the step executes transaction 0; every bond to the prover.
 * - A user deposit made through the L1 portal (viem's op-stack `depositTransaction`: 2 ETH minted on L2, 1 ETH of it
 *   sent on), included after the L1-attributes deposit of its epoch's first block, its execution wrong: the step
 *   executes exactly the deposit (its index, type 0x7E and hash; TxStepVerifier executes mint, nonce, value,
 *   receipt); one line of play from the root to the stepped leaf; every bond to the prover. Which output the block's
 *   trace judges depends on the block number: the stranger's (odd blocks: its last split-depth claim is its wrong
 *   output, the prover attacks it) or the prover's (even blocks: that claim is the honest output of the block before,
 *   the prover defends it); both were seen passing.
 * - A stranger whose header differs only in extraData — every executed value honest, so its trace as the verifier
 *   used to run it was the chain's and sealed VALID — playing exactly that trace: the opening requires the canonical
 *   header shape, the prover's trace is INVALID from leaf 0, it steps on the opening and takes every bond.
 * - The L1 origin: a stranger publishes the honest header with only its mixHash changed — PREVRANDAO must be the L1
 *   origin's mixHash, but no transfer or deposit reads it, so every executed value is honest and the opening passes —
 *   and plays the chain's trace. The L1-attributes step checks the origin's L1 header (fetched from anvil, hashed
 *   against the deposit's L1 hash) and its mixHash against the L2 header's: the prover's trace is INVALID from leaf 1,
 *   it steps on transaction 0 and takes every bond. (An invented origin hash or a skipped L1 block changes the
 *   L1-attributes deposit, so the transactions root: the prover cannot build that trace until the membership gap
 *   closes — docs/DESIGN.md; the verifier's verdicts on them are tested in tx-step-verifier.test.ts.)
 *
 * In every game, what TxStepVerifier computed inside the played step (read from L1's call trace) is the prover's
 * trace and not the stranger's claim, and the prover logged the step's L1 gas (`playToStep`).
 *
 * Time: the seven games are played at once (one stranger account each, so their L1 nonces never race; the prover
 * plays every game it finds each poll). A game’s bisection is bounded by L1’s 1 s blocks, not by CPU, so seven at
 * once take little longer than one; four of them played one after the other, with a stack per two games, took ~150 s
 * of CI. The clocks are run out once for all (`clocksRunOutTogether`): a warp ends every game's clock on the stack.
 */
import { before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { RLP } from '@ethereumjs/rlp'
import {
  type Address,
  bytesToHex,
  createWalletClient,
  encodeFunctionData,
  getContractAddress,
  type Hex,
  http,
  keccak256,
  parseAbi,
  parseEther,
  stringToHex,
} from 'viem'
import { L1_BLOCK_ADDRESS } from '../../src/chain/l1-info.ts'
import { decodeDepositTx } from '../../src/chain/deposit-tx.ts'
import type { TraceState } from '../../src/prover/trace/trace-state.ts'
import { accountOf, gameStatus, PROVER_DISPUTE, proverSuite, startProver, waitSafe } from '../helpers/prover.ts'
import { contract } from '../helpers/contracts.ts'
import { type NodeHandle, waitFor } from '../helpers/node-process.ts'
import { depositOnL1 } from '../helpers/rollup-l1.ts'
import {
  assertProverTakesEveryBond,
  blockTransactions,
  clocksRunOutTogether,
  honestTraceStates,
  l2Inclusion,
  oddSafeBlock,
  playToStep,
  sameExecutionAs,
  transactionHash,
} from '../helpers/step-game.ts'
import { hexBytes } from '../helpers/witness.ts'

const suite = proverSuite('megaeth-prover-step-')
const proverAccount = accountOf(2)
/** One stranger per game: the games are played at once, and each stranger's L1 nonces are its own. */
const strangers = {
  transfer: accountOf(3),
  attributes: accountOf(4),
  deposit: accountOf(9),
  extraData: accountOf(5),
  mixHash: accountOf(7),
  erc20: accountOf(8),
  creation: accountOf(0),
}
/** The L2 user whose transfer is disputed (its L2 account; key 5's L1 account is a stranger, another chain). */
const user = accountOf(5)
/** The depositor: dev key 6, an L1 EOA (its L2 sender is its own address, not aliased). */
const DEPOSITOR_KEY = 6
const recipient = '0x00000000000000000000000000000000000d0d0d'
const tokenAbi = parseAbi(['function transfer(address to, uint256 value) returns (bool)'])

/** The header RLP with field `index` replaced (12: extraData, 13: mixHash). */
function withField(header: Hex, index: number, value: Uint8Array): Hex {
  const fields = RLP.decode(hexBytes(header)) as Uint8Array[]
  fields[index] = value
  return bytesToHex(RLP.encode(fields))
}

const phaseOf = (game: string) => {
  const t0 = Date.now()
  return (what: string) => process.stderr.write(`# ${game}: ${what} at ${Date.now() - t0} ms\n`)
}

describe('a prover steps with TxStepVerifier against seven wrong executions, played at once', { concurrency: true }, () => {
  let prover: NodeHandle
  let transfer: { block: bigint; index: bigint }
  /** A contract creation (contracts/Token.sol) and an ERC-20 transfer of that token, run on L1 by the EVM interpreter. */
  let creation: { block: bigint; index: bigint }
  let erc20: { block: bigint; index: bigint }
  let deposit: { block: bigint; index: bigint; type: Hex; l2Hash: Hex }
  /** The blocks of the games on transaction 0 and on the opening (odd, safe, none of the others). */
  let attributesBlock: bigint
  let extraDataBlock: bigint
  let mixHashBlock: bigint
  /** The chain's own traces of `extraDataBlock` and `mixHashBlock`: those strangers copy them. */
  let honest: TraceState[]
  let honestMixHash: TraceState[]
  const clocks = clocksRunOutTogether(() => suite.stack, 7)

  before(async () => {
    const s = suite.stack
    const phase = phaseOf('set-up')
    const url = s.sequencer.rpcUrl
    // The disputed transactions: a user's ETH transfer on L2, then a deposit on L1 made while the prover starts (30 s
    // for an answer, not viem's 10: on a loaded machine a node starting beside the sequencer slows its answers).
    const l2 = createWalletClient({ account: user, transport: http(url, { retryCount: 0, timeout: 30_000 }) })
    const transferHash = await l2.sendTransaction({
      chain: null,
      to: '0x00000000000000000000000000000000000b0b0b',
      value: parseEther('1'),
    })
    const [started, { l1Block, l2Hash }] = await Promise.all([
      startProver(s, suite.dir, 'prover', 2).then((p) => suite.own(p)),
      depositOnL1(s.l1, DEPOSITOR_KEY, recipient),
    ])
    prover = started
    phase(`prover started, deposited in L1 block ${l1Block}`)
    const [transferAt, depositAt] = await Promise.all([l2Inclusion(url, transferHash, 20_000), l2Inclusion(url, l2Hash, 30_000)])
    transfer = transferAt
    deposit = { ...depositAt, l2Hash }
    // The contract transactions, each after the one before is in: a token deployment, then a transfer of the token.
    const token = contract('Token')
    const tokenAddress = getContractAddress({ from: user.address, nonce: 1n })
    creation = await l2Inclusion(
      url,
      await l2.deployContract({
        chain: null,
        abi: token.abi,
        bytecode: token.bytecode,
        args: ['Step', 'STP', parseEther('1000')],
      }),
      20_000,
    )
    const tokenTransfer = encodeFunctionData({ abi: tokenAbi, functionName: 'transfer', args: [recipient, parseEther('3')] })
    erc20 = await l2Inclusion(url, await l2.sendTransaction({ chain: null, to: tokenAddress, data: tokenTransfer }), 20_000)
    const last = [transfer.block, deposit.block, creation.block, erc20.block].reduce((a, b) => (a > b ? a : b))
    await waitSafe(url, last, 60_000)
    phase(
      `transfer in block ${transfer.block} (tx ${transfer.index}), deposit in ${deposit.block} (tx ${deposit.index}), ` +
        `creation in ${creation.block} (tx ${creation.index}), ERC-20 transfer in ${erc20.block} (tx ${erc20.index}) safe`,
    )
    const taken = [transfer.block, deposit.block, creation.block, erc20.block]
    attributesBlock = await oddSafeBlock(url, taken)
    extraDataBlock = await oddSafeBlock(url, [...taken, attributesBlock])
    mixHashBlock = await oddSafeBlock(url, [...taken, attributesBlock, extraDataBlock])
    ;[honest, honestMixHash] = await Promise.all([
      honestTraceStates(s, prover, extraDataBlock),
      honestTraceStates(s, prover, mixHashBlock),
    ])
    phase(
      `transaction-0 game on block ${attributesBlock}, opening game on block ${extraDataBlock}, mixHash game on block ${mixHashBlock}`,
    )
  })

  test('a wrong transfer execution: the prover steps on the transfer and wins CHALLENGER_WINS', async () => {
    const s = suite.stack
    const phase = phaseOf('transfer')
    let game: Address | undefined
    try {
      const { dispute } = await playToStep(s, {
        stranger: strangers.transfer,
        prover,
        block: transfer.block,
        tx: transfer.index,
        wrongStateRoot: keccak256(stringToHex('not the state after the transfer')),
        proverAddress: proverAccount.address,
        own: (adversary) => suite.own(adversary),
        phase,
      })
      game = dispute.game
      assert.match(prover.logs().stdout, /stepped against a max-depth claim/)
    } finally {
      await clocks.arrive()
    }
    const played = game
    await waitFor('CHALLENGER_WINS', async () => (await gameStatus(s.client, played)) === 1, 30_000, 300)
    phase('resolved')
  })

  for (const [name, what] of [
    ['creation', 'a contract creation (the Token’s deployment)'],
    ['erc20', 'an ERC-20 transfer'],
  ] as const) {
    test(`a wrong execution of ${what}: the prover steps with the EVM interpreter and takes every bond`, async () => {
      const s = suite.stack
      const phase = phaseOf(name)
      const disputed = name === 'creation' ? creation : erc20
      let game: Address | undefined
      try {
        const { executed, dispute } = await playToStep(s, {
          stranger: strangers[name],
          prover,
          block: disputed.block,
          tx: disputed.index,
          wrongStateRoot: keccak256(stringToHex(`not the state after ${what}`)),
          proverAddress: proverAccount.address,
          own: (adversary) => suite.own(adversary),
          phase,
        })
        assert.equal(executed, disputed.index, 'the step executed the contract transaction')
        game = dispute.game
      } finally {
        await clocks.arrive()
      }
      await assertProverTakesEveryBond(s, game, strangers[name].address, proverAccount.address, phase)
    })
  }

  test('a stranger wrong right after the L1-attributes deposit loses to the prover’s step on transaction 0', async () => {
    const s = suite.stack
    const phase = phaseOf('transaction 0')
    const url = s.sequencer.rpcUrl
    let game: Address | undefined
    try {
      const raw = (await blockTransactions(url, attributesBlock))[0]!
      assert.equal(raw[0], 0x7e, 'transaction 0 is a deposit')
      assert.equal(decodeDepositTx(raw).to?.toLowerCase(), L1_BLOCK_ADDRESS, 'into L1Block: the L1-attributes deposit')
      const { dispute } = await playToStep(s, {
        stranger: strangers.attributes,
        prover,
        block: attributesBlock,
        tx: 0n,
        wrongStateRoot: keccak256(stringToHex('not the state after the L1 attributes')),
        proverAddress: proverAccount.address,
        own: (adversary) => suite.own(adversary),
        phase,
      })
      game = dispute.game
    } finally {
      await clocks.arrive()
    }
    await assertProverTakesEveryBond(s, game, strangers.attributes.address, proverAccount.address, phase)
  })

  test('a wrong deposit execution: the prover steps on the deposit, wins CHALLENGER_WINS and takes every bond', async () => {
    const s = suite.stack
    const phase = phaseOf('deposit')
    const url = s.sequencer.rpcUrl
    let game: Address | undefined
    try {
      assert.equal(deposit.type, '0x7e', 'the disputed transaction is a deposit')
      assert.ok(deposit.index >= 1n, 'the user deposit follows the block’s L1-attributes deposit')
      const { executed, dispute } = await playToStep(s, {
        stranger: strangers.deposit,
        prover,
        block: deposit.block,
        tx: deposit.index,
        wrongStateRoot: keccak256(stringToHex('not the state after the deposit')),
        proverAddress: proverAccount.address,
        own: (adversary) => suite.own(adversary),
        phase,
      })
      game = dispute.game
      // The step executed the deposit: the block's transaction at the stepped index is the deposit made on L1.
      const raw = (await blockTransactions(url, deposit.block))[Number(executed)]!
      assert.equal(raw[0], 0x7e, 'a deposit’s type byte')
      assert.equal(transactionHash(raw), deposit.l2Hash, 'the deposit made on L1')
    } finally {
      await clocks.arrive()
    }
    const claims = await assertProverTakesEveryBond(s, game, strangers.deposit.address, proverAccount.address, phase)
    assert.equal(claims.length, Number(PROVER_DISPUTE.maxGameDepth) + 1, 'one line of play, root to the stepped leaf')
  })

  test('a stranger whose header differs only in extraData loses at the opening step', async () => {
    const s = suite.stack
    const phase = phaseOf('extraData')
    let game: Address | undefined
    try {
      assert.equal(honest.at(-1)!.phase, 2, 'the chain’s own output seals VALID')
      const { onL1, dispute } = await playToStep(s, {
        stranger: strangers.extraData,
        prover,
        block: extraDataBlock,
        tx: -1n,
        wrongHeader: (header) => withField(header, 12, new TextEncoder().encode('not canonical')),
        claim: sameExecutionAs(honest),
        proverAddress: proverAccount.address,
        own: (adversary) => suite.own(adversary),
        phase,
      })
      game = dispute.game
      // What the verifier computed in the played step: the opening of the stranger's output, INVALID.
      assert.equal(onL1.vmPostState.slice(0, 4), '0x01', 'the opening finds the stranger’s header INVALID')
    } finally {
      await clocks.arrive()
    }
    await assertProverTakesEveryBond(s, game, strangers.extraData.address, proverAccount.address, phase)
  })

  test('a stranger whose header differs only in mixHash loses at the L1-attributes step', async () => {
    const s = suite.stack
    const phase = phaseOf('mixHash')
    let game: Address | undefined
    try {
      assert.equal(honestMixHash.at(-1)!.phase, 2, 'the chain’s own output (its mixHash its L1 origin’s) seals VALID')
      const { onL1, executed, dispute } = await playToStep(s, {
        stranger: strangers.mixHash,
        prover,
        block: mixHashBlock,
        tx: 0n,
        wrongHeader: (header) => withField(header, 13, hexBytes(keccak256(stringToHex('not the L1 origin’s mixHash')))),
        claim: sameExecutionAs(honestMixHash),
        proverAddress: proverAccount.address,
        own: (adversary) => suite.own(adversary),
        phase,
      })
      game = dispute.game
      assert.equal(executed, 0n, 'the step executed the L1-attributes deposit')
      // What the verifier computed in the played step: the origin check finds the stranger's mixHash wrong, INVALID.
      assert.equal(onL1.vmPostState.slice(0, 4), '0x01', 'the L1-attributes step finds the stranger’s mixHash INVALID')
    } finally {
      await clocks.arrive()
    }
    await assertProverTakesEveryBond(s, game, strangers.mixHash.address, proverAccount.address, phase)
  })
})
