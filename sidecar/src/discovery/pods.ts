import type { V1Pod, V1ServicePort } from '@kubernetes/client-node';

/** A pod that may serve traffic: Running, not being deleted (never Evicted, Succeeded or Failed). */
export function isEligible(pod: V1Pod): boolean {
  return pod.status?.phase === 'Running' && !pod.metadata?.deletionTimestamp && pod.status.reason !== 'Evicted';
}

export function isReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

function started(pod: V1Pod): number {
  const t = pod.status?.startTime ?? pod.metadata?.creationTimestamp;
  return t ? new Date(t).getTime() : 0;
}

/**
 * Eligible pods, best first: ready before unready, then the longest running (the least likely to
 * be replaced by a rollout in progress), then by name for a stable order.
 */
export function rankPods(pods: readonly V1Pod[]): V1Pod[] {
  return pods.filter(isEligible).sort((a, b) =>
    Number(isReady(b)) - Number(isReady(a)) || started(a) - started(b) ||
    (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
}

/**
 * The pod to serve a normal service: the current one while it stays eligible and ready (no
 * needless switching), else the best ready pod. Unready pods are never chosen.
 */
export function choosePod(pods: readonly V1Pod[], current?: string): V1Pod | undefined {
  const ranked = rankPods(pods).filter(isReady);
  return ranked.find((p) => p.metadata?.name === current) ?? ranked[0];
}

/** Whether `pod`'s labels satisfy a service's equality-based selector. */
export function matchesSelector(pod: V1Pod, selector: Record<string, string> | undefined): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  const labels = pod.metadata?.labels ?? {};
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/**
 * The container port a service port reaches on `pod`: a numeric targetPort as is, a named one
 * looked up in the pod's containers (same protocol), none given → the service port.
 */
export function resolveTargetPort(servicePort: V1ServicePort, pod: V1Pod): number | undefined {
  const target = servicePort.targetPort;
  if (target === undefined || target === null || target === '') return servicePort.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  const protocol = servicePort.protocol ?? 'TCP';
  for (const container of pod.spec?.containers ?? []) {
    for (const p of container.ports ?? []) {
      if (p.name === target && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
    }
  }
  return undefined;
}
