/**
 * The L1-attributes deposit: the first transaction of every L2 block, from the depositor account
 * 0xDeaD…0001 to the `L1Block` predeploy (0x4200…0015), carrying the epoch's L1 block values.
 *
 * Calldata layouts (OP specs): Ecotone (`specs/protocol/ecotone/l1-attributes.md`) packs
 * `setL1BlockValuesEcotone()` into 164 bytes; Isthmus (`specs/protocol/isthmus/l1-attributes.md`)
 * appends the operator fee (176 bytes) under `setL1BlockValuesIsthmus()`. Unsigned integers are
 * big-endian in as many bytes as their type. Gas limit 1,000,000 and `isSystemTx` false since Regolith.
 */
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import { keccak256 } from '../crypto/native.ts'
import { bytesToBigInt } from '../primitives/rlp-fields.ts'
import type { Hex } from '../primitives/state-diff.ts'
import { type DepositTransaction, DepositTxError, fixedBytes, l1InfoDepositSourceHash, uint256Word } from './deposit-tx.ts'

export const L1_INFO_DEPOSITOR_ADDRESS: Hex = '0xdeaddeaddeaddeaddeaddeaddeaddeaddead0001'
export const L1_BLOCK_ADDRESS: Hex = '0x4200000000000000000000000000000000000015'
/** The L1-attributes deposit's gas limit since Regolith (`RegolithSystemTxGas` in op-node). */
export const L1_INFO_DEPOSIT_GAS = 1_000_000n

const selector = (signature: string): Uint8Array => keccak256(new TextEncoder().encode(signature)).subarray(0, 4)
/** 0x440a5e20 */
export const SET_L1_BLOCK_VALUES_ECOTONE_SELECTOR: Hex = bytesToHex(selector('setL1BlockValuesEcotone()'))
/** 0x098999be */
export const SET_L1_BLOCK_VALUES_ISTHMUS_SELECTOR: Hex = bytesToHex(selector('setL1BlockValuesIsthmus()'))

export const L1_INFO_ECOTONE_LENGTH = 164
export const L1_INFO_ISTHMUS_LENGTH = 176

/** The values `setL1BlockValuesEcotone` records: the epoch's L1 block and the fee parameters of the system config. */
export interface L1BlockInfo {
  readonly number: bigint
  readonly timestamp: bigint
  readonly baseFee: bigint
  /** The L1 blob base fee (1 when the L1 block has no blob fields). */
  readonly blobBaseFee: bigint
  /** 32 bytes. */
  readonly hash: Hex
  /** The L2 block's position in its epoch (0 for the epoch's first block). */
  readonly sequenceNumber: bigint
  /** 32 bytes: version 0 is the batcher address left-padded. */
  readonly batcherHash: Hex
  readonly baseFeeScalar: number
  readonly blobBaseFeeScalar: number
}

/** Isthmus adds the operator fee parameters of the system config. */
export interface L1BlockInfoIsthmus extends L1BlockInfo {
  readonly operatorFeeScalar: number
  readonly operatorFeeConstant: bigint
}

/** `setL1BlockValuesEcotone()` calldata (164 bytes). @throws DepositTxError */
export function encodeL1InfoEcotone(info: L1BlockInfo): Uint8Array {
  const out = new Uint8Array(L1_INFO_ECOTONE_LENGTH)
  writeEcotoneFields(out, hexToBytes(SET_L1_BLOCK_VALUES_ECOTONE_SELECTOR), info)
  return out
}

/** `setL1BlockValuesIsthmus()` calldata (176 bytes). @throws DepositTxError */
export function encodeL1InfoIsthmus(info: L1BlockInfoIsthmus): Uint8Array {
  const out = new Uint8Array(L1_INFO_ISTHMUS_LENGTH)
  writeEcotoneFields(out, hexToBytes(SET_L1_BLOCK_VALUES_ISTHMUS_SELECTOR), info)
  writeUint(out, 164, 4, BigInt(info.operatorFeeScalar), 'operatorFeeScalar')
  writeUint(out, 168, 8, info.operatorFeeConstant, 'operatorFeeConstant')
  return out
}

