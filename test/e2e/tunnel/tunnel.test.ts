import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeForwardError } from '../../../sidecar/src/errors';
import type { Tunnel } from '../../../sidecar/src/tunnel/tunnel';
import { openTunnel } from '../../../sidecar/src/tunnel/websocket';
import { createPod, deletePod, kubeConfig, rejection, until } from './cluster';

/** The tunnel alone against the real API server and the fake node's port-forward library. */

function collect(tunnel: Tunnel): { text(): string; ended: Promise<KubeForwardError | undefined> } {
  let text = '';
  let end!: (e: KubeForwardError | undefined) => void;
  const ended = new Promise<KubeForwardError | undefined>((resolve) => (end = resolve));
  tunnel.attach({ data: (b) => (text += b.toString()), closed: end });
  return { text: () => text, ended };
}

describe('tunnel (e2e)', () => {
  const refusing = `tunnel-e2e-refuse-${process.pid}`;
  before(() => createPod(refusing, { 'kubeforward.test/refuse-ports': '9999' }));
  after(() => deletePod(refusing));

  it('reaches a db pod, which names itself, and echoes', async () => {
    const tunnel = await openTunnel(kubeConfig('dev'), { namespace: 'demo', pod: 'db-1', port: 5432 });
    const got = collect(tunnel);
    await until('the greeting', () => (got.text().includes('\n') ? true : undefined));
    assert.equal(got.text(), 'pod=demo/db-1 port=5432\n');
    tunnel.send(Buffer.from('echo me'));
    await until('the echo', () => (got.text().endsWith('echo me') ? true : undefined));
    tunnel.close();
    assert.equal(await got.ended, undefined);
  });

  it('reaches a pod of another context given by name', async () => {
    const tunnel = await openTunnel(kubeConfig('admin'), { context: 'dev', namespace: 'demo', pod: 'db-2', port: 5432 });
    const got = collect(tunnel);
    await until('the greeting', () => (got.text().includes('\n') ? true : undefined));
    assert.equal(got.text(), 'pod=demo/db-2 port=5432\n');
    tunnel.destroy();
    await got.ended;
  });

  it('surfaces the kubelet\'s error text for a port nothing listens on', async () => {
    const tunnel = await openTunnel(kubeConfig('dev'), { namespace: 'demo', pod: refusing, port: 9999 });
    const error = await collect(tunnel).ended;
    assert.equal(error?.code, 'TUNNEL_REMOTE_ERROR');
    assert.match(error?.message ?? '', new RegExp(`pod demo/${refusing} port 9999: .*failed to connect to localhost:9999 inside namespace .*connection refused`));
  });

  it('says RBAC_DENIED, with the verb and resource, for a user who may not port-forward', async () => {
    const error = await rejection(openTunnel(kubeConfig('restricted'), { namespace: 'demo', pod: 'db-0', port: 5432 }));
    assert.equal(error.code, 'RBAC_DENIED');
    assert.match(error.message, /get and create on resource pods\/portforward in namespace demo/);
    assert.match(error.message, /User "restricted" cannot (get|create) resource "pods\/portforward"/);
  });

  it('says POD_NOT_FOUND for a pod that does not exist', async () => {
    const error = await rejection(openTunnel(kubeConfig('dev'), { namespace: 'demo', pod: 'no-such-pod', port: 80 }));
    assert.equal(error.code, 'POD_NOT_FOUND');
    assert.match(error.message, /pod demo\/no-such-pod not found/);
  });
});
