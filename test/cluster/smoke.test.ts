import assert from 'node:assert/strict';
import * as net from 'node:net';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { httpGet } from '../helpers/net';
import { startProcess, type TestProcess } from '../helpers/process';
import { kubectl, kubectlJson } from './kubectl';
import { requireState } from './state';
import { waitFor, withTimeout } from './wait';

interface Pod {
  metadata: { name: string; uid: string; deletionTimestamp?: string; labels?: Record<string, string> };
  status: { phase: string; conditions?: { type: string; status: string }[] };
}
interface List<T> { items: T[] }
interface Slice { endpoints?: { targetRef?: { name: string } }[] }

const ready = (pod: Pod) => pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

async function runningWebPods(): Promise<string[]> {
  const pods = await kubectlJson<List<Pod>>(['get', 'pods', '-n', 'demo', '-l', 'app=web,!role']);
  return pods.items.filter((p) => p.status.phase === 'Running' && ready(p) && !p.metadata.deletionTimestamp)
    .map((p) => p.metadata.name).sort();
}

/** `kubectl port-forward` (the one built with the control plane) on a free local port. */
async function kubectlForward(target: string, port: number, env: NodeJS.ProcessEnv = {}, context = 'admin'): Promise<{ proc: TestProcess; local: number }> {
  const state = requireState();
  const proc = startProcess(state.bins.kubectl, ['--kubeconfig', state.kubeconfig, '--context', context, '-n', 'demo',
    'port-forward', target, `:${port}`, '--address', '127.0.0.1'], { env: { ...process.env, ...env } });
  const match = await proc.waitFor(/Forwarding from 127\.0\.0\.1:(\d+)/);
  return { proc, local: Number(match[1]) };
}

function firstLine(port: number): Promise<{ line: string; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      data += chunk;
      const i = data.indexOf('\n');
      if (i >= 0) resolve({ line: data.slice(0, i), socket });
    });
    socket.on('error', reject);
  });
}

describe('test control plane (smoke)', () => {
  it('has a Ready fake node and the fixtures running', async () => {
    const nodes = await kubectlJson<List<{ metadata: { name: string }; status: { conditions: { type: string; status: string }[] } }>>(['get', 'nodes']);
    const node = nodes.items.find((n) => n.metadata.name === 'fake-node-1');
    assert.ok(node, 'node fake-node-1 registered');
    assert.ok(node.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True'), 'node is Ready');
    const pods = await kubectlJson<List<Pod>>(['get', 'pods', '-n', 'demo']);
    const byName = (prefix: string) => pods.items.filter((p) => p.metadata.name.startsWith(prefix));
    assert.equal(byName('web-').filter((p) => p.status.phase === 'Running' && ready(p) && p.metadata.name !== 'web-evicted').length, 2);
    assert.deepEqual(byName('db-').filter(ready).map((p) => p.metadata.name).sort(), ['db-0', 'db-1', 'db-2']);
    assert.equal(pods.items.find((p) => p.metadata.name === 'web-evicted')?.status.phase, 'Failed');
    assert.ok(byName('migrate-').some((p) => p.status.phase === 'Succeeded'), 'the Job pod completed');
  });

  it('port-forwards with kubectl over WebSocket and over plain SPDY; the backend names the pod', async () => {
    const [pod] = await runningWebPods();
    assert.ok(pod);
    for (const env of [{}, { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' }]) {
      const { proc, local } = await kubectlForward(`pod/${pod}`, 8080, env);
      try {
        const response = await httpGet(`http://127.0.0.1:${local}/`);
        assert.equal(response.status, 200);
        assert.deepEqual(JSON.parse(response.body), { pod, namespace: 'demo', port: 8080 });
      } finally {
        await proc.stop();
      }
    }
  });

  it('port-forwards with @kubernetes/client-node (the benchmarks\' peer)', async () => {
    const state = requireState();
    const [pod] = await runningWebPods();
    assert.ok(pod);
    const proc = startProcess(process.execPath, [path.join(__dirname, '..', 'peers', 'clientNodeForward.js'),
      '--kubeconfig', state.kubeconfig, '--context', 'admin', '-n', 'demo', '--pod', pod, '--port', '8080']);
    try {
      const match = await proc.waitFor(/listening 127\.0\.0\.1:(\d+)/);
      const response = await httpGet(`http://127.0.0.1:${match[1]}/`);
      assert.deepEqual(JSON.parse(response.body), { pod, namespace: 'demo', port: 8080 });
    } finally {
      await proc.stop();
    }
  });

  it('denies port-forward to the restricted context with 403', async () => {
    const [pod] = await runningWebPods();
    assert.ok(pod);
    const error = await kubectl(['port-forward', `pod/${pod}`, ':8080', '--address', '127.0.0.1'], { context: 'restricted', timeoutMs: 30_000 })
      .then(() => undefined, (e: unknown) => e as Error);
    assert.ok(error, 'kubectl port-forward must fail');
    assert.match(error.message, /forbidden|403/i);
    assert.match(error.message, /pods\/portforward|portforward/);
  });

  it('replaces the pods on rollout restart and the EndpointSlice follows', async () => {
    const before = await runningWebPods();
    await kubectl(['rollout', 'restart', 'deployment/web', '-n', 'demo'], { context: 'admin' });
    await kubectl(['rollout', 'status', 'deployment/web', '-n', 'demo', '--timeout=120s'], { context: 'admin', timeoutMs: 130_000 });
    const after = await waitFor('old web pods gone', async () => {
      const pods = await runningWebPods();
      return pods.length === 2 && pods.every((p) => !before.includes(p)) ? pods : undefined;
    }, 60_000);
    await waitFor('EndpointSlice of web to name the new pods', async () => {
      const slices = await kubectlJson<List<Slice>>(['get', 'endpointslices', '-n', 'demo', '-l', 'kubernetes.io/service-name=web']);
      const names = slices.items.flatMap((s) => s.endpoints ?? []).map((e) => e.targetRef?.name ?? '').sort();
      return JSON.stringify(names) === JSON.stringify(after);
    }, 60_000);
  });

  it('closes open port-forward streams when the pod is deleted', async () => {
    const { proc, local } = await kubectlForward('pod/db-1', 5432);
    try {
      const { line, socket } = await firstLine(local);
      assert.equal(line, 'pod=demo/db-1 port=5432');
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      await kubectl(['delete', 'pod', 'db-1', '-n', 'demo', '--wait=false'], { context: 'admin' });
      await withTimeout(closed, 20_000, 'the port-forward stream of the deleted pod to close');
    } finally {
      await proc.stop();
      await kubectl(['rollout', 'status', 'statefulset/db', '-n', 'demo', '--timeout=120s'], { context: 'admin', timeoutMs: 130_000 });
    }
  });
});
