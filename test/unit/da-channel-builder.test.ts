import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { bytesToHex } from '@ethereumjs/util'
import { depositCount } from '../../src/chain/l2-block-attributes.ts'
import { decodeBatch, type SingularBatch } from '../../src/da/batch.ts'
import {
  type BlockBatch,
  blockBatch,
  ChannelBuilder,
  type ChannelBuilderConfig,
  type ClosedChannel,
  spanBatchParams,
} from '../../src/da/batcher/channel-builder.ts'
import { assembleFrames, decodeChannel, type StagingChannel } from '../../src/da/channel.ts'
import { compressChannel, compressChannelAsync } from '../../src/da/compression.ts'
import { encodeBatcherData, parseBatcherData } from '../../src/da/frame.ts'
import { makeBlocks, testRollupConfig } from '../helpers/l2-blocks.ts'

const rollup = testRollupConfig()
const params = spanBatchParams(rollup)

function config(overrides: Partial<ChannelBuilderConfig> = {}): ChannelBuilderConfig {
  return {
    batchType: 'span',
    compression: { algorithm: 'brotli', level: 9 },
    maxFrameDataSize: 119_976,
    targetFrames: 1,
    maxChannelDuration: 0n,
    subSafetyMargin: 10n,
    ...overrides,
  }
}

/** What derivation reads back from a channel's frames, one frame per batcher transaction: one batch per block. */
function readBack(channel: ClosedChannel): SingularBatch[] {
  let staging: StagingChannel | undefined
  const out: SingularBatch[] = []
  for (const frame of channel.frames) {
    const parsed = parseBatcherData(encodeBatcherData([frame]))
    assert.ok(parsed.ok)
    const step = assembleFrames(staging, parsed.value, 100, { channelTimeout: 50, maxRlpBytesPerChannel: 100_000_000 })
    staging = step.staging
    for (const event of step.events) {
      assert.equal(event.kind, 'ready')
      if (event.kind !== 'ready') continue
      const decoded = decodeChannel(event.channel.data, { maxBytes: 100_000_000, fjord: true })
      assert.equal(decoded.error, undefined)
      assert.equal(decoded.algorithm, 'brotli')
      for (const encoded of decoded.batches) {
        const batch = decodeBatch(encoded, params)
        assert.ok(batch.ok)
        if (batch.value.type === 'singular') {
          out.push(batch.value.batch)
          continue
        }
        const span = batch.value.batch
        // A span batch carries only 20-byte prefixes of the first parent and the last epoch hash.
        for (const block of span.blocks)
          out.push({
            parentHash: span.parentCheck,
            epochNumber: block.epochNumber,
            epochHash: span.l1OriginCheck,
            timestamp: block.timestamp,
            transactions: block.transactions,
          })
      }
    }
  }
  assert.equal(staging, undefined, 'the channel closed')
  return out
}

async function fill(builder: ChannelBuilder, batches: readonly BlockBatch[]): Promise<number> {
  let added = 0
  for (const batch of batches) {
    if ((await builder.addBlock(batch)) === 'full') break
    added++
  }
  return added
}

