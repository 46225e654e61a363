import { EventEmitter } from 'node:events';
import type { KubeConfig, V1NamespaceList, V1ServiceList } from '@kubernetes/client-node';
import { kubeJson } from '../kube/rest';
import { KubeForwardError, codeOf, messageOf } from '../errors';
import { apiError } from '../kube/apiError';
import { contextInfos, kubeConfigFor, loadKubeconfig, resolveContext, type LoadedKubeconfig } from '../kube/config';
import { EventLog, MetricsRegistry, Ring } from '../metrics';
import type { Identity } from '../privilege/identity';
import type { ContextsResult, StopParams } from '../protocol/methods';
import type {
  EngineEvent, EngineOptions, EngineState, EventLevel, ForwardInfo, ForwardMetrics, ForwardSpec, HttpRecord, NamespaceInfo,
  NamespaceSummary, PrivilegeInfo, ServiceSummary, TargetSpec,
} from '../protocol/types';
import type { UnitEnv, ForwardSource } from '../forward/unit';
import type { HostsWriter, IpAllocator, Namer, Transport } from './deps';
import { NamespaceForward, namespaceKey, type NamespaceEnv } from './namespace';
import { TargetForward, targetId, validateTarget } from './target';

export interface EngineConfig {
  kubeconfigFiles: string[];
  identity: Identity;
  options: EngineOptions;
  allocator: IpAllocator;
  namer: Namer;
  /** Undefined: no names are written (unprivileged, or turned off). */
  hosts?: HostsWriter;
  hostsPath?: string;
  transport: Transport;
  /** Local port for a service port (mappings; unprivileged moves ports < 1024). */
  localPort(context: string, namespace: string, service: string, port: number): number;
  httpLogSize?: number;
  /** Loopback aliases (macOS needs one per IP; Linux none). */
  aliases?: { ensure(ip: string): Promise<void>; releaseAll(): Promise<void> };
  /** Applies changed options (mappings, reservations, domain) to the collaborators; returns warnings. */
  reconfigure?(options: EngineOptions): string[];
}

export interface EngineEvents {
  /** Forwards changed (or were removed); throttling is the listener's business. */
  forwards: [changed: ForwardInfo[], removed: string[]];
  namespaces: [NamespaceInfo[]];
  metrics: [ForwardMetrics[]];
  http: [HttpRecord];
  event: [EngineEvent];
}

/**
 * The forward engine: namespaces and services in, forwards out. It emits states and events and
 * never knows about a UI (the CLI table and the JSON-RPC server both listen to it).
 */
export class Engine extends EventEmitter<EngineEvents> {
  private loaded: LoadedKubeconfig | undefined;
  private readonly kcs = new Map<string, KubeConfig>();
  private readonly namespaces = new Map<string, NamespaceForward>();
  private readonly targets = new Map<string, TargetForward>();
  private readonly published = new Map<string, ForwardSource>();
  readonly metrics = new MetricsRegistry();
  readonly log = new EventLog({ capacity: 1000, level: 'info' });
  private readonly httpLog: Ring<HttpRecord>;
  private hostsDirty = false;
  private shuttingDown: Promise<void> | undefined;

  constructor(private readonly config: EngineConfig) {
    super();
    this.httpLog = new Ring<HttpRecord>(config.httpLogSize ?? 2000);
    this.log.onEvent((event) => this.emit('event', event));
    this.metrics.onSample((changed) => this.emit('metrics', changed));
    this.metrics.start();
  }

  get options(): EngineOptions {
    return this.config.options;
  }

  event(level: EventLevel, message: string, code?: string, forwardId?: string): void {
    this.log.log(level, message, { ...(code ? { code } : {}), ...(forwardId ? { forwardId } : {}) });
  }

  // ---- kubeconfig and contexts -------------------------------------------------------------

  private kubeconfig(reload = false): LoadedKubeconfig {
    if (!this.loaded || reload) {
      this.loaded = loadKubeconfig(this.config.kubeconfigFiles, this.config.identity);
      this.kcs.clear();
    }
    return this.loaded;
  }

  /** The effective context name (the current one when none is given). */
  contextName(context?: string): string {
    return resolveContext(this.kubeconfig(), context).name;
  }

  kubeConfigOf(context?: string): KubeConfig {
    const name = this.contextName(context);
    let kc = this.kcs.get(name);
    if (!kc) {
      kc = kubeConfigFor(this.kubeconfig(), name, this.config.identity);
      this.kcs.set(name, kc);
    }
    return kc;
  }

