import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { PortListener, type ListenerTarget, type PortListenerOptions } from '../../../sidecar/src/tunnel/listener';
import { SpdySession } from '../../../sidecar/src/tunnel/spdysession';
import { backendServer, connect, createPod, deletePod, kubeConfig, readAll, readyPods, until } from './cluster';

/**
 * PortListener against the real API server and the fake node: HTTP and echo backends, big and
 * slow transfers, close in both directions, pod deletion, failures isolated per connection —
 * once with a WebSocket per connection, once with stream pairs on shared SPDY sessions.
 * Listens on 127.1.27.200–211.
 */

const MB = 1024 * 1024;
let nextIp = 200;

interface Reported { code: string; message: string }

for (const transport of ['websocket', 'spdy'] as const) describe(`port listener over ${transport} (e2e)`, () => {
  const listeners: PortListener[] = [];
  const dialPod = `tunnel-e2e-dial-${transport}-${process.pid}`;
  const doomedPod = `tunnel-e2e-doomed-${transport}-${process.pid}`;
  let web = '';
  let backend: { server: net.Server; port: number };
  const backendSockets: net.Socket[] = [];

  before(async () => {
    backend = await backendServer((socket) => {
      backendSockets.push(socket);
      socket.on('error', () => undefined);
      // Echo; or, after "WAIT", collect until the client's FIN and answer then.
      let held: Buffer[] | undefined;
      socket.on('data', (c: Buffer) => {
        if (!held && c.toString('latin1', 0, 4) === 'WAIT') held = [];
        if (held) held.push(c);
        else socket.write(c);
      });
      // The fake node passes the tunnel's end on as a half-close; answer like most servers do.
      socket.on('end', () => (held ? socket.end(`after EOF: ${Buffer.concat(held).length} bytes`) : socket.end()));
    });
    web = (await readyPods('app=web'))[0]!;
    await Promise.all([
      createPod(dialPod, { 'kubeforward.test/dial': `127.0.0.1:${backend.port}` }),
      createPod(doomedPod),
    ]);
  });

  after(async () => {
    await Promise.all(listeners.map((l) => l.close()));
    for (const s of backendSockets) s.destroy();
    backend.server.close();
    await Promise.all([deletePod(dialPod), deletePod(doomedPod)]);
  });

  async function listen(target: ListenerTarget, extra: Partial<PortListenerOptions> = {}): Promise<{ l: PortListener; ip: string; port: number; errors: Reported[] }> {
    const errors: Reported[] = [];
    const ip = `127.1.27.${nextIp++}`;
    const l = await PortListener.listen({
      kc: kubeConfig('dev'), ip, port: 0, resolve: () => target, pool: false, transport,
      // A deleted pod's reason follows the kubelet's reset of the stream; on a loaded machine
      // later than the default 200 ms grace.
      session: { errorGraceMs: 5000 },
      hooks: { onError: (code, message) => errors.push({ code, message }) },
      ...extra,
    });
    listeners.push(l);
    return { l, ip, port: l.address.port, errors };
  }

  it('serves the HTTP backend on a 127.1.27.x address', async () => {
    const { ip, port, errors } = await listen({ namespace: 'demo', pod: web, podPort: 8080 });
    const response = await fetch(`http://${ip}:${port}/`, { headers: { connection: 'close' } });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { pod: web, namespace: 'demo', port: 8080 });
    assert.deepEqual(errors, []);
  });

  it(`counts and taps a connection's first bytes once${transport === 'spdy' ? ', sent with its stream' : ''}`, async () => {
    let out = 0;
    let tapped = '';
    const { ip, port, errors } = await listen({ namespace: 'demo', pod: web, podPort: 8080 }, {
      hooks: {
        onBytesOut: (n) => (out += n),
        tap: () => ({ data: (direction, chunk) => void (direction === 'out' && (tapped += chunk.toString('latin1'))) }),
        onError: (code, message) => errors.push({ code, message }),
      },
    });
    const request = 'GET / HTTP/1.1\r\nHost: e2e\r\nConnection: close\r\n\r\n';
    const s = await connect(port, ip);
    const body = readAll(s);
    s.write(request);
    assert.match((await body).toString(), /^HTTP\/1\.1 200[\s\S]*"pod":/);
    s.destroy();
    assert.equal(tapped, request);
    assert.equal(out, request.length);
    assert.deepEqual(errors, []);
  });

  it('moves 64 MB through one connection intact, both ways', async () => {
    const { ip, port } = await listen({ namespace: 'demo', pod: 'db-0', podPort: 5432 });
    const data = randomBytes(64 * MB);
    const sent = createHash('sha256').update(data).digest('hex');
    const socket = await connect(port, ip);
    const received = createHash('sha256');
    let greeting = '';
    let got = 0;
    const done = new Promise<void>((resolve, reject) => {
      socket.on('error', reject);
      socket.on('data', (c: Buffer) => {
        if (!greeting.endsWith('\n')) {
          const nl = c.indexOf(10);
          greeting += c.toString('latin1', 0, nl < 0 ? c.length : nl + 1);
          if (nl < 0) return;
          c = c.subarray(nl + 1);
        }
        received.update(c);
        got += c.length;
        if (got >= data.length) resolve();
      });
    });
    for (let off = 0; off < data.length; off += 256 * 1024) {
      if (!socket.write(data.subarray(off, off + 256 * 1024))) await new Promise((r) => socket.once('drain', r));
    }
    await done;
    socket.destroy();
    assert.equal(greeting, 'pod=demo/db-0 port=5432\n');
    assert.equal(got, data.length);
    assert.equal(received.digest('hex'), sent);
  });

  it('does not buffer without bound for a client that stops reading', async () => {
    const { l, ip, port } = await listen({ namespace: 'demo', pod: web, podPort: 8080 });
    const size = 64 * MB;
    const socket = await connect(port, ip);
    let got = 0;
    socket.on('data', (c: Buffer) => (got += c.length));
    socket.write(`GET /bytes?n=${size} HTTP/1.1\r\nHost: e2e\r\nConnection: close\r\n\r\n`);
    await until('the download to start', () => (got > 0 ? true : undefined));
    socket.pause();
    let peak = 0;
    let last = -1;
    let steady = 0;
    // Until the queue inside the listener stops changing for a while: the tunnel is paused.
    await until('the relay to stall', () => {
      const q = l.queuedBytes().toClient;
      peak = Math.max(peak, q);
      steady = q === last ? steady + 1 : 0;
      last = q;
      return steady >= 5 ? true : undefined;
    }, 20_000, 50);
    assert.ok(got < size / 2, `the client got ${got} bytes before pausing filled the pipe`);
    assert.ok(peak < 2 * MB, `the listener held at most ${peak} bytes for the paused client`);
    const ended = new Promise((resolve) => socket.once('end', resolve));
    socket.resume();
    await ended;
    socket.destroy();
    assert.ok(got > size && got < size + 1024, `every byte arrived: ${got} = ${size} and the response head`);
  });

  it('ends the backend connection when the client closes, and the client when the backend closes', async () => {
    const { ip, port } = await listen({ namespace: 'demo', pod: dialPod, podPort: 7000 }, { pipe: { lingerMs: 200 } });
    const before = backendSockets.length;
    const client = await connect(port, ip);
    client.write('hi');
    await until('the backend connection', () => (backendSockets.length > before ? true : undefined));
    const first = backendSockets[before]!;
    const backendClosed = new Promise((resolve) => first.once('close', resolve));
    client.end();
    await backendClosed;

    const client2 = await connect(port, ip);
    const ended = readAll(client2);
    let seen = '';
    client2.on('data', (c: Buffer) => (seen += c.toString()));
    client2.write('ping');
    await until('the second backend connection', () => (backendSockets.length > before + 1 ? true : undefined));
    // The backend ends only once its echo is back, so the close cannot overtake the ping.
    await until('the echo', () => (seen === 'ping' ? true : undefined));
    backendSockets[before + 1]!.end('bye');
    assert.equal((await ended).toString(), 'pingbye');
    client2.destroy();
  });

  it('closes the tunnels of a deleted pod and reports why', async () => {
    const { ip, port, errors } = await listen({ namespace: 'demo', pod: doomedPod, podPort: 5432 });
    const client = await connect(port, ip);
    let text = '';
    client.on('data', (c: Buffer) => (text += c.toString()));
    const closed = new Promise((resolve) => client.once('close', resolve));
    client.on('error', () => undefined);
    await until('the greeting', () => (text.includes('\n') ? true : undefined));
    assert.equal(text, `pod=demo/${doomedPod} port=5432\n`);
    await deletePod(doomedPod, 'demo', false);
    await closed;
    await until('the report', () => (errors.length > 0 ? true : undefined));
    assert.equal(errors[0]!.code, 'TUNNEL_REMOTE_ERROR');
    assert.match(errors[0]!.message, /was deleted/);
  });

  it(`passes the client's half-close on ${transport === 'spdy' ? 'at once' : 'after the linger'}, so a backend that answers after EOF answers`, async () => {
    const { ip, port, errors } = await listen({ namespace: 'demo', pod: dialPod, podPort: 7000 }, { pipe: { lingerMs: 300 } });
    const client = await connect(port, ip);
    const all = readAll(client);
    client.end(`WAIT${'x'.repeat(100_000)}`);
    const started = performance.now();
    const text = (await all).toString();
    const ms = performance.now() - started;
    client.destroy();
    if (transport === 'spdy') {
      assert.equal(text, 'after EOF: 100004 bytes');
    } else {
      // v4 has no half-close: the backend sees the end only when the tunnel closes after the
      // linger, and its answer races that close.
      assert.ok(text === '' || text === 'after EOF: 100004 bytes', text);
      assert.ok(ms >= 250, `the tunnel closed after the linger (${ms.toFixed(0)} ms)`);
    }
    assert.deepEqual(errors, []);
  });

  if (transport === 'spdy') {
    it('carries 200 simultaneous connections on shared sessions', async () => {
      const { l, ip, port, errors } = await listen({ namespace: 'demo', pod: web, podPort: 8080 });
      const answers = await Promise.all(Array.from({ length: 200 }, async () => {
        const s = await connect(port, ip);
        const body = readAll(s);
        s.write('GET / HTTP/1.1\r\nHost: e2e\r\nConnection: close\r\n\r\n');
        const text = (await body).toString();
        s.destroy();
        return text;
      }));
      for (const text of answers) assert.match(text, /^HTTP\/1\.1 200[\s\S]*"pod":/);
      assert.ok(l.multiplexing);
      await until('every connection to close', () => (l.connectionCount === 0 ? true : undefined));
      assert.deepEqual(errors, []);
    });

    it('sends the first bytes with the new stream when spares are kept but none is ready', async () => {
      // Watches the real session: which stream pairs were opened with a connection's first bytes.
      const opened: boolean[] = [];
      const open = SpdySession.prototype.open;
      SpdySession.prototype.open = function (this: SpdySession, ...args: Parameters<SpdySession['open']>) {
        opened.push(args[2] !== undefined);
        return open.apply(this, args);
      };
      try {
        const { ip, port, errors } = await listen({ namespace: 'demo', pod: web, podPort: 8080 }, { pool: { size: 2 } });
        const s = await connect(port, ip);
        const body = readAll(s);
        s.write('GET / HTTP/1.1\r\nHost: e2e\r\nConnection: close\r\n\r\n');
        assert.match((await body).toString(), /^HTTP\/1\.1 200[\s\S]*"pod":/);
        s.destroy();
        // The connection's own pair first (no spare yet), then the spares it set off.
        assert.equal(opened[0], true, `stream pairs opened with first bytes: ${JSON.stringify(opened)}`);
        assert.deepEqual(errors, []);
      } finally {
        SpdySession.prototype.open = open;
      }
    });
  }

  it('keeps a connection working when a parallel one is destroyed mid-transfer', async () => {
    const { l, ip, port, errors } = await listen({ namespace: 'demo', pod: web, podPort: 8080 });
    const size = 32 * MB;
    const start = async (n: number) => {
      const s = await connect(port, ip);
      s.write(`GET /bytes?n=${n} HTTP/1.1\r\nHost: e2e\r\nConnection: close\r\n\r\n`);
      return s;
    };
    // The victim asks for far more than the test runs for, and is flowing before the survivor
    // starts; it is cut once the survivor is itself mid-transfer. Nothing here races the clock.
    const victim = await start(64 * 1024 * MB);
    victim.on('error', () => undefined);
    let victimGot = 0;
    const victimFlowing = new Promise<void>((resolve) => {
      victim.on('data', (c: Buffer) => {
        victimGot += c.length;
        if (victimGot > MB) resolve();
      });
    });
    await victimFlowing;
    const survivor = await start(size);
    let survivorGot = 0;
    survivor.on('data', (c: Buffer) => {
      survivorGot += c.length;
      if (survivorGot > 4 * MB && !victim.destroyed) victim.resetAndDestroy();
    });
    const body = await readAll(survivor);
    assert.ok(victim.destroyed, `the victim was cut mid-transfer (survivor got ${survivorGot} bytes)`);
    assert.ok(body.length > size && body.length < size + 1024, `the survivor got its ${size} bytes (${body.length} with the head)`);
    assert.match(body.toString('latin1', 0, 200), /^HTTP\/1\.1 200/);
    await until('both connections to close', () => (l.connectionCount === 0 ? true : undefined));
    assert.deepEqual(errors, []);
  });
});
