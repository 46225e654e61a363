import type { V1Pod } from '@kubernetes/client-node';
import { codeOf, messageOf } from '../errors';
import type { ForwardInfo, ForwardStatus } from '../protocol/types';
import { Backoff } from './backoff';
import { podPortOf, portInfos, samePorts, type UnitPort } from './ports';

/** Where a new local connection goes now. */
export interface Target { namespace: string; pod: string; podPort: number }

export interface Closable { close(): Promise<void> }

/** Connection-level signals from a listener (hot-path counters stay in the listener's meter). */
export interface ListenerEvents {
  /** A connection failed; only that connection was closed. */
  onConnectionError(code: string, message: string): void;
  /** An HTTP/1.x exchange was seen on this local port. */
  onHttp(localPort: number): void;
}

/** Anything whose ForwardInfo the engine publishes (units, and services' summaries). */
export interface ForwardSource { readonly id: string; info(): ForwardInfo }

/** What a forward unit needs from the engine (so it knows nothing of transports or UIs). */
export interface UnitEnv {
  listen(unit: UnitForward, ip: string, port: UnitPort, resolve: () => Target, events: ListenerEvents): Promise<Closable>;
  /** Opens and closes one tunnel to `target`, proving the path works. */
  probe(target: Target): Promise<void>;
  changed(source: ForwardSource): void;
  event(level: 'info' | 'warn' | 'error', message: string, code?: string, forwardId?: string): void;
  autoReconnect(): boolean;
}

export interface UnitMeta {
  context: string;
  namespace: string;
  service: string;
  kind: ForwardInfo['kind'];
  headless: boolean;
}

/** Codes after which retrying cannot help until something is changed by a person. */
const permanent = new Set(['RBAC_DENIED', 'UNAUTHORIZED', 'PORT_PRIVILEGED']);

/**
 * One forwarded address: an IP with a listener per TCP port, served by one pod at a time. The
 * listeners stay bound while pods come and go; each new connection asks for the current pod.
 */
export class UnitForward implements ForwardSource {
  status: ForwardStatus = 'Starting';
  reason: string | undefined;
  since = Date.now();
  private pod: V1Pod | undefined;
  private listeners = new Map<number, Closable>();
  private readonly httpPorts = new Set<number>();
  private readonly backoff = new Backoff();
  private retryTimer: NodeJS.Timeout | undefined;
  private bindFailure: string | undefined;
  private stopped = false;

  constructor(readonly id: string, readonly serviceId: string, readonly meta: UnitMeta, readonly ip: string,
    public hostnames: string[], private ports: UnitPort[], private readonly env: UnitEnv) {}

  get podName(): string | undefined {
    return this.pod?.metadata?.name;
  }

  private set(status: ForwardStatus, reason?: string): void {
    if (this.stopped && status !== 'Stopped') return;
    if (this.status === status && this.reason === reason) return;
    this.status = status;
    this.reason = reason;
    this.since = Date.now();
    this.env.changed(this);
  }

  /** Re-derives the status from the facts: bound listeners, a pod, failures. */
  private settle(waiting?: string): void {
    if (this.stopped) return;
    if (this.bindFailure) return this.set('Failed', this.bindFailure);
    if (!this.pod) return this.set(this.status === 'Active' || this.status === 'Reconnecting' ? 'Reconnecting' : 'Starting', waiting ?? 'waiting for a ready pod');
    if (this.retryTimer) return;
    this.set('Active');
  }

  async start(): Promise<void> {
    await this.bind();
    this.settle();
    // Health check on an interval (nanoporter): the pod is re-checked against the watch cache even
    // when no connection arrives, so an idle forward's state and pod stay true; after a failure
    // the backoff probes take over.
    this.healthTimer = setInterval(() => this.healthCheck(), UnitForward.healthIntervalMs);
    this.healthTimer.unref();
  }

  /** How often idle forwards re-check their pod (ms). */
  static healthIntervalMs = 10_000;
  private healthTimer: NodeJS.Timeout | undefined;

  private healthCheck(): void {
    if (this.stopped || this.retryTimer || !this.recheck) return;
    const fresh = this.recheck(this.pod);
    if (fresh !== this.pod) this.setPod(fresh, fresh ? undefined : 'the pod is gone and no other is ready');
  }

