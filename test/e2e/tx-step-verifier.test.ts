// run-tests: pair — a node or anvil answering a few calls: no load, no assertion on time
/**
 * The transaction step verifier (contracts/L1/TxStepVerifier.sol) on a real anvil, differentially against the trace
 * the prover computes with the node's executor (src/prover/trace): every step of a block with the L1-attributes
 * deposit, a user deposit, a failed deposit and transfers (to fresh addresses and existing ones, legacy, EIP-2930 and
 * EIP-1559) returns exactly the next leaf's claim; the L1-attributes step's state root and gas equal the node's
 * whatever L1Block held before (nothing, other values, the same epoch, the same values, values it clears); the seal of
 * the honest block is VALID, of outputs lying about the state root or the passer root INVALID; a header differing
 * from the canonical shape in any one field opens INVALID; wrong proofs revert; a deposit with other calldata reverts
 * NotProvableHere; an unpublished or late-published output gives UNOPENED; the L1 origin (epoch rule, origin header,
 * mixHash) is judged as the trace judges it, honest and forged alike. A block of contract transactions (deposit
 * creation and call, ERC-20 deployment and transfers with logs, a reverting call, CREATE2, EIP-7702 set-code and a
 * call to the delegated EOA, transfers) steps through ContractTxStep to every next leaf and seals VALID; a step whose
 * bloom is not the pre-state's reverts. Gas per kind of step is reported.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createBlockHeader } from '@ethereumjs/block'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { decodeAbiParameters, encodeAbiParameters, keccak256 as keccakHash, stringToHex, type Hex } from 'viem'
import { l1BlockDeployedBytecode } from '../../src/bridge/generated/L1Block.ts'
import type { L2Transaction } from '../../src/chain/l2-transaction.ts'
import { keccak256 } from '../../src/crypto/native.ts'
import { buildBlockTrace, outputRootOf, type BlockTrace } from '../../src/prover/trace/block-trace.ts'
import { STEP_INPUT, StepKind, TRANSACTION_BODY, encodeStepProof } from '../../src/prover/trace/step-proof.ts'
import { orderedTrieRoot } from '../../src/trie/ordered-trie.ts'
import {
  ABSOLUTE_PRESTATE_DATA,
  TracePhase,
  UNOPENED_STATE,
  encodeTraceState,
  traceClaim,
} from '../../src/prover/trace/trace-state.ts'
import type { OutputPreimage } from '../../src/prover/trace/interface.ts'
import {
  ETH,
  PARENT_NUMBER,
  TRACE_BLOCK,
  TRACE_DEPOSITOR,
  buildTraceChain,
  freshAddress,
  l1AttributesDeposit,
  mixedBody,
  shapeVariants,
  traceCommon,
  traceConfig,
  traceL1Header,
  traceL1Info,
  traceRules,
  transfer,
  userDeposit,
  type ParentL1Attributes,
  type TraceChain,
} from '../helpers/trace-chain.ts'
import { startVerifierStack, type VerifierStack } from '../helpers/step-verifier.ts'
import { originCases } from '../helpers/l1-origin-cases.ts'
import { contractBlock } from '../helpers/contract-block.ts'

const BLOCK = TRACE_BLOCK
const fresh = (n: number): Hex => freshAddress('e', n)
const depositor = TRACE_DEPOSITOR
const keccakHex = (text: string): Hex => keccakHash(stringToHex(text))
/** What the L1-attributes deposit writes when every value is zero: each of L1Block's slots cleared. */
const CLEARED_L1_INFO = traceL1Info({
  number: 0n,
  timestamp: 0n,
  baseFee: 0n,
  blobBaseFee: 0n,
  hash: `0x${'00'.repeat(32)}`,
  batcherHash: `0x${'00'.repeat(32)}`,
  baseFeeScalar: 0,
  blobBaseFeeScalar: 0,
})