/** Parses Ecotone or Isthmus calldata back (by selector and exact length). @throws DepositTxError */
export function decodeL1Info(calldata: Uint8Array): L1BlockInfo | L1BlockInfoIsthmus {
  const selectorHex = bytesToHex(calldata.subarray(0, 4))
  const expected =
    selectorHex === SET_L1_BLOCK_VALUES_ECOTONE_SELECTOR
      ? L1_INFO_ECOTONE_LENGTH
      : selectorHex === SET_L1_BLOCK_VALUES_ISTHMUS_SELECTOR
        ? L1_INFO_ISTHMUS_LENGTH
        : undefined
  if (expected === undefined) throw new DepositTxError('bad-l1-info', `unknown L1-info selector ${selectorHex}`)
  if (calldata.length !== expected)
    throw new DepositTxError('bad-l1-info', `L1-info calldata of ${calldata.length} bytes, expected ${expected}`)
  const uint = (offset: number, size: number): bigint => bytesToBigInt(calldata.subarray(offset, offset + size))
  const info: L1BlockInfo = {
    baseFeeScalar: Number(uint(4, 4)),
    blobBaseFeeScalar: Number(uint(8, 4)),
    sequenceNumber: uint(12, 8),
    timestamp: uint(20, 8),
    number: uint(28, 8),
    baseFee: uint(36, 32),
    blobBaseFee: uint(68, 32),
    hash: bytesToHex(calldata.subarray(100, 132)),
    batcherHash: bytesToHex(calldata.subarray(132, 164)),
  }
  if (expected === L1_INFO_ECOTONE_LENGTH) return info
  return { ...info, operatorFeeScalar: Number(uint(164, 4)), operatorFeeConstant: uint(168, 8) }
}

/** The L1-attributes deposit transaction for an L2 block whose calldata was built by one of the encoders above. */
export function l1InfoDepositTx(info: Pick<L1BlockInfo, 'hash' | 'sequenceNumber'>, calldata: Uint8Array): DepositTransaction {
  return {
    sourceHash: l1InfoDepositSourceHash(info.hash, info.sequenceNumber),
    from: L1_INFO_DEPOSITOR_ADDRESS,
    to: L1_BLOCK_ADDRESS,
    mint: 0n,
    value: 0n,
    gas: L1_INFO_DEPOSIT_GAS,
    isSystemTx: false,
    data: bytesToHex(calldata),
  }
}

function writeEcotoneFields(out: Uint8Array, selectorBytes: Uint8Array, info: L1BlockInfo): void {
  out.set(selectorBytes, 0)
  writeUint(out, 4, 4, BigInt(info.baseFeeScalar), 'baseFeeScalar')
  writeUint(out, 8, 4, BigInt(info.blobBaseFeeScalar), 'blobBaseFeeScalar')
  writeUint(out, 12, 8, info.sequenceNumber, 'sequenceNumber')
  writeUint(out, 20, 8, info.timestamp, 'timestamp')
  writeUint(out, 28, 8, info.number, 'number')
  out.set(uint256Word(info.baseFee, 'baseFee'), 36)
  out.set(uint256Word(info.blobBaseFee, 'blobBaseFee'), 68)
  out.set(fixedBytes(info.hash, 32, 'hash'), 100)
  out.set(fixedBytes(info.batcherHash, 32, 'batcherHash'), 132)
}

/** Writes `value` big-endian into `size` bytes at `offset`. @throws DepositTxError when it does not fit */
function writeUint(out: Uint8Array, offset: number, size: number, value: bigint, what: string): void {
  if (value < 0n || value >= 1n << BigInt(8 * size))
    throw new DepositTxError('bad-field', `${what}: ${value} does not fit ${size} bytes`)
  out.set(uint256Word(value, what).subarray(32 - size), offset)
}
