/**
 * One error class for every DA codec (frames, channels, compression, batches, blobs). Data from L1 is
 * untrusted: parsers return these (or throw only these), with a `code` the derivation pipeline can
 * count and log before it skips the data, as op-node's rules say.
 */
import { NodeError } from '../primitives/errors.ts'
export type DaCodecErrorCode =
  // batcher transactions and frames
  | 'empty-batcher-data'
  | 'unknown-batcher-version'
  | 'frame-truncated'
  | 'frame-too-large'
  | 'frame-bad-is-last'
  | 'no-frames'
  // channels and compression
  | 'channel-too-large'
  | 'unknown-compression'
  | 'brotli-before-fjord'
  | 'decompression-failed'
  // batches
  | 'batch-malformed'
  | 'unknown-batch-type'
  | 'span-batch-empty'
  | 'span-batch-too-big'
  | 'span-batch-bad-tx'
  // blobs
  | 'blob-bad-size'
  | 'blob-bad-version'
  | 'blob-bad-length'
  | 'blob-bad-field-element'
  | 'blob-extraneous-data'
  | 'blob-input-too-large'
  // encoder inputs that cannot be represented
  | 'bad-input'

export class DaCodecError extends NodeError<DaCodecErrorCode, undefined> {
  override name = 'DaCodecError'
}

/** A parse that never throws: data from strangers comes back as a value the caller logs and skips. */
export type DaResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: DaCodecError }

/** Runs `parse` and turns a `DaCodecError` into a failed result; any other error is a bug and propagates. */
export function tryDecode<T>(parse: () => T): DaResult<T> {
  try {
    return { ok: true, value: parse() }
  } catch (error) {
    if (error instanceof DaCodecError) return { ok: false, error }
    throw error
  }
}
