import type { V1EndpointSlice, V1Pod, V1Service, V1ServicePort } from '@kubernetes/client-node';

/** Small builders so a test names only what it checks: `service('api').in('shop').port(80, 'http')`. */
export class ServiceBuilder {
  private readonly s: V1Service;
  constructor(name: string) {
    this.s = { metadata: { name, namespace: 'demo' }, spec: { clusterIP: '10.96.0.10', selector: { app: name }, ports: [] } };
  }
  in(namespace: string): this { this.s.metadata!.namespace = namespace; return this; }
  port(port: number, targetPort?: number | string, protocol: 'TCP' | 'UDP' = 'TCP', name?: string): this {
    const p: V1ServicePort = { port, protocol, ...(targetPort !== undefined ? { targetPort: targetPort as never } : {}), ...(name ? { name } : {}) };
    this.s.spec!.ports!.push(p);
    return this;
  }
  headless(): this { this.s.spec!.clusterIP = 'None'; return this; }
  selector(selector: Record<string, string> | undefined): this { this.s.spec!.selector = selector; return this; }
  externalName(target: string): this { this.s.spec = { type: 'ExternalName', externalName: target }; return this; }
  build(): V1Service { return structuredClone(this.s); }
}
export const service = (name: string) => new ServiceBuilder(name);

export class PodBuilder {
  private readonly p: V1Pod;
  constructor(name: string) {
    this.p = {
      metadata: { name, namespace: 'demo', labels: {}, creationTimestamp: new Date(1_700_000_000_000) },
      spec: { containers: [{ name: 'main', ports: [] }] },
      status: { phase: 'Running', startTime: new Date(1_700_000_000_000), conditions: [{ type: 'Ready', status: 'True' }] },
    };
  }
  labels(labels: Record<string, string>): this { this.p.metadata!.labels = labels; return this; }
  containerPort(containerPort: number, name?: string, protocol: 'TCP' | 'UDP' = 'TCP'): this {
    this.p.spec!.containers[0]!.ports!.push({ containerPort, protocol, ...(name ? { name } : {}) });
    return this;
  }
  startedAt(ms: number): this { this.p.status!.startTime = new Date(ms); return this; }
  unready(): this { this.p.status!.conditions = [{ type: 'Ready', status: 'False' }]; return this; }
  phase(phase: string, reason?: string): this {
    this.p.status!.phase = phase;
    if (reason) this.p.status!.reason = reason;
    if (phase !== 'Running') this.p.status!.conditions = [{ type: 'Ready', status: 'False' }];
    return this;
  }
  deleting(): this { this.p.metadata!.deletionTimestamp = new Date(); return this; }
  build(): V1Pod { return structuredClone(this.p); }
}
export const pod = (name: string) => new PodBuilder(name);

export function slice(service: string, podNames: string[]): V1EndpointSlice {
  return {
    addressType: 'IPv4',
    metadata: { name: `${service}-manual`, labels: { 'kubernetes.io/service-name': service } },
    endpoints: podNames.map((name) => ({ addresses: ['10.244.0.1'], targetRef: { kind: 'Pod', name } })),
  };
}
