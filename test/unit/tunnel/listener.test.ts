import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import * as os from 'node:os';
import * as fs from 'node:fs';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeForwardError } from '../../../sidecar/src/errors';
import { bindFailure, looksLikeHttpRequest, PortListener, type ListenerTarget, type PortListenerOptions } from '../../../sidecar/src/tunnel/listener';
import { startProcess } from '../../helpers/process';
import { startFakeKubelet, type FakeKubelet } from './fakeKubelet';
import { until } from './wait';

const IP = '127.1.27.214';

interface Recorder {
  errors: { code: string; message: string; target: ListenerTarget | undefined }[];
  opened: number;
  closed: number;
  bytesIn: number;
  bytesOut: number;
  taps: { chunks: number; closed: boolean }[];
}

function recorder(): [Recorder, NonNullable<PortListenerOptions['hooks']>] {
  const r: Recorder = { errors: [], opened: 0, closed: 0, bytesIn: 0, bytesOut: 0, taps: [] };
  return [r, {
    onError: (code, message, target) => r.errors.push({ code, message, target }),
    onOpen: () => r.opened++,
    onClose: () => r.closed++,
    onBytesIn: (n) => (r.bytesIn += n),
    onBytesOut: (n) => (r.bytesOut += n),
    tap: () => {
      const t = { chunks: 0, closed: false };
      r.taps.push(t);
      return { data: () => t.chunks++, close: () => (t.closed = true) };
    },
  }];
}

/** Connects, writes, and resolves with what came back once `until` matches, or the end. */
function talk(port: number, write: string, expect: RegExp, host = IP): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, host);
    let text = '';
    s.on('connect', () => s.write(write));
    s.on('data', (c: Buffer) => {
      text += c.toString();
      if (expect.test(text)) {
        s.destroy();
        resolve(text);
      }
    });
    s.on('error', (e) => reject(e));
    s.on('close', () => reject(new Error(`closed after ${JSON.stringify(text)}`)));
  });
}

/** Resolves with how a connection ended: 'reset', 'end' or 'close'. */
function outcome(port: number, host = IP): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, host);
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNRESET' ? 'reset' : String(e.code)));
    s.on('end', () => {
      s.destroy();
      resolve('end');
    });
  });
}

describe('port listener', () => {
  let fake: FakeKubelet;
  const listeners: PortListener[] = [];
  before(async () => (fake = await startFakeKubelet()));
  after(async () => {
    await Promise.all(listeners.map((l) => l.close()));
    await fake.close();
  });

  async function listen(resolve: () => ListenerTarget, hooks: PortListenerOptions['hooks'], extra: Partial<PortListenerOptions> = {}): Promise<PortListener> {
    const l = await PortListener.listen({ kc: fake.kc, ip: IP, port: 0, resolve, hooks, pipe: { lingerMs: 50 }, pool: false, ...extra });
    listeners.push(l);
    return l;
  }

  it('forwards each connection to the target the resolver names at that moment', async () => {
    const [r, hooks] = recorder();
    let pod = 'greet';
    const l = await listen(() => ({ namespace: 'ns', pod, podPort: 3306 }), hooks);
    assert.match(await talk(l.address.port, '', /hello 3306\n/), /^hello 3306\n$/);
    pod = 'echo';
    assert.equal(await talk(l.address.port, 'ping', /ping/), 'ping');
    await until('both connections to close', () => (r.closed === 2 ? true : undefined));
    assert.equal(r.opened, 2);
    assert.equal(r.bytesIn, 'hello 3306\n'.length + 4);
    assert.equal(r.bytesOut, 4);
    assert.deepEqual(r.taps.map((t) => t.closed), [true, true]);
    assert.ok(r.taps[1]!.chunks >= 2);
    assert.deepEqual(r.errors, []);
    assert.equal(l.connectionCount, 0);
  });

  it('resets a connection when there is no pod, and reports the resolver\'s code', async () => {
    const [r, hooks] = recorder();
    const l = await listen(() => {
      throw Object.assign(new Error('web: waiting for a ready pod'), { code: 'NO_POD' });
    }, hooks);
    assert.equal(await outcome(l.address.port), 'reset');
    assert.deepEqual(r.errors.map((e) => [e.code, e.message]), [['NO_POD', 'web: waiting for a ready pod']]);
  });

  it('resets a connection whose tunnel is refused, reports it, and serves the next one', async () => {
    const [r, hooks] = recorder();
    let pod = 'forbidden';
    const l = await listen(() => ({ namespace: 'ns', pod, podPort: 80 }), hooks);
    assert.equal(await outcome(l.address.port), 'reset');
    assert.equal(r.errors[0]?.code, 'RBAC_DENIED');
    assert.deepEqual(r.errors[0]?.target, { namespace: 'ns', pod: 'forbidden', podPort: 80 });
    pod = 'echo';
    assert.equal(await talk(l.address.port, 'again', /again/), 'again');
  });

  it('falls back to a WebSocket per connection where the SPDY upgrade is refused', async () => {
    // This server (like a proxy that passes only WebSockets) answers the SPDY upgrade with 400.
    const [r, hooks] = recorder();
    const l = await listen(() => ({ namespace: 'ns', pod: 'echo', podPort: 80 }), hooks, { transport: 'spdy' });
    assert.equal(l.multiplexing, true);
    assert.equal(await talk(l.address.port, 'first', /first/), 'first');
    assert.equal(await talk(l.address.port, 'second', /second/), 'second');
    assert.deepEqual(r.errors, []);
  });

  it('keeps a connection working when a parallel one is destroyed mid-transfer', async () => {
    const [r, hooks] = recorder();
    const l = await listen(() => ({ namespace: 'ns', pod: 'echo', podPort: 80 }), hooks);
    const victim = net.connect(l.address.port, IP);
    victim.on('error', () => undefined);
    const survivor = net.connect(l.address.port, IP);
    let echoed = 0;
    victim.on('data', (c: Buffer) => {
      echoed += c.length;
      if (echoed > 1024 * 1024) victim.destroy();
      else victim.write(c);
    });
    victim.write(Buffer.alloc(64 * 1024, 1));
    await new Promise((resolve) => victim.once('close', resolve));
    let text = '';
    survivor.on('data', (c: Buffer) => (text += c.toString()));
    survivor.write('still alive');
    await until('the survivor to echo', () => (text === 'still alive' ? true : undefined));
    survivor.destroy();
    await until('both to close', () => (r.closed === 2 ? true : undefined));
    assert.deepEqual(r.errors, []);
  });

  it('close() stops listening and closes every connection and tunnel', async () => {
    const l = await PortListener.listen({ kc: fake.kc, ip: IP, port: 0, resolve: () => ({ namespace: 'ns', pod: 'echo', podPort: 80 }), pool: false });
    const port = l.address.port;
    const known = new Set(fake.open);
    const client = net.connect(port, IP);
    const ended = new Promise((resolve) => client.once('close', resolve));
    client.on('error', () => undefined);
    client.resume();
    client.write('x');
    const ws = await until('the tunnel to open', () => [...fake.open].find((w) => !known.has(w)));
    await l.close();
    await ended;
    await until('the tunnel to close', () => (fake.open.has(ws) ? undefined : true));
    assert.equal(await outcome(port), 'ECONNREFUSED');
    await l.close();
  });

  it('turns on spares once a connection speaks HTTP, and hands them out', async () => {
    const l = await listen(() => ({ namespace: 'ns', pod: 'echo', podPort: 80 }), {}, { pool: 'http' });
    await talk(l.address.port, '\u0000binary', /binary/);
    assert.equal(l.pooling, false);
    await talk(l.address.port, 'GET / HTTP/1.1\r\n\r\n', /HTTP/);
    assert.equal(l.pooling, true);
    await talk(l.address.port, 'GET / HTTP/1.1\r\n\r\n', /HTTP/);
    await until('the spares', () => (l.spareCount === 2 ? true : undefined));
    assert.equal(await talk(l.address.port, 'GET /x HTTP/1.1\r\n\r\n', /x HTTP/), 'GET /x HTTP/1.1\r\n\r\n');
    assert.ok(looksLikeHttpRequest(Buffer.from('POST /a HTTP/1.1')));
    assert.ok(!looksLikeHttpRequest(Buffer.from([0x16, 3, 1, 0])));
  });
});