  listContexts(): ContextsResult {
    try {
      const loaded = this.kubeconfig(this.namespaces.size === 0);
      return { contexts: contextInfos(loaded), kubeconfig: loaded.files };
    } catch (error) {
      return { contexts: [], kubeconfig: this.config.kubeconfigFiles, error: messageOf(error) };
    }
  }

  async listNamespaces(context?: string): Promise<NamespaceSummary[]> {
    const name = this.contextName(context);
    const kc = this.kubeConfigOf(name);
    const forwarded = new Set([...this.namespaces.values()].filter((n) => n.context === name).map((n) => n.namespace));
    let names: string[];
    try {
      names = (await kubeJson<V1NamespaceList>(kc, { path: '/api/v1/namespaces' })).items.map((n) => n.metadata?.name ?? '').filter(Boolean);
    } catch (error) {
      const e = apiError(error, kc, `listing namespaces of context "${name}"`);
      // Users allowed in one namespace only cannot list namespaces: offer the context's own.
      const own = this.kubeconfig().contexts.find((c) => c.name === name)?.namespace;
      if (e.code === 'RBAC_DENIED' && own) names = [own];
      else throw e;
    }
    return Promise.all(names.sort().map(async (ns) => {
      let services: number | undefined;
      try {
        services = (await listServiceObjects(kc, ns)).items.length;
      } catch {
        services = undefined;
      }
      return { name: ns, ...(services !== undefined ? { services } : {}), forwarded: forwarded.has(ns) };
    }));
  }

  async listServices(context: string | undefined, namespace: string): Promise<ServiceSummary[]> {
    const kc = this.kubeConfigOf(context);
    try {
      const list = await listServiceObjects(kc, namespace);
      return list.items.map((s) => ({
        name: s.metadata?.name ?? '',
        namespace,
        type: s.spec?.type ?? 'ClusterIP',
        ...(s.spec?.clusterIP ? { clusterIP: s.spec.clusterIP } : {}),
        headless: s.spec?.clusterIP === 'None',
        ports: (s.spec?.ports ?? []).map((p) => ({ ...(p.name ? { name: p.name } : {}), port: p.port, protocol: p.protocol ?? 'TCP', targetPort: p.targetPort ?? p.port })),
        ...(s.spec?.selector ? { selector: s.spec.selector } : {}),
      }));
    } catch (error) {
      throw apiError(error, kc, `listing services of ${namespace}`);
    }
  }

  /** Gives the contexts and namespaces kubefwd's order (first context, first namespace). */
  preassign(contexts: string[], namespaces: string[]): void {
    this.config.allocator.preassign?.(contexts, namespaces);
  }

  // ---- forwarding --------------------------------------------------------------------------

  private unitEnv(kc: KubeConfig): UnitEnv {
    return {
      listen: async (unit, ip, port, resolve, events) => {
        await this.config.aliases?.ensure(ip);
        return this.config.transport.listen({
        kc, ip, port, resolve, events,
        meter: this.metrics.meter(unit.id, unit.serviceId),
        onHttp: (exchange, target) => this.recordHttp(unit.id, unit.meta, port.localPort, exchange, target?.pod),
        });
      },
      probe: (target) => this.config.transport.probe(kc, target),
      changed: (source) => this.changed(source),
      event: (level, message, code, forwardId) => this.event(level, message, code, forwardId),
      autoReconnect: () => this.config.options.autoReconnect,
    };
  }

  private namespaceEnv(kc: KubeConfig): NamespaceEnv {
    return {
      unit: this.unitEnv(kc),
      allocateIp: (id, context, namespace) => this.config.allocator.allocate(id, context, namespace),
      names: (context, namespace, service, pod, answers) => (this.config.hosts ? this.config.namer.names(context, namespace, service, pod, answers) : []),
      localPort: (context, namespace, service, port) => this.config.localPort(context, namespace, service, port),
      removed: (id) => this.removed(id),
      namespaceChanged: () => this.emit('namespaces', this.namespaceInfos()),
    };
  }

