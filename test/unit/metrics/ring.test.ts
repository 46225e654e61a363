import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ring } from '../../../sidecar/src/metrics/ring.js';

describe('Ring', () => {
  it('keeps items oldest first until full', () => {
    const ring = new Ring<number>(3);
    assert.deepEqual(ring.toArray(), []);
    ring.push(1);
    ring.push(2);
    assert.deepEqual(ring.toArray(), [1, 2]);
    assert.equal(ring.size, 2);
    assert.equal(ring.full, false);
    assert.equal(ring.last(), 2);
  });

  it('overwrites the oldest once full and counts what it overwrote', () => {
    const ring = new Ring<number>(3);
    for (let i = 1; i <= 7; i++) ring.push(i);
    assert.deepEqual(ring.toArray(), [5, 6, 7]);
    assert.equal(ring.size, 3);
    assert.equal(ring.full, true);
    assert.equal(ring.overwritten, 4);
    assert.equal(ring.last(), 7);
  });

  it('newest(n) returns the newest n, oldest first, clamped to what it holds', () => {
    const ring = new Ring<string>(4);
    for (const s of ['a', 'b', 'c', 'd', 'e', 'f']) ring.push(s);
    assert.deepEqual(ring.newest(2), ['e', 'f']);
    assert.deepEqual(ring.newest(10), ['c', 'd', 'e', 'f']);
    assert.deepEqual(ring.newest(0), []);
    assert.deepEqual(ring.newest(-1), []);
  });

  it('shift() removes the oldest', () => {
    const ring = new Ring<number>(2);
    ring.push(1);
    ring.push(2);
    ring.push(3);
    assert.equal(ring.shift(), 2);
    assert.equal(ring.shift(), 3);
    assert.equal(ring.shift(), undefined);
    ring.push(4);
    assert.deepEqual(ring.toArray(), [4]);
  });

  it('clear() empties it and resets the overwrite count', () => {
    const ring = new Ring<number>(2);
    for (let i = 0; i < 5; i++) ring.push(i);
    ring.clear();
    assert.equal(ring.size, 0);
    assert.equal(ring.overwritten, 0);
    assert.deepEqual(ring.toArray(), []);
    ring.push(9);
    assert.deepEqual(ring.toArray(), [9]);
  });

  it('rejects a capacity that is not a positive integer', () => {
    assert.throws(() => new Ring(0), RangeError);
    assert.throws(() => new Ring(1.5), RangeError);
  });

  it('push stays O(1): a million pushes into a small ring are quick', () => {
    const ring = new Ring<number>(60);
    // CPU time, not wall clock: time spent waiting for a core on a busy machine does not count.
    const start = process.cpuUsage();
    for (let i = 0; i < 1_000_000; i++) ring.push(i);
    const { user, system } = process.cpuUsage(start);
    const ms = (user + system) / 1000;
    assert.deepEqual(ring.newest(2), [999_998, 999_999]);
    assert.ok(ms < 1000, `1e6 pushes took ${ms} ms of CPU`);
  });
});
