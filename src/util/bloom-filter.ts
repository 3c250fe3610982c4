/**
 * A Bloom filter over keys that are already uniformly random (keccak256 hashes): no hashing is done,
 * the k bit positions come from the key's own bytes (Kirsch-Mitzenmacher double hashing: position
 * i = h1 + i·h2 mod m, with h1 and h2 read from the key's first 12 bytes). That is what makes it cheap
 * enough to hold every node of a state trie (`prune-state`'s mark phase): a lookup is a few array
 * reads.
 *
 * Answers "maybe" for every key added and, for other keys, "maybe" with the configured probability;
 * never a false "no". A caller that deletes what the filter does not hold therefore only ever keeps
 * a little too much.
 */

/** Bytes a key must have: h1 and h2 are 6 bytes each. */
const KEY_BYTES = 12

export class BloomFilter {
  private readonly bits: Uint8Array
  /** Bits in the filter (m). */
  readonly bitCount: number
  /** Positions set per key (k). */
  readonly hashCount: number

  constructor(bitCount: number, hashCount: number) {
    if (!Number.isSafeInteger(bitCount) || bitCount < 8) throw new RangeError(`bloom filter: ${bitCount} bits (at least 8)`)
    if (!Number.isInteger(hashCount) || hashCount < 1 || hashCount > 32)
      throw new RangeError(`bloom filter: ${hashCount} hash functions (1 to 32)`)
    this.bitCount = bitCount
    this.hashCount = hashCount
    this.bits = new Uint8Array(Math.ceil(bitCount / 8))
  }

  /**
   * A filter sized for `items` keys at false-positive rate `rate`: m = -n·ln p / ln²2 bits and
   * k = m/n·ln 2 positions, the optimum (1% costs 9.6 bits a key, 0.1% 14.4).
   */
  static forItems(items: number, rate: number): BloomFilter {
    if (!(rate > 0 && rate < 1)) throw new RangeError(`bloom filter: false-positive rate ${rate} (between 0 and 1)`)
    const n = Math.max(1, items)
    const bitCount = Math.max(8, Math.ceil((-n * Math.log(rate)) / (Math.LN2 * Math.LN2)))
    const hashCount = Math.min(32, Math.max(1, Math.round((bitCount / n) * Math.LN2)))
    return new BloomFilter(bitCount, hashCount)
  }

  /** Memory held by the bit array. */
  get byteLength(): number {
    return this.bits.length
  }

  add(key: Uint8Array): void {
    const [h1, h2] = this.seeds(key)
    for (let i = 0; i < this.hashCount; i++) {
      const bit = (h1 + i * h2) % this.bitCount
      this.bits[bit >>> 3]! |= 1 << (bit & 7)
    }
  }

  /** False only for keys never added. */
  has(key: Uint8Array): boolean {
    const [h1, h2] = this.seeds(key)
    for (let i = 0; i < this.hashCount; i++) {
      const bit = (h1 + i * h2) % this.bitCount
      if ((this.bits[bit >>> 3]! & (1 << (bit & 7))) === 0) return false
    }
    return true
  }

  /**
   * Two 48-bit integers from the key's first 12 bytes: with i < 32, h1 + i·h2 stays below 2^53 (exact
   * in a double), and 48 bits address any filter that fits in memory. h2 is made odd so that it is
   * never 0 (which would put all k positions on one bit).
   */
  private seeds(key: Uint8Array): [number, number] {
    if (key.length < KEY_BYTES) throw new RangeError(`bloom filter: a key of ${key.length} bytes (at least ${KEY_BYTES})`)
    let h1 = 0
    let h2 = 0
    for (let i = 0; i < 6; i++) {
      h1 = h1 * 256 + key[i]!
      h2 = h2 * 256 + key[i + 6]!
    }
    return [h1, h2 + (h2 % 2 === 0 ? 1 : 0)]
  }
}
