/**
 * Trie leaves collected in any order and given back sorted by key: what a streaming trie builder needs
 * from a genesis alloc, whose accounts come in file order but enter the trie in keccak(address) order.
 *
 * Packed, not one object per leaf: ten million accounts as `{ key, value }` pairs of Uint8Arrays would
 * cost ~300 B of heap each; here they cost their bytes (32-byte key, 4-byte length, value) in chunks of
 * up to 64 MiB, plus 14 B of index. Keys must be 32 bytes (hashed keys, as the state trie's).
 */
const KEY_BYTES = 32
/** Chunks start small (a dev genesis is a few KB) and double up to this size. */
const FIRST_CHUNK_BYTES = 64 * 1024
const CHUNK_BYTES = 64 * 1024 * 1024

/** Buckets of `order`'s first pass: one per value of a key's first two bytes. */
const BUCKETS = 65_536

/** A key's bucket from its 6-byte prefix (`prefixOf`): its first two bytes. */
function bucketOf(prefix: number): number {
  return Math.floor(prefix / 2 ** 32)
}

export class SortedLeaves {
  private readonly chunks: Uint8Array[] = []
  private chunk = new Uint8Array(0)
  private used = 0
  /** Per leaf: its chunk and offset, and the first 6 bytes of its key as a number (most comparisons stop there). */
  private chunkOf = new Uint16Array(1024)
  private offsetOf = new Uint32Array(1024)
  private prefixOf = new Float64Array(1024)
  private count = 0

  get size(): number {
    return this.count
  }

  add(key: Uint8Array, value: Uint8Array): void {
    if (key.length !== KEY_BYTES) throw new RangeError(`a sorted leaf key is ${KEY_BYTES} bytes, got ${key.length}`)
    const bytes = KEY_BYTES + 4 + value.length
    if (bytes > CHUNK_BYTES) throw new RangeError(`a leaf of ${bytes} bytes does not fit a chunk`)
    if (this.used + bytes > this.chunk.length) {
      this.chunk = new Uint8Array(Math.max(bytes, Math.min(CHUNK_BYTES, Math.max(FIRST_CHUNK_BYTES, this.chunk.length * 2))))
      this.chunks.push(this.chunk)
      this.used = 0
    }
    if (this.count === this.offsetOf.length) this.grow()
    const at = this.used
    this.chunk.set(key, at)
    new DataView(this.chunk.buffer, at + KEY_BYTES, 4).setUint32(0, value.length)
    this.chunk.set(value, at + KEY_BYTES + 4)
    this.used += bytes
    this.chunkOf[this.count] = this.chunks.length - 1
    this.offsetOf[this.count] = at
    this.prefixOf[this.count] =
      key[0]! * 2 ** 40 + key[1]! * 2 ** 32 + key[2]! * 2 ** 24 + ((key[3]! << 16) | (key[4]! << 8) | key[5]!)
    this.count++
  }

  /**
   * The leaves in ascending key order (key, value: views into the packed chunks, valid while this
   * object lives). A key added twice is an error: a trie holds one value per key.
   */
  *sorted(): IterableIterator<[Uint8Array, Uint8Array]> {
    const order = this.order()
    for (let i = 0; i < order.length; i++) {
      const leaf = order[i]!
      if (i > 0 && this.compareKeys(order[i - 1]!, leaf) === 0)
        throw new RangeError(`a key was added twice: ${this.hexKey(leaf)}`)
      const chunk = this.chunks[this.chunkOf[leaf]!]!
      const at = this.offsetOf[leaf]!
      const length = new DataView(chunk.buffer, at + KEY_BYTES, 4).getUint32(0)
      yield [chunk.subarray(at, at + KEY_BYTES), chunk.subarray(at + KEY_BYTES + 4, at + KEY_BYTES + 4 + length)]
    }
  }

  /**
   * Leaf indices in key order: counted into buckets by the key's first two bytes, then each bucket
   * sorted by comparison. Hashed keys spread evenly, so at 10M leaves a bucket holds ~150 and the
   * comparisons are a third of one sort over all of them.
   */
  private order(): Uint32Array {
    const count = this.count
    const starts = new Uint32Array(BUCKETS + 1)
    for (let i = 0; i < count; i++) starts[bucketOf(this.prefixOf[i]!) + 1]!++
    for (let b = 0; b < BUCKETS; b++) starts[b + 1]! += starts[b]!
    const next = starts.slice(0, BUCKETS)
    const order = new Uint32Array(count)
    for (let i = 0; i < count; i++) order[next[bucketOf(this.prefixOf[i]!)]!++] = i
    const compare = (a: number, b: number): number => this.prefixOf[a]! - this.prefixOf[b]! || this.compareKeys(a, b)
    for (let b = 0; b < BUCKETS; b++)
      if (starts[b + 1]! - starts[b]! > 1) order.subarray(starts[b]!, starts[b + 1]!).sort(compare)
    return order
  }

  private compareKeys(a: number, b: number): number {
    const ca = this.chunks[this.chunkOf[a]!]!
    const cb = this.chunks[this.chunkOf[b]!]!
    const oa = this.offsetOf[a]!
    const ob = this.offsetOf[b]!
    for (let i = 0; i < KEY_BYTES; i++) {
      const d = ca[oa + i]! - cb[ob + i]!
      if (d !== 0) return d
    }
    return 0
  }

  private hexKey(leaf: number): string {
    const at = this.offsetOf[leaf]!
    return Buffer.from(this.chunks[this.chunkOf[leaf]!]!.subarray(at, at + KEY_BYTES)).toString('hex')
  }

  private grow(): void {
    const capacity = this.offsetOf.length * 2
    const chunkOf = new Uint16Array(capacity)
    chunkOf.set(this.chunkOf)
    const offsetOf = new Uint32Array(capacity)
    offsetOf.set(this.offsetOf)
    const prefixOf = new Float64Array(capacity)
    prefixOf.set(this.prefixOf)
    this.chunkOf = chunkOf
    this.offsetOf = offsetOf
    this.prefixOf = prefixOf
  }
}
