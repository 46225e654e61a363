import { KubeForwardError } from '../errors';
import { formatIpv4, isLoopback, parseIpv4 } from './ipv4';

/**
 * An IP held for one forward. `name` is any of kubefwd's reservation names for it (`svc.ns`,
 * `svc.ns.ctx`, `pod.svc.ns`, … see match.ts); `source` says where it came from, for messages.
 */
export interface Reservation {
  name: string;
  ip: string;
  source: string;
}

const EXAMPLE = 'such as web.demo:127.1.27.50';

/** Validates an IP for a reservation or base address: dotted quad in 127.0.0.0/8. */
export function loopbackIp(text: string, what: string, code = 'INVALID_RESERVATION'): string {
  const octets = parseIpv4(text.trim());
  if (!octets) throw new KubeForwardError(code, `${what}: "${text}" is not an IPv4 address (four decimal octets, e.g. 127.1.27.50)`);
  if (!isLoopback(octets)) {
    throw new KubeForwardError(code, `${what}: ${text} is not in 127.0.0.0/8; only loopback addresses can be used`);
  }
  return formatIpv4(octets);
}

/** A reservation from its parts, validated (fwdconf entries arrive this way). */
export function reservation(name: string, ip: string, source: string): Reservation {
  const cleanName = name.trim().toLowerCase();
  if (!cleanName) throw new KubeForwardError('INVALID_RESERVATION', `reservation for ${ip} (${source}) has an empty name`);
  return { name: cleanName, ip: loopbackIp(ip, `reservation ${cleanName} (${source})`), source };
}

/**
 * Parses kubefwd's `-r NAME:IP`. kubefwd splits at the first colon, so a context with colons (an
 * EKS ARN) could never be named; an IPv4 address has no colon, so we split at the last one.
 */
export function parseReservation(spec: string, source = '-r'): Reservation {
  const at = spec.lastIndexOf(':');
  if (at <= 0 || at === spec.length - 1) {
    throw new KubeForwardError('INVALID_RESERVATION', `invalid reservation "${spec}" (${source}): expected NAME:IP ${EXAMPLE}`);
  }
  return reservation(spec.slice(0, at), spec.slice(at + 1), source);
}

/**
 * Combines reservation lists in order of precedence (fwdconf first, then -r / settings): a later
 * entry with the same name replaces an earlier one, as kubefwd's -r overrides its fwdconf. The
 * same IP held for two names is refused, as kubefwd does.
 */
export function mergeReservations(...lists: readonly (readonly Reservation[])[]): Reservation[] {
  const byName = new Map<string, Reservation>();
  for (const list of lists) {
    // Map.set keeps the first position of a name, as kubefwd edits its fwdconf entry in place.
    for (const r of list) byName.set(r.name, r);
  }
  const byIp = new Map<string, Reservation>();
  for (const r of byName.values()) {
    const other = byIp.get(r.ip);
    if (other) {
      throw new KubeForwardError('INVALID_RESERVATION',
        `${r.ip} is reserved twice: for ${other.name} (${other.source}) and ${r.name} (${r.source}); give each its own address`);
    }
    byIp.set(r.ip, r);
  }
  return [...byName.values()];
}
