// run-tests: alone — asserts a bound on how long channel building takes
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { brotliCompressSync, constants, deflateSync } from 'node:zlib'
import fc from 'fast-check'
import { RLP } from '@ethereumjs/rlp'
import {
  assembleFrames,
  pruneTxFrames,
  type ChannelAssemblyParams,
  type ChannelEvent,
  decodeChannel,
  encodeBatchStream,
  encodeChannel,
  readBatchStream,
  type StagingChannel,
} from '../../src/da/channel.ts'
import { compressChannel, decompressChannel } from '../../src/da/compression.ts'
import { DaCodecError } from '../../src/da/errors.ts'
import { channelToFrames, type Frame } from '../../src/da/frame.ts'

const SEED = 0xc4a7
const params: ChannelAssemblyParams = { channelTimeout: 50, maxRlpBytesPerChannel: 100_000 }
const idA = new Uint8Array(16).fill(0xa)
const idB = new Uint8Array(16).fill(0xb)
const frame = (id: Uint8Array, frameNumber: number, isLast = false, data = Uint8Array.of(frameNumber)): Frame => ({
  channelId: id,
  frameNumber,
  data,
  isLast,
})

/** Feeds frames, each in its own batcher transaction of the given L1 block, and collects every event. */
function feed(frames: [Frame, number][]): { staging: StagingChannel | undefined; events: ChannelEvent[] } {
  let staging: StagingChannel | undefined
  const events: ChannelEvent[] = []
  for (const [f, l1] of frames) {
    const step = assembleFrames(staging, [f], l1, params)
    staging = step.staging
    events.push(...step.events)
  }
  return { staging, events }
}
const kinds = (events: ChannelEvent[]) => events.map((e) => (e.kind === 'ready' ? 'ready' : `${e.kind}:${e.reason}`))

test('frames in order assemble into the channel data, ready at the closing frame', () => {
  const { staging, events } = feed([
    [frame(idA, 0), 100],
    [frame(idA, 1), 100],
    [frame(idA, 2, true), 101],
  ])
  assert.equal(staging, undefined)
  assert.deepEqual(kinds(events), ['ready'])
  const ready = events[0]!
  assert.ok(ready.kind === 'ready')
  assert.deepEqual(ready.channel.data, Uint8Array.of(0, 1, 2))
  assert.equal(ready.channel.openL1Block, 100)
})

test('Holocene ordering: out-of-order, duplicate, foreign and orphan frames are dropped; a first frame replaces an open channel', () => {
  assert.deepEqual(kinds(feed([[frame(idA, 1), 1]]).events), ['frame-dropped:no-channel'])
  assert.deepEqual(
    kinds(
      feed([
        [frame(idA, 0), 1],
        [frame(idA, 2), 1],
      ]).events,
    ),
    ['frame-dropped:out-of-order'],
  )
  assert.deepEqual(
    kinds(
      feed([
        [frame(idA, 0), 1],
        [frame(idA, 1), 1],
        [frame(idA, 1), 1],
      ]).events,
    ),
    ['frame-dropped:out-of-order'],
  )
  assert.deepEqual(
    kinds(
      feed([
        [frame(idA, 0), 1],
        [frame(idB, 1), 1],
      ]).events,
    ),
    ['frame-dropped:other-channel'],
  )
  const replaced = feed([
    [frame(idA, 0), 1],
    [frame(idB, 0), 1],
    [frame(idA, 1), 1],
    [frame(idB, 1, true), 2],
  ])
  assert.deepEqual(kinds(replaced.events), ['channel-dropped:replaced', 'frame-dropped:other-channel', 'ready'])
  // a repeated first frame of the same channel restarts it
  const restarted = feed([
    [frame(idA, 0, false, Uint8Array.of(1)), 1],
    [frame(idA, 0, false, Uint8Array.of(2)), 1],
    [frame(idA, 1, true, Uint8Array.of(3)), 1],
  ])
  assert.deepEqual(kinds(restarted.events), ['channel-dropped:replaced', 'ready'])
  const ready = restarted.events[1]!
  assert.ok(ready.kind === 'ready')
  assert.deepEqual(ready.channel.data, Uint8Array.of(2, 3))
  // frames after a closing frame have no channel
  assert.deepEqual(
    kinds(
      feed([
        [frame(idA, 0, true), 1],
        [frame(idA, 1), 1],
      ]).events,
    ),
    ['ready', 'frame-dropped:no-channel'],
  )
})