  private async bind(): Promise<void> {
    const failures: string[] = [];
    let retryable = false;
    for (const port of this.ports) {
      if (port.skipped || this.listeners.has(port.localPort)) continue;
      try {
        const listener = await this.env.listen(this, this.ip, port, () => this.target(port), {
          onConnectionError: (code, message) => this.connectionFailed(code, message),
          onHttp: (localPort) => {
            if (!this.httpPorts.has(localPort)) {
              this.httpPorts.add(localPort);
              this.env.changed(this);
            }
          },
        });
        if (this.stopped) await listener.close();
        else this.listeners.set(port.localPort, listener);
      } catch (error) {
        failures.push(messageOf(error));
        retryable ||= !permanent.has(codeOf(error));
        this.env.event('error', messageOf(error), codeOf(error), this.id);
      }
    }
    this.bindFailure = failures.length > 0 ? failures.join('; ') : undefined;
    if (this.bindFailure && retryable) this.retryLater(() => this.bind().then(() => this.settle()));
  }

  /**
   * Set by the owner: the pod to use now if the current one stopped being eligible since the
   * last (debounced) sync, so a connection made during a rollout never goes to a dying pod.
   */
  recheck: ((current: V1Pod | undefined) => V1Pod | undefined) | undefined;

  private target(port: UnitPort): Target {
    if (this.recheck) {
      const fresh = this.recheck(this.pod);
      if (fresh !== this.pod) this.setPod(fresh);
    }
    const pod = this.pod;
    if (!pod?.metadata?.name) throw Object.assign(new Error(`${this.meta.service}: ${this.reason ?? 'no ready pod'}`), { code: 'NO_POD' });
    const podPort = podPortOf(port, pod);
    if (podPort === undefined) {
      throw Object.assign(new Error(`pod ${pod.metadata.name} has no container port named "${String(port.targetPort)}"`), { code: 'NO_TARGET_PORT' });
    }
    return { namespace: this.meta.namespace, pod: pod.metadata.name, podPort };
  }

  /** The pod to use from now on (undefined: none is ready; `waiting` says why). */
  setPod(pod: V1Pod | undefined, waiting?: string): void {
    const changed = pod?.metadata?.uid !== this.pod?.metadata?.uid;
    this.pod = pod;
    if (changed) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      this.backoff.reset();
      if (pod) this.env.event('info', `${this.id} → pod ${pod.metadata?.name}`, undefined, this.id);
    }
    this.settle(waiting);
    if (changed) this.env.changed(this);
  }

  async setPorts(ports: UnitPort[]): Promise<void> {
    if (samePorts(ports, this.ports)) return;
    this.ports = ports;
    await this.closeListeners();
    await this.bind();
    this.settle();
    this.env.changed(this);
  }

  setHostnames(names: string[]): void {
    if (names.join(' ') === this.hostnames.join(' ')) return;
    this.hostnames = names;
    this.env.changed(this);
  }

  private connectionFailed(code: string, message: string): void {
    this.env.event('warn', `${this.id}: ${message}`, code, this.id);
    if (code === 'TUNNEL_REMOTE_ERROR' || code === 'NO_TARGET_PORT') return; // the pod answered: the app refused
    if (code === 'NO_POD' || this.stopped) return;
    if (permanent.has(code)) return this.set('Failed', message);
    if (!this.env.autoReconnect()) return this.set('Failed', message);
    this.set('Reconnecting', message);
    this.retryLater(() => this.probe());
  }

  private retryLater(attempt: () => Promise<void>): void {
    if (this.retryTimer || this.stopped) return;
    const delay = this.backoff.next();
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.stopped) void attempt();
    }, delay);
    this.retryTimer.unref();
  }

  /** Health check after a failure: one tunnel to the current pod; success ends the backoff. */
  private async probe(): Promise<void> {
    const port = this.ports.find((p) => !p.skipped);
    if (!port || !this.pod) return this.settle();
    try {
      await this.env.probe(this.target(port));
      this.backoff.reset();
      this.settle();
    } catch (error) {
      if (permanent.has(codeOf(error))) return this.set('Failed', messageOf(error));
      this.set('Reconnecting', messageOf(error));
      this.retryLater(() => this.probe());
    }
  }

  private async closeListeners(): Promise<void> {
    const all = [...this.listeners.values()];
    this.listeners.clear();
    await Promise.allSettled(all.map((l) => l.close()));
  }

  async stop(reason = 'stopped'): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.healthTimer);
    await this.closeListeners();
    this.status = 'Stopped';
    this.reason = reason;
    this.since = Date.now();
    this.env.changed(this);
  }

  info(): ForwardInfo {
    return {
      id: this.id,
      serviceId: this.serviceId,
      context: this.meta.context,
      namespace: this.meta.namespace,
      service: this.meta.service,
      kind: this.meta.kind,
      headless: this.meta.headless,
      ip: this.ip,
      hostnames: [...this.hostnames],
      ports: portInfos(this.ports, this.pod, this.httpPorts),
      ...(this.pod?.metadata?.name ? { pod: this.pod.metadata.name } : {}),
      status: this.status,
      ...(this.reason ? { reason: this.reason } : {}),
      since: this.since,
    };
  }
}
