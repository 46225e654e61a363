import type { EarlyData, TunnelLike, TunnelTarget } from './tunnel';

export interface PoolOptions {
  /** Spare tunnels kept open for the current target; 0 turns the pool off. Default 1. */
  size?: number;
  /**
   * Spares are topped up to `size` only once fewer than this are ready or opening, in one batch.
   * Setting up a stream pair costs the API server and kubelet about as much as a request does;
   * done in batches, most connections do not share the machine with the next one's set-up.
   * Spares that age out unused are replaced only up to this many. Default: `size` (topped up
   * after every use).
   */
  refillBelow?: number;
  /**
   * A spare older than this is closed (and replaced while the port is in use). Keep it short:
   * the backend sees every spare as a real connection, and servers that speak first (MySQL's
   * greeting) or wait for a request (HTTP header timeouts) time idle connections out. Default 4 s.
   */
  ttlMs?: number;
  /** Spares are opened and replaced only within this long after the last connection. Default 30 s. */
  warmMs?: number;
  /**
   * A spare handed out is replaced when `replenish()` is called (the listener calls it once the
   * connection's first bytes are on their way, so the replacement's stream setup goes out after
   * them instead of ahead of them), or after this long at the latest. Default 20 ms.
   */
  refillDelayMs?: number;
}

export type TunnelOpener = (target: TunnelTarget, signal?: AbortSignal, early?: EarlyData) => Promise<TunnelLike>;

interface Spare {
  tunnel: TunnelLike;
  timer: NodeJS.Timeout;
}

export function targetKey(t: TunnelTarget): string {
  return `${t.context ?? ''}\u0000${t.namespace}\u0000${t.pod}\u0000${t.port}`;
}

/**
 * Pre-opened tunnels for one listener, so a new local connection skips the WebSocket and TLS
 * handshakes. Demand-driven: nothing is opened before the first connection, spares are replaced
 * only while connections keep coming (warmMs), and a target change drops the old target's spares.
 */
export class TunnelPool {
  readonly size: number;
  readonly refillBelow: number;
  readonly ttlMs: number;
  readonly warmMs: number;
  readonly refillDelayMs: number;
  private refillTimer: NodeJS.Timeout | undefined;
  private key: string | undefined;
  private target: TunnelTarget | undefined;
  private spares: Spare[] = [];
  private opening = 0;
  private lastUse = 0;
  private failedAt = -Infinity;
  private aborter = new AbortController();
  private closed = false;

  constructor(private readonly open: TunnelOpener, options: PoolOptions = {}) {
    this.size = Math.max(0, options.size ?? 1);
    this.refillBelow = Math.min(this.size, Math.max(1, options.refillBelow ?? this.size));
    this.ttlMs = options.ttlMs ?? 4000;
    this.warmMs = options.warmMs ?? 30_000;
    this.refillDelayMs = options.refillDelayMs ?? 20;
  }

  /** Spares ready now (for tests and stats). */
  get spareCount(): number {
    return this.spares.length;
  }

  /**
   * A ready tunnel to `target`: a fresh spare when there is one, else a new one (that may send
   * `early` with its opening). Tops the spares up.
   */
  async acquire(target: TunnelTarget, signal?: AbortSignal, early?: EarlyData): Promise<TunnelLike> {
    if (this.closed || this.size === 0) return this.open(target, signal, early);
    this.use(target);
    const spare = this.take();
    if (spare) {
      this.refillTimer ??= setTimeout(this.replenish, this.refillDelayMs);
      return spare;
    }
    const opening = this.open(target, signal, early);
    this.fill();
    const tunnel = await opening;
    this.failedAt = -Infinity;
    return tunnel;
  }

  /** Tops the spares up now (after a spare was handed out; see refillDelayMs). */
  readonly replenish = (): void => {
    clearTimeout(this.refillTimer);
    this.refillTimer = undefined;
    this.fill();
  };

  /** Closes the spares (e.g. the pod behind them is going away). */
  drop(): void {
    this.aborter.abort();
    this.aborter = new AbortController();
    for (const s of this.spares.splice(0)) this.discard(s);
    this.key = undefined;
    this.target = undefined;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.refillTimer);
    this.drop();
  }

  private use(target: TunnelTarget): void {
    const key = targetKey(target);
    if (key !== this.key) {
      this.drop();
      this.key = key;
      this.target = target;
    }
    this.lastUse = performance.now();
  }

  private take(): TunnelLike | undefined {
    const now = performance.now();
    for (let s = this.spares.shift(); s; s = this.spares.shift()) {
      clearTimeout(s.timer);
      // A spare the kubelet already failed (refused port, pod deleted) or that aged out is no use.
      if (s.tunnel.isOpen && now - s.tunnel.openedAt < this.ttlMs) return s.tunnel;
      s.tunnel.destroy();
    }
    return undefined;
  }

  /** Opens spares up to `upTo` once fewer than refillBelow are ready or opening. */
  private fill(upTo = this.size): void {
    const target = this.target;
    const key = this.key;
    if (!target || this.closed) return;
    // After a failed spare, let real connections surface the problem instead of doubling the load.
    if (performance.now() - this.failedAt < this.ttlMs) return;
    if (this.spares.length + this.opening >= this.refillBelow) return;
    const signal = this.aborter.signal;
    while (this.spares.length + this.opening < upTo) {
      this.opening++;
      this.open(target, signal).then((tunnel) => {
        this.opening--;
        if (this.closed || key !== this.key || signal.aborted) return tunnel.destroy();
        const timer = setTimeout(() => this.expire(spare), this.ttlMs);
        timer.unref();
        const spare: Spare = { tunnel, timer };
        this.spares.push(spare);
      }, () => {
        this.opening--;
        if (!signal.aborted) this.failedAt = performance.now();
      });
    }
  }

  private expire(spare: Spare): void {
    const i = this.spares.indexOf(spare);
    if (i < 0) return;
    this.spares.splice(i, 1);
    this.discard(spare);
    // Spares that aged out unused were not needed: keep only refillBelow of them until a
    // connection takes one (then the batch is opened again), so an idle port does not churn a
    // whole batch of backend connections every ttlMs.
    if (performance.now() - this.lastUse < this.warmMs) this.fill(this.refillBelow);
  }

  private discard(spare: Spare): void {
    clearTimeout(spare.timer);
    // A close frame, so the kubelet closes the backend connection in an orderly way.
    spare.tunnel.close();
  }
}
