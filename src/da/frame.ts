/**
 * Channel frames and batcher transaction data (OP specs, `specs/protocol/derivation.md`, "Batcher
 * Transaction Format" and "Frame Format"; op-node `rollup/derive/frame.go`):
 *
 *   batcher data = version_byte (0) ‖ frame ‖ frame ‖ …
 *   frame        = channel_id (16) ‖ frame_number (u16 BE) ‖ frame_data_length (u32 BE) ‖ frame_data ‖ is_last (0|1)
 *
 * A batcher transaction is all-or-nothing: one malformed frame (truncated, data longer than
 * 1,000,000 bytes, is_last not 0 or 1) rejects every frame of that transaction, and so does an empty
 * payload or an unknown version byte.
 */
import { DaCodecError, type DaResult, tryDecode } from './errors.ts'

export const CHANNEL_ID_LENGTH = 16
/** `MaxFrameLen`: the cap on `frame_data_length`. */
export const MAX_FRAME_DATA_LENGTH = 1_000_000
/** channel_id + frame_number + frame_data_length + is_last. */
export const FRAME_OVERHEAD = CHANNEL_ID_LENGTH + 2 + 4 + 1
/** The only batcher data version for frames (1 is alt-DA commitments, which we do not read). */
export const BATCHER_DATA_VERSION_FRAMES = 0

export interface Frame {
  /** 16 bytes. */
  readonly channelId: Uint8Array
  /** uint16. */
  readonly frameNumber: number
  readonly data: Uint8Array
  readonly isLast: boolean
}

/** The frame's wire bytes. @throws DaCodecError for fields out of range */
export function encodeFrame(frame: Frame): Uint8Array {
  const out = new Uint8Array(FRAME_OVERHEAD + frame.data.length)
  writeFrame(out, 0, frame)
  return out
}

/** `0 ‖ frames…`: the calldata (or blob payload) of one batcher transaction. @throws DaCodecError */
export function encodeBatcherData(frames: readonly Frame[]): Uint8Array {
  if (frames.length === 0) throw new DaCodecError('bad-input', 'a batcher transaction carries at least one frame')
  let size = 1
  for (const frame of frames) size += FRAME_OVERHEAD + frame.data.length
  const out = new Uint8Array(size)
  out[0] = BATCHER_DATA_VERSION_FRAMES
  let pos = 1
  for (const frame of frames) pos = writeFrame(out, pos, frame)
  return out
}

/** Every frame of a batcher transaction's data, or the reason the whole transaction is ignored. Never throws. */
export function parseBatcherData(data: Uint8Array): DaResult<Frame[]> {
  return tryDecode(() => {
    if (data.length === 0) throw new DaCodecError('empty-batcher-data', 'batcher data is empty')
    if (data[0] !== BATCHER_DATA_VERSION_FRAMES)
      throw new DaCodecError('unknown-batcher-version', `unknown batcher data version ${data[0]}`)
    const frames: Frame[] = []
    let pos = 1
    while (pos < data.length) {
      const [frame, next] = readFrame(data, pos, frames.length)
      frames.push(frame)
      pos = next
    }
    if (frames.length === 0) throw new DaCodecError('no-frames', 'batcher data holds no frame')
    return frames
  })
}

/** Reads the frame at `pos`; returns it (its data a copy, so the input can be released) and the position after it. */
function readFrame(data: Uint8Array, pos: number, index: number): [Frame, number] {
  const headerEnd = pos + CHANNEL_ID_LENGTH + 6
  if (headerEnd > data.length) throw new DaCodecError('frame-truncated', `frame ${index}: header truncated`)
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  const frameNumber = view.getUint16(pos + CHANNEL_ID_LENGTH)
  const length = view.getUint32(pos + CHANNEL_ID_LENGTH + 2)
  if (length > MAX_FRAME_DATA_LENGTH)
    throw new DaCodecError('frame-too-large', `frame ${index}: frame_data_length ${length} > ${MAX_FRAME_DATA_LENGTH}`)
  const dataEnd = headerEnd + length
  if (dataEnd + 1 > data.length)
    throw new DaCodecError(
      'frame-truncated',
      `frame ${index}: ${length} bytes of data announced, ${data.length - headerEnd} left`,
    )
  const isLast = data[dataEnd]!
  if (isLast > 1) throw new DaCodecError('frame-bad-is-last', `frame ${index}: is_last byte ${isLast}`)
  const frame: Frame = {
    channelId: data.slice(pos, pos + CHANNEL_ID_LENGTH),
    frameNumber,
    data: data.slice(headerEnd, dataEnd),
    isLast: isLast === 1,
  }
  return [frame, dataEnd + 1]
}

function writeFrame(out: Uint8Array, pos: number, frame: Frame): number {
  if (frame.channelId.length !== CHANNEL_ID_LENGTH)
    throw new DaCodecError('bad-input', `channel id of ${frame.channelId.length} bytes`)
  if (!Number.isInteger(frame.frameNumber) || frame.frameNumber < 0 || frame.frameNumber > 0xffff) {
    throw new DaCodecError('bad-input', `frame number ${frame.frameNumber} is not a uint16`)
  }
  if (frame.data.length > MAX_FRAME_DATA_LENGTH)
    throw new DaCodecError('bad-input', `frame data of ${frame.data.length} bytes > ${MAX_FRAME_DATA_LENGTH}`)
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength)
  out.set(frame.channelId, pos)
  view.setUint16(pos + CHANNEL_ID_LENGTH, frame.frameNumber)
  view.setUint32(pos + CHANNEL_ID_LENGTH + 2, frame.data.length)
  out.set(frame.data, pos + CHANNEL_ID_LENGTH + 6)
  const end = pos + CHANNEL_ID_LENGTH + 6 + frame.data.length
  out[end] = frame.isLast ? 1 : 0
  return end + 1
}

/**
 * Splits a compressed channel into frames of at most `maxFrameDataLength` data bytes each, numbered
 * from 0, the last one closing the channel (an empty channel still yields one closing frame).
 */
export function channelToFrames(channelId: Uint8Array, channelData: Uint8Array, maxFrameDataLength: number): Frame[] {
  if (!Number.isInteger(maxFrameDataLength) || maxFrameDataLength < 1 || maxFrameDataLength > MAX_FRAME_DATA_LENGTH) {
    throw new DaCodecError('bad-input', `frame data size ${maxFrameDataLength} outside [1, ${MAX_FRAME_DATA_LENGTH}]`)
  }
  const count = Math.max(1, Math.ceil(channelData.length / maxFrameDataLength))
  if (count > 0x10000) throw new DaCodecError('bad-input', `channel needs ${count} frames, more than a uint16 numbers`)
  return Array.from({ length: count }, (_, i) => ({
    channelId,
    frameNumber: i,
    data: channelData.subarray(i * maxFrameDataLength, (i + 1) * maxFrameDataLength),
    isLast: i === count - 1,
  }))
}
