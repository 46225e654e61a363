import type { ContextInfo, ForwardInfo, ForwardStatus, PortInfo, ServiceSummary } from '../../../sidecar/src/protocol/types';

/** Tree nodes: a discriminated union with stable ids (so `reveal` works across refreshes). */
export type Node =
  | { kind: 'context'; id: string; context: ContextInfo }
  | { kind: 'namespace'; id: string; context: string; namespace: string; services?: number }
  | { kind: 'service'; id: string; context: string; namespace: string; name: string; summary?: ServiceSummary }
  | { kind: 'port'; id: string; context: string; namespace: string; service: string; forwardId: string; port: PortInfo }
  | { kind: 'pod'; id: string; context: string; namespace: string; service: string; forwardId: string; pod: string }
  | { kind: 'message'; id: string; text: string; parentId?: string };

export const ids = {
  context: (c: string) => `ctx/${c}`,
  namespace: (c: string, ns: string) => `ns/${c}/${ns}`,
  service: (c: string, ns: string, s: string) => `svc/${c}/${ns}/${s}`,
  port: (forwardId: string, port: number) => `port/${forwardId}/${port}`,
  pod: (forwardId: string, pod: string) => `pod/${forwardId}/${pod}`,
};

/** Which codicon and colour a state gets. */
export function statusIcon(status: ForwardStatus | undefined): { icon: string; color?: string } {
  switch (status) {
    case 'Active': return { icon: 'pass-filled', color: 'testing.iconPassed' };
    case 'Starting': return { icon: 'loading~spin' };
    case 'Reconnecting': return { icon: 'sync~spin', color: 'editorWarning.foreground' };
    case 'Failed': return { icon: 'error', color: 'testing.iconFailed' };
    case 'Skipped': return { icon: 'circle-slash', color: 'disabledForeground' };
    default: return { icon: 'circle-large-outline' };
  }
}

/** The worst state among a service's forwards (a headless service has one per pod). */
export function serviceStatus(forwards: readonly ForwardInfo[]): ForwardStatus | undefined {
  const order: ForwardStatus[] = ['Failed', 'Reconnecting', 'Starting', 'Active', 'Skipped', 'Stopped'];
  const live = forwards.filter((f) => f.status !== 'Stopped');
  return order.find((s) => live.some((f) => f.status === s));
}

const HTTP_NAMES = /^(http|https|web|www|http-.*|.*-http)$/;
const HTTP_PORTS = new Set([80, 443, 8080, 8443, 3000, 5000, 8000]);

/** Ports worth "Open in Browser": seen answering HTTP, or named/numbered like HTTP. */
export const looksHttp = (p: PortInfo) => !!p.http || HTTP_NAMES.test(p.name ?? '') || HTTP_PORTS.has(p.port);

/** contextValue words matched by `when` clauses such as `viewItem =~ /\bforwarding\b/`. */
export function serviceContextValue(forwards: readonly ForwardInfo[], summary?: ServiceSummary): string {
  const words = ['service'];
  const live = forwards.filter((f) => f.status !== 'Stopped' && f.status !== 'Skipped');
  words.push(live.length > 0 ? 'forwarding' : 'idle');
  if (forwards.some((f) => f.headless) || summary?.headless) words.push('headless');
  if (live.some((f) => f.ports.some((p) => !p.skipped && looksHttp(p)))) words.push('http');
  if (live.some((f) => f.ip)) words.push('addressable');
  return words.join(' ');
}
