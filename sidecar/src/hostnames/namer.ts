import { hostnamesFor, type RejectedName } from './ladder';

export interface NamerOptions {
  domain?: string;
  kubefwdDashedAliases?: boolean;
  /** The context's and namespace's order (the IP allocator owns it, so names and IPs agree). */
  indexes(context: string, namespace: string): { clusterIndex: number; namespaceIndex: number };
  /** Told once per rejected name, so a re-sync does not repeat the same complaint. */
  onRejected?(rejected: RejectedName): void;
}

/** The engine's namer: the ladder with the run's domain and indexes filled in. */
export class Namer {
  private readonly reported = new Set<string>();

  constructor(private readonly options: NamerOptions) {}

  names(context: string, namespace: string, service: string, pod: string | undefined, answersForService: boolean): string[] {
    const { clusterIndex, namespaceIndex } = this.options.indexes(context, namespace);
    const set = hostnamesFor({
      service, namespace, context, clusterIndex, namespaceIndex,
      ...(this.options.domain ? { domain: this.options.domain } : {}),
      ...(pod ? { pod, answersForService } : {}),
      ...(this.options.kubefwdDashedAliases ? { kubefwdDashedAliases: true } : {}),
    });
    for (const rejected of set.rejected) {
      if (this.reported.has(rejected.name)) continue;
      this.reported.add(rejected.name);
      this.options.onRejected?.(rejected);
    }
    return set.names;
  }
}
