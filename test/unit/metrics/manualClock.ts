import type { Clock, Timer } from '../../../sidecar/src/metrics/clock.js';

interface Scheduled {
  at: number;
  fn: () => void;
  every?: number;
  cancelled: boolean;
}

/** A clock that moves only when the test says so, firing due timers in time order. */
export class ManualClock implements Clock {
  private timers: Scheduled[] = [];

  constructor(private current = 1_700_000_000_000) {}

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    return this.schedule({ at: this.current + Math.max(0, ms), fn, cancelled: false });
  }

  setInterval(fn: () => void, ms: number): Timer {
    return this.schedule({ at: this.current + ms, fn, every: ms, cancelled: false });
  }

  /** Timers still scheduled. */
  get pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /** Moves time forward by `ms`, running every timer that falls due on the way. */
  advance(ms: number): void {
    const end = this.current + ms;
    for (;;) {
      const due = this.timers.filter((t) => !t.cancelled && t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.current = due.at;
      if (due.every !== undefined) due.at += due.every;
      else due.cancelled = true;
      due.fn();
    }
    this.current = end;
    this.timers = this.timers.filter((t) => !t.cancelled);
  }

  private schedule(timer: Scheduled): Timer {
    this.timers.push(timer);
    return { cancel: () => (timer.cancelled = true) };
  }
}
