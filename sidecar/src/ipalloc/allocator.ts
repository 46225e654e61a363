import { KubeForwardError } from '../errors';
import { IndexBook, type NamespaceIndexing } from './indexes';
import { formatIpv4, parseIpv4, type Octets } from './ipv4';
import { forwardId, parseForwardId, type ForwardKey } from './keys';
import { reservationNames, type Indexes } from './match';
import { loopbackIp, mergeReservations, type Reservation } from './reservation';

export const DEFAULT_BASE_IP = '127.1.27.1';

/**
 * Highest last octet handed out. kubefwd hands out .1–.255, then a 256th address wraps to .0 (its
 * byte arithmetic overflows) before it errors; we stop at .254 so no forward gets an address that
 * reads as the network or broadcast address of the /24 the docs describe.
 */
export const LAST_HOST_OCTET = 254;

export interface AllocatorOptions {
  /** First address of the first range (fwdconf `baseUnreservedIP` / `baseIP`). */
  baseIp?: string;
  /** Reservations in precedence order (fwdconf, then -r / settings); merged and validated here. */
  reservations?: readonly Reservation[];
  namespaceIndexing?: NamespaceIndexing;
  /** Something worth telling a person that does not stop allocation (a reservation already taken). */
  onWarning?(code: string, message: string): void;
}

/**
 * Hands out `127.[1+cluster].[27+namespace].[n]` per forward id. An id keeps its IP for the
 * allocator's life, across reconnects, pod changes and re-forwards (kubefwd keys by pod name, so
 * a normal service moved to a new pod there also moves to a new IP). Reserved IPs go only to the
 * forward they name.
 */
export class IpAllocator {
  private readonly base: Octets;
  private readonly book: IndexBook;
  private readonly reservations: Reservation[];
  private readonly reservedIps: Set<string>;
  private readonly ipById = new Map<string, string>();
  private readonly idByIp = new Map<string, string>();
  /** Next offset to try per range, so allocation does not rescan used addresses. */
  private readonly cursor = new Map<string, number>();

  constructor(private readonly options: AllocatorOptions = {}) {
    const baseText = loopbackIp(options.baseIp ?? DEFAULT_BASE_IP, 'base IP', 'INVALID_BASE_IP');
    const base = parseIpv4(baseText);
    if (!base || base[3] < 1 || base[3] > LAST_HOST_OCTET) {
      throw new KubeForwardError('INVALID_BASE_IP', `base IP ${baseText} must end in 1–${LAST_HOST_OCTET}, e.g. ${DEFAULT_BASE_IP}`);
    }
    this.base = base;
    this.book = new IndexBook(options.namespaceIndexing);
    this.reservations = mergeReservations(options.reservations ?? []);
    this.reservedIps = new Set(this.reservations.map((r) => r.ip));
  }

  /** The context's and namespace's indexes, assigned on first use. */
  indexes(context: string, namespace: string): Indexes {
    return { clusterIndex: this.book.cluster(context), namespaceIndex: this.book.namespace(context, namespace) };
  }

  setClusterIndex(context: string, index: number): void {
    this.book.setCluster(context, index);
  }

  setNamespaceIndex(context: string, namespace: string, index: number): void {
    this.book.setNamespace(context, namespace, index);
  }

  /** Fixes the order from the command line: contexts in -x order, each with namespaces in -n order. */
  preassign(contexts: readonly string[], namespaces: readonly string[]): void {
    contexts.forEach((context, c) => {
      this.book.setCluster(context, c);
      namespaces.forEach((namespace, n) => this.book.setNamespace(context, namespace, n));
    });
  }

  /** The engine's entry point: the IP for `svc.ns.ctx` or `pod.svc.ns.ctx`. */
  allocate(id: string, context: string, namespace: string): string {
    return this.ipById.get(id) ?? this.allocateKey(parseForwardId(id, context, namespace));
  }

  allocateKey(key: ForwardKey): string {
    const id = forwardId(key);
    const known = this.ipById.get(id);
    if (known) return known;
    const at = this.indexes(key.context, key.namespace);
    const ip = this.reserved(id, key, at) ?? this.nextFree(id, key, at);
    this.ipById.set(id, ip);
    this.idByIp.set(ip, id);
    return ip;
  }

  ipOf(id: string): string | undefined {
    return this.ipById.get(id);
  }

  /** Every allocation so far, id → IP. */
  entries(): [string, string][] {
    return [...this.ipById];
  }

  private reserved(id: string, key: ForwardKey, at: Indexes): string | undefined {
    const names = reservationNames(key, at);
    const match = this.reservations.find((r) => names.has(r.name));
    if (!match) return undefined;
    const holder = this.idByIp.get(match.ip);
    if (holder === undefined) return match.ip;
    this.options.onWarning?.('RESERVATION_TAKEN',
      `${match.ip} reserved as ${match.name} (${match.source}) already serves ${holder}; ${id} gets the next free address instead`);
    return undefined;
  }

  private nextFree(id: string, key: ForwardKey, at: Indexes): string {
    const second = this.base[1] + at.clusterIndex;
    const third = this.base[2] + at.namespaceIndex;
    if (second > 255 || third > 255) {
      const which = second > 255
        ? `context "${key.context}" has index ${at.clusterIndex}, which would need second octet ${second}`
        : `namespace "${key.namespace}" has index ${at.namespaceIndex}, which would need third octet ${third}`;
      throw new KubeForwardError('IP_EXHAUSTED',
        `no address range left for ${id}: ${which} (> 255); forward fewer contexts or namespaces, or reserve addresses with -r NAME:IP`);
    }
    const range = `${second}/${third}`;
    for (let offset = this.cursor.get(range) ?? 0; this.base[3] + offset <= LAST_HOST_OCTET; offset++) {
      const ip = formatIpv4([this.base[0], second, third, this.base[3] + offset]);
      if (this.idByIp.has(ip) || this.reservedIps.has(ip)) continue;
      this.cursor.set(range, offset + 1);
      return ip;
    }
    const first = formatIpv4([this.base[0], second, third, this.base[3]]);
    throw new KubeForwardError('IP_EXHAUSTED',
      `no free IP for ${id}: ${first}–${this.base[0]}.${second}.${third}.${LAST_HOST_OCTET} (namespace "${key.namespace}" of context "${key.context}") is used up; ` +
      'forward fewer services (-l/-f) or reserve addresses outside it with -r NAME:IP');
  }
}
