import { scaleManifest } from '../cluster/fixtures';
import { kubectl, kubectlJson } from '../cluster/kubectl';

/**
 * Namespace `bench` on the bench cluster:
 *   bench  one pod whose port 8080 the fake node proxies to the bench's own backend process
 *          (`kubeforward.test/dial`), so every contender and "direct" reach the SAME server;
 *   heal   one pod with the fake node's HTTP backend (GET / names the pod), rolled for P6.
 * Both Services: port 80 → named targetPort http (8080).
 */
export const NAMESPACE = 'bench';

function deployment(name: string, annotations: Record<string, string>): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name}, namespace: ${NAMESPACE} }
spec:
  replicas: 1
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata:
      labels: { app: ${name} }
      annotations: ${JSON.stringify(annotations)}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
        - name: ${name}
          image: kube-forward-test/backend:1
          ports: [{ name: http, containerPort: 8080 }]
---
apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: ${NAMESPACE} }
spec:
  selector: { app: ${name} }
  ports: [{ name: http, port: 80, targetPort: http }]`;
}

export function benchManifest(backendPort: number): string {
  return [`apiVersion: v1\nkind: Namespace\nmetadata: { name: ${NAMESPACE} }`,
    deployment('bench', { 'kubeforward.test/dial': `127.0.0.1:${backendPort}` }),
    deployment('heal', { 'kubeforward.test/backend': 'http' })].join('\n---\n');
}

/** Applies the bench workloads (re-pointing `bench` at this run's backend) and waits for them. */
export async function applyBench(backendPort: number): Promise<void> {
  await kubectl(['apply', '-f', '-'], { context: 'admin', input: benchManifest(backendPort) });
  for (const d of ['bench', 'heal']) {
    await kubectl(['rollout', 'status', `deployment/${d}`, '-n', NAMESPACE, '--timeout=120s'], { context: 'admin', timeoutMs: 130_000 });
  }
}

interface PodList {
  items: { metadata: { name: string; deletionTimestamp?: string }; status: { phase?: string; conditions?: { type: string; status: string }[] } }[];
}

/** The Running, Ready, not-deleting pods with label app=<app>. */
export async function readyPods(app: string, namespace = NAMESPACE): Promise<string[]> {
  const list = await kubectlJson<PodList>(['get', 'pods', '-n', namespace, '-l', `app=${app}`], { context: 'admin' });
  return list.items.filter((p) => p.status.phase === 'Running' && !p.metadata.deletionTimestamp
    && (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')).map((p) => p.metadata.name).sort();
}

/** The one ready pod of app=<app>; waits while a rollout still shows two. */
export async function onePod(app: string, namespace = NAMESPACE): Promise<string> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const pods = await readyPods(app, namespace);
    if (pods.length === 1) return pods[0]!;
    if (Date.now() > deadline) throw new Error(`expected one ready pod of app=${app} in ${namespace}, found ${pods.join(', ') || 'none'}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * The same objects as `cluster.js scale -n NS --count N` (test/cluster/fixtures.ts), created
 * with `kubectl create` (one request per object, where apply reads each first): the quick bench
 * has a time budget. Waits until every pod is Ready.
 */
export async function createScale(namespace: string, count: number): Promise<void> {
  await kubectl(['delete', 'namespace', namespace, '--ignore-not-found', '--wait=true'], { context: 'admin', timeoutMs: 120_000 });
  await kubectl(['create', '-f', '-'], { context: 'admin', input: scaleManifest(namespace, count), timeoutMs: 300_000 });
  await kubectl(['wait', '--for=condition=Ready', 'pod', '-l', 'kube-forward-scale=true', '-n', namespace, '--timeout=300s'],
    { context: 'admin', timeoutMs: 310_000 });
}
