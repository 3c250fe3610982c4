/**
 * Span batches, batch type 1 (OP specs `delta/span-batches.md`, "Span batch format"; op-node
 * `rollup/derive/span_batch.go`, `span_batch_txs.go`, `span_batch_util.go`): a run of consecutive L2
 * blocks in one batch, transactions split into columns so that alike bytes sit together for the
 * compressor.
 *
 *   span batch = 0x01 ‖ prefix ‖ payload
 *   prefix     = rel_timestamp (uvarint) ‖ l1_origin_num (uvarint) ‖ parent_check (20) ‖ l1_origin_check (20)
 *   payload    = block_count (uvarint) ‖ origin_bits ‖ block_tx_counts (uvarint each) ‖ txs
 *   txs        = contract_creation_bits ‖ y_parity_bits ‖ tx_sigs (r ‖ s, 32 + 32 each) ‖ tx_tos (20 each,
 *                creations skipped) ‖ tx_datas ‖ tx_nonces (uvarint) ‖ tx_gases (uvarint) ‖ protected_bits
 *
 * Bit lists are big-endian integers left-padded to whole bytes: bit i of the list is bit i of the
 * integer (the last byte's lowest bit is bit 0); a set bit beyond the list's length is an error.
 * Block i's timestamp is `genesis + rel_timestamp + i × block_time`; its L1 origin counts back from
 * `l1_origin_num` through the origin bits (block 0's bit is not used to derive, only carried).
 * `MAX_SPAN_BATCH_ELEMENT_COUNT` (10,000,000) caps the block count, each block's tx count and the total.
 */
import { bytesToHex } from '@ethereumjs/util'
import type { Hex } from '../primitives/state-diff.ts'
import { DaCodecError } from './errors.ts'
import { fixedBytes, rlpItemSpan } from './rlp-items.ts'
import { checkSpanTxData, fromSpanTx, type SpanTx, type SpanTxType, toSpanTx } from './span-batch-tx.ts'

export const MAX_SPAN_BATCH_ELEMENT_COUNT = 10_000_000

/** Chain constants a span batch leaves out. */
export interface SpanBatchParams {
  readonly genesisTimestamp: bigint
  /** Seconds between L2 blocks. */
  readonly blockTime: bigint
  /** Fills in typed transactions' chain id and legacy EIP-155 `v`. */
  readonly chainId: bigint
}

export interface SpanBatchBlock {
  readonly timestamp: bigint
  readonly epochNumber: bigint
  /** EIP-2718 encodings. */
  readonly transactions: readonly Uint8Array[]
}

export interface SpanBatch {
  /** First 20 bytes of the first block's parent hash. */
  readonly parentCheck: Hex
  /** First 20 bytes of the last block's L1 origin hash. */
  readonly l1OriginCheck: Hex
  /** Origin bit of block 0: the first block opens its epoch (sequence number 0). */
  readonly firstBlockStartsEpoch: boolean
  readonly blocks: readonly SpanBatchBlock[]
}

/** `0x01 ‖ prefix ‖ payload`. @throws DaCodecError ('bad-input') for blocks a span batch cannot express */
export function encodeSpanBatch(batch: SpanBatch, params: SpanBatchParams): Uint8Array {
  const { blocks } = batch
  if (blocks.length === 0) throw new DaCodecError('span-batch-empty', 'a span batch holds at least one block')
  const first = blocks[0]!
  const last = blocks[blocks.length - 1]!
  if (first.timestamp < params.genesisTimestamp) throw badInput(`block timestamp ${first.timestamp} before genesis`)
  const originBits = new Array<boolean>(blocks.length)
  originBits[0] = batch.firstBlockStartsEpoch
  for (let i = 1; i < blocks.length; i++) {
    const block = blocks[i]!
    const previous = blocks[i - 1]!
    if (block.timestamp !== previous.timestamp + params.blockTime)
      throw badInput(`block ${i}: timestamp ${block.timestamp} does not follow ${previous.timestamp}`)
    const step = block.epochNumber - previous.epochNumber
    if (step !== 0n && step !== 1n)
      throw badInput(`block ${i}: L1 origin moves from ${previous.epochNumber} to ${block.epochNumber}`)
    originBits[i] = step === 1n
  }
  const txs: SpanTx[] = []
  for (const block of blocks) for (const raw of block.transactions) txs.push(toSpanTx(raw, params.chainId))
  const w = new ByteWriter()
  w.uvarint(first.timestamp - params.genesisTimestamp)
  w.uvarint(last.epochNumber)
  w.bytes(fixedBytes(batch.parentCheck, 20, 'parentCheck'))
  w.bytes(fixedBytes(batch.l1OriginCheck, 20, 'l1OriginCheck'))
  w.uvarint(BigInt(blocks.length))
  w.bits(originBits)
  for (const block of blocks) w.uvarint(BigInt(block.transactions.length))
  w.bits(txs.map((tx) => tx.to === undefined))
  w.bits(txs.map((tx) => tx.yParity === 1))
  for (const tx of txs) {
    w.bytes(tx.r)
    w.bytes(tx.s)
  }
  for (const tx of txs) if (tx.to !== undefined) w.bytes(tx.to)
  for (const tx of txs) w.bytes(tx.data)
  for (const tx of txs) w.uvarint(tx.nonce)
  for (const tx of txs) w.uvarint(tx.gas)
  w.bits(txs.filter((tx) => tx.type === 0).map((tx) => tx.isProtected))
  const body = w.finish()
  const out = new Uint8Array(1 + body.length)
  out[0] = 1
  out.set(body, 1)
  return out
}

