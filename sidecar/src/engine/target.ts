import type { KubeConfig, V1Deployment, V1Pod, V1StatefulSet } from '@kubernetes/client-node';
import { kubeJson } from '../kube/rest';
import { NamespaceWatch } from '../discovery/namespaceWatch';
import { choosePod, isEligible, isReady, matchesSelector } from '../discovery/pods';
import { KubeForwardError, codeOf, messageOf } from '../errors';
import { planService } from '../forward/plan';
import { servicePorts, type UnitPort } from '../forward/ports';
import { UnitForward, type ForwardSource, type UnitEnv } from '../forward/unit';
import { apiError } from '../kube/apiError';
import type { ForwardInfo, TargetSpec } from '../protocol/types';

export function targetId(context: string, spec: TargetSpec): string {
  return `${spec.kind}/${spec.name}.${spec.namespace}.${context}`;
}

/** Checks a TargetSpec from the wire or the command line. */
export function validateTarget(spec: TargetSpec): void {
  if (!['service', 'pod', 'deployment', 'statefulset'].includes(spec.kind)) {
    throw new KubeForwardError('BAD_REQUEST', `unknown target kind "${String(spec.kind)}" (service, pod, deployment, statefulset)`);
  }
  if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(spec.name ?? '')) throw new KubeForwardError('BAD_REQUEST', `"${spec.name}" is not a valid name`);
  if (spec.localAddress !== undefined && !/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(spec.localAddress)) {
    throw new KubeForwardError('BAD_REQUEST', `local address ${spec.localAddress} must be a loopback IPv4 address (127.x.y.z)`);
  }
  for (const [remote, local] of Object.entries(spec.localPorts ?? {})) {
    if (!/^\d+$/.test(remote) || !Number.isInteger(local) || local < 1 || local > 65535) {
      throw new KubeForwardError('BAD_REQUEST', `bad port mapping ${remote} → ${String(local)}`);
    }
  }
}

/**
 * One service, pod, deployment or statefulset forwarded on its own (nanoporter/kftray style),
 * optionally on a fixed local address and ports such as 127.0.0.1:5432. Workloads follow their
 * first ready pod across rollouts.
 */
export class TargetForward implements ForwardSource {
  readonly id: string;
  private unit: UnitForward | undefined;
  private watch: NamespaceWatch | undefined;
  private selector: Record<string, string> | undefined;
  private stopped = false;
  private failure: string | undefined;

  constructor(private readonly kc: KubeConfig, readonly context: string, readonly spec: TargetSpec, private readonly ip: string,
    private readonly env: UnitEnv & { removed(id: string): void }) {
    this.id = targetId(context, spec);
  }

  private localPort = (port: number) => this.spec.localPorts?.[String(port)] ?? port;

  async start(): Promise<void> {
    const { namespace, kind, name } = this.spec;
    if (kind === 'deployment' || kind === 'statefulset') {
      try {
        const workload = await kubeJson<V1Deployment | V1StatefulSet>(this.kc,
          { path: `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/${kind}s/${encodeURIComponent(name)}` });
        this.selector = workload.spec?.selector.matchLabels;
        if (!this.selector) throw new KubeForwardError('UNSUPPORTED', `${kind} ${name} uses matchExpressions only, which targets do not follow yet`);
      } catch (error) {
        return this.fail(apiError(error, this.kc, `reading ${kind} ${name}`));
      }
    }
    this.watch = new NamespaceWatch(this.kc, namespace, kind === 'service' ? { fieldSelector: `metadata.name=${name}` } : {}, {
      onSync: () => this.sync(),
      onHealth: (error) => {
        if (error) this.env.event('warn', `watching ${namespace}: ${error}`, 'WATCH_FAILED', this.id);
      },
    });
    await this.watch.ready;
    await this.sync();
  }

  private fail(error: unknown): void {
    this.failure = messageOf(error);
    this.env.event('error', this.failure, codeOf(error), this.id);
    this.env.changed(this);
  }

  private pick(): { pod?: V1Pod; ports: UnitPort[]; waiting?: string } {
    const watch = this.watch;
    if (!watch) return { ports: [] };
    const { kind, name } = this.spec;
    const tcp = (pod: V1Pod | undefined): UnitPort[] => (pod?.spec?.containers ?? []).flatMap((c) => c.ports ?? [])
      .filter((p) => (p.protocol ?? 'TCP') === 'TCP')
      .filter((p) => !this.spec.localPorts || String(p.containerPort) in this.spec.localPorts)
      .map((p) => ({ ...(p.name ? { name: p.name } : {}), protocol: 'TCP' as const, port: p.containerPort, targetPort: p.containerPort, localPort: this.localPort(p.containerPort) }));
    if (kind === 'service') {
      const service = watch.serviceList()[0];
      if (!service) return { ports: [], waiting: `service ${name} not found in ${this.spec.namespace}` };
      const plan = planService(service, watch.podList(), watch.slicesOf(name), this.unit?.podName);
      const ports = servicePorts(service.spec?.ports ?? [], this.localPort).filter((p) => !this.spec.localPorts || String(p.port) in this.spec.localPorts);
      if (plan.kind === 'skip') return { ports: [], waiting: plan.reason };
      const first = plan.units.find((u) => u.pod) ?? plan.units[0];
      return { ...(first?.pod ? { pod: first.pod } : {}), ports, ...(plan.waiting ? { waiting: plan.waiting } : {}) };
    }
    if (kind === 'pod') {
      const pod = watch.pod(name);
      const serving = pod && isEligible(pod) && isReady(pod) ? pod : undefined;
      return { ...(serving ? { pod: serving } : {}), ports: tcp(pod), ...(serving ? {} : { waiting: pod ? `pod ${name} is not ready` : `pod ${name} not found` }) };
    }
    const candidates = watch.podList().filter((p) => matchesSelector(p, this.selector));
    const pod = choosePod(candidates, this.unit?.podName);
    const template = pod ?? candidates[0];
    return { ...(pod ? { pod } : {}), ports: tcp(template), ...(pod ? {} : { waiting: `no ready pod of ${kind} ${name}` }) };
  }

  private async sync(): Promise<void> {
    if (this.stopped) return;
    const { pod, ports, waiting } = this.pick();
    if (!this.unit) {
      if (ports.length === 0) {
        this.failure = waiting ?? 'no TCP ports to forward';
        this.env.changed(this);
        return;
      }
      this.failure = undefined;
      this.unit = new UnitForward(this.id, this.id, {
        context: this.context, namespace: this.spec.namespace, service: this.spec.name,
        kind: this.spec.kind === 'service' ? 'service' : this.spec.kind === 'pod' ? 'pod' : 'workload', headless: false,
      }, this.ip, [], ports, this.env);
      await this.unit.start();
      this.unit.setPod(pod, waiting);
      return;
    }
    if (ports.length > 0) await this.unit.setPorts(ports);
    this.unit.setPod(pod, waiting);
  }

  info(): ForwardInfo {
    if (this.unit) return this.unit.info();
    return {
      id: this.id, serviceId: this.id, context: this.context, namespace: this.spec.namespace, service: this.spec.name,
      kind: this.spec.kind === 'service' ? 'service' : this.spec.kind === 'pod' ? 'pod' : 'workload', headless: false,
      ip: this.ip, hostnames: [], ports: [], status: this.failure ? 'Failed' : 'Starting', ...(this.failure ? { reason: this.failure } : {}), since: Date.now(),
    };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.watch?.stop();
    await this.unit?.stop();
    this.env.removed(this.id);
  }
}
