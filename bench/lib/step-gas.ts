/**
 * L1 gas of the transaction step verifier's steps (the dispute bench calls `measureStepGas`): a block with the
 * L1-attributes deposit (of the same epoch as its parent's: the common case, the sequence number changes; its step
 * also checks the origin's L1 header and the mixHash — and a second block whose deposit starts a new epoch), a user
 * deposit and plain transfers is built in-process by the node's executor, its trace computed by the prover's code,
 * and every step run on a real anvil through a harness game at max depth (contracts/test/TraceGameHarness.sol). The
 * figures are the verifier call's own gas (no transaction base cost, no game bookkeeping: FaultDisputeGame.step adds
 * ~30–50k on top, its calldata ~16 gas per non-zero byte).
 */
import type { Hex } from 'viem'
import { buildBlockTrace, outputRootOf } from '../../src/prover/trace/block-trace.ts'
import { StepKind, encodeStepProof } from '../../src/prover/trace/step-proof.ts'
import { ABSOLUTE_PRESTATE_DATA, encodeTraceState, traceClaim } from '../../src/prover/trace/trace-state.ts'
import {
  PARENT_NUMBER,
  buildTraceChain,
  devAccounts,
  l1AttributesDeposit,
  traceCommon,
  traceConfig,
  traceL1Info,
  traceRules,
  transfer,
  userDeposit,
  type TraceChain,
} from '../../test/helpers/trace-chain.ts'
import { contractBlock } from '../../test/helpers/contract-block.ts'
import { startVerifierStack, type VerifierStack } from '../../test/helpers/step-verifier.ts'

export interface StepGas {
  /** Opening: preimages checked, header rules and shape, the two system calls' storage writes. */
  open: bigint
  /**
   * The L1-attributes deposit: depositor nonce, L1Block's seven slots (one changed: the sequence number), the epoch
   * rule and the origin's L1 header (hash, fields, mixHash).
   */
  l1Attributes: bigint
  /** The same at an epoch's first block (number, time, base fee, hash and sequence number change; parent checked). */
  l1AttributesNewEpoch: bigint
  /** A user deposit (mint and value to a fresh EOA). */
  deposit: bigint
  /** A plain transfer to a fresh address (sender, recipient insert, coinbase). */
  transferToFresh: bigint
  /** A plain transfer to an existing account. */
  transferToExisting: bigint
  /** The seal: exclusion proof, output preimage, passer proof. */
  seal: bigint
  /** Bytes of `proof` for a transfer step (calldata). */
  transferProofBytes: number
  /**
   * Every transaction step of a block of contract transactions (`test/helpers/contract-block.ts`), through
   * ContractTxStep and the EVM interpreter: the kind, its gas, and the L2 gas the transaction used.
   */
  contract: { kind: string; gas: bigint; l2Gas: bigint }[]
}