/** The pre-state data and proof of the step producing leaf `i`. */
function stepAt(trace: BlockTrace, i: number): { stateData: Hex; proof: Hex } {
  const stateData = i === 0 ? ABSOLUTE_PRESTATE_DATA : encodeTraceState(trace.states[Math.min(i, trace.states.length) - 1]!)
  const step = trace.steps[i] ?? { kind: StepKind.NONE, body: '0x' as Hex }
  return { stateData, proof: encodeStepProof(7n, step.kind, step.body) }
}

describe('TxStepVerifier on anvil against the prover’s trace', { timeout: 120_000 }, () => {
  let stack: VerifierStack
  let chain: TraceChain
  let txs: L2Transaction[]
  const gas: Record<string, bigint[]> = { open: [], l1Attributes: [], deposit: [], transfer: [], seal: [] }
  const contractGas = new Map<string, bigint[]>()

  before(async () => {
    stack = await startVerifierStack(traceRules, traceConfig.chainId)
    txs = await mixedBody(fresh)
    chain = await buildTraceChain(txs)
  })
  after(async () => {
    await stack?.close()
    console.log(
      'step gas (verifier call):',
      JSON.stringify(gas, (_k, v) => (typeof v === 'bigint' ? Number(v) : v)),
    )
    const lines = [...contractGas].map(([k, v]) => `  ${k}: ${v.join(', ')}`)
    if (lines.length > 0) console.log(`step gas of the contract block (verifier call):\n${lines.join('\n')}`)
  })

  async function judge(
    disputed: OutputPreimage,
    publish = true,
    createdAtOffset = 100n,
    of: TraceChain = chain,
  ): Promise<BlockTrace> {
    if (publish) await stack.publish(disputed.header, disputed.messagePasserStorageRoot)
    await stack.setGame({
      starting: outputRootOf(of.starting),
      startingPos: 16n,
      disputed: outputRootOf(disputed),
      disputedPos: 17n,
      block: BLOCK,
      createdAt: (await stack.now()) + createdAtOffset,
    })
    return buildBlockTrace({ common: traceCommon, rules: traceRules, ...of, disputed, block: BLOCK })
  }

  it('every step of an honest block returns the next leaf’s claim; the seal is VALID', async () => {
    const trace = await judge(chain.disputed)
    for (let i = 0; i < trace.states.length; i++) {
      const { stateData, proof } = stepAt(trace, i)
      const { claim, gas: used } = await stack.step(stateData, proof)
      assert.equal(claim, traceClaim(trace.states[i]!), `leaf ${i}`)
      const kind =
        i === 0 ? 'open' : i === trace.states.length - 1 ? 'seal' : i === 1 ? 'l1Attributes' : i <= 3 ? 'deposit' : 'transfer'
      gas[kind]!.push(used)
    }
    // Transaction 0 is the L1-attributes deposit, executed (not skipped): its leaf is the node's state after it.
    assert.equal(chain.transactions[0]![0], 0x7e)
    assert.equal(trace.states[1]!.gasUsed, chain.receipts[0]!.cumulativeGasUsed)
    assert.equal(traceClaim(trace.states.at(-1)!).slice(0, 4), '0x00')
    // Past the seal, a terminal state steps to itself.
    const { claim } = await stack.step(encodeTraceState(trace.states.at(-1)!), encodeStepProof(7n, StepKind.NONE, '0x'))
    assert.equal(claim, traceClaim(trace.states.at(-1)!))
  })

  it('seals INVALID outputs lying about the state root or the passer root', async () => {
    const lyingHeader = createBlockHeader(
      { ...chain.header.toJSON(), stateRoot: keccak256(new Uint8Array([9])) },
      { common: traceCommon },
    )
    for (const disputed of [
      { header: lyingHeader.serialize(), messagePasserStorageRoot: chain.disputed.messagePasserStorageRoot },
      { ...chain.disputed, messagePasserStorageRoot: bytesToHex(keccak256(new Uint8Array([8]))) as Hex },
    ]) {
      const trace = await judge(disputed)
      const last = trace.states.length - 1
      assert.equal(traceClaim(trace.states[last]!).slice(0, 4), '0x01')
      for (const i of [0, 1, 3, last]) {
        const { stateData, proof } = stepAt(trace, i)
        assert.equal((await stack.step(stateData, proof)).claim, traceClaim(trace.states[i]!), `leaf ${i}`)
      }
    }
  })

  it('reverts wrong proofs and wrong contexts', async () => {
    const trace = await judge(chain.disputed)
    // Transaction 3's body applied to the state before transaction 2.
    const wrong = { stateData: stepAt(trace, 3).stateData, proof: stepAt(trace, 4).proof }
    await assert.rejects(stack.step(wrong.stateData, wrong.proof))
    // A seal claimed before the last transaction: the exclusion proof fails.
    await assert.rejects(stack.step(stepAt(trace, 3).stateData, stepAt(trace, trace.states.length - 1).proof))
    // A trace judging another output than the game's.
    await stack.setGame({
      starting: outputRootOf(chain.starting),
      startingPos: 16n,
      disputed: bytesToHex(keccak256(new Uint8Array([7]))) as Hex,
      disputedPos: 17n,
      block: BLOCK,
      createdAt: (await stack.now()) + 100n,
    })
    const honest = stepAt(trace, 3)
    await assert.rejects(stack.step(honest.stateData, honest.proof), (e: Error) => /BadStep/.test(e.message))
  })

  it('gives UNOPENED when the disputed output is unpublished or published after its claim', async () => {
    const late = createBlockHeader({ ...chain.header.toJSON(), extraData: new Uint8Array([1]) }, { common: traceCommon })
    const unpublished = { header: late.serialize(), messagePasserStorageRoot: chain.disputed.messagePasserStorageRoot }
    await judge(unpublished, false)
    const opening = encodeStepProof(7n, StepKind.OPEN, '0x')
    assert.equal((await stack.step(ABSOLUTE_PRESTATE_DATA, opening)).claim, traceClaim(UNOPENED_STATE))
    // Published now, but the claim was made before.
    await judge(unpublished, true, -100n)
    assert.equal((await stack.step(ABSOLUTE_PRESTATE_DATA, opening)).claim, traceClaim(UNOPENED_STATE))
    assert.equal((await stack.step(encodeTraceState(UNOPENED_STATE), opening)).claim, traceClaim(UNOPENED_STATE))
  })

  it('past the game’s block (a capped disputed block) the starting output is the honest one', async () => {
    await stack.publish(chain.starting.header, chain.starting.messagePasserStorageRoot)
    for (const [disputed, phase] of [
      [chain.starting, '0x00'],
      [chain.disputed, '0x01'],
    ] as const) {
      await stack.publish(disputed.header, disputed.messagePasserStorageRoot)
      const game = {
        starting: outputRootOf(chain.starting),
        startingPos: 16n,
        disputed: outputRootOf(disputed),
        disputedPos: 17n,
      }
      await stack.setGame({ ...game, block: PARENT_NUMBER, createdAt: (await stack.now()) + 100n })
      const trace = await buildBlockTrace({ common: traceCommon, rules: traceRules, ...chain, disputed, block: PARENT_NUMBER })
      assert.equal(trace.states.length, 1)
      assert.equal(traceClaim(trace.states[0]!).slice(0, 4), phase)
      const open = stepAt(trace, 0)
      assert.equal((await stack.step(open.stateData, open.proof)).claim, traceClaim(trace.states[0]!))
    }
  })

  it('executes the L1-attributes deposit as the node does whatever L1Block held before', async () => {
    const next = traceL1Info({ number: 501n, timestamp: 1_700_000_000n, sequenceNumber: 0n }, traceL1Info().hash)
    // The last two break the epoch rule (the same origin and sequence number again; origin 0): the block is invalid
    // after the deposit, whose writes and gas are still the node's.
    const cases: Array<[string, ParentL1Attributes, ReturnType<typeof traceL1Info>, boolean]> = [
      ['genesis (L1Block empty, no depositor account)', {}, traceL1Info(), true],
      ['a new epoch (every value changes)', { l1Block: traceL1Info(), depositorNonce: 7n }, next, true],
      [
        'the same epoch (the sequence number changes)',
        { l1Block: next, depositorNonce: 8n },
        { ...next, sequenceNumber: 1n },
        true,
      ],
      [
        'operator fee set, then cleared',
        { l1Block: { ...next, operatorFeeScalar: 5, operatorFeeConstant: 9n } },
        { ...next, sequenceNumber: 1n },
        true,
      ],
      ['the same values again', { l1Block: next, depositorNonce: 9n }, next, false],
      ['every slot cleared (refund capped)', { l1Block: next, depositorNonce: 1n }, CLEARED_L1_INFO, false],
    ]
    for (const [what, prior, info, valid] of cases) {
      const one = await buildTraceChain([l1AttributesDeposit(info)], prior)
      const trace = await judge(one.disputed, true, 100n, one)
      assert.equal(trace.states.at(-1)!.phase, valid ? TracePhase.SEALED_VALID : TracePhase.INVALID, what)
      assert.equal(trace.states[1]!.gasUsed, one.receipts[0]!.gasUsed, `${what}: gas of the node's receipt`)
      assert.equal(trace.states[1]!.stateRoot, bytesToHex(one.header.stateRoot), `${what}: the node's state root`)
      for (const i of [0, 1, 2]) {
        const { stateData, proof } = stepAt(trace, i)
        const { claim, gas: used } = await stack.step(stateData, proof)
        assert.equal(claim, traceClaim(trace.states[Math.min(i, trace.states.length - 1)]!), `${what}: leaf ${i}`)
        if (i === 1) gas.l1Attributes!.push(used)
      }
    }
  })

  it('refuses an L1-attributes step into other L1Block code, with tampered slot proofs or without its sibling', async () => {
    const next = traceL1Info({ number: 501n, timestamp: 1_700_000_000n }, traceL1Info().hash)
    // Code that runs exactly as L1Block (a STOP appended after it) but is not the genesis code: the step does not
    // interpret it.
    const other = { l1Block: next, l1BlockCode: new Uint8Array([...hexToBytes(l1BlockDeployedBytecode), 0x00]) }
    const foreign = await buildTraceChain([l1AttributesDeposit({ ...next, sequenceNumber: 1n })], other)
    const foreignTrace = await judge(foreign.disputed, true, 100n, foreign)
    const step = stepAt(foreignTrace, 1)
    await assert.rejects(stack.step(step.stateData, step.proof), (e: Error) => /NotProvableHere/.test(e.message))

    // Every slot cleared: the proofs, swapped or without the sibling of the collapsing deletion, revert.
    const one = await buildTraceChain([l1AttributesDeposit(CLEARED_L1_INFO)], { l1Block: next })
    const trace = await judge(one.disputed, true, 100n, one)
    const honest = stepAt(trace, 1)
    assert.equal((await stack.step(honest.stateData, honest.proof)).claim, traceClaim(trace.states[1]!))
    const [body] = decodeAbiParameters([TRANSACTION_BODY], trace.steps[1]!.body)
    const tampered = (proofs: readonly (readonly Hex[])[]): Hex =>
      encodeStepProof(7n, StepKind.TRANSACTION, encodeAbiParameters([TRANSACTION_BODY], [{ ...body, accountProofs: proofs }]))
    const swapped = [...body.accountProofs]
    ;[swapped[2], swapped[3]] = [swapped[3]!, swapped[2]!]
    await assert.rejects(stack.step(honest.stateData, tampered(swapped)))
    const noSibling = [
      ...body.accountProofs.slice(0, 9),
      body.accountProofs[9]!.map(() => '0x' as Hex),
      ...body.accountProofs.slice(10),
    ]
    assert.notDeepEqual(noSibling[9], body.accountProofs[9], 'the honest step carries a sibling')
    await assert.rejects(stack.step(honest.stateData, tampered(noSibling)), (e: Error) => /MissingSibling/.test(e.message))
  })

  it('judges the L1 origin as the prover’s trace does: epoch rule, origin header, mixHash', async () => {
    for (const { what, prior, info, verdict } of originCases()) {
      if (verdict === 'unavailable') continue
      const one = await buildTraceChain([l1AttributesDeposit(info)], prior)
      const trace = await judge(one.disputed, true, 100n, one)
      assert.equal(trace.states[1]!.phase, verdict === 'valid' ? TracePhase.EXECUTING : TracePhase.INVALID, what)
      const { stateData, proof } = stepAt(trace, 1)
      const { claim, gas: used } = await stack.step(stateData, proof)
      assert.equal(claim, traceClaim(trace.states[1]!), what)
      gas.l1Attributes!.push(used)
    }
    // A header that does not hash to the recorded L1 hash is a wrong step input, not a verdict: it reverts.
    const [valid] = originCases()
    const one = await buildTraceChain([l1AttributesDeposit(valid!.info)], valid!.prior)
    const trace = await judge(one.disputed, true, 100n, one)
    const honest = stepAt(trace, 1)
    const [body] = decodeAbiParameters([TRANSACTION_BODY], trace.steps[1]!.body)
    const withHeader = (header: readonly Hex[]): Hex =>
      encodeStepProof(
        7n,
        StepKind.TRANSACTION,
        encodeAbiParameters([TRANSACTION_BODY], [{ ...body, accountProofs: [...body.accountProofs.slice(0, 10), header] }]),
      )
    const other = bytesToHex(traceL1Header({ number: 1n, timestamp: 1n, baseFee: 1n, parentHash: keccakHex('x') })) as Hex
    for (const header of [[], [other]]) {
      await assert.rejects(stack.step(honest.stateData, withHeader(header)), (e: Error) => /BadOriginHeader/.test(e.message))
    }
  })

  it('opens INVALID a header that differs from the canonical shape in any one field', async () => {
    for (const [what, header] of shapeVariants(chain.disputed.header)) {
      const disputed = { header, messagePasserStorageRoot: chain.disputed.messagePasserStorageRoot }
      const trace = await judge(disputed)
      assert.equal(trace.states.length, 1, what)
      assert.equal(trace.states[0]!.phase, TracePhase.INVALID, what)
      const open = stepAt(trace, 0)
      assert.equal((await stack.step(open.stateData, open.proof)).claim, traceClaim(trace.states[0]!), what)
    }
  })

  it('steps a block of contract transactions through ContractTxStep to every next leaf; the seal is VALID', async () => {
    const items = await contractBlock()
    const contracts = await buildTraceChain(items.map((item) => item.tx))
    const trace = await judge(contracts.disputed, true, 100n, contracts)
    assert.equal(trace.states.length, items.length + 2)
    assert.equal(trace.states.at(-1)!.phase, TracePhase.SEALED_VALID)
    // The block does what its items say: logs (the bloom moves), one reverting call.
    assert.notEqual(trace.states.at(-1)!.logsBloomHash, trace.states[0]!.logsBloomHash)
    assert.deepEqual(
      items.map((item, i) => [item.kind, contracts.receipts[i]!.status]).filter(([, status]) => status === 0),
      [['reverting call', 0]],
    )
    for (let i = 0; i < trace.states.length; i++) {
      const { stateData, proof } = stepAt(trace, i)
      const { claim, gas: used } = await stack.step(stateData, proof)
      assert.equal(claim, traceClaim(trace.states[i]!), `leaf ${i} (${items[i - 1]?.kind ?? 'open'})`)
      const kind = i === 0 ? 'open' : i === trace.states.length - 1 ? 'seal' : items[i - 1]!.kind
      contractGas.set(kind, [...(contractGas.get(kind) ?? []), used])
    }
    // A body whose bloom is not the pre-state's (a log dropped from the block so far) reverts.
    const at = items.findIndex((item) => item.kind === 'erc20 transfer (access list)') + 1
    const [body] = decodeAbiParameters([TRANSACTION_BODY], trace.steps[at]!.body)
    const forged = encodeStepProof(
      7n,
      StepKind.TRANSACTION,
      encodeAbiParameters([TRANSACTION_BODY], [{ ...body, bloom: `0x${'00'.repeat(256)}` }]),
    )
    assert.notEqual(body.bloom, `0x${'00'.repeat(256)}`)
    await assert.rejects(stack.step(stepAt(trace, at).stateData, forged), (e: Error) => /BadStep/.test(e.message))

    // The witness's context fields are the verifier's to fill: another pre-state root, coinbase, base fee, cumulative
    // gas or raw transaction in it changes nothing; a node dropped from its node set reverts.
    const [input] = decodeAbiParameters([STEP_INPUT], body.step)
    const withStep = (step: typeof input): Hex =>
      encodeStepProof(
        7n,
        StepKind.TRANSACTION,
        encodeAbiParameters([TRANSACTION_BODY], [{ ...body, step: encodeAbiParameters([STEP_INPUT], [step]) }]),
      )
    const lying = {
      ...input,
      preRoot: `0x${'ab'.repeat(32)}` as Hex,
      coinbase: fresh(8),
      baseFee: 0n,
      cumulativeGasUsed: 0n,
      rawTx: '0x' as Hex,
    }
    assert.equal((await stack.step(stepAt(trace, at).stateData, withStep(lying))).claim, traceClaim(trace.states[at]!))
    await assert.rejects(
      stack.step(stepAt(trace, at).stateData, withStep({ ...input, nodes: input.nodes.slice(1) })),
      (e: Error) => /PartialTrie_MissingNode/.test(e.message),
    )
  })

  it('a transaction the block cannot include (a nonce ahead of its sender’s) makes the trace INVALID at its step', async () => {
    const stale = (await transfer(2, fresh(9), ETH, 99)).serialize()
    const transactions = [...chain.transactions, stale]
    const header = createBlockHeader(
      { ...chain.header.toJSON(), transactionsTrie: orderedTrieRoot(transactions) },
      { common: traceCommon },
    )
    const disputed = { header: header.serialize(), messagePasserStorageRoot: chain.disputed.messagePasserStorageRoot }
    const trace = await judge(disputed, true, 100n, { ...chain, transactions, disputed })
    // Every transaction of the honest prefix executes; the bad one's leaf is INVALID and the trace ends there.
    assert.equal(trace.states.length, transactions.length + 1)
    assert.equal(trace.states.at(-1)!.phase, TracePhase.INVALID)
    assert.equal(trace.states.at(-1)!.stateRoot, trace.states.at(-2)!.stateRoot)
    for (const i of [transactions.length - 1, transactions.length]) {
      const { stateData, proof } = stepAt(trace, i)
      assert.equal((await stack.step(stateData, proof)).claim, traceClaim(trace.states[i]!), `leaf ${i}`)
    }
  })

  it('refuses to trace a block whose transaction 0 is not the L1-attributes deposit', async () => {
    const withData = [userDeposit({ from: depositor, to: fresh(5), mint: ETH, value: 1n, data: '0x1234' }, 3)]
    const other = await buildTraceChain(withData)
    await assert.rejects(buildBlockTrace({ common: traceCommon, rules: traceRules, ...other, block: BLOCK }), (e: Error) =>
      /not the L1-attributes deposit/.test(e.message),
    )
  })
})