test('Holocene frame-queue pruning within one batcher transaction, as op-node pruneFrameQueue', () => {
  const tx = (frames: Frame[]) => {
    const step = assembleFrames(undefined, frames, 1, params)
    return {
      kinds: kinds([...step.events]),
      frames: step.events.flatMap((e) =>
        e.kind === 'frame-dropped' ? [`${e.frame.channelId[0]!.toString(16)}${e.frame.frameNumber}`] : [],
      ),
    }
  }
  // a repeated first frame of the same channel in the same transaction is out of order (not a restart)
  assert.deepEqual(tx([frame(idA, 0), frame(idA, 1), frame(idA, 0)]), { kinds: ['frame-dropped:out-of-order'], frames: ['a0'] })
  // anything after a closing frame of the same channel is dropped
  assert.deepEqual(tx([frame(idA, 0, true), frame(idA, 1)]), { kinds: ['frame-dropped:out-of-order', 'ready'], frames: ['a1'] })
  // a first frame of another channel drops every unclosed frame before it, backwards
  const superseded = tx([frame(idA, 0), frame(idA, 1), frame(idB, 0), frame(idB, 1, true)])
  assert.deepEqual(superseded, { kinds: ['frame-dropped:superseded', 'frame-dropped:superseded', 'ready'], frames: ['a1', 'a0'] })
  // a non-first frame of another channel is dropped, the rest goes on
  assert.deepEqual(tx([frame(idA, 0), frame(idB, 5), frame(idA, 1, true)]), {
    kinds: ['frame-dropped:other-channel', 'ready'],
    frames: ['b5'],
  })
  // a closed channel followed by the next channel's first frame: both kept
  const step = assembleFrames(undefined, [frame(idA, 0, true), frame(idB, 0)], 1, params)
  assert.deepEqual(kinds([...step.events]), ['ready'])
  assert.deepEqual(step.staging?.id, idB)
})

/** op-node's test notation: "a:2:data!" is channel a, frame 2, data "data", closing. */
function testFrame(notation: string): Frame {
  const [id, number, rest] = notation.split(':') as [string, string, string]
  const isLast = rest.endsWith('!')
  const channelId = new Uint8Array(16)
  channelId.set(new TextEncoder().encode(id))
  return { channelId, frameNumber: Number(number), data: new TextEncoder().encode(isLast ? rest.slice(0, -1) : rest), isLast }
}

// Every case of TestPruneFrameQueue in ethereum-optimism/optimism op-node/rollup/derive/frame_queue_test.go.
test('frame-queue pruning reproduces op-node TestPruneFrameQueue', () => {
  const cases: [string[], string[]][] = [
    [[], []],
    [['a:2:'], ['a:2:']],
    [['a:2:!'], ['a:2:!']],
    [
      ['a:2:!', 'b:0:'],
      ['a:2:!', 'b:0:'],
    ],
    [['a:2:!', 'b:1:'], ['a:2:!']],
    [['b:1:', 'a:2:!'], ['b:1:']],
    [['b:1:', 'a:0:'], ['a:0:']],
    [
      ['b:1:!', 'a:0:'],
      ['b:1:!', 'a:0:'],
    ],
    [['b:1:!', 'b:2:'], ['b:1:!']],
    [['b:1:', 'b:3:'], ['b:1:']],
    [['b:1:', 'c:3:'], ['b:1:']],
    [
      ['b:1:', 'c:3:', 'b:2:!'],
      ['b:1:', 'b:2:!'],
    ],
    [
      ['b:1:', 'b:3:!', 'b:2:', 'b:3:!'],
      ['b:1:', 'b:2:', 'b:3:!'],
    ],
    [['c:0:', 'c:1:', 'c:2:', 'd:0:', 'c:3:!'], ['d:0:']],
    [
      ['b:1:', 'b:2:!', 'a:0:', 'c:1:!', 'a:1:', 'a:2:!', 'c:0:', 'c:1:', 'd:0:', 'c:2:!', 'e:0:'],
      ['b:1:', 'b:2:!', 'a:0:', 'a:1:', 'a:2:!', 'e:0:'],
    ],
  ]
  for (const [input, expected] of cases) {
    assert.deepEqual(pruneTxFrames(input.map(testFrame)), expected.map(testFrame), input.join(' '))
  }
})

