/**
 * Channels: frames in, compressed channel data out (assembly), and the batch stream inside a channel.
 *
 * Assembly follows Holocene's strict ordering (OP specs `holocene/derivation.md`, "Frame Queue" and
 * "Channel Bank"; op-node `rollup/derive/frame_queue.go`, `channel_assembler.go`), in two steps per
 * batcher transaction:
 * - the frame queue prunes the transaction's frames among themselves: a frame after a closing frame
 *   of its channel, or not numbered one past its predecessor of the same channel, is dropped; a
 *   non-first frame of another channel is dropped; a first frame of another channel drops the
 *   unclosed frames before it;
 * - the assembler keeps at most one staging channel: a frame numbered 0 always opens a new channel,
 *   dropping an incomplete one; any other frame must be the staging channel's next one (same id,
 *   number = frames so far) or it is dropped; the closing frame completes the channel. The staging
 *   channel times out when the current L1 block is more than `channelTimeout` blocks past the block
 *   that opened it, and is dropped once its frames weigh more than `maxRlpBytesPerChannel` (frame
 *   data + 200 bytes each, op-node's `frameSize`).
 *
 * Channel content (`derivation.md`, "Channel Format"): `compress(rlp(batch₀) ‖ rlp(batch₁) ‖ …)`,
 * each batch an RLP byte string holding `batch_type ‖ content`.
 */
import { RLP } from '@ethereumjs/rlp'
import { concatBytes } from '@ethereumjs/util'
import {
  type CompressOptions,
  compressChannel,
  type DecompressOptions,
  decompressChannel,
  type CompressionAlgorithm,
} from './compression.ts'
import { DaCodecError, tryDecode } from './errors.ts'
import type { Frame } from './frame.ts'
import { rlpItemSpan } from './rlp-items.ts'

/** op-node's per-frame overhead when it weighs a channel (`frameOverhead`). */
export const CHANNEL_FRAME_WEIGHT_OVERHEAD = 200

export interface ChannelAssemblyParams {
  /** `channel_timeout` in L1 blocks (50 on OP mainnet since Granite). */
  readonly channelTimeout: number
  /** `MAX_RLP_BYTES_PER_CHANNEL`, which Holocene also applies to the staging channel's compressed size. */
  readonly maxRlpBytesPerChannel: number
}

/** The channel being assembled. Immutable: every step returns a new value. */
export interface StagingChannel {
  readonly id: Uint8Array
  /** The L1 block whose data held the channel's first frame. */
  readonly openL1Block: number
  readonly frames: readonly Uint8Array[]
  /** Frame data plus `CHANNEL_FRAME_WEIGHT_OVERHEAD` per frame. */
  readonly weight: number
}

/** A channel whose frames all arrived, in order: its compressed data, ready to decompress. */
export interface ReadyChannel {
  readonly id: Uint8Array
  readonly openL1Block: number
  readonly data: Uint8Array
}

export type ChannelEvent =
  | { readonly kind: 'ready'; readonly channel: ReadyChannel }
  | { readonly kind: 'channel-dropped'; readonly id: Uint8Array; readonly reason: 'timed-out' | 'replaced' | 'too-large' }
  | {
      readonly kind: 'frame-dropped'
      readonly frame: Frame
      /** `superseded`: an unclosed frame followed, in its transaction, by the first frame of another channel. */
      readonly reason: 'no-channel' | 'other-channel' | 'out-of-order' | 'superseded'
    }

export interface AssemblyStep {
  readonly staging: StagingChannel | undefined
  readonly events: readonly ChannelEvent[]
}

/**
 * Feeds the frames of one batcher transaction, read from the data of L1 block `l1Block`, to the
 * assembly. Transactions must be fed in L1 order; the frame-queue pruning applies within each one.
 */
export function assembleFrames(
  staging: StagingChannel | undefined,
  frames: readonly Frame[],
  l1Block: number,
  params: ChannelAssemblyParams,
): AssemblyStep {
  const events: ChannelEvent[] = []
  let current = staging
  for (const frame of pruneTxFrames(frames, events)) current = assembleFrame(current, frame, l1Block, params, events)
  return { staging: current, events }
}

/**
 * op-node's Holocene `pruneFrameQueue` over one transaction's frames (its frame queue loads one
 * transaction at a time): the frames that survive, in order; the others are reported in `events`.
 */
