/**
 * keccak-256 of short inputs, remembered.
 *
 * The EVM hashes the same few short inputs over and over: every log's address and topics go
 * through keccak for the receipt's bloom (an ERC-20 Transfer is four hashes, a swap's four logs
 * about fourteen), and every `mapping` access hashes key ‖ slot (KECCAK256 on 64 bytes). Token
 * addresses, event signatures and busy holders repeat from one transaction to the next. A native
 * hash costs ~1.6 µs here, most of it the call into the addon; a hit costs a string key and a
 * lookup. Only ethereumjs' hook (`nativeCrypto.keccak256`) goes through this: long inputs (tx
 * signing payloads, trie nodes) are hashed directly.
 *
 * Bounded by two generations: lookups promote an entry from the previous generation, and a full
 * current generation becomes the previous one (so the working set stays, the rest ages out).
 */

/** Inputs up to this many bytes are cached: a `mapping` slot key (key ‖ slot) is 64. */
export const SHORT_INPUT_MAX_BYTES = 64
const GENERATION_ENTRIES = 32_768

/** Node's latin1 decoder, which takes any Uint8Array: a 64-byte key in ~0.05 µs, 4× `String.fromCharCode`. */
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice(this: Uint8Array, start: number, end: number): string })
  .latin1Slice

export class ShortKeccakCache {
  private current = new Map<string, Uint8Array>()
  private previous = new Map<string, Uint8Array>()

  constructor(
    private readonly hash: (data: Uint8Array) => Uint8Array,
    private readonly generationEntries = GENERATION_ENTRIES,
  ) {}

  /**
   * The digest of `data`, as a fresh array at offset 0 of its own buffer: callers may keep or
   * mutate it, and ethereumjs' bloom reads it through `new DataView(digest.buffer)`.
   */
  keccak256(data: Uint8Array): Uint8Array {
    if (data.length > SHORT_INPUT_MAX_BYTES) return this.hash(data)
    const key = latin1Slice.call(data, 0, data.length)
    let digest = this.current.get(key)
    if (digest === undefined) {
      digest = this.previous.get(key) ?? this.hash(data).slice()
      if (this.current.size >= this.generationEntries) {
        this.previous = this.current
        this.current = new Map()
      }
      this.current.set(key, digest)
    }
    return digest.slice()
  }
}