// The cases of TestChannelStage_NextData in op-node/rollup/derive/channel_assembler_test.go: each inner
// list is one batcher transaction; the expected channel data after each, and the staging channel's id.
test('channel assembly reproduces op-node TestChannelStage_NextData', () => {
  const cases: { frames: string[][]; data: string[]; staging: string[]; max?: number }[] = [
    { frames: [['a:0:first!']], data: ['first'], staging: [''] },
    { frames: [['a:0:first', 'a:1:second!']], data: ['firstsecond'], staging: [''] },
    {
      frames: [['a:0:first', 'b:1:foo'], ['a:1:second', 'c:1:bar!'], ['a:2:third!']],
      data: ['', '', 'firstsecondthird'],
      staging: ['a', 'a', ''],
    },
    { frames: [['a:1:foo']], data: [''], staging: [''] },
    { frames: [['b:0:foo'], ['a:0:first!']], data: ['', 'first'], staging: ['b', ''] },
    { frames: [['a:0:foo'], ['a:1:bar!', 'a:2:baz!']], data: ['', 'foobar'], staging: ['a', ''] },
    { frames: [['a:0:0123456789!']], data: ['0123456789'], staging: [''], max: 200 + 10 },
    { frames: [['a:0:0123456789x!']], data: [''], staging: [''], max: 200 + 10 },
  ]
  for (const c of cases) {
    const limits = { channelTimeout: 50, maxRlpBytesPerChannel: c.max ?? 100_000_000 }
    let staging: StagingChannel | undefined
    c.frames.forEach((tx, i) => {
      const step = assembleFrames(staging, tx.map(testFrame), 0, limits)
      staging = step.staging
      const ready = step.events.flatMap((e) => (e.kind === 'ready' ? [new TextDecoder().decode(e.channel.data)] : []))
      assert.deepEqual(ready, c.data[i] === '' ? [] : [c.data[i]], `${c.frames.flat().join(' ')} after tx ${i}`)
      assert.equal(staging === undefined ? '' : new TextDecoder().decode(staging.id.subarray(0, 1)), c.staging[i])
    })
  }
})

test('the staging channel times out after channelTimeout L1 blocks, inclusive', () => {
  // opened at 100, timeout 50: block 150 still accepts, 151 drops the channel
  assert.deepEqual(
    kinds(
      feed([
        [frame(idA, 0), 100],
        [frame(idA, 1, true), 150],
      ]).events,
    ),
    ['ready'],
  )
  assert.deepEqual(
    kinds(
      feed([
        [frame(idA, 0), 100],
        [frame(idA, 1, true), 151],
      ]).events,
    ),
    ['channel-dropped:timed-out', 'frame-dropped:no-channel'],
  )
  // a new first frame at the timeout block still starts a fresh channel
  assert.deepEqual(
    kinds(
      feed([
        [frame(idA, 0), 100],
        [frame(idB, 0, true), 151],
      ]).events,
    ),
    ['channel-dropped:timed-out', 'ready'],
  )
})

