import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EngineEvent } from '../../../sidecar/src/protocol/types.js';
import { EventLog } from '../../../sidecar/src/metrics/events.js';
import { ManualClock } from './manualClock.js';

describe('EventLog', () => {
  it('stamps events with the clock and keeps details', () => {
    const clock = new ManualClock(1000);
    const log = new EventLog({ clock });
    const event = log.warn('pod web-1 gone, reconnecting', { forwardId: 'web.shop.kind', code: 'POD_GONE' });
    assert.deepEqual(event, { time: 1000, level: 'warn', message: 'pod web-1 gone, reconnecting', forwardId: 'web.shop.kind', code: 'POD_GONE' });
    clock.advance(5);
    log.info('active');
    assert.deepEqual(log.recent().map((e) => [e.time, e.message]), [[1000, 'pod web-1 gone, reconnecting'], [1005, 'active']]);
    assert.equal('code' in log.recent()[1], false, 'absent details stay absent');
  });

  it('drops events below the level, for the ring and the listeners alike', () => {
    const log = new EventLog({ level: 'warn' });
    const heard: string[] = [];
    log.onEvent((e) => heard.push(e.message));
    assert.equal(log.debug('d'), undefined);
    assert.equal(log.info('i'), undefined);
    log.warn('w');
    log.error('e');
    assert.deepEqual(heard, ['w', 'e']);
    assert.deepEqual(log.recent().map((e) => e.message), ['w', 'e']);
    assert.equal(log.enabled('info'), false);
    log.level = 'debug';
    assert.equal(log.enabled('debug'), true);
    log.debug('d2');
    assert.deepEqual(heard, ['w', 'e', 'd2']);
  });

  it('is bounded: the oldest events go first', () => {
    const log = new EventLog({ capacity: 3 });
    for (let i = 0; i < 10; i++) log.info(`e${i}`);
    assert.equal(log.size, 3);
    assert.deepEqual(log.recent().map((e) => e.message), ['e7', 'e8', 'e9']);
    assert.deepEqual(log.recent(1).map((e) => e.message), ['e9']);
    log.clear();
    assert.deepEqual(log.recent(), []);
  });

  it('record() keeps an event built elsewhere and applies the filter', () => {
    const log = new EventLog({ level: 'info' });
    const event: EngineEvent = { time: 42, level: 'error', message: 'boom', code: 'X' };
    assert.equal(log.record(event), true);
    assert.equal(log.record({ time: 43, level: 'debug', message: 'quiet' }), false);
    assert.deepEqual(log.recent(), [event]);
  });

  it('unsubscribes listeners and isolates a throwing one', () => {
    const errors: unknown[] = [];
    const log = new EventLog({ onListenerError: (e) => errors.push(e) });
    const heard: string[] = [];
    log.onEvent(() => {
      throw new Error('bad listener');
    });
    const off = log.onEvent((e) => heard.push(e.message));
    log.info('one');
    off();
    log.info('two');
    assert.deepEqual(heard, ['one']);
    assert.equal(errors.length, 2);
    assert.deepEqual(log.recent().map((e) => e.message), ['one', 'two']);
  });
});
