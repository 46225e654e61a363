import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyedThrottle, Throttle } from '../../../sidecar/src/metrics/throttle.js';
import { ManualClock } from './manualClock.js';

function buffered(maxItems?: number) {
  const clock = new ManualClock(0);
  const deliveries: { at: number; items: number[]; dropped: number }[] = [];
  const throttle = new Throttle<number>((items, dropped) => deliveries.push({ at: clock.now(), items, dropped }), {
    intervalMs: 1000,
    maxItems,
    clock,
  });
  return { clock, throttle, deliveries };
}

describe('Throttle', () => {
  it('delivers the first item at once, the rest of the interval at its end', () => {
    const { clock, throttle, deliveries } = buffered();
    throttle.push(1);
    assert.deepEqual(deliveries, [{ at: 0, items: [1], dropped: 0 }]);
    clock.advance(100);
    throttle.push(2);
    clock.advance(400);
    throttle.push(3);
    assert.equal(deliveries.length, 1);
    assert.equal(throttle.pending, 2);
    clock.advance(499);
    assert.equal(deliveries.length, 1, 'nothing before the interval ends');
    clock.advance(1);
    assert.deepEqual(deliveries[1], { at: 1000, items: [2, 3], dropped: 0 });
    assert.equal(clock.pendingTimers, 0, 'no timer left when nothing waits');
  });

  it('delivers at most once per interval under a steady stream', () => {
    const { clock, throttle, deliveries } = buffered();
    for (let t = 0; t < 10_000; t += 10) {
      throttle.push(t);
      clock.advance(10);
    }
    clock.advance(1000);
    const times = deliveries.map((d) => d.at);
    for (let i = 1; i < times.length; i++) assert.ok(times[i] - times[i - 1] >= 1000, `deliveries at ${times}`);
    assert.equal(deliveries.length, 11);
    assert.equal(deliveries.flatMap((d) => d.items).length, 1000, 'nothing lost');
  });

  it('after a quiet interval the next push is a leading edge again', () => {
    const { clock, throttle, deliveries } = buffered();
    throttle.push(1);
    clock.advance(1500);
    throttle.push(2);
    assert.deepEqual(deliveries.map((d) => d.at), [0, 1500]);
  });

  it('caps the buffer, dropping the oldest and counting them', () => {
    const { clock, throttle, deliveries } = buffered(3);
    throttle.push(0);
    for (let i = 1; i <= 10; i++) throttle.push(i);
    assert.equal(throttle.pending, 3);
    clock.advance(1000);
    assert.deepEqual(deliveries[1], { at: 1000, items: [8, 9, 10], dropped: 7 });
    assert.equal(throttle.dropped, 7);
  });

  it('flush() delivers now and counts as a delivery', () => {
    const { clock, throttle, deliveries } = buffered();
    throttle.push(1);
    throttle.push(2);
    clock.advance(200);
    throttle.flush();
    assert.deepEqual(deliveries[1], { at: 200, items: [2], dropped: 0 });
    assert.equal(clock.pendingTimers, 0);
    throttle.flush(); // nothing waiting: no empty delivery
    assert.equal(deliveries.length, 2);
    throttle.push(3);
    assert.equal(deliveries.length, 2, 'still within the interval of the flush');
    clock.advance(1000);
    assert.deepEqual(deliveries[2].items, [3]);
  });

  it('dispose() cancels the timer and ignores later pushes', () => {
    const { clock, throttle, deliveries } = buffered();
    throttle.push(1);
    throttle.push(2);
    throttle.dispose();
    assert.equal(clock.pendingTimers, 0);
    throttle.push(3);
    clock.advance(5000);
    assert.deepEqual(deliveries.map((d) => d.items), [[1]]);
  });

  it('a push from inside delivery waits for the next interval', () => {
    const clock = new ManualClock(0);
    const seen: number[][] = [];
    const throttle: Throttle<number> = new Throttle<number>(
      (items) => {
        seen.push(items);
        if (items[0] === 1) throttle.push(99);
      },
      { intervalMs: 1000, clock },
    );
    throttle.push(1);
    assert.deepEqual(seen, [[1]]);
    clock.advance(1000);
    assert.deepEqual(seen, [[1], [99]]);
  });

  it('uses unref’d real timers by default', async () => {
    const delivered = new Promise<number[]>((resolve) => {
      const throttle = new Throttle<number>((items) => items[0] === 2 && resolve(items), { intervalMs: 20 });
      throttle.push(1);
      throttle.push(2);
    });
    // An unref'd timer still fires while something else (this await's timer) keeps the loop alive.
    const keepAlive = setTimeout(() => undefined, 5000);
    assert.deepEqual(await delivered, [2]);
    clearTimeout(keepAlive);
  });
});

describe('KeyedThrottle', () => {
  it('keeps only the latest value per key, in first-change order', () => {
    const clock = new ManualClock(0);
    const deliveries: [string, string][][] = [];
    const throttle = new KeyedThrottle<string, string>((latest) => deliveries.push([...latest]), { intervalMs: 500, clock });
    throttle.push('web', 'Starting');
    assert.deepEqual(deliveries, [[['web', 'Starting']]]);
    throttle.push('web', 'Active');
    throttle.push('db', 'Starting');
    throttle.push('web', 'Reconnecting');
    throttle.push('db', 'Active');
    assert.equal(throttle.pending, 2);
    clock.advance(500);
    assert.deepEqual(deliveries[1], [
      ['web', 'Reconnecting'],
      ['db', 'Active'],
    ]);
    throttle.push('web', 'Stopped');
    throttle.flush();
    assert.deepEqual(deliveries[2], [['web', 'Stopped']]);
    throttle.push('db', 'Failed');
    throttle.dispose();
    clock.advance(5000);
    assert.equal(deliveries.length, 3);
    assert.equal(clock.pendingTimers, 0);
  });
});
