/**
 * The L1-attributes deposit's step, differentially against the node's executor: the gas formula TxStepVerifier's
 * helper (contracts/L1/L1AttributesStep.sol) applies — intrinsic gas, L1Block's fixed setter gas, each SSTORE's cost by
 * the slot's value before, the capped refund — gives exactly the gas of the node's receipt for every kind of prior
 * L1Block storage (genesis zeros, a new epoch, the same epoch, the same values, cleared values, random mixes); the
 * setter's fixed gas is the constant the verifier is deployed with; and the prover's trace of the deposit (slot by
 * slot, with the sibling a collapsing deletion needs) ends at the node's state root.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { bytesToHex } from '@ethereumjs/util'
import { decodeAbiParameters } from 'viem'
import { L1_BLOCK_ISTHMUS_SETTER_GAS } from '../../src/bridge/l1-attributes-step.ts'
import { encodeL1InfoIsthmus, type L1BlockInfoIsthmus } from '../../src/chain/l1-info.ts'
import type { Hex } from '../../src/primitives/state-diff.ts'
import { buildBlockTrace } from '../../src/prover/trace/block-trace.ts'
import { L1_ATTRIBUTES_SLOTS, l1AttributesGasUsed, l1AttributesSlotValues } from '../../src/prover/trace/l1-attributes.ts'
import { TRANSACTION_BODY } from '../../src/prover/trace/step-proof.ts'
import { TracePhase } from '../../src/prover/trace/trace-state.ts'
import {
  TRACE_BLOCK,
  buildTraceChain,
  l1AttributesDeposit,
  traceCommon,
  traceL1Info,
  traceRules,
  type ParentL1Attributes,
} from '../helpers/trace-chain.ts'

const word = (n: number): Hex => `0x${n.toString(16).padStart(64, '0')}` as Hex
// The child of the default origin (its synthetic L1 header registered, so a trace finds it).
const next = traceL1Info({ number: 501n, timestamp: 1_700_000_000n, sequenceNumber: 0n }, traceL1Info().hash)
const cleared = traceL1Info({
  number: 0n,
  timestamp: 0n,
  baseFee: 0n,
  blobBaseFee: 0n,
  hash: word(0),
  batcherHash: word(0),
  baseFeeScalar: 0,
  blobBaseFeeScalar: 0,
})

/** The node's gas for the deposit of `info` over `prior`, and the formula's with the setter gas `setterGas`. */
async function gasOf(prior: ParentL1Attributes, info: L1BlockInfoIsthmus, setterGas: bigint) {
  const chain = await buildTraceChain([l1AttributesDeposit(info)], prior)
  const calldata = encodeL1InfoIsthmus(info)
  const before =
    prior.l1Block === undefined ? L1_ATTRIBUTES_SLOTS.map(() => 0n) : l1AttributesSlotValues(encodeL1InfoIsthmus(prior.l1Block))
  return { node: chain.receipts[0]!.gasUsed, formula: l1AttributesGasUsed(calldata, before, setterGas), chain }
}

/** A small deterministic generator (xorshift) for the random mixes. */
function rng(seed: number): () => number {
  let x = seed
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 2 ** 32
  }
}

/** Attributes whose every field is, at random, zero, the prior's, or new. */
function mix(r: () => number, prior: L1BlockInfoIsthmus, n: number): L1BlockInfoIsthmus {
  const pick = <T>(zero: T, same: T, fresh: T): T => {
    const x = r()
    return x < 0.3 ? zero : x < 0.6 ? same : fresh
  }
  return {
    number: pick(0n, prior.number, 1000n + BigInt(n)),
    timestamp: pick(0n, prior.timestamp, 1_800_000_000n + BigInt(n)),
    baseFee: pick(0n, prior.baseFee, 10n ** 9n + BigInt(n)),
    blobBaseFee: pick(0n, prior.blobBaseFee, 3n + BigInt(n)),
    hash: pick(word(0), prior.hash, word(7000 + n)),
    sequenceNumber: pick(0n, prior.sequenceNumber, BigInt(n + 1)),
    batcherHash: pick(word(0), prior.batcherHash, word(9000 + n)),
    baseFeeScalar: pick(0, prior.baseFeeScalar, 100 + n),
    blobBaseFeeScalar: pick(0, prior.blobBaseFeeScalar, 200 + n),
    operatorFeeScalar: pick(0, prior.operatorFeeScalar, 300 + n),
    operatorFeeConstant: pick(0n, prior.operatorFeeConstant, 400n + BigInt(n)),
  }
}

