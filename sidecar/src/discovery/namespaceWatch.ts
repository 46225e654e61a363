import type { KubeConfig, V1EndpointSlice, V1Pod, V1Service } from '@kubernetes/client-node';
import { WatchedCollection } from './watch';

export interface NamespaceWatchOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Coalescing window for pod changes (a rollout changes many pods at once). */
  podDebounceMs?: number;
  serviceDebounceMs?: number;
}

export interface NamespaceWatchEvents {
  /** Services, pods or EndpointSlices changed; read the current lists from the watch. */
  onSync(): void;
  onHealth(error: string | undefined): void;
}

/**
 * Services (with the user's selectors), pods and EndpointSlices of one namespace, kept current by
 * list+watch, with changes coalesced into `onSync` calls.
 */
export class NamespaceWatch {
  private readonly services: WatchedCollection<V1Service>;
  private readonly pods: WatchedCollection<V1Pod>;
  private readonly slices: WatchedCollection<V1EndpointSlice>;
  private timer: NodeJS.Timeout | undefined;
  private dueAt = Infinity;
  private stopped = false;
  readonly ready: Promise<void>;

  constructor(kc: KubeConfig, readonly namespace: string, options: NamespaceWatchOptions, private readonly events: NamespaceWatchEvents) {
    const serviceDelay = options.serviceDebounceMs ?? 20;
    const podDelay = options.podDebounceMs ?? 100;
    const health = (error: string | undefined) => this.events.onHealth(error);
    const ns = encodeURIComponent(namespace);
    this.services = new WatchedCollection<V1Service>(kc, `/api/v1/namespaces/${ns}/services`,
      { onChange: () => this.schedule(serviceDelay), onHealth: health }, options.labelSelector, options.fieldSelector);
    this.pods = new WatchedCollection<V1Pod>(kc, `/api/v1/namespaces/${ns}/pods`,
      { onChange: () => this.schedule(podDelay), onHealth: health });
    this.slices = new WatchedCollection<V1EndpointSlice>(kc, `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`,
      { onChange: () => this.schedule(podDelay), onHealth: () => undefined });
    this.ready = Promise.all([this.services.synced, this.pods.synced, this.slices.synced]).then(() => undefined);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    const at = Date.now() + delayMs;
    if (at >= this.dueAt) return;
    clearTimeout(this.timer);
    this.dueAt = at;
    this.timer = setTimeout(() => {
      this.dueAt = Infinity;
      if (!this.stopped) this.events.onSync();
    }, delayMs);
  }

  serviceList(): readonly V1Service[] {
    return this.services.list();
  }

  podList(): readonly V1Pod[] {
    return this.pods.list();
  }

  pod(name: string): V1Pod | undefined {
    return this.pods.get(name, this.namespace);
  }

  /** EndpointSlices that belong to `service` (label kubernetes.io/service-name). */
  slicesOf(service: string): V1EndpointSlice[] {
    return this.slices.list().filter((s) => s.metadata?.labels?.['kubernetes.io/service-name'] === service);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await Promise.all([this.services.stop(), this.pods.stop(), this.slices.stop()]);
  }
}
