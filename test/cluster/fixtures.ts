import * as fs from 'node:fs';
import * as path from 'node:path';
import { kubectl } from './kubectl';
import { fixturesDir } from './paths';

const file = (name: string) => path.join(fixturesDir, name);

async function applyFiles(context: string, names: string[]): Promise<void> {
  const input = names.map((name) => fs.readFileSync(file(name), 'utf8')).join('\n---\n');
  await kubectl(['apply', '-f', '-'], { context, input });
}

/** Applies namespaces, RBAC and workloads to the first cluster and waits until they run. */
export async function applyFixtures(log: (line: string) => void): Promise<void> {
  log('applying namespaces, RBAC and sample workloads');
  await applyFiles('admin', ['namespaces.yaml']);
  await applyFiles('admin', ['rbac.yaml', 'demo.yaml', 'other.yaml']);
  const waits: string[][] = [
    ['wait', '--for=condition=Available', 'deployment', '--all', '-n', 'demo', '--timeout=120s'],
    ['wait', '--for=condition=Available', 'deployment', '--all', '-n', 'other', '--timeout=120s'],
    ['wait', '--for=condition=Available', 'deployment', '--all', '-n', 'secret', '--timeout=120s'],
    ['rollout', 'status', 'statefulset/db', '-n', 'demo', '--timeout=120s'],
    ['wait', '--for=condition=Complete', 'job/migrate', '-n', 'demo', '--timeout=120s'],
    ['wait', '--for=jsonpath={.status.phase}=Failed', 'pod/web-evicted', '-n', 'demo', '--timeout=120s'],
  ];
  for (const args of waits) await kubectl(args, { context: 'admin', timeoutMs: 130_000 });
  log('sample workloads are running');
}

export async function applySecondClusterFixtures(context: string): Promise<void> {
  await applyFiles(context, ['second.yaml']);
  await kubectl(['wait', '--for=condition=Available', 'deployment', '--all', '-n', 'demo', '--timeout=120s'],
    { context, timeoutMs: 130_000 });
}

/** YAML for `count` services, each with one pod of its own, named `<prefix>-0001`… */
export function scaleManifest(namespace: string, count: number, prefix = 'svc'): string {
  const docs = [`apiVersion: v1\nkind: Namespace\nmetadata: { name: ${namespace} }`];
  for (let i = 1; i <= count; i++) {
    const name = `${prefix}-${String(i).padStart(4, '0')}`;
    docs.push(`apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  namespace: ${namespace}
  labels: { app: ${name}, kube-forward-scale: "true" }
  annotations: { kubeforward.test/backend: http }
spec:
  containers: [{ name: backend, image: kube-forward-test/backend:1, ports: [{ name: http, containerPort: 8080 }] }]`);
    docs.push(`apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: ${namespace}, labels: { kube-forward-scale: "true" } }
spec:
  selector: { app: ${name} }
  ports: [{ name: http, port: 80, targetPort: http }]`);
  }
  return docs.join('\n---\n');
}

/** Creates `count` extra services with backing pods in `namespace` and waits until all are Ready. */
export async function scale(namespace: string, count: number, context = 'admin', prefix = 'svc'): Promise<void> {
  await kubectl(['apply', '-f', '-'], { context, input: scaleManifest(namespace, count, prefix), timeoutMs: 300_000 });
  await kubectl(['wait', '--for=condition=Ready', 'pod', '-l', 'kube-forward-scale=true', '-n', namespace, '--timeout=300s'],
    { context, timeoutMs: 310_000 });
}