describe('binding', () => {
  it('names the process holding the port (PORT_IN_USE)', { skip: process.platform !== 'linux' && 'needs /proc' }, async () => {
    const holder = startProcess(process.execPath, ['-e',
      "const s = require('net').createServer().listen(0, '127.1.27.215', () => console.log('port', s.address().port))"]);
    try {
      const port = Number((await holder.waitFor(/port (\d+)/))[1]);
      await assert.rejects(PortListener.listen({ kc: new KubeConfig(), ip: '127.1.27.215', port, resolve: () => ({ namespace: 'ns', pod: 'p', podPort: 1 }) }),
        (e: unknown) => e instanceof KubeForwardError && e.code === 'PORT_IN_USE'
          && e.message.startsWith(`127.1.27.215:${port} is already in use by node (pid ${holder.child.pid})`));
    } finally {
      await holder.stop();
    }
  });

  it('maps EACCES to PORT_PRIVILEGED and EADDRNOTAVAIL to ADDRESS_UNAVAILABLE', async () => {
    const privileged = await bindFailure(Object.assign(new Error('listen EACCES'), { code: 'EACCES' }), '127.1.27.1', 80);
    assert.equal(privileged.code, 'PORT_PRIVILEGED');
    assert.match(privileged.message, /^127\.1\.27\.1:80: ports below 1024 need root/);
    assert.equal((await bindFailure(Object.assign(new Error('x'), { code: 'EADDRNOTAVAIL' }), '127.1.27.1', 80)).code, 'ADDRESS_UNAVAILABLE');
    assert.equal((await bindFailure(new Error('odd'), '127.1.27.1', 80)).code, 'LISTEN_FAILED');
  });

  it('refuses ports below 1024 to an unprivileged process (PORT_PRIVILEGED)', async () => {
    // The tests run as root, so the real bind is tried by a child running as `nobody` (with a copy
    // of Node it may execute: root's cache is not readable to it).
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-unpriv-'));
    fs.chmodSync(dir, 0o755);
    const node = path.join(dir, 'node');
    fs.copyFileSync(process.execPath, node);
    fs.chmodSync(node, 0o755);
    const listener = path.join(__dirname, '..', '..', '..', 'sidecar', 'src', 'tunnel', 'listener.js');
    const script = `const { PortListener } = require(${JSON.stringify(listener)});
      const { KubeConfig } = require('@kubernetes/client-node');
      PortListener.listen({ kc: new KubeConfig(), ip: '127.1.27.215', port: 80, resolve: () => ({ namespace: 'ns', pod: 'p', podPort: 1 }) })
        .then(() => console.log('BOUND'), (e) => console.log(e.code + ' ' + e.message));`;
    try {
      const run = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', node, '-e', script],
        { encoding: 'utf8', cwd: path.join(__dirname, '..', '..', '..'), timeout: 30_000 });
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stdout, /^PORT_PRIVILEGED 127\.1\.27\.215:80: ports below 1024 need root/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
