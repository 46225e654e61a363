import { sanitizeContext } from '../hostnames/rfc1123';
import type { ForwardKey } from './keys';

export interface Indexes {
  clusterIndex: number;
  namespaceIndex: number;
}

/**
 * The forms of one base name that kubefwd's reservation matcher (fwdip MatchList) accepts: short
 * forms only where the ladder would write them (first context, first namespace), context-qualified
 * forms everywhere.
 */
function forms(base: string, ns: string, contexts: readonly string[], at: Indexes): string[] {
  const first = at.clusterIndex === 0;
  const out: string[] = [];
  if (first && at.namespaceIndex === 0) out.push(base, `${base}.svc`);
  if (first) out.push(`${base}.${ns}`, `${base}.${ns}.svc`, `${base}.${ns}.svc.cluster.local`);
  for (const ctx of contexts) {
    if (at.namespaceIndex === 0) out.push(`${base}.${ctx}`);
    out.push(`${base}.${ns}.${ctx}`, `${base}.${ns}.svc.${ctx}`, `${base}.${ns}.svc.cluster.${ctx}`);
  }
  return out;
}

/**
 * Every reservation name that designates this forward, lowercase. A service answers to
 * `svc.ns` and the other forms; a headless pod to `pod.svc.ns`, `pod.ns`, … (kubefwd's pod
 * forms), and the first pod also to the service's forms, since it carries the service's names.
 * Both the raw and the sanitized context are accepted (`svc.ns.arn-aws-eks-…-cluster-prod`).
 */
export function reservationNames(key: ForwardKey, at: Indexes): Set<string> {
  const ns = key.namespace.toLowerCase();
  const contexts = [...new Set([key.context.toLowerCase(), sanitizeContext(key.context)])].filter((c) => c.length > 0);
  const service = key.service.toLowerCase();
  const names: string[] = [];
  if (key.pod) {
    const pod = key.pod.toLowerCase();
    names.push(...forms(`${pod}.${service}`, ns, contexts, at), ...forms(pod, ns, contexts, at));
    if (key.answersForService) names.push(...forms(service, ns, contexts, at));
  } else {
    names.push(...forms(service, ns, contexts, at));
  }
  return new Set(names);
}
