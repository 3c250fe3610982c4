import { test } from 'node:test'
import assert from 'node:assert/strict'
import { bytesToHex, hexToBytes, KECCAK256_NULL } from '@ethereumjs/util'
import { RLP } from '@ethereumjs/rlp'
import { blockContents } from '../../src/chain/block-contents.ts'
import { orBlooms } from '../../src/chain/header.ts'
import {
  decodeMiniBlock,
  encodeMiniBlock,
  recoverMiniBlockSigner,
  sealMiniBlock,
  type MiniBlock,
  type UnsignedMiniBlock,
} from '../../src/chain/mini-block.ts'
import { orderedTrieRoot } from '../../src/trie/ordered-trie.ts'
import { encodeConsensusReceipt, type TxReceipt } from '../../src/chain/receipt.ts'
import { CodecError } from '../../src/primitives/rlp-fields.ts'
import type { Hex } from '../../src/primitives/state-diff.ts'
import { privateKeyToAddress } from '../../src/crypto/native.ts'
import { storedContents } from '../../src/storage/block-store.ts'
import { rng } from '../helpers/rng.ts'

const KEY = hexToBytes('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d')
const SIGNER = bytesToHex(privateKeyToAddress(KEY))

function sample(): UnsignedMiniBlock {
  return {
    number: 42n,
    blockNumber: 7n,
    index: 3,
    timestampUs: 1_700_000_000_123_456n,
    blockTimestamp: 1_700_000_000n,
    baseFeePerGas: 1_000_000n,
    parentHash: new Uint8Array(32).fill(9),
    transactions: [Uint8Array.of(2, 1, 2, 3)],
    receipts: [
      {
        transactionHash: `0x${'ab'.repeat(32)}`,
        type: 2,
        status: 1,
        cumulativeGasUsed: 42_000n,
        gasUsed: 21_000n,
        effectiveGasPrice: 1_000_000n,
        logsBloom: new Uint8Array(256),
        logs: [{ address: `0x${'11'.repeat(20)}`, topics: [`0x${'22'.repeat(32)}`], data: '0x1234' }],
        from: `0x${'33'.repeat(20)}`,
        to: null,
        contractAddress: `0x${'44'.repeat(20)}`,
        blockNumber: 7n,
        transactionIndex: 1,
        logIndexStart: 2,
        miniBlockNumber: 42n,
      },
    ],
    gasUsed: 21_000n,
    stateDiff: {
      accounts: new Map([
        [
          `0x${'55'.repeat(20)}` as Hex,
          {
            account: { nonce: 1n, balance: 10n ** 18n, codeHash: KECCAK256_NULL },
            storageCleared: false,
            storage: new Map([[`0x${'00'.repeat(31)}01` as Hex, Uint8Array.of(7)]]),
          },
        ],
        [`0x${'66'.repeat(20)}` as Hex, { account: null, storageCleared: true, storage: new Map() }],
      ]),
      codes: new Map([[`0x${'77'.repeat(32)}` as Hex, Uint8Array.of(0x60, 0x00)]]),
    },
  }
}

test('a sealed mini-block round-trips through its codec and recovers its signer', () => {
  const block = sealMiniBlock(sample(), 6342n, KEY)
  const decoded = decodeMiniBlock(encodeMiniBlock(block))
  assert.deepEqual(decoded, block)
  assert.equal(recoverMiniBlockSigner(decoded, 6342n), SIGNER)
})

test('the signature is bound to the chain id', () => {
  const block = sealMiniBlock(sample(), 6342n, KEY)
  assert.notEqual(recoverMiniBlockSigner(block, 1n), SIGNER)
})

test('a tampered body is rejected even though the signature is intact', () => {
  const block = sealMiniBlock(sample(), 6342n, KEY)
  const fields = RLP.decode(encodeMiniBlock(block)) as Uint8Array[]
  fields[9] = Uint8Array.of(0x52, 0x09) // gas used
  assert.throws(
    () => decodeMiniBlock(RLP.encode(fields)),
    (e: unknown) => e instanceof CodecError && /hash does not match/.test(e.message),
  )
})

