/**
 * A played game that ends in `step` (the prover-step suites): a stranger disputes the execution of one block — the
 * honest header with another state root, published in the output registry before the game — and plays a trace that
 * is the chain's through one chosen transaction and wrong after it (test/helpers/step-adversary.ts); a real
 * `--role=prover` bisects to that transaction (or to the opening) and steps with the dev L1's `TxStepVerifier`. What
 * the suites share: the set-up of such a game, the wait for the step, which transaction the step executed, and its L1
 * gas.
 */
import assert from 'node:assert/strict'
import { RLP } from '@ethereumjs/rlp'
import { type Address, createWalletClient, type Hex, http, keccak256, toFunctionSelector } from 'viem'
import type { PrivateKeyAccount } from 'viem/accounts'
import { ensureOutputPublished, outputRegistryOf } from '../../src/bridge/dispute/output-registry.ts'
import { encodeL1Header, type L1HeaderJson } from '../../src/bridge/l1-header-rlp.ts'
import { faultDisputeGameAbi } from '../../src/bridge/generated/FaultDisputeGame.ts'
import { readGame } from '../../src/prover/game-reader.ts'
import { executionContext, executionIndex } from '../../src/prover/game-state.ts'
import type { DerivedOutput } from '../../src/prover/interface.ts'
import { buildBlockTrace } from '../../src/prover/trace/block-trace.ts'
import { NodeTraceProvider } from '../../src/prover/trace/provider.ts'
import { type TraceState, traceClaim } from '../../src/prover/trace/trace-state.ts'
import { type NodeHandle, rpc, waitFor } from './node-process.ts'
import {
  type ClaimRow,
  claimsOf,
  createGame,
  creditOf,
  creditsClaimed,
  gameStatus,
  PROVER_DISPUTE,
  type ProverStack,
  safeHead,
  sameAddress,
} from './prover.ts'
import { rpcOutput, type StepAdversary, type StrangerClaim, startStepAdversary, withStateRoot } from './step-adversary.ts'
import { traceCommon, traceRules } from './trace-chain.ts'
import { hexBytes, type WitnessJson, witnessFromJson } from './witness.ts'

const ZERO_ADDRESS = '0x0000000000000000000000000000000000000000'
const GAME_IMPLS_ABI = [
  {
    type: 'function',
    name: 'gameImpls',
    stateMutability: 'view',
    inputs: [{ type: 'uint32' }],
    outputs: [{ type: 'address' }],
  },
] as const

/** The output registry of the stack's game type 0 (its VM's): where outputs are published before they are claimed. */
export async function stackOutputRegistry(stack: ProverStack): Promise<Address> {
  const impl = await stack.client.readContract({
    address: stack.factory,
    abi: GAME_IMPLS_ABI,
    functionName: 'gameImpls',
    args: [0],
  })
  const vm = await stack.client.readContract({ address: impl, abi: faultDisputeGameAbi, functionName: 'vm' })
  const registry = await outputRegistryOf(stack.client, vm)
  if (registry === undefined) throw new Error('the dev VM has no output registry')
  return registry
}

/** Block n's transactions as the sequencer serves them (typed ones as bytes, legacy ones re-encoded). */
export async function blockTransactions(url: string, n: bigint): Promise<Uint8Array[]> {
  const raw = await rpc<Hex>(url, 'debug_getRawBlock', [`0x${n.toString(16)}`])
  const [, txs] = RLP.decode(hexBytes(raw)) as [unknown, Array<Uint8Array | Uint8Array[]>]
  return txs.map((tx) => (tx instanceof Uint8Array ? tx : RLP.encode(tx)))
}

