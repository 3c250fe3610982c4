/**
 * The prover wins by `step` (the acceptance test, the ETH-transfer case): a stranger posts a wrong output
 * root for the block holding a user's transfer — the honest header with its state root changed, published in the
 * output registry before the game — and answers every honest move down to max depth with a trace that is the
 * chain's up to the transfer and wrong after it. A real `--role=prover` process bisects the outputs to that block,
 * then its execution trace (re-executed from the witness its derivation kept) to the transfer, steps with
 * `TxStepVerifier` against the stranger's max-depth claim, and resolves the game: CHALLENGER_WINS. Asserted: the
 * stranger's leaf is countered by the prover, at the leaf whose step executes the transfer.
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { RLP } from '@ethereumjs/rlp'
import { createWalletClient, type Hex, http, keccak256, parseEther, stringToHex } from 'viem'
import { faultDisputeGameAbi } from '../../src/bridge/generated/FaultDisputeGame.ts'
import { ensureOutputPublished, outputRegistryOf } from '../../src/bridge/dispute/output-registry.ts'
import { executionIndex } from '../../src/prover/game-state.ts'
import { readGame } from '../../src/prover/game-reader.ts'
import { NodeTraceProvider } from '../../src/prover/trace/provider.ts'
import { rpc, waitFor } from '../helpers/node-process.ts'
import {
  accountOf,
  claimsOf,
  createGame,
  gameStatus,
  PROVER_DISPUTE,
  proverSuite,
  sameAddress as same,
  startProver,
  waitSafe,
} from '../helpers/prover.ts'
import { rpcOutput, startStepAdversary, withStateRoot } from '../helpers/step-adversary.ts'
import { traceCommon, traceRules } from '../helpers/trace-chain.ts'
import { hexBytes, witnessFromJson, type WitnessJson } from '../helpers/witness.ts'

const suite = proverSuite('megaeth-prover-step-')
const proverAccount = accountOf(2)
const stranger = accountOf(3)
const user = accountOf(5)

/** Block n's transactions as the sequencer serves them (typed ones as bytes, legacy ones re-encoded). */
async function blockTransactions(url: string, n: bigint): Promise<Uint8Array[]> {
  const raw = await rpc<Hex>(url, 'debug_getRawBlock', [`0x${n.toString(16)}`])
  const [, txs] = RLP.decode(hexBytes(raw)) as [unknown, Array<Uint8Array | Uint8Array[]>]
  return txs.map((tx) => (tx instanceof Uint8Array ? tx : RLP.encode(tx)))
}

