/**
 * A bounded map that keeps what is used: two generations of at most `generationEntries` each. A hit in
 * the previous generation is promoted to the current one; a full current generation becomes the
 * previous one and the old previous generation is dropped whole. An O(1) approximation of LRU with no
 * per-hit reordering: the working set survives every turnover, the rest ages out within two.
 */
export class TwoGenerationCache<K, V> {
  private current = new Map<K, V>()
  private previous = new Map<K, V>()

  constructor(private readonly generationEntries: number) {
    if (!(generationEntries >= 1)) throw new RangeError(`a cache generation needs at least one entry, got ${generationEntries}`)
  }

  /** The cached value, or undefined when absent (cache `null` to remember an absence). */
  get(key: K): V | undefined {
    const value = this.current.get(key)
    if (value !== undefined) return value
    const aged = this.previous.get(key)
    if (aged !== undefined) this.set(key, aged)
    return aged
  }

  set(key: K, value: V): void {
    if (this.current.size >= this.generationEntries && !this.current.has(key)) {
      this.previous = this.current
      this.current = new Map()
    }
    this.current.set(key, value)
  }

  delete(key: K): void {
    this.current.delete(key)
    this.previous.delete(key)
  }

  /** Entries held, both generations (a key in both counts twice: an upper bound). */
  get size(): number {
    return this.current.size + this.previous.size
  }

  clear(): void {
    this.current.clear()
    this.previous.clear()
  }
}
