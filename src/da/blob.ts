/**
 * Batcher data in EIP-4844 blobs (OP specs `derivation.md`, "Blob Encoding"; op-service `eth/blob.go`).
 *
 * A blob is 4096 field elements of 32 bytes; a field element must stay below the BLS modulus, so
 * its top two bits are never used. Data is laid out in 1024 rounds of 4 field elements carrying 127
 * bytes: each element's bytes 1–31 take 31 bytes, and the 4 × 6 low bits of the elements' first bytes
 * take 3 more (x, y, z). The stream so encoded is `version (0) ‖ length (u24 BE) ‖ data`, zero-padded,
 * so one blob carries at most 1024 × 127 − 4 = 130,044 bytes.
 *
 * Decoding refuses a version other than 0, a length above 130,044, a field element with a high bit
 * set, and any non-zero byte after the data.
 */
import { DaCodecError, type DaResult, tryDecode } from './errors.ts'

export const BLOB_SIZE = 4096 * 32
export const BLOB_ENCODING_VERSION = 0
const ROUNDS = 1024
/** 127 bytes per round of 4 field elements. */
const ROUND_BYTES = 4 * 31 + 3
const HEADER_BYTES = 4
export const MAX_BLOB_DATA_SIZE = ROUNDS * ROUND_BYTES - HEADER_BYTES

/** One blob holding `data` (≤ 130,044 bytes). @throws DaCodecError ('blob-input-too-large') */
export function encodeBlob(data: Uint8Array): Uint8Array {
  if (data.length > MAX_BLOB_DATA_SIZE)
    throw new DaCodecError('blob-input-too-large', `${data.length} bytes do not fit a blob (max ${MAX_BLOB_DATA_SIZE})`)
  const stream = new Uint8Array(HEADER_BYTES + data.length)
  stream[0] = BLOB_ENCODING_VERSION
  stream[1] = data.length >>> 16
  stream[2] = (data.length >>> 8) & 0xff
  stream[3] = data.length & 0xff
  stream.set(data, HEADER_BYTES)
  const blob = new Uint8Array(BLOB_SIZE)
  const rounds = Math.ceil(stream.length / ROUND_BYTES)
  for (let round = 0; round < rounds; round++) {
    const at = round * ROUND_BYTES
    const fe = round * 128
    // Stream bytes past the end read as 0 (subarray clips, `?? 0` for the single bytes).
    blob.set(stream.subarray(at, at + 31), fe + 1)
    const x = stream[at + 31] ?? 0
    blob.set(stream.subarray(at + 32, at + 63), fe + 33)
    const y = stream[at + 63] ?? 0
    blob.set(stream.subarray(at + 64, at + 95), fe + 65)
    const z = stream[at + 95] ?? 0
    blob.set(stream.subarray(at + 96, at + 127), fe + 97)
    blob[fe] = x & 0b0011_1111
    blob[fe + 32] = (y & 0b0000_1111) | ((x & 0b1100_0000) >> 2)
    blob[fe + 64] = z & 0b0011_1111
    blob[fe + 96] = ((z & 0b1100_0000) >> 2) | ((y & 0b1111_0000) >> 4)
  }
  return blob
}

/** The data a blob carries, or why it is not a valid encoding. Never throws. */
export function decodeBlob(blob: Uint8Array): DaResult<Uint8Array> {
  return tryDecode(() => {
    if (blob.length !== BLOB_SIZE) throw new DaCodecError('blob-bad-size', `blob of ${blob.length} bytes, expected ${BLOB_SIZE}`)
    if (blob[1] !== BLOB_ENCODING_VERSION) throw new DaCodecError('blob-bad-version', `blob encoding version ${blob[1]}`)
    const length = (blob[2]! << 16) | (blob[3]! << 8) | blob[4]!
    if (length > MAX_BLOB_DATA_SIZE)
      throw new DaCodecError('blob-bad-length', `blob announces ${length} bytes (max ${MAX_BLOB_DATA_SIZE})`)
    for (let fe = 0; fe < BLOB_SIZE; fe += 32) {
      if ((blob[fe]! & 0b1100_0000) !== 0)
        throw new DaCodecError('blob-bad-field-element', `field element ${fe / 32} has a high bit set`)
    }
    const stream = new Uint8Array(ROUNDS * ROUND_BYTES)
    for (let round = 0; round < ROUNDS; round++) {
      const at = round * ROUND_BYTES
      const fe = round * 128
      const [a, b, c, d] = [blob[fe]!, blob[fe + 32]!, blob[fe + 64]!, blob[fe + 96]!]
      stream.set(blob.subarray(fe + 1, fe + 32), at)
      stream[at + 31] = (a & 0b0011_1111) | ((b & 0b0011_0000) << 2)
      stream.set(blob.subarray(fe + 33, fe + 64), at + 32)
      stream[at + 63] = (b & 0b0000_1111) | ((d & 0b0000_1111) << 4)
      stream.set(blob.subarray(fe + 65, fe + 96), at + 64)
      stream[at + 95] = (c & 0b0011_1111) | ((d & 0b0011_0000) << 2)
      stream.set(blob.subarray(fe + 97, fe + 128), at + 96)
    }
    const end = HEADER_BYTES + length
    for (let i = end; i < stream.length; i++) {
      if (stream[i] !== 0)
        throw new DaCodecError('blob-extraneous-data', `non-zero byte ${i - HEADER_BYTES} after ${length} bytes of data`)
    }
    return stream.slice(HEADER_BYTES, end)
  })
}