test('a staging channel heavier than maxRlpBytesPerChannel (data + 200 per frame) is dropped', () => {
  const small: ChannelAssemblyParams = { channelTimeout: 50, maxRlpBytesPerChannel: 1000 }
  let step = assembleFrames(undefined, [frame(idA, 0, false, new Uint8Array(600))], 1, small)
  assert.equal(step.staging?.weight, 800)
  step = assembleFrames(step.staging, [frame(idA, 1, true, new Uint8Array(1))], 1, small)
  assert.deepEqual(kinds([...step.events]), ['channel-dropped:too-large'])
  assert.equal(step.staging, undefined)
})

const batchesArb = fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { minLength: 0, maxLength: 20 })

test('channels round-trip through brotli and zlib, split into frames and reassembled', (t) => {
  t.diagnostic(`fast-check seed ${SEED}`)
  fc.assert(
    fc.property(
      batchesArb,
      fc.constantFrom('brotli' as const, 'zlib' as const),
      fc.integer({ min: 1, max: 500 }),
      (batches, algorithm, frameSize) => {
        const compressed = encodeChannel(batches, { algorithm })
        if (algorithm === 'brotli') assert.equal(compressed[0], 1)
        else assert.ok([8, 15].includes(compressed[0]! & 0x0f))
        let staging: StagingChannel | undefined
        let data: Uint8Array | undefined
        // frames spread over batcher transactions of up to three frames
        const frames = channelToFrames(idA, compressed, frameSize)
        for (let i = 0; i < frames.length; i += 3) {
          const step = assembleFrames(staging, frames.slice(i, i + 3), 7, params)
          staging = step.staging
          for (const e of step.events) if (e.kind === 'ready') data = e.channel.data
        }
        assert.deepEqual(data, compressed)
        const decoded = decodeChannel(data!, { maxBytes: 1_000_000, fjord: true })
        assert.equal(decoded.error, undefined)
        assert.equal(decoded.algorithm, algorithm)
        assert.deepEqual(decoded.batches, batches)
      },
    ),
    { seed: SEED, numRuns: 100 },
  )
})

test('compression detection: brotli refused before Fjord, unknown version bytes refused, zlib read before and after', () => {
  const stream = encodeBatchStream([Uint8Array.of(0, 1, 2)])
  const brotli = compressChannel(stream, { algorithm: 'brotli' })
  const refused = decompressChannel(brotli, { maxBytes: 1000, fjord: false })
  assert.ok(!refused.ok && refused.error.code === 'brotli-before-fjord')
  for (const fjord of [false, true]) {
    const zlib = decompressChannel(compressChannel(stream, { algorithm: 'zlib' }), { maxBytes: 1000, fjord })
    assert.ok(zlib.ok && zlib.value.algorithm === 'zlib')
  }
  for (const first of [0, 2, 0x10, 0x21, 0xf0]) {
    const unknown = decompressChannel(Uint8Array.of(first, 1, 2, 3), { maxBytes: 1000, fjord: true })
    assert.ok(!unknown.ok && unknown.error.code === 'unknown-compression', `byte ${first}`)
  }
  const empty = decompressChannel(new Uint8Array(0), { maxBytes: 1000, fjord: true })
  assert.ok(!empty.ok && empty.error.code === 'unknown-compression')
})

