import { KubeForwardError } from '../errors';

export type NamespaceIndexing = 'per-context' | 'global';

/**
 * The order of contexts and namespaces, which decides both the IP range (`127.[1+c].[27+n].x`)
 * and which short names a forward gets. Assigned in order of first use unless set explicitly
 * (the CLI sets them in the order of its -x and -n flags, since watches start concurrently).
 *
 * kubefwd up to 1.24 numbered namespaces per context; 1.25 numbers them across all contexts
 * (`ns.ctx` keys in one counter), so a second context never gets `svc.ctx` and skips a /24 per
 * namespace of the first. `per-context` (the default) is the former; `global` the latter.
 */
export class IndexBook {
  private readonly clusters = new Map<string, number>();
  private readonly namespaces = new Map<string, number>();

  constructor(private readonly mode: NamespaceIndexing = 'per-context') {}

  cluster(context: string): number {
    const known = this.clusters.get(context);
    if (known !== undefined) return known;
    const index = smallestFree(new Set(this.clusters.values()));
    this.clusters.set(context, index);
    return index;
  }

  namespace(context: string, namespace: string): number {
    this.cluster(context);
    const key = this.namespaceKey(context, namespace);
    const known = this.namespaces.get(key);
    if (known !== undefined) return known;
    const index = smallestFree(this.takenNamespaceIndexes(context));
    this.namespaces.set(key, index);
    return index;
  }

  setCluster(context: string, index: number): void {
    checkIndex(index, `context "${context}"`);
    const known = this.clusters.get(context);
    if (known === index) return;
    if (known !== undefined) throw conflict(`context "${context}" already has index ${known}`);
    for (const [other, i] of this.clusters) if (i === index) throw conflict(`index ${index} already belongs to context "${other}"`);
    this.clusters.set(context, index);
  }

  setNamespace(context: string, namespace: string, index: number): void {
    checkIndex(index, `namespace "${namespace}"`);
    this.cluster(context);
    const key = this.namespaceKey(context, namespace);
    const known = this.namespaces.get(key);
    if (known === index) return;
    if (known !== undefined) throw conflict(`namespace "${namespace}" of context "${context}" already has index ${known}`);
    if (this.takenNamespaceIndexes(context).has(index)) throw conflict(`namespace index ${index} is already taken in context "${context}"`);
    this.namespaces.set(key, index);
  }

  private namespaceKey(context: string, namespace: string): string {
    return JSON.stringify([context, namespace]);
  }

  private takenNamespaceIndexes(context: string): Set<number> {
    const taken = new Set<number>();
    for (const [key, index] of this.namespaces) {
      const [ctx] = JSON.parse(key) as [string, string];
      if (this.mode === 'global' || ctx === context) taken.add(index);
    }
    return taken;
  }
}

function smallestFree(taken: ReadonlySet<number>): number {
  let i = 0;
  while (taken.has(i)) i++;
  return i;
}

function checkIndex(index: number, what: string): void {
  if (!Number.isInteger(index) || index < 0 || index > 254) {
    throw new KubeForwardError('INVALID_INDEX', `index for ${what} must be an integer from 0 to 254, got ${index}`);
  }
}

function conflict(message: string): KubeForwardError {
  return new KubeForwardError('INDEX_CONFLICT', `${message}; set each context's and namespace's index once`);
}
