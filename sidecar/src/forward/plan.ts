import type { V1EndpointSlice, V1Pod, V1Service } from '@kubernetes/client-node';
import { choosePod, isEligible, isReady, matchesSelector } from '../discovery/pods';

/** What a service should become: skipped with a reason, or forwards (one, or one per pod). */
export type ServicePlan =
  | { kind: 'skip'; reason: string }
  | { kind: 'forward'; headless: boolean; units: PlannedUnit[]; waiting?: string };

export interface PlannedUnit {
  /** `svc` for a normal service, the pod's name for a headless service's pod. */
  key: string;
  /** The pod serving it now; undefined while no pod is ready (the forward waits). */
  pod?: V1Pod;
  /** A headless service's first pod also answers to the service's own names. */
  answersForService: boolean;
}

export const isHeadless = (service: V1Service) => service.spec?.clusterIP === 'None';

/** Pods behind a service: by its selector, or (selector-less) by its EndpointSlices' pod targetRefs. */
export function backingPods(service: V1Service, pods: readonly V1Pod[], slices: readonly V1EndpointSlice[]): V1Pod[] {
  const selector = service.spec?.selector;
  if (selector && Object.keys(selector).length > 0) return pods.filter((p) => matchesSelector(p, selector));
  const names = new Set(slices.flatMap((s) => s.endpoints ?? [])
    .filter((e) => e.targetRef?.kind === 'Pod' && e.targetRef.name)
    .map((e) => e.targetRef?.name ?? ''));
  return pods.filter((p) => names.has(p.metadata?.name ?? ''));
}

export function planService(service: V1Service, pods: readonly V1Pod[], slices: readonly V1EndpointSlice[], currentPod?: string): ServicePlan {
  const name = service.metadata?.name ?? '';
  if (service.spec?.type === 'ExternalName') {
    return { kind: 'skip', reason: `ExternalName service (an alias of ${service.spec.externalName ?? '?'}): there is no pod to forward to` };
  }
  const ports = service.spec?.ports ?? [];
  if (ports.length === 0) return { kind: 'skip', reason: 'the service declares no ports' };
  if (!ports.some((p) => (p.protocol ?? 'TCP') === 'TCP')) {
    return { kind: 'skip', reason: `only ${[...new Set(ports.map((p) => p.protocol))].join('/')} ports, which are not forwarded (TCP only)` };
  }
  const candidates = backingPods(service, pods, slices);
  const hasSelector = Object.keys(service.spec?.selector ?? {}).length > 0;
  const none = hasSelector ? `no ready pod matches the selector of ${name}`
    : `no ready pod is named by the EndpointSlices of ${name} (a service without a selector)`;
  if (isHeadless(service)) {
    // Every live pod keeps its own forward (and IP) while it exists, ready or not, so a pod that
    // restarts shows Reconnecting instead of vanishing; only ready pods are dialled.
    const live = candidates.filter((p) => !['Succeeded', 'Failed'].includes(p.status?.phase ?? ''))
      .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '', 'en', { numeric: true }));
    if (live.length === 0) return { kind: 'forward', headless: true, units: [], waiting: none };
    const serving = (p: V1Pod) => isEligible(p) && isReady(p);
    const first = live.find(serving) ?? live[0];
    return {
      kind: 'forward',
      headless: true,
      units: live.map((pod) => ({ key: pod.metadata?.name ?? '', pod: serving(pod) ? pod : undefined, answersForService: pod === first })),
      ...(live.some(serving) ? {} : { waiting: `pods of ${name} are not ready yet` }),
    };
  }
  const pod = choosePod(candidates, currentPod);
  const unready = candidates.filter(isEligible).length > 0 && !pod;
  return {
    kind: 'forward',
    headless: false,
    units: [{ key: name, pod, answersForService: true }],
    ...(pod ? {} : { waiting: unready ? `pods of ${name} are not ready yet` : none }),
  };
}
