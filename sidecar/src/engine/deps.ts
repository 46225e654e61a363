import type { KubeConfig } from '@kubernetes/client-node';
import type { UnitPort } from '../forward/ports';
import type { Closable, ListenerEvents, Target } from '../forward/unit';
import type { TrafficMeter } from '../metrics/meter';
import type { HttpExchange } from '../metrics/http';

/**
 * The engine's collaborators, as narrow interfaces: the engine composes them and never knows how
 * IPs are chosen, names written or bytes moved.
 */
export interface IpAllocator {
  /** A stable IP for a forward id, in the context's and namespace's range. */
  allocate(id: string, context: string, namespace: string): string;
  /** Fixes the order of contexts and namespaces (the first ones get the short names). */
  preassign?(contexts: readonly string[], namespaces: readonly string[]): void;
}

export interface Namer {
  names(context: string, namespace: string, service: string, pod: string | undefined, answersForService: boolean): string[];
}

export interface HostsWriter {
  set(entries: { ip: string; names: string[] }[]): Promise<void>;
  purgeStale(): Promise<unknown>;
  clear(): Promise<void>;
  clearSync(): void;
}

export interface ListenRequest {
  kc: KubeConfig;
  ip: string;
  port: UnitPort;
  resolve: () => Target;
  events: ListenerEvents;
  meter: TrafficMeter;
  /** Called per connection with a sniffer sink, when HTTP detection is wanted. */
  onHttp: (exchange: HttpExchange, target: Target | undefined) => void;
}

export interface Transport {
  listen(request: ListenRequest): Promise<Closable>;
  probe(kc: KubeConfig, target: Target): Promise<void>;
  /** Closes everything still open (shutdown). */
  close(): Promise<void>;
}
