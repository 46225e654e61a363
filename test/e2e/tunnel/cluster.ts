import * as net from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { kubectl } from '../../cluster/kubectl';
import { requireState } from '../../cluster/state';

/** Helpers shared by the tunnel's end-to-end tests and its benchmark. */

export function kubeConfig(context = 'dev'): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(requireState().kubeconfig);
  kc.setCurrentContext(context);
  return kc;
}

/** Names of the Running, ready pods matching `selector` in `namespace`. */
export async function readyPods(selector: string, namespace = 'demo'): Promise<string[]> {
  const out = await kubectl(['get', 'pods', '-n', namespace, '-l', selector, '-o',
    'jsonpath={range .items[?(@.status.phase=="Running")]}{.metadata.name}{" "}{.metadata.deletionTimestamp}{"\\n"}{end}'], { context: 'admin' });
  return out.split('\n').map((l) => l.trim()).filter((l) => l && !l.includes(' ')).sort();
}

/**
 * A pod of this test on the fake node, with backend annotations (see test/cluster/fakenode),
 * Ready when this resolves. Labels match no Service, so nobody else's forwards see it.
 */
export async function createPod(name: string, annotations: Record<string, string> = {}, namespace = 'demo'): Promise<void> {
  const manifest = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { 'kube-forward-test': 'tunnel' }, annotations },
    spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'app', image: 'kube-forward-test/backend:1' }] },
  };
  await kubectl(['apply', '-f', '-'], { context: 'admin', input: JSON.stringify(manifest) });
  await kubectl(['wait', '-n', namespace, '--for=condition=Ready', `pod/${name}`, '--timeout=60s'], { context: 'admin' });
}

export async function deletePod(name: string, namespace = 'demo', wait = true): Promise<void> {
  await kubectl(['delete', 'pod', '-n', namespace, name, '--ignore-not-found', `--wait=${wait}`, '--grace-period=0'], { context: 'admin' });
}

/** A loopback TCP server for `kubeforward.test/dial` backends; resolves with it and its port. */
export async function backendServer(onConnection: (socket: net.Socket) => void, host = '127.0.0.1'): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer({ allowHalfOpen: true }, onConnection);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  return { server, port: address.port };
}

export { rejection, until } from '../../unit/tunnel/wait';

/** Connects to host:port and resolves with the connected socket. */
export function connect(port: number, host: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, host);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/** Resolves with everything read until the peer ends (or rejects on error). */
export function readAll(socket: net.Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.once('end', () => resolve(Buffer.concat(chunks)));
    socket.once('error', reject);
  });
}
