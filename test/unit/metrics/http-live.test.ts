import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as http from 'node:http';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { exchange } from '../../helpers/net.js';
import { startRelay, type Relay, type Tap } from './relay.js';

/** Routes of the test server; each answers in a way that exercises one kind of framing. */
function handle(req: http.IncomingMessage, res: http.ServerResponse, hung: Set<http.ServerResponse>): void {
  const url = req.url ?? '/';
  if (url === '/json') {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '11' }).end('{"ok":true}');
  } else if (url === '/chunked') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('first ');
    res.write('second ');
    res.end('third');
  } else if (url.startsWith('/big-chunked')) {
    res.writeHead(200);
    const piece = Buffer.alloc(256 * 1024, 0x61);
    for (let i = 0; i < 8; i++) res.write(piece);
    res.end();
  } else if (url === '/head') {
    res.writeHead(200, { 'content-length': '123456' }).end();
  } else if (url === '/nocontent') {
    res.writeHead(204).end();
  } else if (url === '/notmodified') {
    res.writeHead(304, { etag: '"v1"' }).end();
  } else if (url === '/stream') {
    // No length: chunked for HTTP/1.1 clients, body until close for HTTP/1.0 ones.
    res.writeHead(200);
    res.write('part one, ');
    res.end('part two');
  } else if (url === '/echo') {
    let size = 0;
    req.on('data', (c: Buffer) => (size += c.length));
    req.on('end', () => res.writeHead(201, { 'content-length': String(String(size).length) }).end(String(size)));
  } else if (url === '/hang') {
    hung.add(res);
  } else {
    res.writeHead(404, { 'content-length': '0' }).end();
  }
}

function request(port: number, agent: http.Agent, method: string, path: string, body?: Buffer | 'chunked'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (body instanceof Buffer) headers['content-length'] = String(body.length);
    const req = http.request({ host: '127.0.0.1', port, method, path, agent, headers }, (res) => {
      let text = '';
      res.setEncoding('latin1');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    if (body === 'chunked') {
      // Without a length node sends the body chunked.
      req.write('abc');
      req.write('defgh');
      req.end('ij');
    } else {
      req.end(body);
    }
  });
}

const summary = (tap: Tap) => tap.exchanges.map((e) => `${e.method} ${e.path} ${e.status ?? '-'}`);