  /** Starts forwarding a namespace (no-op when the same spec is already forwarded). */
  async forwardNamespace(spec: ForwardSpec, owner = 'user'): Promise<NamespaceForward> {
    if (this.shuttingDown) throw new KubeForwardError('SHUTTING_DOWN', 'the sidecar is shutting down');
    const context = this.contextName(spec.context);
    const key = namespaceKey(context, spec);
    const existing = this.namespaces.get(key);
    if (existing) return existing;
    const kc = this.kubeConfigOf(context);
    const ns = new NamespaceForward(kc, context, { ...spec, context }, owner, this.namespaceEnv(kc));
    this.namespaces.set(key, ns);
    this.event('info', `forwarding namespace ${spec.namespace} of context ${context}`);
    await ns.start();
    return ns;
  }

  /**
   * Turns one service on with its IP and names: inside a namespace forward of the same context
   * and namespace when there is one, else as a namespace forward narrowed to that service.
   */
  async forwardService(context: string | undefined, namespace: string, service: string): Promise<void> {
    const name = this.contextName(context);
    const same = [...this.namespaces.values()].filter((ns) => ns.context === name && ns.namespace === namespace && !ns.spec.selector && !ns.spec.fieldSelector);
    const host = same.find((ns) => ns.whole) ?? same.find((ns) => ns.owner === 'user');
    if (host) return host.include(service);
    await this.forwardNamespace({ context: name, namespace, services: [service] });
  }

  /** Forwards one service, pod or workload, optionally on a fixed local address (no hostnames). */
  async forwardTarget(spec: TargetSpec): Promise<void> {
    if (this.shuttingDown) throw new KubeForwardError('SHUTTING_DOWN', 'the sidecar is shutting down');
    validateTarget(spec);
    if (spec.kind === 'service' && !spec.localAddress && !spec.localPorts) return this.forwardService(spec.context, spec.namespace, spec.name);
    const context = this.contextName(spec.context);
    const id = targetId(context, spec);
    if (this.targets.has(id)) return;
    const kc = this.kubeConfigOf(context);
    const ip = spec.localAddress ?? this.config.allocator.allocate(id, context, spec.namespace);
    const target = new TargetForward(kc, context, spec, ip, { ...this.unitEnv(kc), removed: (removedId) => this.removed(removedId) });
    this.targets.set(id, target);
    this.event('info', `forwarding ${spec.kind} ${spec.name} in ${spec.namespace} (${context}) on ${ip}`);
    await target.start();
  }

  async stop(params: StopParams): Promise<void> {
    const targets = [...this.targets.values()].filter((t) => params.all || (params.ids ?? []).includes(t.id));
    for (const t of targets) this.targets.delete(t.id);
    await Promise.all(targets.map((t) => t.stop()));
    const all = [...this.namespaces.values()];
    const victims = params.all ? all : all.filter((ns) =>
      !!params.namespace && ns.namespace === params.namespace.namespace && ns.context === this.contextName(params.namespace.context));
    await Promise.all(victims.map((ns) => this.stopNamespace(ns)));
    if (params.all) return;
    // Single services are toggled off inside their namespace forward; the rest keeps running.
    for (const id of params.ids ?? []) {
      for (const ns of this.namespaces.values()) {
        const forward = ns.forwards().find((f) => f.id === id || f.serviceId === id);
        if (!forward) continue;
        if (await ns.exclude(forward.service)) await this.stopNamespace(ns);
        break;
      }
    }
  }

  private async stopNamespace(ns: NamespaceForward): Promise<void> {
    this.namespaces.delete(ns.key);
    await ns.stop();
    this.emit('namespaces', this.namespaceInfos());
  }

  /** Makes `specs` the set of namespace forwards owned by `owner` (e.g. the workspace settings). */
  async applySpecs(specs: ForwardSpec[], owner = 'workspace'): Promise<void> {
    const wanted = new Map<string, ForwardSpec>();
    for (const spec of specs) {
      try {
        const context = this.contextName(spec.context);
        wanted.set(namespaceKey(context, spec), { ...spec, context });
      } catch (error) {
        this.event('error', messageOf(error), codeOf(error));
      }
    }
    const stale = [...this.namespaces.values()].filter((ns) => ns.owner === owner && !wanted.has(ns.key));
    await Promise.all(stale.map((ns) => this.stopNamespace(ns)));
    await Promise.all([...wanted.values()].map((spec) => this.forwardNamespace(spec, owner).catch((error: unknown) => {
      this.event('error', messageOf(error), codeOf(error));
    })));
  }