describe('channel builder', () => {
  it('compressChannelAsync (thread pool) writes the same bytes as compressChannel', async () => {
    const input = new Uint8Array(50_000).map((_, i) => ((i * 7) % 251) ^ (i >> 9))
    for (const options of [{ algorithm: 'brotli', level: 9 }, { algorithm: 'brotli' }, { algorithm: 'zlib', level: 6 }] as const)
      assert.deepEqual(await compressChannelAsync(input, options), compressChannel(input, options))
  })

  it('round trip: blocks → frames → assembled, decoded span batch: the same epochs, timestamps and transactions, deposits left out', async () => {
    const blocks = await makeBlocks(rollup, { count: 30, seed: 3 })
    const batches = blocks.map(blockBatch)
    const builder = new ChannelBuilder(config({ maxFrameDataSize: 2000, targetFrames: 1000 }), rollup, 5n)
    assert.equal(await fill(builder, batches), 30)
    const channel = await builder.close('flush')
    assert.equal(channel.firstBlock, 1n)
    assert.equal(channel.lastBlock, 30n)
    assert.equal(channel.blocks, 30)
    assert.ok(channel.frames.length > 1, `${channel.frames.length} frames`)
    const back = readBack(channel)
    assert.equal(back.length, 30)
    let txs = 0
    for (const [i, block] of blocks.entries()) {
      const expected = block.transactions.slice(depositCount(block.transactions))
      assert.ok(depositCount(block.transactions) >= 1, 'blocks start with the L1-info deposit')
      assert.deepEqual(
        back[i]!.transactions.map((t) => bytesToHex(t)),
        expected.map((t) => bytesToHex(t)),
      )
      assert.equal(back[i]!.timestamp, block.header.timestamp)
      assert.equal(back[i]!.epochNumber, batches[i]!.epochNumber)
      for (const tx of back[i]!.transactions) assert.notEqual(tx[0], 0x7e)
      txs += expected.length
    }
    assert.equal(channel.txs, txs)
    assert.ok(txs > 20)
    // The span prefix commits to the first block's parent and the last block's epoch.
    assert.equal(back[0]!.parentHash, batches[0]!.parentHash.slice(0, 42))
    assert.equal(back[0]!.epochHash, batches[29]!.epochHash.slice(0, 42))
  })

  it('round trip with singular batches: every parent hash and epoch hash, exactly', async () => {
    const blocks = await makeBlocks(rollup, { count: 12, seed: 4 })
    const batches = blocks.map(blockBatch)
    const builder = new ChannelBuilder(config({ batchType: 'singular', maxFrameDataSize: 500, targetFrames: 1000 }), rollup, 5n)
    assert.equal(await fill(builder, batches), 12)
    const back = readBack(await builder.close('flush'))
    assert.deepEqual(
      back.map((b) => [b.parentHash, b.epochNumber, b.epochHash, b.timestamp, b.transactions.map((t) => bytesToHex(t))]),
      batches.map((b) => [b.parentHash, b.epochNumber, b.epochHash, b.timestamp, b.transactions.map((t) => bytesToHex(t))]),
    )
    // parent hashes chain: each block's parent is the previous block's hash
    for (let i = 1; i < blocks.length; i++) assert.equal(back[i]!.parentHash, blocks[i - 1]!.hash)
  })

  it('closes on size: a block that would pass the target is refused, the channel stays within it, the next channel continues', async () => {
    const blocks = await makeBlocks(rollup, { count: 40, seed: 5, txsPerBlock: () => 8 })
    const batches = blocks.map(blockBatch)
    const target = 4000
    const channels: ClosedChannel[] = []
    let builder = new ChannelBuilder(config({ maxFrameDataSize: 1000, targetFrames: 4 }), rollup, 5n)
    for (const batch of batches) {
      if ((await builder.addBlock(batch)) === 'added') continue
      assert.ok(builder.isFull)
      channels.push(await builder.close('full'))
      builder = new ChannelBuilder(config({ maxFrameDataSize: 1000, targetFrames: 4 }), rollup, 5n)
      assert.equal(await builder.addBlock(batch), 'added')
    }
    channels.push(await builder.close('flush'))
    assert.ok(channels.length >= 3, `${channels.length} channels`)
    for (const channel of channels.slice(0, -1)) {
      assert.ok(channel.compressedBytes <= target, `${channel.compressedBytes} > ${target}`)
      assert.ok(channel.compressedBytes > target / 2, `${channel.compressedBytes}: closed too early`)
      assert.ok(channel.frames.length <= 4)
    }
    // contiguous coverage
    assert.equal(channels[0]!.firstBlock, 1n)
    for (let i = 1; i < channels.length; i++) assert.equal(channels[i]!.firstBlock, channels[i - 1]!.lastBlock + 1n)
    assert.equal(channels.at(-1)!.lastBlock, 40n)
    const back = channels.flatMap(readBack)
    assert.equal(back.length, 40)
  })

  it('a single block larger than the target is accepted alone and spans more frames', async () => {
    const [block] = await makeBlocks(rollup, { count: 1, seed: 6, txsPerBlock: () => 40 })
    const builder = new ChannelBuilder(config({ maxFrameDataSize: 300, targetFrames: 2 }), rollup, 5n)
    assert.equal(await builder.addBlock(blockBatch(block!)), 'added')
    assert.ok(builder.isFull)
    const channel = await builder.close('full')
    assert.ok(channel.frames.length > 2)
    assert.equal(readBack(channel).length, 1)
  })

  it('closes on duration (L1 blocks since it opened) and before the sequencing window of its oldest epoch ends', async () => {
    const batches = (await makeBlocks(rollup, { count: 3, seed: 7, firstEpoch: 100n })).map(blockBatch)
    const builder = new ChannelBuilder(config({ maxChannelDuration: 4n }), rollup, 200n)
    assert.equal(builder.timeoutReason(1000n), undefined, 'an empty channel never times out')
    await fill(builder, batches)
    assert.equal(builder.timeoutReason(203n), undefined)
    assert.equal(builder.timeoutReason(204n), 'duration')
    const windowed = new ChannelBuilder(config(), testRollupConfig({ seqWindowSize: 120n }), 200n)
    await fill(windowed, batches)
    // oldest epoch 100, window 120, margin 10: close from L1 block 210 on
    assert.equal(windowed.timeoutReason(209n), undefined)
    assert.equal(windowed.timeoutReason(210n), 'seq-window')
  })

  it('refuses a block that does not continue the channel', async () => {
    const batches = (await makeBlocks(rollup, { count: 3, seed: 8 })).map(blockBatch)
    const builder = new ChannelBuilder(config(), rollup, 5n)
    await builder.addBlock(batches[0]!)
    await assert.rejects(builder.addBlock(batches[2]!), { code: 'BATCHER_BLOCK_GAP' })
    await assert.rejects(builder.addBlock({ ...batches[1]!, parentHash: `0x${'00'.repeat(32)}` }), { code: 'BATCHER_BLOCK_GAP' })
  })
})
