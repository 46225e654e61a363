import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { constants, performance, PerformanceObserver, type NodeGCPerformanceDetail, type PerformanceEntry } from 'node:perf_hooks';
import type { ForwardMetrics } from '../../../sidecar/src/protocol/types.js';
import { MetricsRegistry } from '../../../sidecar/src/metrics/meter.js';
import { ManualClock } from './manualClock.js';

function setup(historyLength = 60) {
  const clock = new ManualClock();
  const registry = new MetricsRegistry({ clock, historyLength });
  const samples: ForwardMetrics[][] = [];
  registry.onSample((changed) => samples.push(changed));
  return { clock, registry, samples };
}

describe('TrafficMeter', () => {
  it('counts bytes and connections', () => {
    const { registry } = setup();
    const m = registry.meter('web.shop.kind');
    m.addIn(100);
    m.addIn(50);
    m.addOut(7);
    m.connectionOpened();
    m.connectionOpened();
    m.connectionClosed();
    m.connectionClosed();
    m.connectionClosed(); // one too many: must not go negative
    const [metrics] = registry.snapshot();
    assert.equal(metrics.bytesIn, 150);
    assert.equal(metrics.bytesOut, 7);
    assert.equal(metrics.openConnections, 0);
    assert.equal(metrics.totalConnections, 2);
  });
});