  /** Changes options; port mappings and reservations apply to forwards made from now on. */
  configure(partial: Partial<EngineOptions>): { warnings: string[] } {
    const next: EngineOptions = { ...this.config.options };
    if (Array.isArray(partial.portMappings)) next.portMappings = partial.portMappings.filter((m) => typeof m === 'string');
    if (Array.isArray(partial.reservations)) next.reservations = partial.reservations.filter((r) => typeof r === 'string');
    if (typeof partial.domain === 'string') next.domain = partial.domain || undefined;
    if (typeof partial.autoReconnect === 'boolean') next.autoReconnect = partial.autoReconnect;
    const warnings = this.config.reconfigure?.(next) ?? [];
    this.config.options = next;
    for (const w of warnings) this.event('warn', w, 'BAD_OPTION');
    return { warnings };
  }

  // ---- state --------------------------------------------------------------------------------

  private changed(source: ForwardSource): void {
    this.published.set(source.id, source);
    this.hostsChanged();
    this.emit('forwards', [source.info()], []);
  }

  private removed(id: string): void {
    if (!this.published.delete(id)) return;
    this.metrics.remove(id);
    this.hostsChanged();
    this.emit('forwards', [], [id]);
  }

  private hostsChanged(): void {
    if (!this.config.hosts || this.hostsDirty) return;
    this.hostsDirty = true;
    queueMicrotask(() => {
      this.hostsDirty = false;
      if (this.shuttingDown) return;
      this.config.hosts?.set(this.hostEntries()).catch((error: unknown) => this.event('error', `hosts file: ${messageOf(error)}`, codeOf(error)));
    });
  }

  private hostEntries(): { ip: string; names: string[] }[] {
    // Names only for addresses that accept connections (or will again, while reconnecting).
    return this.forwards().filter((f) => f.ip && f.hostnames.length > 0 && (f.status === 'Active' || f.status === 'Reconnecting'))
      .map((f) => ({ ip: f.ip, names: f.hostnames }));
  }

  private recordHttp(id: string, meta: { context: string; namespace: string; service: string }, port: number,
    exchange: { time: number; method: string; path: string; status?: number; latencyMs?: number }, pod: string | undefined): void {
    const record: HttpRecord = { ...exchange, forwardId: id, context: meta.context, namespace: meta.namespace, service: meta.service, port, ...(pod ? { pod } : {}) };
    this.httpLog.push(record);
    this.emit('http', record);
  }

  forwards(): ForwardInfo[] {
    return [...this.published.values()].map((s) => s.info()).sort((a, b) => a.id.localeCompare(b.id));
  }

  namespaceInfos(): NamespaceInfo[] {
    return [...this.namespaces.values()].map((ns) => ns.info());
  }

  privileges(): PrivilegeInfo {
    const { identity } = this.config;
    const limitations: string[] = [];
    if (!identity.root) {
      limitations.push('no hostnames in the hosts file (connect by IP)');
      limitations.push('service ports below 1024 are moved to port + 10000');
    }
    return { root: identity.root, ...(this.config.hostsPath && this.config.hosts ? { hostsPath: this.config.hostsPath } : {}), user: identity.user, limitations };
  }

  state(): EngineState {
    return { forwards: this.forwards(), namespaces: this.namespaceInfos(), privileges: this.privileges() };
  }

  recentHttp(limit = 200): HttpRecord[] {
    return this.httpLog.newest(limit);
  }

  /** Stops watchers, then forwards, then removes the hosts block. Idempotent. */
  shutdown(): Promise<void> {
    this.shuttingDown ??= (async () => {
      this.metrics.stop();
      await Promise.allSettled([...this.namespaces.values()].map((ns) => ns.stop()));
      await Promise.allSettled([...this.targets.values()].map((t) => t.stop()));
      this.namespaces.clear();
      this.targets.clear();
      await this.config.transport.close().catch(() => undefined);
      await this.config.aliases?.releaseAll().catch(() => undefined);
      await this.config.hosts?.clear().catch((error: unknown) => {
        this.event('error', `removing the hosts block: ${messageOf(error)}`);
        this.config.hosts?.clearSync();
      });
    })();
    return this.shuttingDown;
  }

  /** Last-resort cleanup for process 'exit' (synchronous). */
  shutdownSync(): void {
    try {
      this.config.hosts?.clearSync();
    } catch {
      /* nothing more can be done on exit */
    }
  }
}

function listServiceObjects(kc: KubeConfig, namespace: string): Promise<V1ServiceList> {
  return kubeJson<V1ServiceList>(kc, { path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/services` });
}
