import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Backoff } from '../../../sidecar/src/forward/backoff';

describe('backoff', () => {
  it('doubles from 1 s to at most 5 min and resets on success', () => {
    const b = new Backoff();
    const delays = Array.from({ length: 12 }, () => b.next());
    assert.deepEqual(delays.slice(0, 4), [1000, 2000, 4000, 8000]);
    assert.equal(Math.max(...delays), 300_000);
    assert.equal(delays.at(-1), 300_000);
    b.reset();
    assert.equal(b.next(), 1000);
  });
});
