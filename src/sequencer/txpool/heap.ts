/**
 * A binary heap whose items record their own position, so an item can be removed or re-keyed in
 * O(log n) after its priority changes (the tx pool re-keys a sender whenever its head tx changes).
 */
export interface HeapSlot<T> {
  get(item: T): number
  set(item: T, index: number): void
}

export class IndexedHeap<T> {
  private readonly items: T[] = []

  /**
   * @param before true when `a` must come out before `b`
   * @param slot where each item keeps its index (-1 when not in the heap)
   */
  constructor(
    private readonly before: (a: T, b: T) => boolean,
    private readonly slot: HeapSlot<T>,
  ) {}

  get size(): number {
    return this.items.length
  }

  peek(): T | undefined {
    return this.items[0]
  }

  has(item: T): boolean {
    const i = this.slot.get(item)
    return i >= 0 && this.items[i] === item
  }

  push(item: T): void {
    this.items.push(item)
    this.slot.set(item, this.items.length - 1)
    this.up(this.items.length - 1)
  }

  pop(): T | undefined {
    const top = this.items[0]
    if (top !== undefined) this.removeAt(0)
    return top
  }

  remove(item: T): boolean {
    if (!this.has(item)) return false
    this.removeAt(this.slot.get(item))
    return true
  }

  /** Restores heap order after `item`'s priority changed. */
  update(item: T): void {
    const i = this.slot.get(item)
    if (!this.down(i)) this.up(i)
  }

  /** Restores heap order after many priorities changed at once: O(n). */
  rebuild(): void {
    for (let i = (this.items.length >> 1) - 1; i >= 0; i--) this.down(i)
  }

  /** The items, in heap (not priority) order. */
  values(): readonly T[] {
    return this.items
  }

  private removeAt(i: number): void {
    const items = this.items
    const removed = items[i]!
    const last = items.pop()!
    this.slot.set(removed, -1)
    if (i === items.length) return
    items[i] = last
    this.slot.set(last, i)
    if (!this.down(i)) this.up(i)
  }

  private up(i: number): void {
    const items = this.items
    const item = items[i]!
    while (i > 0) {
      const parent = (i - 1) >> 1
      const p = items[parent]!
      if (!this.before(item, p)) break
      items[i] = p
      this.slot.set(p, i)
      i = parent
    }
    items[i] = item
    this.slot.set(item, i)
  }

  /** @returns whether the item moved */
  private down(start: number): boolean {
    const items = this.items
    const n = items.length
    const item = items[start]!
    let i = start
    for (;;) {
      const left = 2 * i + 1
      if (left >= n) break
      const right = left + 1
      const child = right < n && this.before(items[right]!, items[left]!) ? right : left
      const c = items[child]!
      if (!this.before(c, item)) break
      items[i] = c
      this.slot.set(c, i)
      i = child
    }
    items[i] = item
    this.slot.set(item, i)
    return i !== start
  }
}
