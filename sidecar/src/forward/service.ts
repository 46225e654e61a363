import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { isEligible, isReady } from '../discovery/pods';
import { codeOf, messageOf } from '../errors';
import type { ForwardInfo } from '../protocol/types';
import type { NamespaceWatch } from '../discovery/namespaceWatch';
import { isHeadless, planService } from './plan';
import { servicePorts } from './ports';
import { UnitForward, type UnitEnv } from './unit';

/** What a service forward needs from the engine besides the unit environment. */
export interface ServiceEnv {
  unit: UnitEnv;
  /** A stable IP for a forward id (throws IP_EXHAUSTED / INVALID_RESERVATION). */
  allocateIp(id: string, context: string, namespace: string): string;
  /** Hostnames for a service (pod: a headless service's pod; answersForService: also the service's names). */
  names(context: string, namespace: string, service: string, pod: string | undefined, answersForService: boolean): string[];
  localPort(context: string, namespace: string, service: string, port: number): number;
  /** A unit or the service's summary appeared, changed or went away. */
  removed(id: string): void;
}

/**
 * One Kubernetes service being forwarded: a unit for a normal service, a unit per pod for a
 * headless one, or a summary entry saying why it is skipped or waiting.
 */
export class ServiceForward {
  readonly id: string;
  private readonly units = new Map<string, UnitForward>();
  private summary: ForwardInfo | undefined;
  private service: V1Service;
  private stopped = false;

  constructor(readonly context: string, readonly namespace: string, service: V1Service, private readonly env: ServiceEnv) {
    this.service = service;
    this.id = `${service.metadata?.name ?? ''}.${namespace}.${context}`;
  }

  get name(): string {
    return this.service.metadata?.name ?? '';
  }

  /** Brings the units in line with the service, its pods and its EndpointSlices. */
  async sync(service: V1Service, watch: NamespaceWatch): Promise<void> {
    if (this.stopped) return;
    this.service = service;
    const current = this.units.get(this.name)?.podName;
    const plan = planService(service, watch.podList(), watch.slicesOf(this.name), current);
    const ports = servicePorts(service.spec?.ports ?? [], (p) => this.env.localPort(this.context, this.namespace, this.name, p));
    if (plan.kind === 'skip') {
      await this.stopUnits(new Set());
      return this.setSummary('Skipped', plan.reason, ports);
    }
    const wanted = new Set(plan.units.map((u) => u.key));
    await this.stopUnits(wanted);
    for (const planned of plan.units) {
      const headless = isHeadless(service);
      const id = headless ? `${planned.key}.${this.id}` : this.id;
      const names = this.env.names(this.context, this.namespace, this.name, headless ? planned.key : undefined, planned.answersForService);
      let unit = this.units.get(planned.key);
      if (!unit) {
        let ip: string;
        try {
          ip = this.env.allocateIp(id, this.context, this.namespace);
        } catch (error) {
          // Reported once: a re-sync that fails the same way changes nothing worth saying.
          if (this.summary?.status !== 'Failed' || this.summary.reason !== messageOf(error)) {
            this.env.unit.event('error', messageOf(error), codeOf(error), id);
          }
          return this.setSummary('Failed', messageOf(error), ports);
        }
        unit = new UnitForward(id, this.id, { context: this.context, namespace: this.namespace, service: this.name, kind: 'service', headless },
          ip, names, ports, this.env.unit);
        this.units.set(planned.key, unit);
        // Listeners first: a forward is never reported Active before its ports accept connections.
        await unit.start();
        unit.setPod(planned.pod, plan.waiting);
        unit.recheck = (current) => this.recheck(planned.key, current, watch);
      } else {
        unit.setHostnames(names);
        await unit.setPorts(ports);
        unit.setPod(planned.pod, plan.waiting);
      }
    }
    if (plan.units.length === 0) this.setSummary('Starting', plan.waiting ?? 'waiting for pods', ports);
    else this.clearSummary();
  }

  /** The unit's pod now, from the watch cache (no debounce): kept if still serving, else re-planned. */
  private recheck(key: string, current: V1Pod | undefined, watch: NamespaceWatch): V1Pod | undefined {
    const name = current?.metadata?.name;
    const live = name ? watch.pod(name) : undefined;
    if (live && isEligible(live) && isReady(live)) return current;
    if (isHeadless(this.service)) return undefined;
    const plan = planService(this.service, watch.podList(), watch.slicesOf(this.name), undefined);
    return plan.kind === 'forward' ? plan.units.find((u) => u.key === key)?.pod : undefined;
  }

  private setSummary(status: ForwardInfo['status'], reason: string, ports: ReturnType<typeof servicePorts>): void {
    const next: ForwardInfo = {
      id: this.id, serviceId: this.id, context: this.context, namespace: this.namespace, service: this.name,
      kind: 'service', headless: isHeadless(this.service), ip: '', hostnames: [],
      ports: ports.map((p) => ({ ...(p.name ? { name: p.name } : {}), protocol: p.protocol, port: p.port, localPort: p.localPort, targetPort: p.targetPort,
        ...(p.skipped ? { skipped: p.skipped } : {}) })),
      status, reason, since: this.summary?.status === status ? this.summary.since : Date.now(),
    };
    if (JSON.stringify(next) === JSON.stringify(this.summary)) return;
    this.summary = next;
    this.env.unit.changed({ id: this.id, info: () => next });
  }

  private clearSummary(): void {
    if (!this.summary) return;
    this.summary = undefined;
    if (!this.units.has(this.name)) this.env.removed(this.id);
  }

  private async stopUnits(keep: ReadonlySet<string>): Promise<void> {
    for (const [key, unit] of this.units) {
      if (keep.has(key)) continue;
      this.units.delete(key);
      await unit.stop(keep.size === 0 && this.stopped ? 'stopped' : 'pod gone');
      this.env.removed(unit.id);
    }
  }

  infos(): ForwardInfo[] {
    return [...(this.summary ? [this.summary] : []), ...[...this.units.values()].map((u) => u.info())];
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.stopUnits(new Set());
    if (this.summary) {
      this.summary = undefined;
      this.env.removed(this.id);
    }
  }
}