/** Decodes type-1 content (the bytes after the type byte); bytes after the payload are ignored. @throws DaCodecError */
export function decodeSpanBatch(content: Uint8Array, params: SpanBatchParams): SpanBatch {
  const r = new ByteReader(content)
  const relTimestamp = r.uvarint('rel_timestamp')
  const l1OriginNumber = r.uvarint('l1_origin_num')
  const parentCheck = bytesToHex(r.bytes(20, 'parent_check'))
  const l1OriginCheck = bytesToHex(r.bytes(20, 'l1_origin_check'))
  const blockCount = r.count('block_count')
  if (blockCount === 0) throw new DaCodecError('span-batch-empty', 'span batch with no block')
  const originBits = r.bits(blockCount, 'origin_bits')
  const txCounts: number[] = []
  let totalTxs = 0
  for (let i = 0; i < blockCount; i++) {
    const count = r.count('block_tx_count')
    txCounts.push(count)
    totalTxs += count
    if (totalTxs > MAX_SPAN_BATCH_ELEMENT_COUNT)
      throw new DaCodecError('span-batch-too-big', `more than ${MAX_SPAN_BATCH_ELEMENT_COUNT} transactions`)
  }
  const creationBits = r.bits(totalTxs, 'contract_creation_bits')
  const parityBits = r.bits(totalTxs, 'y_parity_bits')
  const signatures: [Uint8Array, Uint8Array][] = []
  for (let i = 0; i < totalTxs; i++) signatures.push([r.bytes(32, 'r'), r.bytes(32, 's')])
  const tos: (Uint8Array | undefined)[] = creationBits.map((creation) => (creation ? undefined : r.bytes(20, 'to')))
  const datas: { type: SpanTxType; data: Uint8Array }[] = []
  for (let i = 0; i < totalTxs; i++) datas.push(r.txData(i))
  const nonces: bigint[] = []
  for (let i = 0; i < totalTxs; i++) nonces.push(r.uvarint('tx_nonce'))
  const gases: bigint[] = []
  for (let i = 0; i < totalTxs; i++) gases.push(r.uvarint('tx_gas'))
  const protectedBits = r.bits(datas.filter((d) => d.type === 0).length, 'protected_bits')

  let legacyIndex = 0
  const transactions = datas.map(({ type, data }, i) =>
    fromSpanTx(
      {
        type,
        to: tos[i],
        yParity: parityBits[i] ? 1 : 0,
        r: signatures[i]![0],
        s: signatures[i]![1],
        nonce: nonces[i]!,
        gas: gases[i]!,
        isProtected: type === 0 ? protectedBits[legacyIndex++]! : false,
        data,
      },
      params.chainId,
    ),
  )
  const blocks: SpanBatchBlock[] = []
  // Origins count back from the last block: each set bit (but block 0's) marks a new epoch.
  const epochs = new Array<bigint>(blockCount)
  let epoch = l1OriginNumber
  for (let i = blockCount - 1; i >= 0; i--) {
    epochs[i] = epoch
    if (originBits[i] && i > 0) epoch--
  }
  if (epoch < 0n) throw new DaCodecError('batch-malformed', 'origin bits count back below L1 block 0')
  let next = 0
  for (let i = 0; i < blockCount; i++) {
    blocks.push({
      timestamp: params.genesisTimestamp + relTimestamp + params.blockTime * BigInt(i),
      epochNumber: epochs[i]!,
      transactions: transactions.slice(next, next + txCounts[i]!),
    })
    next += txCounts[i]!
  }
  return { parentCheck, l1OriginCheck, firstBlockStartsEpoch: originBits[0]!, blocks }
}

/** A span batch over consecutive blocks given as singular batches (the first one's parent and the last one's epoch hash). */
export function spanBatchFromBlocks(
  blocks: readonly (SpanBatchBlock & { readonly parentHash: Hex; readonly epochHash: Hex })[],
  firstBlockStartsEpoch: boolean,
): SpanBatch {
  if (blocks.length === 0) throw new DaCodecError('span-batch-empty', 'a span batch holds at least one block')
  return {
    parentCheck: `0x${blocks[0]!.parentHash.slice(2, 42)}`,
    l1OriginCheck: `0x${blocks[blocks.length - 1]!.epochHash.slice(2, 42)}`,
    firstBlockStartsEpoch,
    blocks: blocks.map(({ timestamp, epochNumber, transactions }) => ({ timestamp, epochNumber, transactions })),
  }
}

