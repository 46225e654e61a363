import type { ForwardInfo } from '../protocol/types';

const ports = (f: ForwardInfo) => f.ports.map((p) => p.skipped ? `${p.port}/${p.protocol} (skipped)`
  : p.localPort === p.port ? String(p.port) : `${p.localPort}→${p.port}`).join(',');

const names = (f: ForwardInfo, max: number) => {
  const text = f.hostnames.join(' ');
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
};

/** The table kube-forward prints: service, IP, names, ports, pod, status (with the reason). */
export function renderTable(forwards: readonly ForwardInfo[], width = 160): string[] {
  const rows = forwards.map((f) => [
    `${f.headless && f.pod && f.id !== f.serviceId ? `${f.pod}.` : ''}${f.service}.${f.namespace}`,
    f.ip || '-',
    names(f, Math.max(20, Math.floor(width / 3))) || '-',
    ports(f) || '-',
    f.pod ?? '-',
    f.reason ? `${f.status}: ${f.reason}` : f.status,
  ]);
  const header = ['SERVICE', 'IP', 'NAMES', 'PORTS', 'POD', 'STATUS'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').slice(0, width);
  return [line(header), ...rows.map(line)];
}

/** One plain line per change, for logs and pipes (no cursor control). */
export function renderChange(f: ForwardInfo): string {
  const where = f.ip ? ` ${f.ip}:${ports(f)}` : '';
  const pod = f.pod ? ` pod=${f.pod}` : '';
  const hosts = f.hostnames.length > 0 ? ` names=${f.hostnames.join(',')}` : '';
  return `${f.status.toUpperCase().padEnd(12)} ${f.id}${where}${pod}${hosts}${f.reason ? ` (${f.reason})` : ''}`;
}
