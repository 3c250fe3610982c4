/**
 * Batcher test plumbing shared by test/e2e/da-batcher.test.ts and bench/da.ts: a sealed chain that
 * grows on demand (a `BlockSource`), and the batcher's inbox data read back from L1 and decoded
 * the way derivation would (frames → channels → batches), without a derivation pipeline.
 */
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { depositCount } from '../../src/chain/l2-block-attributes.ts'
import { blockBatch, spanBatchParams } from '../../src/da/batcher/channel-builder.ts'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'
import type { Hex, PublicClient } from 'viem'
import type { SealedBlock } from '../../src/chain/block.ts'
import type { RollupConfig } from '../../src/chain/rollup-config.ts'
import { decodeBatch } from '../../src/da/batch.ts'
import type { Batcher, BlockSource } from '../../src/da/batcher/batcher.ts'
import { decodeBlob } from '../../src/da/blob.ts'
import { assembleFrames, decodeChannel, type StagingChannel } from '../../src/da/channel.ts'
import { parseBatcherData } from '../../src/da/frame.ts'
import { rpc, waitFor } from './node-process.ts'

/** A sealed chain that grows when the test says so. */
export class TestChain implements BlockSource {
  readonly events = new EventEmitter<{ block: [SealedBlock] }>()
  private sealed: SealedBlock[] = []
  constructor(private readonly all: readonly SealedBlock[]) {}
  get head(): { header: { number: bigint } } {
    return { header: { number: BigInt(this.sealed.length) } }
  }
  async blockByNumber(n: bigint): Promise<SealedBlock | undefined> {
    return n >= 1n && n <= BigInt(this.sealed.length) ? this.sealed[Number(n) - 1] : undefined
  }
  seal(count: number): void {
    for (const block of this.all.slice(this.sealed.length, this.sealed.length + count)) {
      this.sealed.push(block)
      this.events.emit('block', block)
    }
  }
}

export interface InboxTx {
  hash: Hex
  blockNumber: bigint
  type: string
  data: Uint8Array[]
  gasUsed: bigint
  blobGasUsed: bigint
  versionedHashes: readonly Hex[]
}

/** The batcher's transactions to the inbox in the canonical chain, with their data (calldata or the blobs anvil kept). */
export async function inboxTxs(rollup: RollupConfig, l1: PublicClient, url: string, from: Hex): Promise<InboxTx[]> {
  const head = await l1.getBlock({ blockTag: 'latest' })
  const out: InboxTx[] = []
  for (let n = 0n; n <= head.number; n++) {
    const block = await l1.getBlock({ blockNumber: n, includeTransactions: true })
    for (const tx of block.transactions) {
      if (tx.to?.toLowerCase() !== rollup.batchInboxAddress || tx.from.toLowerCase() !== from.toLowerCase()) continue
      const receipt = await l1.getTransactionReceipt({ hash: tx.hash })
      let data: Uint8Array[]
      if (tx.type === 'eip4844') {
        assert.equal(tx.input, '0x', 'a blob transaction carries no calldata')
        const blobs = await rpc<Hex[]>(url, 'anvil_getBlobsByTransactionHash', [tx.hash])
        assert.equal(blobs.length, tx.blobVersionedHashes?.length)
        data = blobs.map((blob) => {
          const decoded = decodeBlob(hexToBytes(blob))
          assert.ok(decoded.ok)
          return decoded.value
        })
      } else data = [hexToBytes(tx.input)]
      out.push({
        hash: tx.hash,
        blockNumber: n,
        type: tx.type,
        data,
        gasUsed: receipt.gasUsed,
        blobGasUsed: receipt.blobGasUsed ?? 0n,
        versionedHashes: tx.blobVersionedHashes ?? [],
      })
    }
  }
  return out
}

export interface DecodedBlock {
  timestamp: bigint
  epochNumber: bigint
  transactions: Hex[]
}

/** What derivation would read from the batcher's data, in L1 order: the blocks of every completed channel. */
export function decodeInbox(rollup: RollupConfig, txs: readonly InboxTx[]): DecodedBlock[] {
  const params = spanBatchParams(rollup)
  let staging: StagingChannel | undefined
  const blocks: DecodedBlock[] = []
  for (const tx of txs) {
    for (const data of tx.data) {
      const frames = parseBatcherData(data)
      assert.ok(frames.ok)
      const step = assembleFrames(staging, frames.value, Number(tx.blockNumber), {
        channelTimeout: 50,
        maxRlpBytesPerChannel: 100_000_000,
      })
      staging = step.staging
      for (const event of step.events) {
        assert.equal(event.kind, 'ready', `unexpected ${event.kind}`)
        if (event.kind !== 'ready') continue
        const channel = decodeChannel(event.channel.data, { maxBytes: 100_000_000, fjord: true })
        assert.equal(channel.error, undefined)
        for (const encoded of channel.batches) {
          const batch = decodeBatch(encoded, params)
          assert.ok(batch.ok)
          const list = batch.value.type === 'span' ? batch.value.batch.blocks : [batch.value.batch]
          for (const b of list)
            blocks.push({
              timestamp: b.timestamp,
              epochNumber: b.epochNumber,
              transactions: b.transactions.map((t) => bytesToHex(t) as Hex),
            })
        }
      }
    }
  }
  return blocks
}

export interface LogLine {
  msg: string
  [key: string]: unknown
}

export function captureLogger(): { logger: pino.Logger; lines: LogLine[] } {
  const lines: LogLine[] = []
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line !== '') lines.push(JSON.parse(line) as LogLine)
      done()
    },
  })
  return { logger: pino({ level: 'info' }, stream), lines }
}

/** The blocks, after dropping re-posted duplicates (derivation keeps the first batch per timestamp). */
export function distinct(blocks: readonly DecodedBlock[]): DecodedBlock[] {
  const seen = new Map<bigint, DecodedBlock>()
  for (const block of blocks) if (!seen.has(block.timestamp)) seen.set(block.timestamp, block)
  return [...seen.values()].sort((a, b) => (a.timestamp < b.timestamp ? -1 : 1))
}

export function expected(blocks: readonly SealedBlock[]): DecodedBlock[] {
  return blocks.map((block) => ({
    timestamp: block.header.timestamp,
    epochNumber: blockBatch(block).epochNumber,
    transactions: block.transactions.slice(depositCount(block.transactions)).map((t) => bytesToHex(t) as Hex),
  }))
}

export function compare(decoded: readonly DecodedBlock[], blocks: readonly SealedBlock[]): void {
  const want = expected(blocks)
  assert.equal(decoded.length, want.length)
  for (let i = 0; i < want.length; i++) {
    assert.equal(decoded[i]!.timestamp, want[i]!.timestamp)
    assert.equal(decoded[i]!.epochNumber, want[i]!.epochNumber)
    assert.deepEqual(decoded[i]!.transactions, want[i]!.transactions, `block ${i + 1}`)
  }
}

/** Waits until the batcher has confirmed every block through `through`. */
export async function waitPosted(batcher: Batcher, through: bigint, timeoutMs = 40_000): Promise<void> {
  await waitFor(`postedThrough ≥ ${through}`, () => batcher.postedThrough >= through, timeoutMs, 100)
}
