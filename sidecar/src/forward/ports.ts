import type { V1Pod, V1ServicePort } from '@kubernetes/client-node';
import { resolveTargetPort } from '../discovery/pods';
import type { PortInfo } from '../protocol/types';

/** One port of a forward: what a client dials locally and what it reaches in the pod. */
export interface UnitPort {
  name?: string;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  /** The service's port (or the container port, for pod and workload targets). */
  port: number;
  targetPort: number | string;
  localPort: number;
  skipped?: string;
}

export type LocalPortFn = (port: number) => number;

/** Unprivileged processes cannot bind below 1024: such ports move up by 10000 (80 → 10080). */
export function unprivilegedPort(port: number): number {
  return port < 1024 ? port + 10_000 : port;
}

export function servicePorts(ports: readonly V1ServicePort[], localPort: LocalPortFn): UnitPort[] {
  return ports.map((p) => {
    const protocol = (p.protocol ?? 'TCP') as UnitPort['protocol'];
    const target = p.targetPort ?? p.port;
    return {
      ...(p.name ? { name: p.name } : {}),
      protocol,
      port: p.port,
      targetPort: typeof target === 'number' ? target : String(target),
      localPort: localPort(p.port),
      ...(protocol !== 'TCP' ? { skipped: `${protocol} is not forwarded (TCP only)` } : {}),
    };
  });
}

/** The pod port a unit port reaches on `pod` (named targetPorts looked up in its containers). */
export function podPortOf(port: UnitPort, pod: V1Pod): number | undefined {
  return resolveTargetPort({ port: port.port, protocol: port.protocol, targetPort: port.targetPort as never, ...(port.name ? { name: port.name } : {}) }, pod);
}

export function portInfos(ports: readonly UnitPort[], pod: V1Pod | undefined, httpPorts: ReadonlySet<number>): PortInfo[] {
  return ports.map((p) => {
    const podPort = pod ? podPortOf(p, pod) : undefined;
    return {
      ...(p.name ? { name: p.name } : {}),
      protocol: p.protocol,
      port: p.port,
      localPort: p.localPort,
      targetPort: p.targetPort,
      ...(podPort !== undefined ? { podPort } : {}),
      ...(p.skipped ? { skipped: p.skipped } : {}),
      ...(httpPorts.has(p.localPort) ? { http: true } : {}),
    };
  });
}

export const samePorts = (a: readonly UnitPort[], b: readonly UnitPort[]) => JSON.stringify(a) === JSON.stringify(b);