describe('MetricsRegistry', () => {
  it('returns the same meter for the same id and drops it on remove', () => {
    const { registry } = setup();
    const a = registry.meter('a');
    a.addIn(5);
    assert.equal(registry.meter('a'), a);
    assert.equal(registry.size, 1);
    registry.remove('a');
    assert.equal(registry.get('a'), undefined);
    assert.equal(registry.size, 0);
    assert.deepEqual(registry.snapshot(), []);
    assert.equal(registry.meter('a').bytesIn, 0, 'a forward added again starts from zero');
  });

  it('samples once a second on one timer into rates and history', () => {
    const { clock, registry, samples } = setup();
    const m = registry.meter('a');
    registry.start();
    registry.start(); // idempotent: still one timer
    assert.equal(clock.pendingTimers, 1);

    m.addIn(1000);
    m.addOut(10);
    clock.advance(1000);
    m.addIn(3000);
    clock.advance(1000);
    clock.advance(1000);

    const [metrics] = registry.snapshot();
    assert.equal(metrics.rateIn, 0);
    assert.deepEqual(metrics.historyIn, [1000, 3000, 0]);
    assert.deepEqual(metrics.historyOut, [10, 0, 0]);
    assert.equal(metrics.bytesIn, 4000);
    assert.equal(samples.length, 3);
    assert.equal(samples[1][0].rateIn, 3000);

    registry.stop();
    assert.equal(registry.running, false);
    assert.equal(clock.pendingTimers, 0);
    clock.advance(5000);
    assert.equal(samples.length, 3, 'no samples once stopped');
  });

  it('normalises rates by the real time between samples', () => {
    const { clock, registry } = setup();
    const m = registry.meter('a');
    registry.sample(); // baseline, as start() would take
    m.addIn(10_000);
    // A late sample (busy event loop, laptop sleep) covers 2.5 s: the rate is per second.
    clock.advance(2500);
    registry.sample();
    assert.equal(registry.snapshot()[0].rateIn, 4000);
    assert.deepEqual(registry.snapshot()[0].historyIn, [0, 4000]);
  });

  it('after a restart, traffic from while it was stopped is not counted as one sample', () => {
    const { clock, registry } = setup();
    const m = registry.meter('a');
    registry.start();
    m.addIn(10);
    clock.advance(1000);
    registry.stop();
    m.addIn(1_000_000);
    clock.advance(60_000);
    registry.start();
    m.addIn(20);
    clock.advance(1000);
    const [metrics] = registry.snapshot();
    assert.deepEqual(metrics.historyIn, [10, 20]);
    assert.equal(metrics.bytesIn, 1_000_030);
    registry.stop();
  });

  it('keeps only the last 60 samples', () => {
    const { clock, registry } = setup();
    const m = registry.meter('a');
    registry.start();
    for (let i = 1; i <= 75; i++) {
      m.addOut(i);
      clock.advance(1000);
    }
    const [metrics] = registry.snapshot();
    assert.equal(metrics.historyOut.length, 60);
    assert.equal(metrics.historyOut[0], 16);
    assert.equal(metrics.historyOut[59], 75);
    assert.equal(metrics.rateOut, 75);
    registry.stop();
  });

  it('reports only meters whose metrics changed', () => {
    const { clock, registry, samples } = setup(3);
    const busy = registry.meter('busy');
    registry.meter('idle');
    registry.start();
    const ids = () => samples.at(-1)?.map((m) => m.id) ?? [];
    busy.addIn(1);
    clock.advance(1000);
    assert.deepEqual(ids(), ['busy', 'idle'], 'new meters are reported');
    clock.advance(3000); // three more quiet seconds: the busy one's sample scrolls out of a 3-long history
    assert.deepEqual(ids(), ['busy']);
    const before = samples.length;
    clock.advance(5000);
    assert.equal(samples.length, before, 'nothing changes once histories are all zeros');
    busy.connectionOpened();
    clock.advance(1000);
    assert.deepEqual(ids(), ['busy'], 'a connection is a change');
    registry.stop();
  });

  it('sums per service, aligning histories on the newest sample', () => {
    const { clock, registry } = setup();
    const a = registry.meter('db-0.db.shop.kind', 'db.shop.kind');
    registry.start();
    a.addIn(100);
    clock.advance(1000);
    const b = registry.meter('db-1.db.shop.kind', 'db.shop.kind');
    const web = registry.meter('web.shop.kind');
    a.addIn(10);
    b.addIn(20);
    b.connectionOpened();
    web.addOut(1);
    clock.advance(1000);
    const byService = new Map(registry.snapshotByService().map((m) => [m.id, m]));
    assert.equal(byService.size, 2);
    const db = byService.get('db.shop.kind');
    assert.ok(db);
    assert.equal(db.bytesIn, 130);
    assert.equal(db.rateIn, 30);
    assert.deepEqual(db.historyIn, [100, 30]);
    assert.equal(db.openConnections, 1);
    assert.deepEqual(byService.get('web.shop.kind')?.historyOut, [1]);
    registry.stop();
  });

  it('addIn/addOut do not allocate on the hot path', async () => {
    const { registry } = setup();
    const m = registry.meter('a');
    // Warm up into the state the loop below runs in: bytesIn past the small-integer range (stored
    // as a double from then on) and both methods compiled. Until then V8 itself boxes numbers,
    // which the count below would take for the meter's allocation; the pause lets a background
    // compile delayed by a busy machine finish.
    m.addIn(2 ** 31);
    for (let i = 0; i < 100_000; i++) {
      m.addIn(1400);
      m.addOut(60);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    const outBefore = m.bytesOut;
    // Minor GCs (scavenges) during the calls: 16 bytes per call would fill the young generation
    // hundreds of times over (160 MB); calls that allocate nothing leave it alone.
    const entries: PerformanceEntry[] = [];
    const observer = new PerformanceObserver((list) => entries.push(...list.getEntries()));
    observer.observe({ entryTypes: ['gc'] });
    const start = performance.now();
    for (let i = 0; i < 5_000_000; i++) {
      m.addIn(1400);
      m.addOut(60);
    }
    const end = performance.now();
    await new Promise((resolve) => setImmediate(resolve));
    entries.push(...observer.takeRecords());
    observer.disconnect();
    const minor = entries.filter((e) => e.startTime >= start && e.startTime <= end
      && (e as PerformanceEntry & { detail?: NodeGCPerformanceDetail }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR).length;
    assert.equal(m.bytesOut - outBefore, 300_000_000);
    assert.ok(minor <= 2, `${minor} minor GCs during 10M calls`);
  });
});