/** Where an L2 transaction landed, once the sequencer has its receipt. */
export async function l2Inclusion(
  url: string,
  hash: Hex,
  timeoutMs = 30_000,
): Promise<{ block: bigint; index: bigint; type: Hex }> {
  const receipt = await waitFor(
    `the receipt of ${hash}`,
    async () =>
      (await rpc<{ blockNumber: Hex; transactionIndex: Hex; type: Hex } | null>(url, 'eth_getTransactionReceipt', [hash])) ??
      undefined,
    timeoutMs,
    200,
  )
  return { block: BigInt(receipt.blockNumber), index: BigInt(receipt.transactionIndex), type: receipt.type }
}

/**
 * The chain's block traces as the prover builds them: transactions from the sequencer, witnesses from the prover (a
 * prover's witnesses carry the message passer's path, which the seal proves; a sequencer's carry only what the block
 * read).
 */
export function chainBlockTrace(sequencerUrl: string, proverUrl: string, l1Url: string): NodeTraceProvider {
  return new NodeTraceProvider({
    common: traceCommon,
    rules: traceRules,
    traceDepth: Number(PROVER_DISPUTE.maxGameDepth - PROVER_DISPUTE.splitDepth) - 1,
    source: {
      transactions: (n) => blockTransactions(sequencerUrl, n),
      witness: async (n) => witnessFromJson(await rpc<WitnessJson>(proverUrl, 'debug_executionWitness', [`0x${n.toString(16)}`])),
      l1Header: (hash) => l1HeaderRlp(l1Url, hash),
    },
  })
}

/** An L1 block's header RLP from anvil's JSON (it has no `debug_getRawHeader`), checked against its hash. */
export async function l1HeaderRlp(l1Url: string, hash: Hex): Promise<Uint8Array | undefined> {
  const json = await rpc<L1HeaderJson | null>(l1Url, 'eth_getBlockByHash', [hash, false])
  return json === null ? undefined : encodeL1Header(json)
}

export interface ExecutionDispute {
  game: Address
  /** The L1 block the game was created in (its moves and the step are later). */
  createdAtL1: bigint
  /** The stranger's output for the block: the honest header with `wrongStateRoot`, published before the game. */
  wrong: DerivedOutput
  /** The chain's honest block traces (what the stranger copies up to the disputed transaction). */
  blockTrace: NodeTraceProvider
  adversary: StepAdversary
}

/**
 * A stranger disputes the execution of `block`: it publishes the honest header with `wrongStateRoot` (the
 * transactions right, their execution wrong) — or `wrongHeader(honest header)` —, creates a game with that output and
 * plays a trace that is the chain's through leaf `tx` (after transactions 0 … tx − 1) and wrong from leaf tx + 1 on,
 * so the bisection must end with a step executing transaction `tx` (−1: the opening); `claim` replaces any of those
 * claims. The caller owns (stops) the returned adversary.
 */
export async function disputeExecution(
  stack: ProverStack,
  params: {
    stranger: PrivateKeyAccount
    prover: NodeHandle
    block: bigint
    tx: bigint
    wrongStateRoot?: Hex
    wrongHeader?: (honest: Hex) => Hex
    claim?: (wrong: DerivedOutput) => StrangerClaim
  },
): Promise<ExecutionDispute> {
  const url = stack.sequencer.rpcUrl
  const honest = await rpcOutput(url, params.block)
  let header: Hex
  if (params.wrongHeader !== undefined) header = params.wrongHeader(honest.header)
  else if (params.wrongStateRoot !== undefined) header = withStateRoot(honest.header, params.wrongStateRoot)
  else throw new Error('disputeExecution needs wrongStateRoot or wrongHeader')
  const registry = await stackOutputRegistry(stack)
  const wallet = createWalletClient({ account: params.stranger, transport: http(stack.l1.anvil.rpcUrl, { retryCount: 0 }) })
  const root = await ensureOutputPublished({ public: stack.client, wallet }, registry, {
    header,
    messagePasserStorageRoot: honest.messagePasserStorageRoot,
  })
  const wrong: DerivedOutput = { block: params.block, root, header, messagePasserStorageRoot: honest.messagePasserStorageRoot }
  const { game } = await createGame(stack, params.stranger, root, params.block)
  const createdAtL1 = await stack.client.getBlockNumber({ cacheTime: 0 })
  const blockTrace = chainBlockTrace(url, params.prover.rpcUrl, stack.l1.anvil.rpcUrl)
  const adversary = startStepAdversary({
    client: stack.client,
    wallet,
    game,
    registry,
    sequencerUrl: url,
    block: params.block,
    wrong,
    tx: params.tx,
    blockTrace: () => blockTrace,
    ...(params.claim === undefined ? {} : { claim: params.claim(wrong) }),
  })
  return { game, createdAtL1, wrong, blockTrace, adversary }
}

