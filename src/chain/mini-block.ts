import { bytesToHex } from '@ethereumjs/util'
import { keccak256 } from '../crypto/native.ts'
import { decodeReceipt, encodeReceipt, type TxReceipt } from './receipt.ts'
import {
  asBytes,
  asList,
  bytesToBigInt,
  CodecError,
  concatRlpList,
  decodeRlp,
  encodeRlp,
  rlpListHeaderLength,
  type RlpInput,
  unpaddedBytes,
} from '../primitives/rlp-fields.ts'
import { recoverSequencer, signAsSequencer } from './sequencer-signature.ts'
import { decodeStateDiff, encodeStateDiff } from '../primitives/state-diff-codec.ts'
import type { Hex, StateDiff } from '../primitives/state-diff.ts'

/**
 * A mini-block: the 10 ms preconfirmation tier. Ordered transactions with their receipts and the state
 * diff they produced, chained by parent hash and signed by the sequencer. No state root: merkleizing
 * every 10 ms is what makes chains slow; the EVM block that contains it carries the root.
 */
export interface MiniBlock {
  /** Global mini-block height, across EVM blocks. */
  number: bigint
  /** The EVM block this mini-block belongs to. */
  blockNumber: bigint
  /** Position within that EVM block (0-based). */
  index: number
  /** Production time, µs since the epoch. */
  timestampUs: bigint
  /** TIMESTAMP of the EVM block (seconds), which every transaction in it sees. */
  blockTimestamp: bigint
  /** BASEFEE of the EVM block. */
  baseFeePerGas: bigint
  parentHash: Uint8Array
  /** Canonical transaction encodings (EIP-2718 typed bytes or legacy RLP). */
  transactions: Uint8Array[]
  receipts: TxReceipt[]
  gasUsed: bigint
  stateDiff: StateDiff
  hash: Uint8Array
  /** 65 bytes r ‖ s ‖ recoveryId over `signingHash(chainId, hash)`. */
  signature: Uint8Array
}

export type UnsignedMiniBlock = Omit<MiniBlock, 'hash' | 'signature'>

/** Keeps mini-block signatures from being valid as any other kind of signed message. */
const SIGNING_DOMAIN = new TextEncoder().encode('megaeth-node/mini-block/v1')

function bodyFields(block: UnsignedMiniBlock): RlpInput[] {
  return [
    unpaddedBytes(block.number),
    unpaddedBytes(block.blockNumber),
    unpaddedBytes(BigInt(block.index)),
    unpaddedBytes(block.timestampUs),
    unpaddedBytes(block.blockTimestamp),
    unpaddedBytes(block.baseFeePerGas),
    block.parentHash,
    block.transactions,
    block.receipts.map(encodeReceipt),
    unpaddedBytes(block.gasUsed),
    encodeStateDiff(block.stateDiff),
  ]
}

export function miniBlockHash(block: UnsignedMiniBlock): Uint8Array {
  return keccak256(encodeRlp(bodyFields(block)))
}

/**
 * Encodings of the mini-blocks this process sealed or encoded: one mini-block goes to the WAL, to
 * gossip and to sync answers, and encoding its receipts and state diff again each time showed up in
 * profiles. Mini-blocks are immutable once sealed.
 */
const encodings = new WeakMap<MiniBlock, Uint8Array>()

export function sealMiniBlock(block: UnsignedMiniBlock, chainId: bigint, sequencerKey: Uint8Array): MiniBlock {
  const body = encodeRlp(bodyFields(block))
  const hash = keccak256(body)
  const sealed: MiniBlock = { ...block, hash, signature: signAsSequencer(SIGNING_DOMAIN, chainId, hash, sequencerKey) }
  // The full encoding is the body's items followed by the hash and the signature: reuse the body's bytes.
  const encoded = concatRlpList([body.subarray(rlpListHeaderLength(body)), encodeRlp(sealed.hash), encodeRlp(sealed.signature)])
  encodings.set(sealed, encoded)
  return sealed
}

/** The address that signed `block`; throws `CodecError` for a malformed signature. */
export function recoverMiniBlockSigner(block: MiniBlock, chainId: bigint): Hex {
  return recoverSequencer(SIGNING_DOMAIN, chainId, block.hash, block.signature, 'mini-block')
}

export function encodeMiniBlock(block: MiniBlock): Uint8Array {
  let encoded = encodings.get(block)
  if (encoded === undefined) {
    encoded = encodeRlp([...bodyFields(block), block.hash, block.signature])
    encodings.set(block, encoded)
  }
  return encoded
}

/**
 * Decodes and checks that the hash matches the content (so a tampered body cannot ride on a valid
 * signature); signature verification against the expected sequencer is the caller's.
 */
export function decodeMiniBlock(bytes: Uint8Array): MiniBlock {
  const decoded = decodeRlp(bytes, 'mini-block')
  const f = asList(decoded, 13, 'mini-block')
  const transactions = asList(f[7], undefined, 'transactions').map((tx, i) => asBytes(tx, `transaction ${i}`))
  const receipts = asList(f[8], undefined, 'receipts').map((r) => decodeReceipt(r))
  const block: MiniBlock = {
    number: bytesToBigInt(asBytes(f[0], 'number')),
    blockNumber: bytesToBigInt(asBytes(f[1], 'block number')),
    index: Number(bytesToBigInt(asBytes(f[2], 'index'))),
    timestampUs: bytesToBigInt(asBytes(f[3], 'timestamp')),
    blockTimestamp: bytesToBigInt(asBytes(f[4], 'block timestamp')),
    baseFeePerGas: bytesToBigInt(asBytes(f[5], 'base fee')),
    parentHash: asBytes(f[6], 'parent hash', 32),
    transactions,
    receipts,
    gasUsed: bytesToBigInt(asBytes(f[9], 'gas used')),
    stateDiff: decodeStateDiff(f[10]!),
    hash: asBytes(f[11], 'hash', 32),
    signature: asBytes(f[12], 'signature', 65),
  }
  if (receipts.length !== transactions.length) throw new CodecError('mini-block: receipts and transactions differ in count')
  if (bytesToHex(miniBlockHash(block)) !== bytesToHex(block.hash))
    throw new CodecError('mini-block: hash does not match its content')
  return block
}