test('malformed bytes give a CodecError, never a crash', () => {
  for (const bytes of [new Uint8Array(0), Uint8Array.of(0xc0), Uint8Array.of(0xff, 0xff), RLP.encode([Uint8Array.of(1)])]) {
    assert.throws(() => decodeMiniBlock(bytes), CodecError)
  }
})

test('the encoding kept from sealing is byte-identical to encoding every field afresh', () => {
  for (const txs of [0, 1, 40]) {
    const unsigned = {
      ...sample(),
      transactions: Array.from({ length: txs }, (_, i) => Uint8Array.of(2, i, 7)),
      receipts: Array.from({ length: txs }, () => sample().receipts[0]!),
    }
    const sealed = sealMiniBlock(unsigned, 6342n, KEY)
    const copy = { ...sealed }
    assert.deepEqual(encodeMiniBlock(sealed), encodeMiniBlock(copy))
    assert.equal(bytesToHex(decodeMiniBlock(encodeMiniBlock(sealed)).hash), bytesToHex(sealed.hash))
  }
})

test('blockContents from mini-block encodings (deposit receipts among them) equals the roots, bloom and stored encodings computed from the objects', () => {
  const r = rng(5)
  const receipt = (i: number, cumulative: bigint): TxReceipt => {
    const logs = Array.from({ length: r.int(3) }, () => ({
      address: bytesToHex(r.bytes(20)) as Hex,
      topics: Array.from({ length: r.int(4) }, () => bytesToHex(r.bytes(32)) as Hex),
      data: bytesToHex(r.bytes(r.int(70))) as Hex,
    }))
    const logsBloom = new Uint8Array(256)
    for (let k = 0; k < 256; k++) if (logs.length > 0 && r.next() < 0.05) logsBloom[k] = 1 << r.int(8)
    // OP deposit receipts (0x7E) carry their nonce and version into the consensus encoding.
    const type = r.pick([0, 1, 2, 0x7e])
    return {
      ...sample().receipts[0]!,
      ...(type === 0x7e
        ? { depositNonce: BigInt(r.int(3) === 0 ? 0 : r.int(1_000_000)), depositReceiptVersion: 1 as const }
        : {}),
      transactionHash: bytesToHex(r.bytes(32)) as Hex,
      type,
      status: r.pick([0, 1] as const),
      cumulativeGasUsed: cumulative,
      logs,
      logsBloom,
      transactionIndex: i,
    }
  }
  const miniBlocks: MiniBlock[] = []
  let cumulative = 0n
  let index = 0
  for (let m = 0; m < 5; m++) {
    const count = m === 2 ? 0 : 1 + r.int(40)
    const transactions = Array.from({ length: count }, () =>
      r.next() < 0.3 ? RLP.encode([r.bytes(3), r.bytes(40)]) : Uint8Array.of(2, ...r.bytes(100)),
    )
    const receipts = transactions.map(() => receipt(index++, (cumulative += 21_000n + BigInt(r.int(50_000)))))
    miniBlocks.push(sealMiniBlock({ ...sample(), index: m, transactions, receipts }, 6342n, KEY))
  }
  const transactions = miniBlocks.flatMap((mb) => mb.transactions)
  const receipts = miniBlocks.flatMap((mb) => mb.receipts)
  const contents = blockContents(miniBlocks.map(encodeMiniBlock))
  assert.deepEqual(contents.transactionsRoot, orderedTrieRoot(transactions))
  assert.deepEqual(contents.receiptsRoot, orderedTrieRoot(receipts.map(encodeConsensusReceipt)))
  assert.deepEqual(contents.logsBloom, orBlooms(receipts.map((x) => x.logsBloom)))
  const stored = storedContents({
    header: undefined as never,
    hash: '0x',
    transactions,
    receipts,
    miniBlocks: { first: 0n, count: miniBlocks.length },
  })
  assert.deepEqual(contents.encodedTransactions, stored.encodedTransactions)
  assert.deepEqual(contents.encodedReceipts, stored.encodedReceipts)
  assert.deepEqual(contents.transactionHashes, stored.transactionHashes)
  assert.throws(() => blockContents([Uint8Array.of(0xc1, 0x80)]), CodecError)
})
