/**
 * The L1 origin of a disputed block, judged at its L1-attributes deposit (transaction 0) as
 * contracts/L1/L1AttributesStep.sol's `originValid` judges it — the two must agree, leaf for leaf:
 *
 * 1. OP's epoch rule between L1Block's values before the deposit and the ones it stores: the same origin (number and
 *    hash) with the sequence number + 1, or the next L1 block with sequence number 0. While L1Block was never written
 *    (the first block after the L2 genesis) the previous origin is the rollup's genesis L1 block, sequence number 0.
 * 2. The origin's L1 header (given in the step, hashed against the stored L1 hash): when the epoch moves on, a child of
 *    the previous origin; its number, timestamp, base fee, blob base fee and mixHash are the deposit's values and the
 *    L2 header's mixHash.
 */
import { RLP } from '@ethereumjs/rlp'
import { bytesToHex, equalsBytes } from '@ethereumjs/util'
import { fakeExponential } from '../../bridge/l1-fetch.ts'
import { bytesToBigInt } from '../../primitives/rlp-fields.ts'
import type { Hex } from '../../primitives/state-diff.ts'
import { l1AttributesSlotValues, slotWord } from './l1-attributes.ts'

/** How a block's origin relates to its parent's: the same epoch, or the next. */
export type EpochStep = 'same' | 'next'

/** The rollup's genesis L1 block: the L2 genesis block's origin (sequence number 0). */
export interface GenesisL1 {
  number: bigint
  hash: Hex
}

/** The values of L1Block's origin slots, as the step reads them (positions in `L1_ATTRIBUTES_SLOTS`). */
interface OriginValues {
  number: bigint
  timestamp: bigint
  baseFee: bigint
  hash: bigint
  sequenceNumber: bigint
  blobBaseFee: bigint
}

const U64 = (1n << 64n) - 1n

function originValues(slots: readonly bigint[]): OriginValues {
  const [times = 0n, baseFee = 0n, hash = 0n, scalars = 0n, , blobBaseFee = 0n] = slots
  return { number: times & U64, timestamp: (times >> 64n) & U64, baseFee, hash, sequenceNumber: scalars & U64, blobBaseFee }
}

/** The L1 hash the deposit's calldata records (the origin the step needs the header of). */
export function originHashOf(calldata: Uint8Array): Hex {
  return slotWord(originValues(l1AttributesSlotValues(calldata)).hash)
}

/**
 * L1Block's origin values before the deposit (`prior`, in `L1_ATTRIBUTES_SLOTS` order), the genesis L1 block's
 * while L1Block was never written.
 */
function previousOrigin(prior: readonly bigint[], genesis: GenesisL1): OriginValues {
  const before = originValues(prior)
  return before.hash === 0n ? { ...before, number: genesis.number, hash: BigInt(genesis.hash), sequenceNumber: 0n } : before
}

/**
 * The epoch step from L1Block's slot values before the deposit (`prior`, in `L1_ATTRIBUTES_SLOTS` order; the genesis
 * L1 block when empty) to the ones `calldata` stores, or undefined when the epoch rule is broken (a skipped or repeated
 * L1 block, a changed hash under the same number, a wrong sequence number).
 */
export function epochStep(calldata: Uint8Array, prior: readonly bigint[], genesis: GenesisL1): EpochStep | undefined {
  const before = previousOrigin(prior, genesis)
  const after = originValues(l1AttributesSlotValues(calldata))
  if (
    after.number === before.number &&
    after.hash === before.hash &&
    after.sequenceNumber === ((before.sequenceNumber + 1n) & U64)
  )
    return 'same'
  if (after.number === ((before.number + 1n) & U64) && after.sequenceNumber === 0n) return 'next'
  return undefined
}

/**
 * Why the origin header `header` does not fit the deposit's `calldata`, the epoch step and the L2 header's `mixHash`,
 * or undefined. `header` must hash to the recorded L1 hash (`originHashOf`): the caller looks it up by that hash and
 * checks it, since a header that does not is a wrong step input (the verifier reverts), not a verdict.
 * @param blobBaseFeeUpdateFraction the L1's, as the verifier is deployed with
 */
export function originHeaderViolation(
  calldata: Uint8Array,
  prior: readonly bigint[],
  genesis: GenesisL1,
  step: EpochStep,
  header: Uint8Array,
  mixHash: Uint8Array,
  blobBaseFeeUpdateFraction: bigint,
): string | undefined {
  const after = originValues(l1AttributesSlotValues(calldata))
  let items: unknown
  try {
    items = RLP.decode(header)
  } catch {
    return 'the origin header does not decode'
  }
  if (!Array.isArray(items) || items.length <= 15) return 'the origin header has too few fields'
  const fields = items as unknown[]
  const bytesAt = (i: number): Uint8Array | undefined => {
    const item = fields[i]
    return item instanceof Uint8Array ? item : undefined
  }
  const uintAt = (i: number): bigint | undefined => {
    const item = bytesAt(i)
    if (item === undefined || item.length > 32 || (item.length > 0 && item[0] === 0)) return undefined
    return bytesToBigInt(item)
  }
  const parentHash = bytesAt(0)
  const mix = bytesAt(13)
  const number = uintAt(8)
  const timestamp = uintAt(11)
  const baseFee = uintAt(15)
  if (parentHash?.length !== 32 || mix?.length !== 32 || number === undefined || timestamp === undefined || baseFee === undefined)
    return 'the origin header has a malformed field'
  if (step === 'next' && bytesToHex(parentHash) !== slotWord(previousOrigin(prior, genesis).hash))
    return 'the new origin is not a child of the previous one'
  if (number !== after.number) return 'the origin number is not the header’s'
  if (timestamp !== after.timestamp) return 'the origin timestamp is not the header’s'
  if (baseFee !== after.baseFee) return 'the L1 base fee is not the header’s'
  if (!equalsBytes(mix, mixHash)) return 'the L2 mixHash is not the origin’s'
  if (blobBaseFeeOf(fields, blobBaseFeeUpdateFraction) !== after.blobBaseFee) return 'the blob base fee is not the header’s'
  return undefined
}

/** The verifier's `_blobBaseFee`: 1 without blob fields, no fee for a malformed or oversized excessBlobGas. */
function blobBaseFeeOf(fields: readonly unknown[], fraction: bigint): bigint | undefined {
  if (fields.length <= 18) return 1n
  const item = fields[18]
  if (!(item instanceof Uint8Array) || item.length > 8 || (item.length > 0 && item[0] === 0)) return undefined
  return fakeExponential(1n, bytesToBigInt(item), fraction)
}
