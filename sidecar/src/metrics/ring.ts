/**
 * Fixed-capacity ring buffer: once full, each push overwrites the oldest item. Push is O(1) and
 * allocates nothing, so it can sit on paths that run for every sample or every HTTP exchange.
 */
export class Ring<T> {
  private readonly slots: (T | undefined)[];
  /** Index of the oldest item. */
  private head = 0;
  private count = 0;
  private overwrittenCount = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring capacity must be a positive integer, got ${capacity}`);
    this.slots = new Array<T | undefined>(capacity).fill(undefined);
  }

  get size(): number {
    return this.count;
  }

  get full(): boolean {
    return this.count === this.capacity;
  }

  /** Items overwritten because the ring was full, since construction or the last clear(). */
  get overwritten(): number {
    return this.overwrittenCount;
  }

  push(item: T): void {
    if (this.count < this.capacity) {
      this.slots[(this.head + this.count) % this.capacity] = item;
      this.count++;
      return;
    }
    this.slots[this.head] = item;
    this.head = (this.head + 1) % this.capacity;
    this.overwrittenCount++;
  }

  /** The newest item, if any. */
  last(): T | undefined {
    return this.count === 0 ? undefined : this.slots[(this.head + this.count - 1) % this.capacity];
  }

  /** Every item, oldest first. */
  toArray(): T[] {
    return this.newest(this.count);
  }

  /** The newest `n` items (fewer when the ring holds fewer), oldest first. */
  newest(n: number): T[] {
    const take = Math.max(0, Math.min(Math.floor(n), this.count));
    const out = new Array<T>(take);
    const first = this.head + this.count - take;
    for (let i = 0; i < take; i++) out[i] = this.slots[(first + i) % this.capacity] as T;
    return out;
  }

  /** Removes and returns the oldest item. */
  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.slots[this.head];
    // Release the reference so a drained ring does not keep old records alive.
    this.slots[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.count--;
    return item;
  }

  clear(): void {
    this.slots.fill(undefined);
    this.head = 0;
    this.count = 0;
    this.overwrittenCount = 0;
  }
}
