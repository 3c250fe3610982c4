/**
 * The L1 origin judged at the L1-attributes deposit, on the prover's side (src/prover/trace/l1-origin.ts): an honest
 * chain of blocks over several epochs — the sequencer's own origin choice (`selectEpoch`), epoch changes included —
 * seals VALID block after block, each block's trace starting from the L1Block values the previous one left; each
 * forged origin field (a skipped L1 block, an invented hash, a wrong sequence number, a header not the previous
 * origin's child, a wrong timestamp, base fee, blob base fee or mixHash) makes the block INVALID right after the
 * deposit, with the deposit's writes still traced; an origin whose header L1 does not have yields no trace.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { RLP } from '@ethereumjs/rlp'
import { bytesToBigInt, bytesToHex } from '@ethereumjs/util'
import { L1HeaderEncodingError, encodeL1Header } from '../../src/bridge/l1-header-rlp.ts'
import { decodeAbiParameters, keccak256 as keccakHex } from 'viem'
import type { L1Origin } from '../../src/chain/l1-origin.ts'
import type { RollupConfig } from '../../src/chain/rollup-config.ts'
import { encodeL1InfoIsthmus } from '../../src/chain/l1-info.ts'
import type { Hex } from '../../src/primitives/state-diff.ts'
import { buildBlockTrace } from '../../src/prover/trace/block-trace.ts'
import { TraceError } from '../../src/prover/trace/errors.ts'
import { L1_ATTRIBUTES_SLOTS, l1AttributesSlotValues } from '../../src/prover/trace/l1-attributes.ts'
import { epochStep } from '../../src/prover/trace/l1-origin.ts'
import { TRANSACTION_BODY } from '../../src/prover/trace/step-proof.ts'
import { TracePhase } from '../../src/prover/trace/trace-state.ts'
import { selectEpoch, parentEpochOf } from '../../src/sequencer/epoch.ts'
import { originCases } from '../helpers/l1-origin-cases.ts'
import {
  TRACE_BLOCK,
  TRACE_GENESIS_L1,
  buildTraceChain,
  l1AttributesDeposit,
  traceCommon,
  traceL1Header,
  traceL1Info,
  traceRules,
} from '../helpers/trace-chain.ts'

describe('the L1 origin at the L1-attributes step (prover’s trace)', () => {
  it('an honest chain over several epochs, origins chosen by the sequencer’s rule, seals VALID block after block', async () => {
    // The rollup's genesis L1 block 499, then L1 blocks 500 … 503, 12 s apart, each the child of the one before
    // (synthetic headers the trace finds).
    const t500 = 1_699_999_988n
    const l1: L1Origin[] = []
    for (let i = 0; i < 5; i++) {
      const info =
        i === 0
          ? traceL1Info({ number: 499n, timestamp: t500 - 12n, hash: TRACE_GENESIS_L1.hash })
          : traceL1Info({ number: 499n + BigInt(i), timestamp: t500 + 12n * BigInt(i - 1) }, l1[i - 1]!.hash)
      l1.push({
        number: info.number,
        hash: info.hash,
        parentHash: '0x',
        timestamp: info.timestamp,
        baseFeePerGas: info.baseFee,
        blobBaseFee: info.blobBaseFee,
        mixHash: '0x',
        deposits: [],
        systemConfig: {
          batcherHash: info.batcherHash,
          baseFeeScalar: 0,
          blobBaseFeeScalar: 0,
          operatorFeeScalar: 0,
          operatorFeeConstant: 0n,
          gasLimit: 0n,
        },
      })
    }
    const rollup = { genesis: { l1: TRACE_GENESIS_L1 }, maxSequencerDrift: 600n } as RollupConfig
    const anchoring = { rollup, origins: { origin: (n: bigint) => l1[Number(n - 499n)], originByHash: async () => l1[0]! } }
    let prior: ReturnType<typeof traceL1Info> | undefined
    let epochChanges = 0
    // One L2 block a second from L1 block 500's time (the first, after the L2 genesis, moves on to it from the genesis
    // L1 block with an empty L1Block).
    for (let second = 0n; second < 40n; second++) {
      const parent = parentEpochOf(rollup, prior)
      const choice = selectEpoch(anchoring, parent, t500 + second)
      assert.ok(choice.ok)
      const origin = choice.epoch.origin
      const info = traceL1Info({
        number: origin.number,
        timestamp: origin.timestamp,
        hash: origin.hash,
        sequenceNumber: choice.epoch.sequenceNumber,
      })
      if (prior !== undefined && info.number !== prior.number) epochChanges++
      const chain = await buildTraceChain([l1AttributesDeposit(info)], prior === undefined ? {} : { l1Block: prior })
      const trace = await buildBlockTrace({ common: traceCommon, rules: traceRules, ...chain, block: TRACE_BLOCK })
      assert.equal(trace.states.at(-1)!.phase, TracePhase.SEALED_VALID, `second ${second}: origin ${info.number}`)
      prior = info
    }
    assert.equal(epochChanges, 3, 'L1 blocks 500 → 501 → 502 → 503')
  })

  it('judges each forged origin field INVALID after the deposit, and needs the header only when the epoch rule holds', async () => {
    for (const { what, prior, info, verdict } of originCases()) {
      const chain = await buildTraceChain([l1AttributesDeposit(info)], prior)
      const build = buildBlockTrace({ common: traceCommon, rules: traceRules, ...chain, block: TRACE_BLOCK })
      if (verdict === 'unavailable') {
        await assert.rejects(build, (e: unknown) => e instanceof TraceError && e.code === 'TRACE_L1_ORIGIN_UNAVAILABLE', what)
        continue
      }
      const trace = await build
      const expected = verdict === 'valid' ? TracePhase.SEALED_VALID : TracePhase.INVALID
      assert.equal(trace.states.at(-1)!.phase, expected, what)
      // The deposit's writes and gas are traced either way (the verifier applies them before judging the origin).
      assert.equal(trace.states[1]!.stateRoot, bytesToHex(chain.header.stateRoot), what)
      assert.equal(trace.states[1]!.gasUsed, chain.receipts[0]!.gasUsed, what)
      const [body] = decodeAbiParameters([TRANSACTION_BODY], trace.steps[1]!.body)
      const before =
        prior.l1Block === undefined
          ? L1_ATTRIBUTES_SLOTS.map(() => 0n)
          : l1AttributesSlotValues(encodeL1InfoIsthmus(prior.l1Block))
      const needsHeader = epochStep(encodeL1InfoIsthmus(info), before, traceRules.genesisL1) !== undefined
      assert.equal(body.accountProofs[10]!.length, needsHeader ? 1 : 0, what)
      if (needsHeader) assert.equal(keccakHex(body.accountProofs[10]![0]! as Hex), info.hash, what)
    }
  })

  it('rebuilds an L1 header’s RLP from its JSON fields, checked against its hash', () => {
    const rlp = traceL1Header({
      number: 77n,
      timestamp: 1_700_000_123n,
      baseFee: 9n,
      parentHash: keccakHex('0x01'),
      excessBlobGas: 3n,
    })
    const names = [
      'parentHash',
      'sha3Uncles',
      'miner',
      'stateRoot',
      'transactionsRoot',
      'receiptsRoot',
      'logsBloom',
      'difficulty',
      'number',
      'gasLimit',
      'gasUsed',
      'timestamp',
      'extraData',
      'mixHash',
      'nonce',
      'baseFeePerGas',
      'withdrawalsRoot',
      'blobGasUsed',
      'excessBlobGas',
      'parentBeaconBlockRoot',
      'requestsHash',
    ]
    const quantities = new Set([
      'difficulty',
      'number',
      'gasLimit',
      'gasUsed',
      'timestamp',
      'baseFeePerGas',
      'blobGasUsed',
      'excessBlobGas',
    ])
    const items = RLP.decode(rlp) as Uint8Array[]
    const json: Record<string, unknown> = { hash: keccakHex(rlp) }
    names.forEach((name, i) => {
      json[name] = quantities.has(name) ? `0x${bytesToBigInt(items[i]!).toString(16)}` : bytesToHex(items[i]!)
    })
    assert.deepEqual(encodeL1Header(json), rlp)
    // A field the encoder does not see (here: requestsHash missing) gives another hash: refused, not guessed.
    const { requestsHash: _dropped, ...older } = json
    assert.throws(() => encodeL1Header(older), L1HeaderEncodingError)
  })
})
