/** Exponential backoff from 1 s to 5 min, reset on success (kubefwd's reconnect policy, bounded). */
export class Backoff {
  private attempt = 0;

  constructor(private readonly initialMs = 1000, private readonly maxMs = 300_000, private readonly factor = 2) {}

  /** Delay before the next attempt; each call doubles the next one, up to the maximum. */
  next(): number {
    const delay = Math.min(this.maxMs, this.initialMs * this.factor ** this.attempt);
    if (delay < this.maxMs) this.attempt++;
    return delay;
  }

  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
