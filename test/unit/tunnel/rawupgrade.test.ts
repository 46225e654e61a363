import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { rawSpdyUpgrade } from '../../../sidecar/src/tunnel/rawupgrade';
import { UpgradeRejected } from '../../../sidecar/src/tunnel/wsconnect';

/**
 * The hand-written SPDY upgrade against a plain-HTTP server on loopback that answers the way a
 * test asks (the real API server's answers are covered by the e2e tests of the SPDY transport).
 */
describe('raw SPDY upgrade', () => {
  let server: net.Server;
  let url = '';
  let answer: (request: string, socket: net.Socket) => void = () => undefined;
  const requests: string[] = [];

  before(async () => {
    server = net.createServer((socket) => {
      let text = '';
      socket.on('error', () => undefined);
      socket.on('data', (c: Buffer) => {
        text += c.toString('latin1');
        if (!text.includes('\r\n\r\n')) return;
        requests.push(text);
        answer(text, socket);
        text = '';
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/api/v1/namespaces/ns/pods/p/portforward`;
  });

  after(() => server.close());

  const switching = 'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: portforward.k8s.io\r\n\r\n';

  it('sends kubectl\'s upgrade request with the kubeconfig\'s headers, and hands over the bytes after the 101', async () => {
    answer = (_request, socket) => {
      socket.write(`${switching}HEAD`);
      setTimeout(() => socket.write('LATER'), 30);
    };
    const up = await rawSpdyUpgrade(url, 'portforward.k8s.io', { headers: { Authorization: 'Bearer t0ken', 'Impersonate-Group': ['a', 'b'] } });
    try {
      const request = requests.at(-1)!;
      assert.match(request, /^POST \/api\/v1\/namespaces\/ns\/pods\/p\/portforward HTTP\/1\.1\r\n/);
      for (const line of ['Host: 127.0.0.1:', 'Authorization: Bearer t0ken', 'Impersonate-Group: a', 'Impersonate-Group: b', 'Connection: Upgrade',
        'Upgrade: SPDY/3.1', 'X-Stream-Protocol-Version: portforward.k8s.io', 'Content-Length: 0']) assert.ok(request.includes(`\r\n${line}`), line);
      assert.equal(up.head.toString(), 'HEAD');
      const later = await new Promise<string>((resolve) => up.setSink((chunk) => resolve(chunk.toString())));
      assert.equal(later, 'LATER');
    } finally {
      up.socket.destroy();
    }
  });

  it('keeps what arrives before the session takes over, in order', async () => {
    answer = (_request, socket) => {
      socket.write(switching);
      setTimeout(() => socket.write('one'), 10);
      setTimeout(() => socket.write('two'), 40);
    };
    const up = await rawSpdyUpgrade(url, 'portforward.k8s.io', {});
    try {
      await new Promise((r) => setTimeout(r, 120));
      const got: string[] = [];
      up.setSink((chunk) => got.push(chunk.toString()));
      assert.equal(got.join(''), 'onetwo');
    } finally {
      up.socket.destroy();
    }
  });

  it('rejects a refusal with its status and body (Content-Length or chunked)', async () => {
    const body = JSON.stringify({ kind: 'Status', message: 'pods "p" is forbidden', code: 403 });
    answer = (_request, socket) => socket.write(`HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    const forbidden = await rawSpdyUpgrade(url, 'portforward.k8s.io', {}).then(() => undefined, (e: unknown) => e);
    assert.ok(forbidden instanceof UpgradeRejected);
    assert.equal(forbidden.status, 403);
    assert.equal(forbidden.body, body);

    answer = (_request, socket) => socket.write('HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nno su\r\n7\r\nch pod.\r\n0\r\n\r\n');
    const missing = await rawSpdyUpgrade(url, 'portforward.k8s.io', {}).then(() => undefined, (e: unknown) => e);
    assert.ok(missing instanceof UpgradeRejected);
    assert.deepEqual([missing.status, missing.body], [404, 'no such pod.']);

    answer = (_request, socket) => socket.end('HTTP/1.1 500 Internal Server Error\r\n\r\nboom');
    const failed = await rawSpdyUpgrade(url, 'portforward.k8s.io', {}).then(() => undefined, (e: unknown) => e);
    assert.ok(failed instanceof UpgradeRejected);
    assert.deepEqual([failed.status, failed.body], [500, 'boom']);
  });

  it('rejects a 101 for another protocol, a server that hangs up, and garbage', async () => {
    answer = (_request, socket) => socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n');
    await assert.rejects(rawSpdyUpgrade(url, 'portforward.k8s.io', {}), /invalid SPDY upgrade: Upgrade "websocket"/);
    answer = (_request, socket) => socket.end();
    await assert.rejects(rawSpdyUpgrade(url, 'portforward.k8s.io', {}), /closed the connection before answering the upgrade/);
    answer = (_request, socket) => socket.write('SSH-2.0-OpenSSH\r\n\r\n');
    await assert.rejects(rawSpdyUpgrade(url, 'portforward.k8s.io', {}), /not an HTTP response: "SSH-2\.0-OpenSSH"/);
  });

  it('refuses a header that would break the request, before connecting', async () => {
    const before = requests.length;
    await assert.rejects(rawSpdyUpgrade(url, 'portforward.k8s.io', { headers: { Authorization: 'Bearer x\r\nX-Evil: 1' } }), /invalid request header "Authorization"/);
    assert.equal(requests.length, before);
  });

  it('gives up when its signal is aborted, and on a refused connection', async () => {
    answer = () => undefined;
    const aborter = new AbortController();
    const pending = rawSpdyUpgrade(url, 'portforward.k8s.io', { signal: aborter.signal });
    setTimeout(() => aborter.abort(), 50);
    await assert.rejects(pending, /aborted/);
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await assert.rejects(rawSpdyUpgrade(`http://127.0.0.1:${port}/x`, 'portforward.k8s.io', {}), /ECONNREFUSED/);
  });
});