/**
 * The honest leaves of block `block`'s trace (judging the chain's own output), built as the prover builds them: the
 * sequencer's transactions, the prover's witness.
 */
export async function honestTraceStates(stack: ProverStack, prover: NodeHandle, block: bigint): Promise<TraceState[]> {
  const url = stack.sequencer.rpcUrl
  const [starting, disputed, transactions, witness] = await Promise.all([
    rpcOutput(url, block - 1n),
    rpcOutput(url, block),
    blockTransactions(url, block),
    // The prover may derive the block a moment after the sequencer's safe head passed it.
    waitFor(
      `the prover's witness of block ${block}`,
      async () =>
        (await rpc<WitnessJson | null>(prover.rpcUrl, 'debug_executionWitness', [`0x${block.toString(16)}`])) ?? undefined,
      30_000,
      500,
    ).then(witnessFromJson),
  ])
  const trace = await buildBlockTrace({
    common: traceCommon,
    rules: traceRules,
    starting: preimage(starting),
    disputed: preimage(disputed),
    block,
    transactions,
    witness,
    l1Header: (hash) => l1HeaderRlp(stack.l1.anvil.rpcUrl, hash),
  })
  return trace.states
}

/**
 * A stranger whose trace of its own output is the honest one with only the output and header hash its own (what the
 * trace was before the opening checked the header's shape): every execution claim on `wrong` is that leaf's.
 */
export function sameExecutionAs(states: readonly TraceState[]): (wrong: DerivedOutput) => StrangerClaim {
  return (wrong) => async (context, index) => {
    if (context.disputedOutput.toLowerCase() !== wrong.root.toLowerCase()) return undefined
    const state = states[Math.min(Number(index), states.length - 1)]!
    return traceClaim({ ...state, disputedOutput: wrong.root, headerHash: keccak256(wrong.header) })
  }
}

/**
 * Waits until someone counters a max-depth claim of `game` (only a step does that) and answers that claim; on a
 * timeout, prints the prover's warnings and game lines first.
 */
export async function waitForStep(stack: ProverStack, game: Address, prover: NodeHandle, timeoutMs: number): Promise<ClaimRow> {
  const maxDepth = Number(PROVER_DISPUTE.maxGameDepth)
  const depth = (p: bigint) => p.toString(2).length - 1
  return waitFor(
    'the prover’s step against the stranger’s max-depth claim',
    async () =>
      (await claimsOf(stack.client, game)).find(
        (c) => depth(c.position) === maxDepth && !sameAddress(c.counteredBy, ZERO_ADDRESS),
      ),
    timeoutMs,
    300,
  ).catch((err: unknown) => {
    const lines = prover
      .logs()
      .stdout.split('\n')
      .filter((l) => /"level":(40|50)|stepped|game/.test(l))
    process.stderr.write(`# prover log:\n${lines.slice(-30).join('\n')}\n`)
    throw err
  })
}

/**
 * The index of the transaction the step against `leaf` executed. The leaf at trace index i is the state after
 * transactions 0 … i − 1; an attack on a leaf the prover disagrees with executes from the leaf before it
 * (transaction i − 1), a defence of a leaf it agrees with executes from that leaf (transaction i).
 */
