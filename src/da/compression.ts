/**
 * Channel compression (OP specs: `derivation.md` "Channel Format", `fjord/derivation.md` "Brotli
 * Channel Compression"; op-node `rollup/derive/channel.go` `BatchReader`).
 *
 * A channel is either legacy zlib (RFC 1950, recognised by its header's low nibble, CM = 8 or 15) or
 * versioned: `channel_version_byte ‖ compress(…)`, where version 1 is Brotli (RFC 7932, no
 * dictionary), accepted from Fjord on. Node's zlib does both, natively.
 *
 * Decompression is bounded: the output may not exceed `maxBytes` (OP's `MAX_RLP_BYTES_PER_CHANNEL`,
 * 100,000,000 since Fjord), enforced by zlib's `maxOutputLength` while it inflates, so a bomb (50 MB
 * of zeros brotli-compress to 80 bytes) stops at the bound instead of allocating its full size. A
 * truncated stream yields what it decoded so far (`finishFlush`), as op-node's streaming reader does.
 */
import { brotliCompress, brotliCompressSync, brotliDecompressSync, constants, deflate, deflateSync, inflateSync } from 'node:zlib'
import { DaCodecError, type DaResult } from './errors.ts'

export const CHANNEL_VERSION_BROTLI = 1
/** `MAX_RLP_BYTES_PER_CHANNEL` since Fjord. */
export const MAX_RLP_BYTES_PER_CHANNEL = 100_000_000

export type CompressionAlgorithm = 'zlib' | 'brotli'

export interface CompressOptions {
  readonly algorithm: CompressionAlgorithm
  /** Brotli quality 0–11 (op-batcher offers 9, 10, 11) or zlib level 0–9. Default: brotli 10, zlib 9. */
  readonly level?: number
}

/** Compresses a channel's RLP batch stream; Brotli output carries the leading version byte 1. */
export function compressChannel(rlpBatches: Uint8Array, options: CompressOptions): Uint8Array {
  if (options.algorithm === 'zlib') return new Uint8Array(deflateSync(rlpBatches, { level: options.level ?? 9 }))
  const body = brotliCompressSync(rlpBatches, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: options.level ?? 10,
      [constants.BROTLI_PARAM_SIZE_HINT]: rlpBatches.length,
    },
  })
  const out = new Uint8Array(1 + body.length)
  out[0] = CHANNEL_VERSION_BROTLI
  out.set(body, 1)
  return out
}

/**
 * `compressChannel` on libuv's thread pool: the same bytes, without blocking the event loop (Brotli
 * at quality 9–10 takes ~0.5 s per 120 KB of channel, seconds for a 6-blob channel; the batcher runs
 * inside the sequencer, whose mini-block loop must not stall).
 */
export function compressChannelAsync(rlpBatches: Uint8Array, options: CompressOptions): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    if (options.algorithm === 'zlib') {
      deflate(rlpBatches, { level: options.level ?? 9 }, (error, out) => (error ? reject(error) : resolve(new Uint8Array(out))))
      return
    }
    const params = {
      [constants.BROTLI_PARAM_QUALITY]: options.level ?? 10,
      [constants.BROTLI_PARAM_SIZE_HINT]: rlpBatches.length,
    }
    brotliCompress(rlpBatches, { params }, (error, body) => {
      if (error) return reject(error)
      const out = new Uint8Array(1 + body.length)
      out[0] = CHANNEL_VERSION_BROTLI
      out.set(body, 1)
      resolve(out)
    })
  })
}

export interface DecompressOptions {
  /** The bound on the decompressed size (`MAX_RLP_BYTES_PER_CHANNEL`). */
  readonly maxBytes: number
  /** Whether Fjord is active for the channel's L1 block (Brotli is refused before). */
  readonly fjord: boolean
}

export interface DecompressedChannel {
  readonly algorithm: CompressionAlgorithm
  readonly rlpBatches: Uint8Array
}

/** Detects the compression and decompresses within the bound. Never throws for bad input. */
export function decompressChannel(channel: Uint8Array, options: DecompressOptions): DaResult<DecompressedChannel> {
  const first = channel[0]
  if (first === undefined) return failure('unknown-compression', 'empty channel')
  const nibble = first & 0x0f
  const bounded = { maxOutputLength: Math.max(1, options.maxBytes) }
  try {
    if (nibble === 8 || nibble === 15) {
      const rlpBatches = inflateSync(channel, { ...bounded, finishFlush: constants.Z_SYNC_FLUSH })
      return {
        ok: true,
        value: { algorithm: 'zlib', rlpBatches: new Uint8Array(rlpBatches.buffer, rlpBatches.byteOffset, rlpBatches.length) },
      }
    }
    if (first === CHANNEL_VERSION_BROTLI) {
      if (!options.fjord) return failure('brotli-before-fjord', 'Brotli channel before Fjord')
      const rlpBatches = brotliDecompressSync(channel.subarray(1), { ...bounded, finishFlush: constants.BROTLI_OPERATION_FLUSH })
      return {
        ok: true,
        value: { algorithm: 'brotli', rlpBatches: new Uint8Array(rlpBatches.buffer, rlpBatches.byteOffset, rlpBatches.length) },
      }
    }
  } catch (error) {
    const code = (error as { code?: unknown }).code
    if (code === 'ERR_BUFFER_TOO_LARGE')
      return failure('channel-too-large', `channel decompresses to more than ${options.maxBytes} bytes`)
    return failure('decompression-failed', `corrupt compressed channel: ${(error as Error).message}`)
  }
  return failure('unknown-compression', `unknown channel compression byte 0x${first.toString(16).padStart(2, '0')}`)
}

function failure(
  code: 'unknown-compression' | 'brotli-before-fjord' | 'channel-too-large' | 'decompression-failed',
  message: string,
): DaResult<never> {
  return { ok: false, error: new DaCodecError(code, message) }
}