/** Measures each kind of step once on a fresh anvil (~10 s). */
export async function measureStepGas(): Promise<StepGas> {
  const stack = await startVerifierStack(traceRules, traceConfig.chainId)
  try {
    const txs = [
      l1AttributesDeposit(traceL1Info({ sequenceNumber: 3n })),
      userDeposit(
        { from: '0x00000000000000000000000000000000000d3905', to: `0x${'ab'.repeat(20)}`, mint: 10n ** 18n, value: 1n },
        1,
      ),
      await transfer(0, `0x${'cd'.repeat(20)}`, 10n ** 18n, 0),
      await transfer(1, devAccounts[2]!.address, 5n, 0),
    ]
    const chain = await buildTraceChain(txs, { l1Block: traceL1Info({ sequenceNumber: 2n }), depositorNonce: 41n })
    const block = PARENT_NUMBER + 1n
    await judgeBlock(stack, chain, block)
    const trace = await buildBlockTrace({ common: traceCommon, rules: traceRules, ...chain, block })
    const gas: bigint[] = []
    const sizes: number[] = []
    for (let i = 0; i < trace.states.length; i++) {
      const stateData = i === 0 ? ABSOLUTE_PRESTATE_DATA : encodeTraceState(trace.states[i - 1]!)
      const step = trace.steps[i] ?? { kind: StepKind.NONE, body: '0x' as Hex }
      const proof = encodeStepProof(0n, step.kind, step.body)
      const { claim, gas: used } = await stack.step(stateData, proof)
      if (claim !== traceClaim(trace.states[i]!)) throw new Error(`step ${i}: the verifier disagrees with the trace`)
      gas.push(used)
      sizes.push((proof.length - 2) / 2)
    }
    // An epoch's first block: the next L1 block, a child of the parent's origin.
    const origin = traceL1Info()
    const next = traceL1Info(
      { number: origin.number + 1n, timestamp: origin.timestamp + 12n, baseFee: 6_900_000_000n },
      origin.hash,
    )
    const epoch = await buildTraceChain([l1AttributesDeposit(next)], {
      l1Block: { ...origin, sequenceNumber: 11n },
      depositorNonce: 42n,
    })
    await judgeBlock(stack, epoch, block)
    const epochTrace = await buildBlockTrace({ common: traceCommon, rules: traceRules, ...epoch, block })
    const epochStep = epochTrace.steps[1]!
    const newEpoch = await stack.step(
      encodeTraceState(epochTrace.states[0]!),
      encodeStepProof(0n, epochStep.kind, epochStep.body),
    )
    if (newEpoch.claim !== traceClaim(epochTrace.states[1]!) || epochTrace.states.at(-1)!.phase !== 2)
      throw new Error('the new epoch’s L1-attributes step: the verifier disagrees with the trace, or the block is not valid')
    const contract = await contractStepGas(stack)
    return {
      contract,
      open: gas[0]!,
      l1Attributes: gas[1]!,
      l1AttributesNewEpoch: newEpoch.gas,
      deposit: gas[2]!,
      transferToFresh: gas[3]!,
      transferToExisting: gas[4]!,
      seal: gas[5]!,
      transferProofBytes: sizes[3]!,
    }
  } finally {
    await stack.close()
  }
}

/** Publishes `chain`'s disputed output and points the harness game at its block (claimed an hour from now). */
async function judgeBlock(stack: VerifierStack, chain: TraceChain, block: bigint): Promise<void> {
  await stack.publish(chain.disputed.header, chain.disputed.messagePasserStorageRoot)
  await stack.setGame({
    starting: outputRootOf(chain.starting),
    startingPos: 16n,
    disputed: outputRootOf(chain.disputed),
    disputedPos: 17n,
    block,
    createdAt: (await stack.now()) + 3600n,
  })
}

/** Each transaction step of the contract block, checked against the trace like the block above. */
async function contractStepGas(stack: VerifierStack): Promise<StepGas['contract']> {
  const items = await contractBlock()
  const chain = await buildTraceChain(items.map((item) => item.tx))
  const block = PARENT_NUMBER + 1n
  await judgeBlock(stack, chain, block)
  const trace = await buildBlockTrace({ common: traceCommon, rules: traceRules, ...chain, block })
  const measured: StepGas['contract'] = []
  for (let i = 1; i <= items.length; i++) {
    const step = trace.steps[i]!
    const { claim, gas } = await stack.step(encodeTraceState(trace.states[i - 1]!), encodeStepProof(0n, step.kind, step.body))
    if (claim !== traceClaim(trace.states[i]!)) throw new Error(`${items[i - 1]!.kind}: the verifier disagrees with the trace`)
    if (i > 1) measured.push({ kind: items[i - 1]!.kind, gas, l2Gas: trace.states[i]!.gasUsed - trace.states[i - 1]!.gasUsed })
  }
  return measured
}

// `node --import tsx bench/lib/step-gas.ts` prints the figures.
if (import.meta.url === `file://${process.argv[1]}`) {
  const gas = await measureStepGas()
  console.log(JSON.stringify(gas, (_k, v) => (typeof v === 'bigint' ? Number(v) : v), 2))
}