export async function executedTransaction(
  stack: ProverStack,
  game: Address,
  leaf: ClaimRow,
  dispute: Pick<ExecutionDispute, 'game' | 'wrong' | 'blockTrace'>,
): Promise<bigint> {
  const snapshot = await readGame(stack.client, game)
  const index = executionIndex(snapshot, leaf.position)
  const honestLeaf = await honestLeafClaim(stack, dispute, leaf, index)
  return honestLeaf.toLowerCase() === leaf.value.toLowerCase() ? index : index - 1n
}

/**
 * The honest claim at leaf `index` of the execution trace `leaf` belongs to, judged as the game judges it: the block,
 * starting and disputed outputs come from the claim's context in the game. The disputed output is not always the
 * stranger's: when the stranger's last split-depth claim is an honest output (block N − 1), the prover defends it and
 * the trace of block N judges the prover's own output there (the ancestor to its right), which it finds VALID.
 */
export async function honestLeafClaim(
  stack: ProverStack,
  dispute: Pick<ExecutionDispute, 'game' | 'wrong' | 'blockTrace'>,
  leaf: ClaimRow,
  index: bigint,
): Promise<Hex> {
  const context = executionContext(await readGame(stack.client, dispute.game), leaf.parentIndex, leaf.position)
  const outputOf = async (root: Hex, block: bigint): Promise<DerivedOutput> => {
    if (root.toLowerCase() === dispute.wrong.root.toLowerCase()) return dispute.wrong
    const output = await rpcOutput(stack.sequencer.rpcUrl, block)
    if (output.root.toLowerCase() !== root.toLowerCase())
      throw new Error(`${root} is neither the chain’s output ${block} nor the stranger’s`)
    return output
  }
  const [starting, disputed] = await Promise.all([
    outputOf(context.startingOutput, context.startingBlock),
    outputOf(context.disputedOutput, context.disputedBlock),
  ])
  return dispute.blockTrace.claimAt({
    block: context.disputedBlock,
    starting: preimage(starting),
    disputed: preimage(disputed),
    traceIndex: index,
  })
}

/** The L1 gas of the prover's (first) step in `game`, from its log line; undefined if it has not logged one. */
export function loggedStepGas(stdout: string, game: Address): bigint | undefined {
  const line = stdout
    .split('\n')
    .find(
      (l) =>
        l.includes('"msg":"stepped against a max-depth claim"') && l.toLowerCase().includes(`"game":"${game.toLowerCase()}"`),
    )
  const gas = line === undefined ? undefined : /"gas":"(\d+)"/.exec(line)?.[1]
  return gas === undefined ? undefined : BigInt(gas)
}

interface CallFrame {
  to?: Hex
  input: Hex
  output?: Hex
  gasUsed: Hex
  calls?: CallFrame[]
}

/** `step(bytes,bytes,bytes32)`'s selector: the game's call into its VM. */
const VM_STEP_SELECTOR = toFunctionSelector('function step(bytes,bytes,bytes32)')

/**
 * `stepper`'s successful `step` transaction on `game` (searched from L1 block `fromBlock` on) and what the game's VM
 * answered inside it: the post-state claim the verifier computed from the step's pre-state and proof, and the gas of
 * that call alone (what bench/lib/step-gas.ts measures: no transaction base cost, calldata or game bookkeeping), read
 * from anvil's call tracer. A differential check of the verifier in the played game's own context (its local context,
 * the published outputs, the claim's creation time), against the prover's trace.
 */
