/**
 * Batches (OP specs `derivation.md`, "Batch Format"; op-node `rollup/derive/batch.go`,
 * `singular_batch.go`): `batch_type ‖ content`. Type 0 is the singular batch, one L2 block:
 * `rlp([parent_hash, epoch_number, epoch_hash, timestamp, transaction_list])` with the transactions in
 * their EIP-2718 encoding, each an RLP byte string. Type 1 is the span batch (`span-batch.ts`).
 *
 * Decoding is as strict as go-ethereum's RLP decoder on op-node's struct: exactly five fields,
 * 32-byte hashes, canonical uint64 integers, byte strings in the list. Bytes after the batch's RLP
 * value are ignored, as the spec allows.
 */
import { RLP } from '@ethereumjs/rlp'
import { bytesToHex } from '@ethereumjs/util'
import { encodeRlp, type RlpValue } from '../primitives/rlp-fields.ts'
import type { Hex } from '../primitives/state-diff.ts'
import { DaCodecError, type DaResult, tryDecode } from './errors.ts'
import { fixedBytes, rlpBytes, rlpList, rlpUint } from './rlp-items.ts'
import { decodeSpanBatch, type SpanBatch, type SpanBatchParams } from './span-batch.ts'

export const SINGULAR_BATCH_TYPE = 0
export const SPAN_BATCH_TYPE = 1

export interface SingularBatch {
  /** 32 bytes: the L2 block's parent. */
  readonly parentHash: Hex
  /** The L1 origin (epoch) of the L2 block. */
  readonly epochNumber: bigint
  readonly epochHash: Hex
  readonly timestamp: bigint
  /** EIP-2718 encodings; deposits are never batched. */
  readonly transactions: readonly Uint8Array[]
}

export type Batch =
  | { readonly type: 'singular'; readonly batch: SingularBatch }
  | { readonly type: 'span'; readonly batch: SpanBatch }

/** `0x00 ‖ rlp([parent_hash, epoch_number, epoch_hash, timestamp, transaction_list])`. @throws DaCodecError */
export function encodeSingularBatch(batch: SingularBatch): Uint8Array {
  const body = encodeRlp([
    fixedBytes(batch.parentHash, 32, 'parentHash'),
    batch.epochNumber,
    fixedBytes(batch.epochHash, 32, 'epochHash'),
    batch.timestamp,
    batch.transactions,
  ])
  const out = new Uint8Array(1 + body.length)
  out[0] = SINGULAR_BATCH_TYPE
  out.set(body, 1)
  return out
}

/** Decodes type-0 content (the bytes after the type byte). @throws DaCodecError */
export function decodeSingularBatchContent(content: Uint8Array): SingularBatch {
  let value: RlpValue
  try {
    value = RLP.decode(content, true).data as RlpValue
  } catch (error) {
    throw new DaCodecError('batch-malformed', `singular batch: invalid RLP (${(error as Error).message})`)
  }
  const fields = rlpList(value, 5, 'singular batch')
  const transactions = rlpList(fields[4], undefined, 'singular batch transactions').map((tx, i) =>
    rlpBytes(tx, `singular batch tx ${i}`),
  )
  return {
    parentHash: bytesToHex(rlpBytes(fields[0], 'parent hash', 32)),
    epochNumber: rlpUint(fields[1], 8, 'epoch number'),
    epochHash: bytesToHex(rlpBytes(fields[2], 'epoch hash', 32)),
    timestamp: rlpUint(fields[3], 8, 'timestamp'),
    transactions,
  }
}

/** Decodes one encoded batch of a channel (`batch_type ‖ content`). Never throws for bad input. */
export function decodeBatch(encoded: Uint8Array, spanParams: SpanBatchParams): DaResult<Batch> {
  return tryDecode((): Batch => {
    if (encoded.length === 0) throw new DaCodecError('batch-malformed', 'empty batch')
    const content = encoded.subarray(1)
    if (encoded[0] === SINGULAR_BATCH_TYPE) return { type: 'singular', batch: decodeSingularBatchContent(content) }
    if (encoded[0] === SPAN_BATCH_TYPE) return { type: 'span', batch: decodeSpanBatch(content, spanParams) }
    throw new DaCodecError('unknown-batch-type', `unknown batch type ${encoded[0]}`)
  })
}