test('a prover steps against a wrong transfer execution with TxStepVerifier and wins CHALLENGER_WINS', async () => {
  const s = suite.stack
  const t0 = Date.now()
  const phase = (what: string) => process.stderr.write(`# ${what} at ${Date.now() - t0} ms\n`)
  const prover = suite.own(await startProver(s, suite.dir, 'prover', 2))
  const url = s.sequencer.rpcUrl

  // The disputed transaction: a user's ETH transfer.
  const l2 = createWalletClient({ account: user, transport: http(url, { retryCount: 0 }) })
  const hash = await l2.sendTransaction({ chain: null, to: '0x00000000000000000000000000000000000b0b0b', value: parseEther('1') })
  const receipt = await waitFor(
    'the transfer’s receipt',
    async () =>
      (await rpc<{ blockNumber: Hex; transactionIndex: Hex } | null>(url, 'eth_getTransactionReceipt', [hash])) ?? undefined,
    20_000,
    200,
  )
  const block = BigInt(receipt.blockNumber)
  const txIndex = BigInt(receipt.transactionIndex)
  await waitSafe(url, block, 60_000)
  phase(`transfer in block ${block} (tx ${txIndex}) safe`)

  // The stranger's output: block N's header with another state root, published before the game.
  const honest = await rpcOutput(url, block)
  const wrongHeader = withStateRoot(honest.header, keccak256(stringToHex('not the state after the transfer')))
  const impl = await s.client.readContract({
    address: s.factory,
    abi: [
      {
        type: 'function',
        name: 'gameImpls',
        stateMutability: 'view',
        inputs: [{ type: 'uint32' }],
        outputs: [{ type: 'address' }],
      },
    ],
    functionName: 'gameImpls',
    args: [0],
  })
  const vm = await s.client.readContract({ address: impl, abi: faultDisputeGameAbi, functionName: 'vm' })
  const registry = (await outputRegistryOf(s.client, vm))!
  assert.ok(registry !== undefined, 'the dev VM has an output registry')
  const strangerWallet = createWalletClient({ account: stranger, transport: http(s.l1.anvil.rpcUrl, { retryCount: 0 }) })
  const wrongRoot = await ensureOutputPublished({ public: s.client, wallet: strangerWallet }, registry, {
    header: wrongHeader,
    messagePasserStorageRoot: honest.messagePasserStorageRoot,
  })
  const wrong = { block, root: wrongRoot, header: wrongHeader, messagePasserStorageRoot: honest.messagePasserStorageRoot }
  const { game } = await createGame(s, stranger, wrongRoot, block)
  phase('game created')

  const traceDepth = Number(PROVER_DISPUTE.maxGameDepth - PROVER_DISPUTE.splitDepth) - 1
  const blockTrace = new NodeTraceProvider({
    common: traceCommon,
    rules: traceRules,
    traceDepth,
    source: {
      transactions: (n) => blockTransactions(url, n),
      // The prover's witnesses carry the message passer's path (the seal proves its storage root); a sequencer's
      // carry only what the block read.
      witness: async (n) =>
        witnessFromJson(await rpc<WitnessJson>(prover.rpcUrl, 'debug_executionWitness', [`0x${n.toString(16)}`])),
    },
  })
  const adversary = suite.own(
    startStepAdversary({
      client: s.client,
      wallet: strangerWallet,
      game,
      registry,
      sequencerUrl: url,
      block,
      wrong,
      tx: txIndex,
      blockTrace: () => blockTrace,
    }),
  )

  const maxDepth = Number(PROVER_DISPUTE.maxGameDepth)
  const depth = (p: bigint) => p.toString(2).length - 1
  const leaf = await waitFor(
    'the prover’s step against the stranger’s max-depth claim',
    async () =>
      (await claimsOf(s.client, game)).find(
        (c) => depth(c.position) === maxDepth && !same(c.counteredBy, '0x0000000000000000000000000000000000000000'),
      ),
    80_000,
    300,
  ).catch((err: unknown) => {
    const lines = prover
      .logs()
      .stdout.split('\n')
      .filter((l) => /"level":(40|50)|stepped|game/.test(l))
    process.stderr.write(`# prover log:\n${lines.slice(-30).join('\n')}\n`)
    throw err
  })
  phase('stepped')
  await adversary.stop()
  assert.ok(same(leaf.counteredBy, proverAccount.address), 'the prover countered the leaf')
  assert.ok(same(leaf.claimant, stranger.address), 'the leaf is the stranger’s')
  assert.match(prover.logs().stdout, /stepped against a max-depth claim/)
  // Which transaction the step executed: an attack on a leaf the prover disagrees with executes the one before it.
  const snapshot = await readGame(s.client, game)
  const index = executionIndex(snapshot, leaf.position)
  const starting = await rpcOutput(url, block - 1n)
  const honestLeaf = await blockTrace.claimAt({ block, starting: pre(starting), disputed: pre(wrong), traceIndex: index })
  const executed = honestLeaf.toLowerCase() === leaf.value.toLowerCase() ? index : index - 1n
  assert.equal(executed, txIndex, 'the step executed the transfer')
  // The step's L1 gas (TxStepVerifier executing one transfer with its proofs), for the report.
  phase(
    `step gas ${/"msg":"stepped against a max-depth claim"/.test(prover.logs().stdout) ? /"gas":"(\d+)"[^\n]*stepped against/.exec(prover.logs().stdout)?.[1] : '?'}`,
  )

  await s.warp(Number(PROVER_DISPUTE.maxClockDuration) + 1)
  await waitFor('CHALLENGER_WINS', async () => (await gameStatus(s.client, game)) === 1, 30_000, 300)
  phase('resolved')
})

function pre(output: { header: Hex; messagePasserStorageRoot: Hex }) {
  return { header: hexBytes(output.header), messagePasserStorageRoot: output.messagePasserStorageRoot }
}
