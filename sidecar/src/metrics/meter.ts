import type { ForwardMetrics } from '../protocol/types.js';
import { systemClock, type Clock, type Timer } from './clock.js';
import { Ring } from './ring.js';

/**
 * Traffic counters of one forward.
 *
 * Direction, seen from the developer's machine:
 * - "in"  = bytes from the pod to the local client (downloaded);
 * - "out" = bytes from the local client to the pod (uploaded).
 *
 * addIn/addOut run for every forwarded chunk, so they only bump numbers: no allocation, no
 * clock read, no callback. Everything derived (rates, history) is computed by MetricsRegistry
 * once a second.
 */
export class TrafficMeter {
  bytesIn = 0;
  bytesOut = 0;
  openConnections = 0;
  totalConnections = 0;

  // Sampling state, owned by MetricsRegistry.
  /** @internal */ lastIn = 0;
  /** @internal */ lastOut = 0;
  /** @internal */ lastTotal = 0;
  /** @internal */ lastOpen = 0;
  /** @internal */ rateIn = 0;
  /** @internal */ rateOut = 0;
  /** @internal Consecutive samples in which nothing moved; see MetricsRegistry.sample(). */
  quietSamples = 0;
  /** @internal */ readonly historyIn: Ring<number>;
  /** @internal */ readonly historyOut: Ring<number>;

  constructor(readonly id: string, readonly serviceId: string, historyLength: number) {
    this.historyIn = new Ring<number>(historyLength);
    this.historyOut = new Ring<number>(historyLength);
  }

  /** Bytes that went pod → local client. */
  addIn(bytes: number): void {
    this.bytesIn += bytes;
  }

  /** Bytes that went local client → pod. */
  addOut(bytes: number): void {
    this.bytesOut += bytes;
  }

  connectionOpened(): void {
    this.openConnections++;
    this.totalConnections++;
  }

  connectionClosed(): void {
    // A close without a matching open (an error path that reports twice) must not go negative.
    if (this.openConnections > 0) this.openConnections--;
  }

  toMetrics(): ForwardMetrics {
    return {
      id: this.id,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      rateIn: this.rateIn,
      rateOut: this.rateOut,
      openConnections: this.openConnections,
      totalConnections: this.totalConnections,
      historyIn: this.historyIn.toArray(),
      historyOut: this.historyOut.toArray(),
    };
  }
}

export interface MetricsRegistryOptions {
  /** Sampling period; 1 s in the design. */
  intervalMs?: number;
  /** Samples kept per meter; 60 in the design. */
  historyLength?: number;
  clock?: Clock;
}

export type SampleListener = (changed: ForwardMetrics[]) => void;

/**
 * Every forward's meter, sampled together by one shared timer into rates and a rolling history.
 * Forwards are keyed by their stable id, so a forward that reconnects keeps its counters.
 */
export class MetricsRegistry {
  private readonly meters = new Map<string, TrafficMeter>();
  private readonly listeners = new Set<SampleListener>();
  private readonly intervalMs: number;
  private readonly historyLength: number;
  private readonly clock: Clock;
  private timer: Timer | undefined;
  private lastSampleAt: number | undefined;

  constructor(options: MetricsRegistryOptions = {}) {
    this.intervalMs = options.intervalMs ?? 1000;
    this.historyLength = options.historyLength ?? 60;
    this.clock = options.clock ?? systemClock;
  }

  /** The meter of forward `id`, created on first use; asking again returns the same meter. */
  meter(id: string, serviceId: string = id): TrafficMeter {
    let meter = this.meters.get(id);
    if (!meter) {
      meter = new TrafficMeter(id, serviceId, this.historyLength);
      this.meters.set(id, meter);
    }
    return meter;
  }

  get(id: string): TrafficMeter | undefined {
    return this.meters.get(id);
  }

  /** Drops the forward's meter and its history. */
  remove(id: string): void {
    this.meters.delete(id);
  }

  get size(): number {
    return this.meters.size;
  }