describe('the L1-attributes deposit step', () => {
  it('charges L1Block’s measured setter gas (the constant the verifier is deployed with)', async () => {
    // Genesis: no refunds, so the node's gas is the formula's plus the setter's fixed part.
    const { node, formula } = await gasOf({}, next, 0n)
    assert.equal(node - formula, L1_BLOCK_ISTHMUS_SETTER_GAS, `measured ${node - formula}`)
  })

  it('gives the node’s gas for every kind of prior L1Block storage', async () => {
    const cases: Array<[string, ParentL1Attributes, L1BlockInfoIsthmus]> = [
      ['genesis (empty storage)', {}, next],
      ['a new epoch', { l1Block: traceL1Info(), depositorNonce: 7n }, next],
      ['the same epoch', { l1Block: next, depositorNonce: 8n }, { ...next, sequenceNumber: 1n }],
      ['the same values', { l1Block: next }, next],
      ['operator fee cleared', { l1Block: { ...next, operatorFeeScalar: 5, operatorFeeConstant: 9n } }, next],
      ['operator fee set', { l1Block: next }, { ...next, operatorFeeScalar: 5, operatorFeeConstant: 9n }],
      ['every slot cleared (refund capped at a fifth)', { l1Block: next }, cleared],
      ['from all zero values', { l1Block: cleared }, next],
    ]
    const r = rng(17)
    let prior = next
    for (let n = 0; n < 12; n++) {
      const info = mix(r, prior, n)
      cases.push([`random mix ${n}`, { l1Block: prior }, info])
      prior = info
    }
    for (const [what, before, info] of cases) {
      const { node, formula } = await gasOf(before, info, L1_BLOCK_ISTHMUS_SETTER_GAS)
      assert.equal(formula, node, what)
    }
  })

  it('traces the deposit slot by slot to the node’s state root, a collapsing deletion with its sibling', async () => {
    for (const [what, prior, info] of [
      ['same epoch', { l1Block: next }, { ...next, sequenceNumber: 1n }],
      ['every slot cleared', { l1Block: next }, cleared],
    ] as const) {
      const chain = await buildTraceChain([l1AttributesDeposit(info)], prior)
      const trace = await buildBlockTrace({ common: traceCommon, rules: traceRules, ...chain, block: TRACE_BLOCK })
      assert.equal(trace.states[1]!.stateRoot, bytesToHex(chain.header.stateRoot), what)
      assert.equal(trace.states[1]!.gasUsed, chain.receipts[0]!.gasUsed, what)
      // Clearing every slot also clears the L1 origin, which breaks the epoch rule: the block is invalid right after
      // the deposit's (still traced) writes.
      assert.equal(trace.states.at(-1)!.phase, what === 'every slot cleared' ? TracePhase.INVALID : TracePhase.SEALED_VALID, what)
      const [body] = decodeAbiParameters([TRANSACTION_BODY], trace.steps[1]!.body)
      assert.equal(body.accountProofs.length, 11, what)
      const siblings = body.accountProofs[9]!.filter((s) => s !== '0x')
      // Clearing the six leaves of L1Block's root branch in order: the fifth deletion leaves it one hashed child.
      assert.equal(siblings.length, what === 'every slot cleared' ? 1 : 0, what)
    }
  })
})
