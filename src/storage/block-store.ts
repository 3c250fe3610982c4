import { createBlockHeaderFromRLP } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import { RLP } from '@ethereumjs/rlp'
import { bytesToHex } from '@ethereumjs/util'
import type { MiniBlockRange, SealedBlock } from '../chain/block.ts'
import type { BlockContents } from '../chain/block-contents.ts'
import { decodeReceipt, encodeReceipt, type TxReceipt } from '../chain/receipt.ts'
import {
  asBytes,
  asList,
  bytesToBigInt,
  CodecError,
  concatRlpList,
  encodeRlp,
  hexBytes,
  rlpListItems,
  type RlpInput,
  type RlpValue,
  unpaddedBytes,
} from '../primitives/rlp-fields.ts'
import type { Hex } from '../primitives/state-diff.ts'
import { readU64, u64 } from '../primitives/u64.ts'
import { keccak256 } from '../crypto/native.ts'
import type { BatchOp, DbSnapshot, NodeDb } from './db.ts'
import { candidateBlocks, logIndexOps, type LogQuery } from './log-index.ts'

const HEAD_KEY = new TextEncoder().encode('head')

export interface TxLocation {
  blockNumber: bigint
  index: number
  /** The transaction's receipt, kept beside its location; absent from index entries written before it was. */
  receipt?: TxReceipt
}

/** The encodings a sealed block stores its body and receipts as (the sequencer's merkleizer thread computes them). */
export type StoredBlockContents = Pick<BlockContents, 'encodedTransactions' | 'encodedReceipts' | 'transactionHashes'>

/** `StoredBlockContents` of a block at hand, encoded in the calling thread. */
export function storedContents(block: SealedBlock): StoredBlockContents {
  const transactionHashes = new Uint8Array(32 * block.receipts.length)
  block.receipts.forEach((r, i) => transactionHashes.set(hexBytes(r.transactionHash), 32 * i))
  return {
    encodedTransactions: encodeRlp(block.transactions),
    encodedReceipts: encodeRlp(block.receipts.map(encodeReceipt)),
    transactionHashes,
  }
}

/** Sealed EVM blocks: headers, bodies, receipts, and the hash / transaction / log indexes. */
/** The head block's number, hash and state root, as `durableStoredHead` reads them. */
export interface StoredHead {
  number: bigint
  hash: Hex
  stateRoot: Uint8Array
}

/** Index of the state root among a header's RLP fields (parentHash, ommersHash, coinbase, stateRoot, …). */
const HEADER_STATE_ROOT_FIELD = 3

/**
 * The sealed head's number, hash and state root, read from its stored header without a chain config
 * (no header object is built): what an offline tool (`prune-state`) needs of a datadir it does not run.
 *
 * The head pointer is first rewritten with its own value, fsynced: a derived chain's seals may be
 * written without fsync, and LevelDB's log is written in order, so after this every block up to the
 * head is durable and a power loss cannot take the chain back behind the head answered here.
 */
export async function durableStoredHead(db: NodeDb): Promise<StoredHead | undefined> {
  const pointer = await db.get('meta', HEAD_KEY)
  if (pointer === undefined) return undefined
  await db.write([db.put('meta', HEAD_KEY, pointer)], true)
  const number = readU64(pointer)
  const header = await db.get('headers', u64(number))
  if (header === undefined) throw new CodecError(`head block ${number}: header missing`)
  const fields = asList(RLP.decode(header) as RlpValue, undefined, 'header')
  const stateRoot = asBytes(fields[HEADER_STATE_ROOT_FIELD], `head block ${number}'s state root`, 32)
  return { number, hash: bytesToHex(pointer.subarray(8)) as Hex, stateRoot }
}

export class BlockStore {
  constructor(
    private readonly db: NodeDb,
    private readonly common: Common,
  ) {}