  get running(): boolean {
    return this.timer !== undefined;
  }

  start(): void {
    if (this.timer) return;
    // Traffic while stopped shows in the totals but is not squeezed into the first new sample.
    for (const meter of this.meters.values()) {
      meter.lastIn = meter.bytesIn;
      meter.lastOut = meter.bytesOut;
    }
    this.lastSampleAt = this.clock.now();
    this.timer = this.clock.setInterval(() => this.sample(), this.intervalMs);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Called after each sample with the metrics that changed in it (all of them for new meters). */
  onSample(listener: SampleListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Takes one sample of every meter. The timer calls this; tests may call it directly.
   * Rates are normalised by the real time since the previous sample, so a late timer (busy event
   * loop, laptop sleep) does not inflate them.
   */
  sample(): void {
    const now = this.clock.now();
    const elapsed = this.lastSampleAt === undefined || now <= this.lastSampleAt ? this.intervalMs : now - this.lastSampleAt;
    this.lastSampleAt = now;
    const changed: ForwardMetrics[] = [];
    for (const meter of this.meters.values()) {
      if (this.sampleMeter(meter, elapsed) && this.listeners.size > 0) changed.push(meter.toMetrics());
    }
    if (changed.length === 0) return;
    for (const listener of this.listeners) listener(changed);
  }

  /** Every forward's metrics, e.g. for a panel that just opened. */
  snapshot(): ForwardMetrics[] {
    return [...this.meters.values()].map((m) => m.toMetrics());
  }

  /**
   * Metrics summed per service (a headless service has one forward per pod), with `id` set to the
   * service id. Histories are aligned on their newest sample.
   */
  snapshotByService(): ForwardMetrics[] {
    const byService = new Map<string, ForwardMetrics>();
    for (const meter of this.meters.values()) {
      const m = meter.toMetrics();
      const sum = byService.get(meter.serviceId);
      if (!sum) {
        byService.set(meter.serviceId, { ...m, id: meter.serviceId });
        continue;
      }
      sum.bytesIn += m.bytesIn;
      sum.bytesOut += m.bytesOut;
      sum.rateIn += m.rateIn;
      sum.rateOut += m.rateOut;
      sum.openConnections += m.openConnections;
      sum.totalConnections += m.totalConnections;
      sum.historyIn = addAlignedRight(sum.historyIn, m.historyIn);
      sum.historyOut = addAlignedRight(sum.historyOut, m.historyOut);
    }
    return [...byService.values()];
  }

  /** Returns whether the meter's ForwardMetrics differ from what the previous sample produced. */
  private sampleMeter(meter: TrafficMeter, elapsedMs: number): boolean {
    const deltaIn = meter.bytesIn - meter.lastIn;
    const deltaOut = meter.bytesOut - meter.lastOut;
    const connectionsChanged = meter.totalConnections !== meter.lastTotal || meter.openConnections !== meter.lastOpen;
    meter.lastIn = meter.bytesIn;
    meter.lastOut = meter.bytesOut;
    meter.lastTotal = meter.totalConnections;
    meter.lastOpen = meter.openConnections;
    meter.rateIn = Math.round((deltaIn * 1000) / elapsedMs);
    meter.rateOut = Math.round((deltaOut * 1000) / elapsedMs);
    meter.historyIn.push(meter.rateIn);
    meter.historyOut.push(meter.rateOut);
    if (deltaIn !== 0 || deltaOut !== 0 || connectionsChanged) meter.quietSamples = 0;
    else meter.quietSamples++;
    // An idle meter still changes while its last non-zero sample scrolls through the history (and
    // while the history is filling up); once the whole window is zeros, further zeros change nothing.
    return meter.quietSamples <= this.historyLength;
  }
}

function addAlignedRight(a: number[], b: number[]): number[] {
  const long = a.length >= b.length ? a : b;
  const short = long === a ? b : a;
  const out = long.slice();
  const offset = long.length - short.length;
  for (let i = 0; i < short.length; i++) out[offset + i] += short[i];
  return out;
}