describe('HttpSniffer on real HTTP traffic through a loopback relay', () => {
  let server: http.Server;
  let relay: Relay;
  const hung = new Set<http.ServerResponse>();

  before(async () => {
    server = http.createServer((req, res) => handle(req, res, hung));
    server.on('upgrade', (_req: http.IncomingMessage, socket: net.Socket) => {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n');
      socket.pipe(socket);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    relay = await startRelay((server.address() as net.AddressInfo).port);
  });

  after(async () => {
    await relay.close();
    for (const res of hung) res.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  /** Runs `fn`, then returns the one tap (connection) it created. */
  async function oneConnection(fn: () => Promise<void>): Promise<Tap> {
    const before = relay.taps.length;
    await fn();
    assert.equal(relay.taps.length, before + 1, 'exactly one relayed connection');
    return relay.taps[before];
  }

  it('follows a keep-alive connection through every kind of framing', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const tap = await oneConnection(async () => {
      assert.equal((await request(relay.port, agent, 'GET', '/json')).body, '{"ok":true}');
      assert.equal((await request(relay.port, agent, 'POST', '/echo', Buffer.alloc(3 * 1024 * 1024, 1))).body, String(3 * 1024 * 1024));
      assert.equal((await request(relay.port, agent, 'POST', '/echo', 'chunked')).body, '10');
      assert.equal((await request(relay.port, agent, 'GET', '/chunked')).body, 'first second third');
      assert.equal((await request(relay.port, agent, 'GET', '/big-chunked')).body.length, 2 * 1024 * 1024);
      assert.equal((await request(relay.port, agent, 'HEAD', '/head')).status, 200);
      assert.equal((await request(relay.port, agent, 'GET', '/nocontent')).status, 204);
      assert.equal((await request(relay.port, agent, 'GET', '/notmodified')).status, 304);
      assert.equal((await request(relay.port, agent, 'GET', '/stream')).body, 'part one, part two');
      assert.equal((await request(relay.port, agent, 'DELETE', '/missing?x=1')).status, 404);
    });
    assert.deepEqual(summary(tap), [
      'GET /json 200',
      'POST /echo 201',
      'POST /echo 201',
      'GET /chunked 200',
      'GET /big-chunked 200',
      'HEAD /head 200',
      'GET /nocontent 204',
      'GET /notmodified 304',
      'GET /stream 200',
      'DELETE /missing?x=1 404',
    ]);
    assert.equal(tap.sniffer.active, true);
    assert.equal(tap.sniffer.isHttp, true);
    for (const e of tap.exchanges) {
      assert.equal(typeof e.latencyMs, 'number');
      assert.ok(e.latencyMs! >= 0 && e.time > 0);
    }
    agent.destroy();
    await tap.closed;
    assert.equal(tap.sniffer.offReason, 'closed');
    assert.equal(tap.exchanges.length, 10, 'nothing more at close');
  });

  it('sees pipelined requests written at once on a raw socket', async () => {
    const tap = await oneConnection(async () => {
      const reply = await exchange(
        '127.0.0.1',
        relay.port,
        'GET /json HTTP/1.1\r\nHost: a\r\n\r\nGET /chunked HTTP/1.1\r\nHost: a\r\n\r\nHEAD /head HTTP/1.1\r\nHost: a\r\n\r\nGET /nocontent HTTP/1.1\r\nHost: a\r\n\r\n',
        /204 No Content\r\n(.+\r\n)*\r\n$/,
      );
      assert.match(reply, /6\r\nfirst \r\n7\r\nsecond \r\n/, 'the chunked response came through as chunks');
    });
    await tap.closed;
    assert.deepEqual(summary(tap), ['GET /json 200', 'GET /chunked 200', 'HEAD /head 200', 'GET /nocontent 204']);
  });

  it('records an interim 100 Continue exchange once, with the final status', async () => {
    const agent = new http.Agent({ keepAlive: false });
    const tap = await oneConnection(
      () =>
        new Promise<void>((resolve, reject) => {
          const req = http.request({ host: '127.0.0.1', port: relay.port, method: 'PUT', path: '/echo', agent, headers: { expect: '100-continue', 'content-length': '4' } });
          req.on('continue', () => req.end('data'));
          req.on('response', (res) => {
            res.resume();
            res.on('end', () => (res.statusCode === 201 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
          });
          req.on('error', reject);
        }),
    );
    await tap.closed;
    assert.deepEqual(summary(tap), ['PUT /echo 201']);
  });

  it('ends with a response delimited by the close of the connection (HTTP/1.0)', async () => {
    const tap = await oneConnection(async () => {
      const reply = await exchange('127.0.0.1', relay.port, 'GET /stream HTTP/1.0\r\n\r\n', /part two$/);
      assert.doesNotMatch(reply, /content-length|transfer-encoding/i);
    });
    await tap.closed;
    assert.deepEqual(summary(tap), ['GET /stream 200']);
    assert.equal(tap.sniffer.offReason, 'close-delimited');
  });

  it('records the 101 of an upgrade and then stops looking', async () => {
    const tap = await oneConnection(async () => {
      const socket = net.connect(relay.port, '127.0.0.1');
      let received = '';
      socket.setEncoding('latin1');
      socket.on('data', (c: string) => {
        received += c;
        if (received.endsWith('\r\n\r\n') && received.startsWith('HTTP/1.1 101')) socket.write('\x81\x05hello GET / HTTP/1.1\r\n\r\n');
      });
      socket.write('GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n');
      while (!received.endsWith('GET / HTTP/1.1\r\n\r\n')) await once(socket, 'data');
      socket.destroy();
    });
    await tap.closed;
    assert.deepEqual(summary(tap), ['GET /ws 101']);
    assert.equal(tap.sniffer.offReason, 'upgrade');
  });

  it('reports a request still open at close without a status', async () => {
    const tap = await oneConnection(async () => {
      const socket = net.connect(relay.port, '127.0.0.1');
      socket.write('GET /hang HTTP/1.1\r\nHost: a\r\n\r\n');
      const size = hung.size;
      while (hung.size === size) await once(server, 'request');
      socket.destroy();
    });
    await tap.closed;
    assert.deepEqual(summary(tap), ['GET /hang -']);
    assert.equal(tap.exchanges[0].latencyMs, undefined);
  });
});

describe('HttpSniffer on non-HTTP traffic', () => {
  it('switches itself off on the first bytes and records nothing', async () => {
    const echo = net.createServer((s) => s.pipe(s));
    echo.listen(0, '127.0.0.1');
    await once(echo, 'listening');
    const relay = await startRelay((echo.address() as net.AddressInfo).port);
    try {
      // A PostgreSQL startup message, then some more bytes, one of them spelling an HTTP request.
      const startup = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);
      const socket = net.connect(relay.port, '127.0.0.1');
      socket.write(startup);
      await once(socket, 'data');
      assert.equal(relay.taps[0].sniffer.active, false);
      assert.equal(relay.taps[0].sniffer.offReason, 'not-http');
      socket.write('GET / HTTP/1.1\r\n\r\n');
      await once(socket, 'data');
      socket.destroy();
      await relay.taps[0].closed;
      assert.deepEqual(relay.taps[0].exchanges, []);
      assert.equal(relay.taps[0].sniffer.isHttp, false);
    } finally {
      await relay.close();
      await new Promise((resolve) => echo.close(resolve));
    }
  });
});
