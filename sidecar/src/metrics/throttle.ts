import { systemClock, type Clock, type Timer } from './clock.js';
import { Ring } from './ring.js';

export interface ThrottleOptions {
  /** At most one delivery per interval. */
  intervalMs: number;
  clock?: Clock;
}

export interface BufferedThrottleOptions extends ThrottleOptions {
  /** Items kept between deliveries; beyond it the oldest are dropped (and counted). */
  maxItems?: number;
}

/**
 * Decides when to deliver: at once when the last delivery is at least an interval ago (leading
 * edge), otherwise once at the end of the interval (trailing edge), however many pushes came in.
 */
class Pacer {
  private last = Number.NEGATIVE_INFINITY;
  private timer: Timer | undefined;

  constructor(private readonly clock: Clock, private readonly intervalMs: number, private readonly fire: () => void) {}

  /** Something is waiting to be delivered. */
  request(): void {
    if (this.timer) return;
    // Capped so a wall clock stepping backwards cannot postpone delivery beyond one interval.
    const wait = Math.min(this.intervalMs, this.last + this.intervalMs - this.clock.now());
    if (wait <= 0) return this.run();
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.run();
    }, wait);
  }

  /** Delivers now; counts as a delivery for the pacing of what follows. */
  run(): void {
    this.cancel();
    this.last = this.clock.now();
    this.fire();
  }

  cancel(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }
}

/**
 * Collects items (HTTP records, engine events) and hands them over in batches, at most once per
 * interval, so a burst of traffic becomes a few notifications instead of thousands. The buffer
 * is bounded: under a flood the oldest items go and `deliver` learns how many.
 * `deliver` runs synchronously inside push() on the leading edge, and from an unref'd timer.
 */
export class Throttle<T> {
  private readonly buffer: Ring<T>;
  private readonly pacer: Pacer;
  private droppedTotal = 0;
  private disposed = false;

  constructor(private readonly deliver: (items: T[], dropped: number) => void, options: BufferedThrottleOptions) {
    this.buffer = new Ring<T>(options.maxItems ?? 1000);
    this.pacer = new Pacer(options.clock ?? systemClock, options.intervalMs, () => this.deliverBuffered());
  }

  push(item: T): void {
    if (this.disposed) return;
    this.buffer.push(item);
    this.pacer.request();
  }

  /** Items waiting for the next delivery. */
  get pending(): number {
    return this.buffer.size;
  }

  /** Items dropped over the throttle's life because the buffer was full. */
  get dropped(): number {
    return this.droppedTotal + this.buffer.overwritten;
  }

  /** Delivers what is waiting now (e.g. before shutdown). */
  flush(): void {
    if (this.disposed || this.buffer.size === 0) return;
    this.pacer.run();
  }

  /** Cancels the timer and forgets what is waiting; later pushes are ignored. */
  dispose(): void {
    this.disposed = true;
    this.pacer.cancel();
    this.buffer.clear();
  }

  private deliverBuffered(): void {
    if (this.buffer.size === 0) return;
    const items = this.buffer.toArray();
    const dropped = this.buffer.overwritten;
    this.droppedTotal += dropped;
    this.buffer.clear();
    this.deliver(items, dropped);
  }
}

/**
 * Like Throttle, but keeps only the latest value per key: for state changes, where a forward
 * going Starting → Active → Reconnecting within one interval only needs its last state sent.
 * Keys are delivered in the order they first changed since the previous delivery.
 */
export class KeyedThrottle<K, V> {
  private latest = new Map<K, V>();
  private readonly pacer: Pacer;
  private disposed = false;

  constructor(private readonly deliver: (latest: Map<K, V>) => void, options: ThrottleOptions) {
    this.pacer = new Pacer(options.clock ?? systemClock, options.intervalMs, () => this.deliverLatest());
  }

  push(key: K, value: V): void {
    if (this.disposed) return;
    this.latest.set(key, value);
    this.pacer.request();
  }

  get pending(): number {
    return this.latest.size;
  }

  flush(): void {
    if (this.disposed || this.latest.size === 0) return;
    this.pacer.run();
  }

  dispose(): void {
    this.disposed = true;
    this.pacer.cancel();
    this.latest.clear();
  }

  private deliverLatest(): void {
    if (this.latest.size === 0) return;
    const latest = this.latest;
    this.latest = new Map<K, V>();
    this.deliver(latest);
  }
}
