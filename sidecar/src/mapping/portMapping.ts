import { KubeForwardError } from '../errors';

/** Service port → local port, for every service (`80:8080`) or one (`web.demo:80:8080`, `web:80:8080`). */
export interface PortMapping {
  /** Absent: applies to every service (kubefwd -m). */
  service?: string;
  /** Absent with a service: that service in any namespace. */
  namespace?: string;
  port: number;
  localPort: number;
  spec: string;
}

const FORMS = 'expected SERVICE_PORT:LOCAL_PORT (e.g. 80:8080) or SERVICE[.NAMESPACE]:SERVICE_PORT:LOCAL_PORT (e.g. web.demo:80:8080)';
const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** A TCP port number, 1–65535, written in plain decimal. */
export function parsePort(text: string, what: string): number {
  const trimmed = text.trim();
  const value = /^[0-9]{1,5}$/.test(trimmed) ? Number(trimmed) : NaN;
  if (!(value >= 1 && value <= 65535)) {
    throw new KubeForwardError('BAD_MAPPING', `${what} "${text}" is not a port number from 1 to 65535`);
  }
  return value;
}

export function parsePortMapping(spec: string): PortMapping {
  const parts = spec.trim().split(':');
  if (parts.length !== 2 && parts.length !== 3) throw new KubeForwardError('BAD_MAPPING', `bad port mapping "${spec}": ${FORMS}`);
  const [portText = '', localText = ''] = parts.slice(-2);
  const port = parsePort(portText, `service port in mapping "${spec}":`);
  const localPort = parsePort(localText, `local port in mapping "${spec}":`);
  if (parts.length === 2) return { port, localPort, spec };
  const target = (parts[0] ?? '').trim().toLowerCase();
  const [service = '', namespace, ...extra] = target.split('.');
  if (extra.length > 0 || !NAME.test(service) || (namespace !== undefined && !NAME.test(namespace))) {
    throw new KubeForwardError('BAD_MAPPING', `bad port mapping "${spec}": "${parts[0] ?? ''}" is not SERVICE or SERVICE.NAMESPACE; ${FORMS}`);
  }
  return { service, ...(namespace !== undefined ? { namespace } : {}), port, localPort, spec };
}

/**
 * Local ports for service ports. The most specific mapping wins: `svc.ns:` over `svc:` over a
 * global one; no mapping keeps the service port. Two mappings of the same port at the same level
 * with different local ports are refused rather than resolved by order (kubefwd takes the first).
 */
export class PortMapper {
  readonly mappings: readonly PortMapping[];
  private readonly table = new Map<string, PortMapping>();

  constructor(specs: readonly string[] = []) {
    this.mappings = specs.map(parsePortMapping);
    for (const m of this.mappings) {
      const key = scopeKey(m.service, m.namespace, m.port);
      const other = this.table.get(key);
      if (other && other.localPort !== m.localPort) {
        throw new KubeForwardError('BAD_MAPPING', `port mappings "${other.spec}" and "${m.spec}" send the same port to different local ports; keep one`);
      }
      this.table.set(key, m);
    }
  }

  localPort(service: string, namespace: string, port: number): number {
    const svc = service.toLowerCase();
    const found = this.table.get(scopeKey(svc, namespace.toLowerCase(), port))
      ?? this.table.get(scopeKey(svc, undefined, port))
      ?? this.table.get(scopeKey(undefined, undefined, port));
    return found ? found.localPort : port;
  }
}

function scopeKey(service: string | undefined, namespace: string | undefined, port: number): string {
  return `${service ?? '*'}.${namespace ?? '*'}:${port}`;
}
