import assert from 'node:assert/strict'
import { test } from 'node:test'
import { bytesToHex } from '@ethereumjs/util'
import type { Hex } from 'viem'
import { type Batch, decodeBatch, encodeSingularBatch, type SingularBatch } from '../../src/da/batch.ts'
import { decodeBlob, encodeBlob } from '../../src/da/blob.ts'
import {
  assembleFrames,
  type ChannelAssemblyParams,
  decodeChannel,
  encodeChannel,
  type StagingChannel,
} from '../../src/da/channel.ts'
import { channelToFrames, encodeBatcherData, parseBatcherData } from '../../src/da/frame.ts'
import { encodeSpanBatch, type SpanBatchParams, spanBatchFromBlocks } from '../../src/da/span-batch.ts'
import { rng } from '../helpers/rng.ts'
import { signedTx, type TxKind } from '../helpers/signed-txs.ts'

const CHAIN_ID = 6342
const spanParams: SpanBatchParams = { genesisTimestamp: 1_700_000_000n, blockTime: 1n, chainId: BigInt(CHAIN_ID) }
const assembly: ChannelAssemblyParams = { channelTimeout: 50, maxRlpBytesPerChannel: 100_000_000 }
const KINDS: readonly TxKind[] = ['legacy', 'eip1559', 'eip2930', 'create', 'eip7702']

/** What the derivation side recovers from a list of blobs: the batches of every channel that completed. */
function derive(blobs: readonly Uint8Array[], l1Block: number): Batch[] {
  let staging: StagingChannel | undefined
  const batches: Batch[] = []
  for (const blob of blobs) {
    const data = decodeBlob(blob)
    assert.ok(data.ok)
    const frames = parseBatcherData(data.value)
    assert.ok(frames.ok)
    const step = assembleFrames(staging, frames.value, l1Block, assembly)
    staging = step.staging
    for (const event of step.events) {
      assert.equal(event.kind, 'ready')
      if (event.kind !== 'ready') continue
      const channel = decodeChannel(event.channel.data, { maxBytes: assembly.maxRlpBytesPerChannel, fjord: true })
      assert.equal(channel.error, undefined)
      for (const encoded of channel.batches) {
        const batch = decodeBatch(encoded, spanParams)
        assert.ok(batch.ok)
        batches.push(batch.value)
      }
    }
  }
  return batches
}

test('blocks survive the whole batcher → L1 blobs → derivation path, as singular and as span batches', async () => {
  const r = rng(16)
  const blocks: (SingularBatch & { transactions: Uint8Array[] })[] = []
  let parentHash = bytesToHex(r.bytes(32)) as Hex
  for (let i = 0; i < 40; i++) {
    const transactions: Uint8Array[] = []
    for (let j = r.int(8); j > 0; j--) transactions.push(await signedTx(r.pick(KINDS), CHAIN_ID, r))
    const epochNumber = 500n + BigInt(i >> 3)
    blocks.push({
      parentHash,
      epochNumber,
      epochHash: `0x${epochNumber.toString(16).padStart(64, '0')}`,
      timestamp: spanParams.genesisTimestamp + BigInt(i),
      transactions,
    })
    parentHash = bytesToHex(r.bytes(32)) as Hex
  }
  // Small frames, two per blob, so that every channel spans several frames and several blobs.
  const frameData = 3000
  const toBlobs = (batches: Uint8Array[]): Uint8Array[] => {
    const channel = encodeChannel(batches, { algorithm: 'brotli' })
    const frames = channelToFrames(r.bytes(16), channel, frameData)
    const blobs: Uint8Array[] = []
    for (let i = 0; i < frames.length; i += 2) blobs.push(encodeBlob(encodeBatcherData(frames.slice(i, i + 2))))
    return blobs
  }

  const singularBlobs = toBlobs(blocks.map(encodeSingularBatch))
  assert.ok(singularBlobs.length > 2, `${singularBlobs.length} blobs`)
  const singular = derive(singularBlobs, 1000)
  assert.deepEqual(
    singular,
    blocks.map((batch) => ({ type: 'singular', batch })),
  )

  const span = spanBatchFromBlocks(blocks, true)
  const spanDerived = derive(toBlobs([encodeSpanBatch(span, spanParams)]), 1000)
  assert.equal(spanDerived.length, 1)
  const [derived] = spanDerived
  assert.ok(derived?.type === 'span')
  assert.equal(derived.batch.parentCheck, blocks[0]!.parentHash.slice(0, 42))
  assert.equal(derived.batch.l1OriginCheck, blocks.at(-1)!.epochHash.slice(0, 42))
  assert.deepEqual(
    derived.batch.blocks,
    blocks.map(({ timestamp, epochNumber, transactions }) => ({ timestamp, epochNumber, transactions })),
  )
})
