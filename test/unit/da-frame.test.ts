import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import { DaCodecError } from '../../src/da/errors.ts'
import {
  channelToFrames,
  encodeBatcherData,
  encodeFrame,
  type Frame,
  FRAME_OVERHEAD,
  MAX_FRAME_DATA_LENGTH,
  parseBatcherData,
} from '../../src/da/frame.ts'

const SEED = 0xf4a3e
const frameArb: fc.Arbitrary<Frame> = fc
  .record({
    channelId: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    frameNumber: fc.integer({ min: 0, max: 0xffff }),
    data: fc.uint8Array({ maxLength: 2000 }),
    isLast: fc.boolean(),
  })
  .map((f) => ({ ...f }))

test('batcher data round-trips any list of frames', (t) => {
  t.diagnostic(`fast-check seed ${SEED}`)
  fc.assert(
    fc.property(fc.array(frameArb, { minLength: 1, maxLength: 8 }), (frames) => {
      const data = encodeBatcherData(frames)
      assert.equal(data[0], 0)
      assert.equal(data.length, 1 + frames.reduce((n, f) => n + FRAME_OVERHEAD + f.data.length, 0))
      const parsed = parseBatcherData(data)
      assert.ok(parsed.ok)
      assert.deepEqual(parsed.value, frames)
    }),
    { seed: SEED, numRuns: 200 },
  )
})

test('frame layout: channel_id ‖ frame_number u16 BE ‖ length u32 BE ‖ data ‖ is_last', () => {
  const frame: Frame = {
    channelId: Uint8Array.from({ length: 16 }, (_, i) => i),
    frameNumber: 0x0102,
    data: Uint8Array.of(0xaa, 0xbb, 0xcc),
    isLast: true,
  }
  assert.equal(
    Buffer.from(encodeFrame(frame)).toString('hex'),
    '000102030405060708090a0b0c0d0e0f' + '0102' + '00000003' + 'aabbcc' + '01',
  )
})

/** The error code parseBatcherData gives for `data`, or 'ok'. */
function outcome(data: Uint8Array): string {
  const parsed = parseBatcherData(data)
  return parsed.ok ? 'ok' : parsed.error.code
}

// The cases of ethereum-optimism/optimism op-node/rollup/derive/frame_test.go (no data, bad version,
// version only, truncation at every byte, invalid is_last) plus the length cap.
test('batcher data parsing follows op-node: version, truncation, is_last, length cap, all-or-nothing', () => {
  assert.equal(outcome(new Uint8Array(0)), 'empty-batcher-data')
  assert.equal(outcome(Uint8Array.of(1)), 'unknown-batcher-version')
  assert.equal(outcome(Uint8Array.of(0)), 'no-frames')
  const good: Frame = { channelId: new Uint8Array(16).fill(7), frameNumber: 0, data: Uint8Array.of(1, 2, 3), isLast: false }
  const encoded = encodeBatcherData([good])
  for (let cut = 2; cut < encoded.length; cut++)
    assert.equal(outcome(encoded.subarray(0, cut)), 'frame-truncated', `cut at ${cut}`)
  for (const bad of [2, 0xff]) {
    const copy = encoded.slice()
    copy[copy.length - 1] = bad
    assert.equal(outcome(copy), 'frame-bad-is-last')
  }
  // frame_data_length above 1,000,000 is refused before any data is read
  const huge = encoded.slice(0, 1 + 22)
  new DataView(huge.buffer).setUint32(1 + 18, MAX_FRAME_DATA_LENGTH + 1)
  assert.equal(outcome(huge), 'frame-too-large')
  // a good frame followed by a bad one: the whole transaction is rejected
  const twoFrames = encodeBatcherData([good, { ...good, frameNumber: 1 }])
  twoFrames[twoFrames.length - 1] = 3
  assert.equal(outcome(twoFrames), 'frame-bad-is-last')
  // trailing junk after a valid frame is a truncated second frame
  assert.equal(outcome(Uint8Array.from([...encoded, 0x42])), 'frame-truncated')
  // a frame of exactly 1,000,000 data bytes is fine
  assert.equal(outcome(encodeBatcherData([{ ...good, data: new Uint8Array(MAX_FRAME_DATA_LENGTH) }])), 'ok')
  assert.throws(() => encodeFrame({ ...good, data: new Uint8Array(MAX_FRAME_DATA_LENGTH + 1) }), DaCodecError)
  assert.throws(() => encodeFrame({ ...good, channelId: new Uint8Array(15) }), DaCodecError)
  assert.throws(() => encodeFrame({ ...good, frameNumber: 0x10000 }), DaCodecError)
})

test('parsing random bytes never throws and never hangs: a typed result every time', (t) => {
  t.diagnostic(`fast-check seed ${SEED}`)
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 600 }), fc.boolean(), (bytes, versioned) => {
      const data = versioned ? Uint8Array.from([0, ...bytes]) : bytes
      const parsed = parseBatcherData(data)
      if (!parsed.ok) assert.ok(parsed.error instanceof DaCodecError)
    }),
    { seed: SEED, numRuns: 5000 },
  )
  // Mutations of valid data (the likelier junk: a real batcher tx with a flipped byte).
  fc.assert(
    fc.property(
      fc.array(frameArb, { minLength: 1, maxLength: 3 }),
      fc.nat(),
      fc.integer({ min: 1, max: 255 }),
      (frames, at, flip) => {
        const data = encodeBatcherData(frames)
        data[at % data.length]! ^= flip
        const parsed = parseBatcherData(data)
        if (!parsed.ok) assert.ok(parsed.error instanceof DaCodecError)
      },
    ),
    { seed: SEED, numRuns: 2000 },
  )
})

test('channelToFrames numbers frames from 0, caps their data and closes the last', () => {
  const id = new Uint8Array(16).fill(9)
  const frames = channelToFrames(
    id,
    new Uint8Array(2500).map((_, i) => i & 0xff),
    1000,
  )
  assert.deepEqual(
    frames.map((f) => [f.frameNumber, f.data.length, f.isLast]),
    [
      [0, 1000, false],
      [1, 1000, false],
      [2, 500, true],
    ],
  )
  assert.deepEqual(
    channelToFrames(id, new Uint8Array(0), 1000).map((f) => [f.frameNumber, f.data.length, f.isLast]),
    [[0, 0, true]],
  )
  assert.throws(() => channelToFrames(id, new Uint8Array(10), 0), DaCodecError)
})