  /** Everything one sealed block writes, including the new head pointer. */
  sealOps(block: SealedBlock, contents: StoredBlockContents): BatchOp[] {
    const number = block.header.number
    const key = u64(number)
    const hash = hexBytes(block.hash)
    const ops: BatchOp[] = [
      this.db.put('headers', key, block.header.serialize()),
      this.db.put('hashes', hash, key),
      this.db.put(
        'bodies',
        key,
        concatRlpList([contents.encodedTransactions, ...miniBlockRangeFields(block.miniBlocks).map((field) => encodeRlp(field))]),
      ),
      this.db.put('receipts', key, contents.encodedReceipts),
      this.db.put('meta', HEAD_KEY, concat(key, hash)),
    ]
    // Each transaction's index entry carries its stored receipt (the block's receipt item, not re-encoded), so a
    // receipt lookup reads one small entry instead of decoding a block of thousands (see docs/DESIGN.md).
    const hashes = contents.transactionHashes
    const receiptItems = rlpListItems(contents.encodedReceipts, 'receipts')
    const encodedNumber = encodeRlp(key)
    for (let index = 0; index < hashes.length / 32; index++) {
      const location = concatRlpList([encodedNumber, encodeRlp(unpaddedBytes(BigInt(index))), receiptItems[index]!])
      ops.push(this.db.put('txs', hashes.subarray(32 * index, 32 * index + 32), location))
    }
    ops.push(...logIndexOps(this.db, number, block.receipts))
    return ops
  }

  /**
   * Everything `sealOps` wrote for `block`, deleted (the head pointer aside: see `headOps`). The log
   * index entries are found again from the block's receipts, as `sealOps` made them.
   */
  dropOps(block: SealedBlock): BatchOp[] {
    const key = u64(block.header.number)
    const ops: BatchOp[] = [
      this.db.del('headers', key),
      this.db.del('hashes', hexBytes(block.hash)),
      this.db.del('bodies', key),
      this.db.del('receipts', key),
      this.db.del('signatures', key),
    ]
    for (const receipt of block.receipts) ops.push(this.db.del('txs', hexBytes(receipt.transactionHash)))
    for (const op of logIndexOps(this.db, block.header.number, block.receipts)) ops.push(this.db.del('logs', op.key))
    return ops
  }

  /**
   * The sequencer's signature over block `number`'s announcement, written in the batch that imports the block. A
   * replica serving the block to other replicas must hand out the sequencer's own signature (they check it, and it
   * cannot sign for the sequencer), and nothing else keeps it. Blocks a node sealed or built itself have none, and
   * neither have blocks a replica imported before it kept them: `oldestSignature` says where they start.
   */
  signatureOps(number: bigint, signature: Uint8Array): BatchOp[] {
    return [this.db.put('signatures', u64(number), signature)]
  }

  /** The sequencer's announcement signature of block `number`, if this node imported it signed (`signatureOps`). */
  signature(number: bigint): Promise<Uint8Array | undefined> {
    return this.db.get('signatures', u64(number))
  }

  /** The oldest block whose signature is kept (undefined: none). */
  async oldestSignature(): Promise<bigint | undefined> {
    const [first] = await this.db.entriesAfter('signatures', undefined, 1)
    return first === undefined ? undefined : readU64(first[0])
  }

  /** The head pointer set to block `number` (`hash`). */
  headOps(number: bigint, hash: Hex): BatchOp[] {
    return [this.db.put('meta', HEAD_KEY, concat(u64(number), hexBytes(hash)))]
  }

  /** Sealed blocks in the query's range that may hold matching logs; undefined = every block. */
  candidateLogBlocks(query: LogQuery): Promise<bigint[] | undefined> {
    return candidateBlocks(this.db, query)
  }

  /** `snapshot`: the head as of that database snapshot. */
  async head(snapshot?: DbSnapshot): Promise<{ number: bigint; hash: Hex } | undefined> {
    const value = await this.db.get('meta', HEAD_KEY, snapshot)
    if (value === undefined) return undefined
    return { number: readU64(value), hash: bytesToHex(value.subarray(8)) as Hex }
  }

