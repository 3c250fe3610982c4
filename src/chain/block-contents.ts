/**
 * What an EVM block commits to and stores about its transactions and receipts, computed from the
 * encodings of its mini-blocks alone: the transactions and receipts roots, the bloom, and the RLP
 * the block store keeps. Bytes in, bytes out, so it runs in the merkleizer thread (no thousands of
 * receipt objects to clone), and without decoding: the stored receipts, the body and the consensus
 * receipts are the mini-blocks' own item encodings regrouped. For a busy block this used to stall
 * the sequencer's event loop for ~100 ms once a second.
 */
import { orderedTrieRoot } from '../trie/ordered-trie.ts'
import { STORED_RECEIPT_FIELDS, typedEnvelope } from './receipt.ts'
import { CodecError, concatRlpList, rlpListItems, rlpStringPayload } from '../primitives/rlp-fields.ts'

/** Positions in a mini-block's RLP (see `mini-block.ts`: body fields, then hash and signature). */
const MINI_BLOCK_FIELDS = 13
const TRANSACTIONS = 7
const RECEIPTS = 8

export interface BlockContents {
  transactionsRoot: Uint8Array
  receiptsRoot: Uint8Array
  logsBloom: Uint8Array
  /** RLP list of the block's transactions (their canonical encodings as byte strings). */
  encodedTransactions: Uint8Array
  /** RLP list of the block's receipts in their storage encoding. */
  encodedReceipts: Uint8Array
  /** The transaction hashes, 32 bytes each, in block order. */
  transactionHashes: Uint8Array
}

/** @throws CodecError when a mini-block encoding is malformed */
export function blockContents(miniBlocks: readonly Uint8Array[]): BlockContents {
  const txItems: Uint8Array[] = []
  const receiptItems: Uint8Array[] = []
  for (const encoded of miniBlocks) {
    const fields = rlpListItems(encoded, 'mini-block')
    if (fields.length !== MINI_BLOCK_FIELDS)
      throw new CodecError(`mini-block: expected ${MINI_BLOCK_FIELDS} fields, got ${fields.length}`)
    txItems.push(...rlpListItems(fields[TRANSACTIONS]!, 'transactions'))
    receiptItems.push(...rlpListItems(fields[RECEIPTS]!, 'receipts'))
  }
  const logsBloom = new Uint8Array(256)
  const transactionHashes = new Uint8Array(32 * receiptItems.length)
  const consensusReceipts = receiptItems.map((item, i) => {
    const fields = rlpListItems(item, 'receipt')
    const deposit = fields.length === STORED_RECEIPT_FIELDS.depositCount
    if (fields.length !== STORED_RECEIPT_FIELDS.count && !deposit)
      throw new CodecError(`receipt: expected ${STORED_RECEIPT_FIELDS.count} fields, got ${fields.length}`)
    const hash = rlpStringPayload(fields[STORED_RECEIPT_FIELDS.transactionHash]!, 'transaction hash')
    const bloom = rlpStringPayload(fields[STORED_RECEIPT_FIELDS.logsBloom]!, 'logs bloom')
    const type = rlpStringPayload(fields[STORED_RECEIPT_FIELDS.type]!, 'receipt type')
    if (hash.length !== 32 || bloom.length !== 256 || type.length > 1)
      throw new CodecError('receipt: malformed hash, bloom or type')
    transactionHashes.set(hash, 32 * i)
    for (let b = 0; b < 256; b++) logsBloom[b]! |= bloom[b]!
    // A deposit receipt (stored with its nonce and version) commits to them too: see encodeConsensusReceipt.
    const consensus = deposit ? STORED_RECEIPT_FIELDS.depositConsensus : STORED_RECEIPT_FIELDS.consensus
    return typedEnvelope(type.length === 0 ? 0 : type[0]!, concatRlpList(consensus.map((f) => fields[f]!)))
  })
  return {
    transactionsRoot: orderedTrieRoot(txItems.map((item) => rlpStringPayload(item, 'transaction'))),
    receiptsRoot: orderedTrieRoot(consensusReceipts),
    logsBloom,
    encodedTransactions: concatRlpList(txItems),
    encodedReceipts: concatRlpList(receiptItems),
    transactionHashes,
  }
}
