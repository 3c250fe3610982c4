/**
 * L1 origins for the L1-attributes step's origin check (epoch rule, origin header, mixHash): honest ones and one
 * forgery per field, each as the parent's L1Block values and the deposit's, with whether the block is valid. The unit
 * suite checks the prover's trace against these verdicts, the anvil suite the verifier against the trace.
 */
import { bytesToHex } from '@ethereumjs/util'
import { fakeExponential, BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE } from '../../src/bridge/l1-fetch.ts'
import type { L1BlockInfoIsthmus } from '../../src/chain/l1-info.ts'
import { keccak256 } from '../../src/crypto/native.ts'
import type { Hex } from '../../src/primitives/state-diff.ts'
import { TRACE_GENESIS_L1, registerL1Header, traceL1Header, traceL1Info, type ParentL1Attributes } from './trace-chain.ts'

export interface OriginCase {
  what: string
  prior: ParentL1Attributes
  info: L1BlockInfoIsthmus
  /** Whether the block's origin passes; 'unavailable': no L1 header hashes to the recorded hash (no trace). */
  verdict: 'valid' | 'invalid' | 'unavailable'
}

const word = (text: string): Hex => bytesToHex(keccak256(new TextEncoder().encode(text))) as Hex

/** The origin cases over a parent whose L1Block holds the default origin (L1 block 500, sequence number 0). */
export function originCases(): OriginCase[] {
  const a = traceL1Info()
  const prior = { l1Block: a, depositorNonce: 3n }
  const t = a.timestamp + 12n
  const b = traceL1Info({ number: 501n, timestamp: t, baseFee: 6_900_000_000n }, a.hash)
  const excess = 10_000_000n
  const blobby = traceL1Info(
    {
      number: 501n,
      timestamp: t,
      blobBaseFee: fakeExponential(1n, excess, BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE),
      hash: registerL1Header(
        traceL1Header({ number: 501n, timestamp: t, baseFee: 7_000_000_000n, parentHash: a.hash, excessBlobGas: excess }),
      ),
    },
    a.hash,
  )
  const otherMix = registerL1Header(
    traceL1Header({
      number: 501n,
      timestamp: t,
      baseFee: b.baseFee,
      parentHash: a.hash,
      mixHash: keccak256(new Uint8Array([1])),
    }),
  )
  const otherMixFirst = registerL1Header(
    traceL1Header({
      number: a.number,
      timestamp: a.timestamp,
      baseFee: a.baseFee,
      parentHash: TRACE_GENESIS_L1.hash,
      mixHash: keccak256(new Uint8Array([2])),
    }),
  )
  const skipped = traceL1Info({ number: 502n, timestamp: t + 12n }, a.hash)
  const stranger = traceL1Info({ number: 501n, timestamp: t }, word('another parent'))
  return [
    { what: 'the same epoch, sequence number + 1', prior, info: { ...a, sequenceNumber: 1n }, verdict: 'valid' },
    { what: 'the next L1 block, sequence number 0', prior, info: b, verdict: 'valid' },
    { what: 'the next L1 block with blob gas (fake_exponential)', prior, info: blobby, verdict: 'valid' },
    { what: 'the first block after genesis (L1Block empty): the genesis L1 block’s child', prior: {}, info: a, verdict: 'valid' },
    { what: 'the first block after genesis skipping an L1 block', prior: {}, info: b, verdict: 'invalid' },
    { what: 'a skipped L1 block', prior, info: skipped, verdict: 'invalid' },
    {
      what: 'an invented hash under the same number',
      prior,
      info: { ...a, hash: word('invented'), sequenceNumber: 1n },
      verdict: 'invalid',
    },
    { what: 'the same epoch, a sequence number skipped', prior, info: { ...a, sequenceNumber: 2n }, verdict: 'invalid' },
    { what: 'the same epoch, sequence number 0 again', prior, info: a, verdict: 'invalid' },
    { what: 'the next L1 block, sequence number 1', prior, info: { ...b, sequenceNumber: 1n }, verdict: 'invalid' },
    { what: 'the next number, not a child of the previous origin', prior, info: stranger, verdict: 'invalid' },
    { what: 'a wrong L1 timestamp', prior, info: { ...b, timestamp: t + 1n }, verdict: 'invalid' },
    { what: 'a wrong L1 base fee', prior, info: { ...b, baseFee: b.baseFee + 1n }, verdict: 'invalid' },
    { what: 'a wrong blob base fee', prior, info: { ...b, blobBaseFee: 2n }, verdict: 'invalid' },
    { what: 'an L2 mixHash that is not the origin’s', prior, info: { ...b, hash: otherMix }, verdict: 'invalid' },
    {
      what: 'a wrong mixHash in the first block after genesis',
      prior: {},
      info: { ...a, hash: otherMixFirst },
      verdict: 'invalid',
    },
    { what: 'an invented hash for the next L1 block', prior, info: { ...b, hash: word('nowhere') }, verdict: 'unavailable' },
  ]
}
