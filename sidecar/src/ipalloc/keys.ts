import { KubeForwardError } from '../errors';

/** What an IP is held for: a service, or one pod of a headless service. */
export interface ForwardKey {
  context: string;
  namespace: string;
  service: string;
  /** Set for a headless service's pod forward. */
  pod?: string;
  /** A headless service's first pod also answers to the service's names (and reservations). */
  answersForService?: boolean;
}

/** The registry key: `svc.ns.ctx`, or `pod.svc.ns.ctx` for a headless service's pod. */
export function forwardId(key: ForwardKey): string {
  const base = `${key.service}.${key.namespace}.${key.context}`;
  return key.pod ? `${key.pod}.${base}` : base;
}

/**
 * Splits an id back into its key given its context and namespace (a context may contain dots, so
 * they cannot be recovered from the id alone). Service names are DNS-1035 labels without dots, so
 * whatever precedes the service's label is the pod.
 */
export function parseForwardId(id: string, context: string, namespace: string): ForwardKey {
  const suffix = `.${namespace}.${context}`;
  const head = id.endsWith(suffix) ? id.slice(0, -suffix.length) : '';
  if (!head) {
    throw new KubeForwardError('INVALID_FORWARD_ID', `forward id "${id}" does not end with ".${namespace}.${context}"`);
  }
  const dot = head.lastIndexOf('.');
  if (dot < 0) return { context, namespace, service: head };
  return { context, namespace, service: head.slice(dot + 1), pod: head.slice(0, dot) };
}