export async function stepOnL1(
  stack: ProverStack,
  game: Address,
  stepper: Address,
  fromBlock: bigint,
): Promise<{ hash: Hex; gasUsed: bigint; vmGasUsed: bigint; vmPostState: Hex }> {
  const vm = await stack.client.readContract({ address: game, abi: faultDisputeGameAbi, functionName: 'vm' })
  const stepSelector = toFunctionSelector('function step(uint256,bool,bytes,bytes)')
  // Uncached: the caller saw the step in L1's latest state a moment ago, and viem's cached head (the client's polling
  // interval) can be a block older than that state, the step's own block.
  const latest = await stack.client.getBlockNumber({ cacheTime: 0 })
  for (let n = fromBlock; n <= latest; n++) {
    const block = await stack.client.getBlock({ blockNumber: n, includeTransactions: true })
    for (const tx of block.transactions) {
      if (!sameAddress(tx.from, stepper) || tx.to == null || !sameAddress(tx.to, game) || !tx.input.startsWith(stepSelector))
        continue
      const receipt = await stack.client.getTransactionReceipt({ hash: tx.hash })
      if (receipt.status !== 'success') continue
      const trace = await rpc<CallFrame>(stack.l1.anvil.rpcUrl, 'debug_traceTransaction', [tx.hash, { tracer: 'callTracer' }])
      const call = findCall(trace, (c) => c.to !== undefined && sameAddress(c.to, vm) && c.input.startsWith(VM_STEP_SELECTOR))
      if (call?.output === undefined) throw new Error(`the step ${tx.hash} made no call into the VM ${vm}`)
      return { hash: tx.hash, gasUsed: receipt.gasUsed, vmGasUsed: BigInt(call.gasUsed), vmPostState: call.output }
    }
  }
  throw new Error(`no successful step by ${stepper} on ${game} in L1 blocks ${fromBlock} … ${latest}`)
}

function findCall(frame: CallFrame, match: (c: CallFrame) => boolean): CallFrame | undefined {
  if (match(frame)) return frame
  for (const child of frame.calls ?? []) {
    const found = findCall(child, match)
    if (found !== undefined) return found
  }
  return undefined
}

/** The transaction hash of a raw (canonical) transaction encoding. */
export const transactionHash = (raw: Uint8Array): Hex => keccak256(raw)

function preimage(output: { header: Hex; messagePasserStorageRoot: Hex }) {
  return { header: hexBytes(output.header), messagePasserStorageRoot: output.messagePasserStorageRoot }
}

/** What `playToStep` leaves for the suite's own assertions. */
export interface PlayedStep {
  dispute: ExecutionDispute
  /** The stranger's max-depth claim the prover stepped against. */
  leaf: ClaimRow
  /** The index of the transaction the step executed (asserted to be the disputed one). */
  executed: bigint
  onL1: Awaited<ReturnType<typeof stepOnL1>>
}

/**
 * Plays `disputeExecution` to the prover's step and checks what both step suites require of it: the prover countered
 * the stranger's max-depth claim, with a step that executed transaction `tx`, whose post-state as TxStepVerifier
 * computed it inside the played step (read from L1's call trace) is the prover's trace and not the stranger's claim,
 * and whose L1 gas the prover logged. `own` hands the adversary to the suite's teardown.
 */
