import type { KubeConfig, V1Service } from '@kubernetes/client-node';
import { NamespaceWatch } from '../discovery/namespaceWatch';
import { codeOf, messageOf } from '../errors';
import { ServiceForward, type ServiceEnv } from '../forward/service';
import { checkNamespaceAccess } from '../kube/rbac';
import type { ForwardInfo, ForwardSpec, NamespaceInfo } from '../protocol/types';

/** Key of a namespace forward: the same (context, namespace, selectors, services) is forwarded once. */
export function namespaceKey(context: string, spec: ForwardSpec): string {
  return JSON.stringify([context, spec.namespace, spec.selector ?? '', spec.fieldSelector ?? '', [...(spec.services ?? [])].sort()]);
}

export interface NamespaceEnv extends ServiceEnv {
  namespaceChanged(ns: NamespaceForward): void;
}

/**
 * A (context, namespace) being forwarded as a whole (or narrowed by selectors or a service list):
 * RBAC checked up front, then every matching service followed as it is added, changed or deleted.
 */
export class NamespaceForward {
  readonly key: string;
  status: NamespaceInfo['status'] = 'Starting';
  reason: string | undefined;
  private watch: NamespaceWatch | undefined;
  private readonly services = new Map<string, ServiceForward>();
  /** Services toggled off by a person inside a forwarded namespace. */
  private readonly excluded = new Set<string>();
  private syncing: Promise<void> | undefined;
  private again = false;
  private stopped = false;

  constructor(private readonly kc: KubeConfig, readonly context: string, readonly spec: ForwardSpec, readonly owner: string,
    private readonly env: NamespaceEnv) {
    this.key = namespaceKey(context, spec);
  }

  get namespace(): string {
    return this.spec.namespace;
  }

  private setStatus(status: NamespaceInfo['status'], reason?: string): void {
    this.status = status;
    this.reason = reason;
    this.env.namespaceChanged(this);
  }

  /** Resolves when the first sync is done; a denied or unreachable namespace ends Failed, not thrown. */
  async start(): Promise<void> {
    try {
      await checkNamespaceAccess(this.kc, this.context, this.namespace);
    } catch (error) {
      this.env.unit.event('error', messageOf(error), codeOf(error));
      return this.setStatus('Failed', messageOf(error));
    }
    if (this.stopped) return;
    this.watch = new NamespaceWatch(this.kc, this.namespace,
      { ...(this.spec.selector ? { labelSelector: this.spec.selector } : {}), ...(this.spec.fieldSelector ? { fieldSelector: this.spec.fieldSelector } : {}) },
      {
        onSync: () => void this.sync(),
        onHealth: (error) => {
          if (error) this.env.unit.event('warn', `watching ${this.namespace} (${this.context}): ${error}; retrying`, 'WATCH_FAILED');
        },
      });
    await this.watch.ready;
    await this.sync();
    if (!this.stopped) this.setStatus('Active');
  }

  private wanted(service: V1Service): boolean {
    const name = service.metadata?.name ?? '';
    const names = this.spec.services;
    return !this.excluded.has(name) && (!names || names.length === 0 || names.includes(name));
  }

  /** Whether this forward covers the whole namespace (no service list). */
  get whole(): boolean {
    return !this.spec.services || this.spec.services.length === 0;
  }

  has(service: string): boolean {
    return this.services.has(service);
  }

  /** Turns one service on: lifts an exclusion, or adds it to the service list. */
  async include(service: string): Promise<void> {
    this.excluded.delete(service);
    if (!this.whole && !this.spec.services?.includes(service)) this.spec.services = [...(this.spec.services ?? []), service];
    await this.sync();
  }

  /** Turns one service off; resolves true when nothing is left to forward. */
  async exclude(service: string): Promise<boolean> {
    if (this.whole) this.excluded.add(service);
    else this.spec.services = (this.spec.services ?? []).filter((s) => s !== service);
    await this.sync();
    return !this.whole && (this.spec.services?.length ?? 0) === 0;
  }

  /** Serialised: a sync requested while one runs makes exactly one more run afterwards. */
  sync(): Promise<void> {
    if (this.syncing) {
      this.again = true;
      return this.syncing;
    }
    this.syncing = (async () => {
      do {
        this.again = false;
        await this.syncOnce();
      } while (this.again && !this.stopped);
    })().finally(() => {
      this.syncing = undefined;
    });
    return this.syncing;
  }

  private async syncOnce(): Promise<void> {
    const watch = this.watch;
    if (!watch || this.stopped) return;
    const all = new Set(watch.serviceList().map((s) => s.metadata?.name ?? ''));
    const current = new Map(watch.serviceList().filter((s) => this.wanted(s)).map((s) => [s.metadata?.name ?? '', s]));
    for (const [name, forward] of this.services) {
      if (!current.has(name)) {
        this.services.delete(name);
        await forward.stop();
        this.env.unit.event('info', all.has(name) ? `stopped forwarding ${name}.${this.namespace}`
          : `service ${name}.${this.namespace} was deleted: forward removed`);
      }
    }
    for (const [name, service] of current) {
      let forward = this.services.get(name);
      if (!forward) {
        forward = new ServiceForward(this.context, this.namespace, service, this.env);
        this.services.set(name, forward);
      }
      try {
        await forward.sync(service, watch);
      } catch (error) {
        this.env.unit.event('error', `${forward.id}: ${messageOf(error)}`, codeOf(error), forward.id);
      }
    }
    this.env.namespaceChanged(this);
  }

  forwards(): ForwardInfo[] {
    return [...this.services.values()].flatMap((s) => s.infos());
  }

  info(): NamespaceInfo {
    return {
      context: this.context,
      namespace: this.namespace,
      ...(this.spec.selector ? { selector: this.spec.selector } : {}),
      status: this.status,
      ...(this.reason ? { reason: this.reason } : {}),
      serviceCount: this.services.size,
    };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.watch?.stop();
    await this.syncing?.catch(() => undefined);
    await Promise.all([...this.services.values()].map((s) => s.stop()));
    this.services.clear();
    this.status = 'Stopped';
    this.env.namespaceChanged(this);
  }
}