test('a decompression bomb is refused at the bound without allocating its size', () => {
  // 128 MiB of zeros: ~100 bytes of brotli, ~130 KB of zlib.
  const size = 128 * 1024 * 1024
  const zeros = new Uint8Array(size)
  const brotliBomb = Uint8Array.from([1, ...brotliCompressSync(zeros, { params: { [constants.BROTLI_PARAM_QUALITY]: 1 } })])
  const zlibBomb = new Uint8Array(deflateSync(zeros, { level: 1 }))
  for (const [name, bomb] of [
    ['brotli', brotliBomb],
    ['zlib', zlibBomb],
  ] as const) {
    const before = process.memoryUsage().arrayBuffers
    const started = performance.now()
    const result = decodeChannel(bomb, { maxBytes: 10_000_000, fjord: true })
    const grew = process.memoryUsage().arrayBuffers - before
    assert.equal(result.batches.length, 0)
    assert.equal(result.error?.code, 'channel-too-large', name)
    // Bounded by the 10 MB limit (plus zlib's chunk), far below the 128 MiB the bomb expands to.
    assert.ok(grew < 64 * 1024 * 1024, `${name}: arrayBuffers grew by ${grew}`)
    assert.ok(performance.now() - started < 5000, `${name}: took ${performance.now() - started} ms`)
  }
  // The bound is inclusive: a channel of exactly maxBytes decompresses.
  const exact = encodeBatchStream([new Uint8Array(9995)])
  assert.equal(exact.length, 9998)
  assert.equal(decodeChannel(compressChannel(exact, { algorithm: 'brotli' }), { maxBytes: 9998, fjord: true }).error, undefined)
  assert.equal(
    decodeChannel(compressChannel(exact, { algorithm: 'brotli' }), { maxBytes: 9997, fjord: true }).error?.code,
    'channel-too-large',
  )
})

test('a truncated compressed stream yields the batches it completed; a malformed stream keeps those before the fault', () => {
  const batches = Array.from({ length: 50 }, (_, i) => new Uint8Array(2000).fill(i))
  const zlib = compressChannel(encodeBatchStream(batches), { algorithm: 'zlib' })
  const truncated = decodeChannel(zlib.subarray(0, zlib.length >> 1), { maxBytes: 1_000_000, fjord: true })
  assert.ok(truncated.batches.length > 0 && truncated.batches.length < 50)
  assert.deepEqual(truncated.batches, batches.slice(0, truncated.batches.length))
  assert.equal(truncated.error?.code, 'batch-malformed') // the last, partial batch

  const list = RLP.encode([Uint8Array.of(1)])
  const stream = Uint8Array.from([
    ...encodeBatchStream([Uint8Array.of(0, 7)]),
    ...list,
    ...encodeBatchStream([Uint8Array.of(0, 8)]),
  ])
  const read = readBatchStream(stream)
  assert.deepEqual(read.batches, [Uint8Array.of(0, 7)])
  assert.equal(read.error?.code, 'batch-malformed')
  // non-canonical RLP strings are malformed, as go-ethereum's Stream.Bytes says
  assert.equal(readBatchStream(Uint8Array.of(0x81, 0x05)).error?.code, 'batch-malformed')
  assert.equal(readBatchStream(Uint8Array.of(0xb8, 0x02, 1, 2)).error?.code, 'batch-malformed')
})

test('decoding random channel bytes never throws: a typed result every time', (t) => {
  t.diagnostic(`fast-check seed ${SEED}`)
  const valid = encodeChannel([new Uint8Array(100).fill(3), Uint8Array.of(0, 1)], { algorithm: 'brotli' })
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), fc.constantFrom(undefined, 1, 0x78), fc.nat(), (bytes, first, flipAt) => {
      const data = first === undefined ? bytes : Uint8Array.from([first, ...bytes])
      const decoded = decodeChannel(data, { maxBytes: 100_000, fjord: true })
      if (decoded.error !== undefined) assert.ok(decoded.error instanceof DaCodecError)
      const mutated = valid.slice()
      mutated[flipAt % mutated.length]! ^= 0x5a
      const again = decodeChannel(mutated, { maxBytes: 100_000, fjord: true })
      if (again.error !== undefined) assert.ok(again.error instanceof DaCodecError)
      const stream = readBatchStream(bytes)
      if (stream.error !== undefined) assert.ok(stream.error instanceof DaCodecError)
    }),
    { seed: SEED, numRuns: 3000 },
  )
})