  async numberOf(hash: Hex): Promise<bigint | undefined> {
    const value = await this.db.get('hashes', hexBytes(hash))
    return value === undefined ? undefined : readU64(value)
  }

  /** `snapshot`: the block as of that database snapshot. */
  async block(number: bigint, snapshot?: DbSnapshot): Promise<SealedBlock | undefined> {
    const key = u64(number)
    const [headerBytes, bodyBytes, receiptBytes] = await Promise.all([
      this.db.get('headers', key, snapshot),
      this.db.get('bodies', key, snapshot),
      this.db.get('receipts', key, snapshot),
    ])
    if (headerBytes === undefined || bodyBytes === undefined || receiptBytes === undefined) return undefined
    const header = createBlockHeaderFromRLP(headerBytes, {
      common: this.common,
      skipConsensusFormatValidation: true,
      setHardfork: true,
    })
    const [txs, ...range] = asList(RLP.decode(bodyBytes) as RlpValue, undefined, 'block body')
    return {
      header,
      hash: bytesToHex(header.hash()) as Hex,
      transactions: asList(txs, undefined, 'transactions').map((tx, i) => asBytes(tx, `transaction ${i}`)),
      receipts: decodeReceipts(receiptBytes),
      miniBlocks: decodeMiniBlockRange(range),
    }
  }

  async receipts(number: bigint): Promise<TxReceipt[] | undefined> {
    const bytes = await this.db.get('receipts', u64(number))
    return bytes === undefined ? undefined : decodeReceipts(bytes)
  }

  async txLocation(hash: Hex): Promise<TxLocation | undefined> {
    const value = await this.db.get('txs', hexBytes(hash))
    if (value === undefined) return undefined
    const fields = asList(RLP.decode(value) as RlpValue, undefined, 'tx location')
    if (fields.length !== 2 && fields.length !== 3)
      throw new CodecError(`tx location: expected 2 or 3 fields, got ${fields.length}`)
    const [number, index, receipt] = fields
    const location: TxLocation = {
      blockNumber: readU64(asBytes(number, 'block number', 8)),
      index: Number(bytesToBigInt(asBytes(index, 'tx index'))),
    }
    if (receipt !== undefined) location.receipt = decodeReceipt(receipt)
    return location
  }

  /** The hash of sealed block `number`: its stored header hashed, nothing decoded. */
  async hashOf(number: bigint): Promise<Hex | undefined> {
    const header = await this.db.get('headers', u64(number))
    return header === undefined ? undefined : (bytesToHex(keccak256(header)) as Hex)
  }
}

/** The body's tail: first, count, then the last mini-block's hash when known (bodies stored before it have two fields). */
function miniBlockRangeFields({ first, count, lastHash }: MiniBlockRange): RlpInput[] {
  return lastHash === undefined ? [first, count] : [first, count, lastHash]
}

function decodeMiniBlockRange(fields: RlpValue[]): MiniBlockRange {
  if (fields.length !== 2 && fields.length !== 3)
    throw new CodecError(`block body: expected 3 or 4 fields, got ${fields.length + 1}`)
  const [first, count, lastHash] = fields
  const range: MiniBlockRange = {
    first: bytesToBigInt(asBytes(first, 'first mini-block')),
    count: Number(bytesToBigInt(asBytes(count, 'mini-block count'))),
  }
  if (lastHash !== undefined) range.lastHash = bytesToHex(asBytes(lastHash, 'last mini-block hash', 32)) as Hex
  return range
}

function decodeReceipts(bytes: Uint8Array): TxReceipt[] {
  return asList(RLP.decode(bytes) as RlpValue, undefined, 'receipts').map((r) => decodeReceipt(r))
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}