export async function playToStep(
  stack: ProverStack,
  params: Parameters<typeof disputeExecution>[1] & {
    proverAddress: Address
    own: (adversary: StepAdversary) => void
    phase: (what: string) => void
  },
): Promise<PlayedStep> {
  const { prover, stranger, tx, proverAddress, phase } = params
  const dispute = await disputeExecution(stack, params)
  params.own(dispute.adversary)
  phase('game created')
  // The prover moves one game per L1 block (it waits for each move's receipt): with seven games on one stack, a
  // round of moves takes ~7 s and a game's 12 levels ~85 s.
  const leaf = await waitForStep(stack, dispute.game, prover, 150_000)
  phase('stepped')
  await dispute.adversary.stop()
  assert.ok(sameAddress(leaf.counteredBy, proverAddress), 'the prover countered the leaf')
  assert.ok(sameAddress(leaf.claimant, stranger.address), 'the leaf is the stranger’s')
  const executed = await executedTransaction(stack, dispute.game, leaf, dispute)
  assert.equal(executed, tx, 'the step executed the disputed transaction')
  const onL1 = await stepOnL1(stack, dispute.game, proverAddress, dispute.createdAtL1)
  assert.equal(onL1.vmPostState, await honestLeafClaim(stack, dispute, leaf, executed + 1n), 'the verifier’s post-state')
  assert.notEqual(onL1.vmPostState.toLowerCase(), leaf.value.toLowerCase())
  // The prover logs once its step's receipt is back, which can be after the step is visible on L1.
  const logged = await waitFor('the prover to log its step', () => loggedStepGas(prover.logs().stdout, dispute.game))
  assert.equal(logged, onL1.gasUsed, 'the gas the prover logged')
  phase(`step gas ${onL1.gasUsed} (the verifier's call: ${onL1.vmGasUsed})`)
  return { dispute, leaf, executed, onL1 }
}

/**
 * A recent safe block with an odd number, not in `avoid`: in the suites' game (8 output levels, anchored at genesis)
 * the bisection of an odd block's output ends with the stranger's own output as the claim the execution trace judges,
 * so a step there judges the stranger's header.
 */
export async function oddSafeBlock(url: string, avoid: readonly bigint[] = []): Promise<bigint> {
  let block = await safeHead(url)
  if (block % 2n === 0n) block -= 1n
  while (avoid.includes(block)) block -= 2n
  if (block < 1n || block >= 1n << PROVER_DISPUTE.splitDepth)
    throw new Error(`no odd safe block a game of ${PROVER_DISPUTE.splitDepth} output levels can dispute (safe head ${block})`)
  return block
}

/**
 * The clocks of games played at once on one stack run out together. A warp moves L1's clock for every game on the
 * stack, so no game's test may warp on its own while another game is still being played: each test `arrive`s once
 * its game is played to its step (or has failed: call it in a `finally`), and the last to arrive moves L1's clock
 * past the max clock duration for all of them. Every game thus sees its clocks run out after its own step, never
 * before; `arrive` settles when that warp is mined.
 */
export function clocksRunOutTogether(stack: () => ProverStack, games: number): { arrive(): Promise<void> } {
  let left = games
  let fire: () => void = () => undefined
  const everyone = new Promise<void>((resolve) => {
    fire = resolve
  })
  const warped = everyone.then(() => stack().warp(Number(PROVER_DISPUTE.maxClockDuration) + 1))
  return {
    arrive() {
      left--
      if (left === 0) fire()
      return warped
    },
  }
}

/**
 * The end of a played step game, once its clocks ran out (`stack.warp` past the max clock, or
 * `clocksRunOutTogether`): the game resolves `CHALLENGER_WINS`, the stranger keeps nothing and the prover is paid every
 * bond of the game (the prover answered every claim of the stranger's down to the stepped leaf, so every subgame
 * resolves its way: the stranger's root and moves, and the prover's own back). Returns the game's claims.
 */
export async function assertProverTakesEveryBond(
  stack: ProverStack,
  game: Address,
  stranger: Address,
  prover: Address,
  phase: (what: string) => void,
): Promise<ClaimRow[]> {
  await waitFor('CHALLENGER_WINS', async () => (await gameStatus(stack.client, game)) === 1, 30_000, 300)
  phase('resolved')
  const claims = await claimsOf(stack.client, game)
  const all = claims.reduce((sum, c) => sum + c.bond, 0n)
  assert.equal(await creditOf(stack.client, game, stranger), 0n, 'the stranger keeps nothing')
  const paid = await waitFor(
    'the prover claiming its credit',
    async () => (await creditsClaimed(stack.client, game)).get(prover),
    30_000,
    300,
  )
  assert.equal(paid, all, 'every bond of the game goes to the prover')
  phase('credit claimed')
  return claims
}