export function pruneTxFrames(frames: readonly Frame[], events: ChannelEvent[] = []): Frame[] {
  const kept = [...frames]
  for (let i = 0; i < kept.length - 1; ) {
    const current = kept[i]!
    const next = kept[i + 1]!
    if (sameId(current.channelId, next.channelId)) {
      if (current.isLast || next.frameNumber !== current.frameNumber + 1) {
        events.push({ kind: 'frame-dropped', frame: next, reason: 'out-of-order' })
        kept.splice(i + 1, 1)
        continue
      }
    } else if (next.frameNumber === 0 && !current.isLast) {
      events.push({ kind: 'frame-dropped', frame: current, reason: 'superseded' })
      kept.splice(i, 1)
      // the unclosed channel's earlier frames go too
      if (i > 0) i--
      continue
    } else if (next.frameNumber !== 0) {
      events.push({ kind: 'frame-dropped', frame: next, reason: 'other-channel' })
      kept.splice(i + 1, 1)
      continue
    }
    i++
  }
  return kept
}

function assembleFrame(
  staging: StagingChannel | undefined,
  frame: Frame,
  l1Block: number,
  params: ChannelAssemblyParams,
  events: ChannelEvent[],
): StagingChannel | undefined {
  let current = expireChannel(staging, l1Block, params, events)
  if (frame.frameNumber === 0) {
    if (current !== undefined) events.push({ kind: 'channel-dropped', id: current.id, reason: 'replaced' })
    current = { id: frame.channelId, openL1Block: l1Block, frames: [], weight: 0 }
  } else if (current === undefined) {
    events.push({ kind: 'frame-dropped', frame, reason: 'no-channel' })
    return undefined
  } else if (!sameId(current.id, frame.channelId)) {
    events.push({ kind: 'frame-dropped', frame, reason: 'other-channel' })
    return current
  } else if (frame.frameNumber !== current.frames.length) {
    events.push({ kind: 'frame-dropped', frame, reason: 'out-of-order' })
    return current
  }
  const next: StagingChannel = {
    ...current,
    frames: [...current.frames, frame.data],
    weight: current.weight + frame.data.length + CHANNEL_FRAME_WEIGHT_OVERHEAD,
  }
  if (next.weight > params.maxRlpBytesPerChannel) {
    events.push({ kind: 'channel-dropped', id: next.id, reason: 'too-large' })
    return undefined
  }
  if (!frame.isLast) return next
  events.push({ kind: 'ready', channel: { id: next.id, openL1Block: next.openL1Block, data: concatBytes(...next.frames) } })
  return undefined
}

/** Drops the staging channel if it timed out by L1 block `l1Block`; the pipeline also calls it when an L1 block brings no frame. */
export function expireChannel(
  staging: StagingChannel | undefined,
  l1Block: number,
  params: ChannelAssemblyParams,
  events: ChannelEvent[] = [],
): StagingChannel | undefined {
  if (staging === undefined || staging.openL1Block + params.channelTimeout >= l1Block) return staging
  events.push({ kind: 'channel-dropped', id: staging.id, reason: 'timed-out' })
  return undefined
}

/** `compress(rlp(batch₀) ‖ rlp(batch₁) ‖ …)` of encoded batches (`batch_type ‖ content` each). */
export function encodeChannel(batches: readonly Uint8Array[], compression: CompressOptions): Uint8Array {
  return compressChannel(encodeBatchStream(batches), compression)
}

/** The uncompressed channel content: each encoded batch as an RLP byte string, concatenated. */
export function encodeBatchStream(batches: readonly Uint8Array[]): Uint8Array {
  return concatBytes(...batches.map((batch) => RLP.encode(batch)))
}

export interface DecodedChannel {
  readonly algorithm: CompressionAlgorithm | undefined
  /** The encoded batches (`batch_type ‖ content`) read before the end of the stream or the first fault. */
  readonly batches: Uint8Array[]
  /** Why reading stopped early, if it did: the batches before it stand, as in op-node's streaming reader. */
  readonly error: DaCodecError | undefined
}

/** Decompresses a ready channel and splits it into encoded batches. Never throws for bad input. */
export function decodeChannel(data: Uint8Array, options: DecompressOptions): DecodedChannel {
  const decompressed = decompressChannel(data, options)
  if (!decompressed.ok) return { algorithm: undefined, batches: [], error: decompressed.error }
  const { batches, error } = readBatchStream(decompressed.value.rlpBatches)
  return { algorithm: decompressed.value.algorithm, batches, error }
}

/** Reads consecutive RLP byte strings until the end or the first malformed item (a list, a bad length, truncation). */
export function readBatchStream(stream: Uint8Array): { batches: Uint8Array[]; error: DaCodecError | undefined } {
  const batches: Uint8Array[] = []
  let pos = 0
  while (pos < stream.length) {
    const item = tryDecode(() => rlpItemSpan(stream, pos, Number.MAX_SAFE_INTEGER, `batch at offset ${pos}`))
    if (!item.ok) return { batches, error: item.error }
    if (item.value.kind === 'list')
      return { batches, error: new DaCodecError('batch-malformed', `batch at offset ${pos} is an RLP list, not a string`) }
    batches.push(stream.slice(item.value.start, item.value.end))
    pos = item.value.end
  }
  return { batches, error: undefined }
}

function sameId(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