function badInput(message: string): DaCodecError {
  return new DaCodecError('bad-input', message)
}

const UINT64_MAX = 2n ** 64n - 1n

class ByteWriter {
  private buffer = new Uint8Array(1024)
  private length = 0

  private reserve(n: number): void {
    if (this.length + n <= this.buffer.length) return
    const grown = new Uint8Array(Math.max(this.buffer.length * 2, this.length + n))
    grown.set(this.buffer.subarray(0, this.length))
    this.buffer = grown
  }

  bytes(bytes: Uint8Array): void {
    this.reserve(bytes.length)
    this.buffer.set(bytes, this.length)
    this.length += bytes.length
  }

  /** Unsigned LEB128 (protobuf varint, Go's `binary.PutUvarint`) of a uint64. */
  uvarint(value: bigint): void {
    if (value < 0n || value > UINT64_MAX) throw badInput(`${value} is not a uint64`)
    this.reserve(10)
    let v = value
    while (v >= 0x80n) {
      this.buffer[this.length++] = Number(v & 0x7fn) | 0x80
      v >>= 7n
    }
    this.buffer[this.length++] = Number(v)
  }

  /** A standard span-batch bit list: bit i at the i-th lowest bit of a big-endian, byte-padded integer. */
  bits(bits: readonly boolean[]): void {
    const size = Math.ceil(bits.length / 8)
    this.reserve(size)
    for (let i = 0; i < bits.length; i++) if (bits[i]) this.buffer[this.length + size - 1 - (i >> 3)]! |= 1 << (i & 7)
    this.length += size
  }

  finish(): Uint8Array {
    return this.buffer.slice(0, this.length)
  }
}

class ByteReader {
  private pos = 0
  constructor(private readonly input: Uint8Array) {}

  bytes(n: number, what: string): Uint8Array {
    if (this.pos + n > this.input.length) throw new DaCodecError('batch-malformed', `span batch ${what}: truncated`)
    const out = this.input.slice(this.pos, this.pos + n)
    this.pos += n
    return out
  }

  /** Go's `binary.ReadUvarint`: at most 10 bytes, overflow past 64 bits refused (non-minimal forms accepted, as Go does). */
  uvarint(what: string): bigint {
    let value = 0n
    for (let i = 0; i < 10; i++) {
      const byte = this.input[this.pos]
      if (byte === undefined) throw new DaCodecError('batch-malformed', `span batch ${what}: truncated varint`)
      this.pos++
      if (i === 9 && byte > 1) throw new DaCodecError('batch-malformed', `span batch ${what}: varint overflows 64 bits`)
      value |= BigInt(byte & 0x7f) << BigInt(7 * i)
      if (byte < 0x80) return value
    }
    throw new DaCodecError('batch-malformed', `span batch ${what}: varint overflows 64 bits`)
  }

  /** A count bounded by `MAX_SPAN_BATCH_ELEMENT_COUNT`. */
  count(what: string): number {
    const value = this.uvarint(what)
    if (value > BigInt(MAX_SPAN_BATCH_ELEMENT_COUNT))
      throw new DaCodecError('span-batch-too-big', `span batch ${what} ${value} > ${MAX_SPAN_BATCH_ELEMENT_COUNT}`)
    return Number(value)
  }

  bits(count: number, what: string): boolean[] {
    const size = Math.ceil(count / 8)
    const bytes = this.bytes(size, what)
    // Padding bits above the list must be zero (op-node: "bitfield has N bits, but expected no more than M").
    const spare = size * 8 - count
    if (spare > 0 && bytes[0]! >> (8 - spare) !== 0)
      throw new DaCodecError('batch-malformed', `span batch ${what}: bits set beyond ${count}`)
    const out = new Array<boolean>(count)
    for (let i = 0; i < count; i++) out[i] = ((bytes[size - 1 - (i >> 3)]! >> (i & 7)) & 1) === 1
    return out
  }

  /** One `tx_data`: a type byte (≤ 0x7f) then an RLP list, or a legacy RLP list. */
  txData(index: number): { type: SpanTxType; data: Uint8Array } {
    const start = this.pos
    const first = this.input[start]
    if (first === undefined) throw new DaCodecError('batch-malformed', `span batch tx_data ${index}: truncated`)
    let type: SpanTxType = 0
    if (first <= 0x7f) {
      if (first !== 1 && first !== 2 && first !== 4)
        throw new DaCodecError('span-batch-bad-tx', `span batch tx_data ${index}: unsupported type ${first}`)
      type = first
      this.pos++
    }
    const item = rlpItemSpan(this.input, this.pos, MAX_SPAN_BATCH_ELEMENT_COUNT, `span batch tx_data ${index}`)
    if (item.kind !== 'list') throw new DaCodecError('span-batch-bad-tx', `span batch tx_data ${index}: not an RLP list`)
    checkSpanTxData(type, this.input.subarray(this.pos, item.end))
    this.pos = item.end
    return { type, data: this.input.slice(start, item.end) }
  }
}
