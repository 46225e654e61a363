import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import type { KubeForwardError } from '../../../sidecar/src/errors';
import type { Tunnel } from '../../../sidecar/src/tunnel/tunnel';
import { openTunnel, portForwardUrl, withContext } from '../../../sidecar/src/tunnel/websocket';
import { startFakeKubelet, type FakeKubelet } from './fakeKubelet';
import { rejection, until } from './wait';

/** Collects what a tunnel delivers, and how it ended. */
function collect(tunnel: Tunnel): { text(): string; ended: Promise<KubeForwardError | undefined> } {
  let text = '';
  let end!: (e: KubeForwardError | undefined) => void;
  const ended = new Promise<KubeForwardError | undefined>((resolve) => (end = resolve));
  tunnel.attach({ data: (b) => (text += b.toString()), closed: end });
  return { text: () => text, ended };
}

describe('tunnel over the port-forward WebSocket', () => {
  let fake: FakeKubelet;
  before(async () => (fake = await startFakeKubelet()));
  after(() => fake.close());

  it('builds the port-forward URL under the server URL, path included', () => {
    assert.equal(portForwardUrl('https://h:6443/k8s/clusters/c-1/', { namespace: 'a b', pod: 'p', port: 80 }),
      'https://h:6443/k8s/clusters/c-1/api/v1/namespaces/a%20b/pods/p/portforward?ports=80');
  });

  it('opens once the port prefixes arrived, then relays both ways without them', async () => {
    const tunnel = await openTunnel(fake.kc, { namespace: 'ns', pod: 'echo', port: 5432 });
    assert.ok(tunnel.isOpen);
    const got = collect(tunnel);
    tunnel.send(Buffer.from('ping'));
    await until('the echo', () => (got.text() === 'ping' ? true : undefined));
    tunnel.close();
    assert.equal(await got.ended, undefined);
    assert.match(fake.requests.at(-1)!, /\/api\/v1\/namespaces\/ns\/pods\/echo\/portforward\?ports=5432$/);
  });

  it('strips prefixes split over messages or merged with data', async () => {
    const tunnel = await openTunnel(fake.kc, { namespace: 'ns', pod: 'split', port: 0x1f90 });
    const got = collect(tunnel);
    await until('the greeting', () => (got.text() === 'hello 8080\n' ? true : undefined));
    tunnel.destroy();
    await got.ended;
  });

  it('holds what a server says first until a sink is attached', async () => {
    const tunnel = await openTunnel(fake.kc, { namespace: 'ns', pod: 'greet', port: 3306 });
    await until('the greeting to be held', () => (tunnel.heldAmount > 0 ? true : undefined));
    const got = collect(tunnel);
    assert.equal(got.text(), 'hello 3306\n');
    assert.equal(tunnel.heldAmount, 0);
    tunnel.destroy();
    await got.ended;
  });

  it('surfaces the kubelet\'s error-channel text as TUNNEL_REMOTE_ERROR', async () => {
    const tunnel = await openTunnel(fake.kc, { namespace: 'ns', pod: 'refuse', port: 9999 });
    const error = await collect(tunnel).ended;
    assert.equal(error?.code, 'TUNNEL_REMOTE_ERROR');
    assert.match(error?.message ?? '', /pod ns\/refuse port 9999: .*failed to connect to localhost:9999 .*connection refused/);
  });

  it('reports a connection dropped without a close frame as TUNNEL_BROKEN', async () => {
    const tunnel = await openTunnel(fake.kc, { namespace: 'ns', pod: 'hangup', port: 80 });
    const got = collect(tunnel);
    tunnel.send(Buffer.from('x'));
    const error = await got.ended;
    assert.equal(error?.code, 'TUNNEL_BROKEN');
    assert.match(error?.message ?? '', /tunnel to pod ns\/hangup port 80 broke/);
  });

  it('maps 403 to RBAC_DENIED naming the verbs, resource and namespace', async () => {
    const error = await rejection(openTunnel(fake.kc, { namespace: 'shop', pod: 'forbidden', port: 80 }));
    assert.equal(error.code, 'RBAC_DENIED');
    assert.match(error.message, /get and create on resource pods\/portforward in namespace shop/);
    assert.match(error.message, /cannot get resource "pods\/portforward"/);
  });

  it('maps 404 to POD_NOT_FOUND and other statuses to TUNNEL_REJECTED', async () => {
    const missing = await rejection(openTunnel(fake.kc, { namespace: 'ns', pod: 'gone', port: 80 }));
    assert.equal(missing.code, 'POD_NOT_FOUND');
    assert.match(missing.message, /pod ns\/gone not found/);
    const broken = await rejection(openTunnel(fake.kc, { namespace: 'ns', pod: 'broken', port: 80 }));
    assert.equal(broken.code, 'TUNNEL_REJECTED');
    assert.match(broken.message, /500: something broke/);
  });

  it('maps an unreachable server to API_UNREACHABLE naming the URL', async () => {
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
    const port = (probe.address() as net.AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'u' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const error = await rejection(openTunnel(kc, { namespace: 'ns', pod: 'echo', port: 80 }));
    assert.equal(error.code, 'API_UNREACHABLE');
    assert.match(error.message, new RegExp(`http://127.0.0.1:${port}: .*ECONNREFUSED`));
  });

  it('uses another context through a view that keeps the original untouched', async () => {
    const tunnel = await openTunnel(fake.kc, { context: 'other', namespace: 'ns', pod: 'echo', port: 80 });
    tunnel.destroy();
    assert.equal(fake.kc.getCurrentContext(), 'dev');
    assert.equal(withContext(fake.kc, 'other'), withContext(fake.kc, 'other'));
    const error = await rejection(openTunnel(fake.kc, { context: 'nope', namespace: 'ns', pod: 'echo', port: 80 }));
    assert.equal(error.code, 'UNKNOWN_CONTEXT');
  });

  it('gives up when the signal aborts', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await rejection(openTunnel(fake.kc, { namespace: 'ns', pod: 'echo', port: 80, signal: controller.signal }));
    assert.equal(error.code, 'ABORTED');
  });
});

describe('tunnel keep-alive', () => {
  it('pings and stays open while the peer answers', async () => {
    const fake = await startFakeKubelet();
    try {
      // The pong deadline is one interval: a tick that finds nothing received since the previous
      // ping closes the tunnel. 1 s, so a stalled event loop on a busy machine does not make a
      // live peer look dead.
      const tunnel = await openTunnel(fake.kc, { namespace: 'ns', pod: 'echo', port: 80, pingIntervalMs: 1000 });
      const got = collect(tunnel);
      let pings = 0;
      const ws = [...fake.open][0]!;
      ws.on('ping', () => pings++);
      // A second ping is sent only by a tick that saw the pong to the first.
      await until('two pings', () => (pings >= 2 ? true : undefined));
      assert.ok(tunnel.isOpen);
      tunnel.close();
      assert.equal(await got.ended, undefined);
    } finally {
      await fake.close();
    }
  });

  it('terminates a tunnel whose pongs stop, with TUNNEL_TIMEOUT', async () => {
    const fake = await startFakeKubelet({ autoPong: false });
    try {
      const tunnel = await openTunnel(fake.kc, { namespace: 'ns', pod: 'echo', port: 80, pingIntervalMs: 30 });
      const error = await collect(tunnel).ended;
      assert.equal(error?.code, 'TUNNEL_TIMEOUT');
      await until('the server to see the close', () => (fake.open.size === 0 ? true : undefined));
    } finally {
      await fake.close();
    }
  });
});
