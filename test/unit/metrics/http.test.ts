import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpSniffer, type HttpExchange, type HttpSnifferOptions } from '../../../sidecar/src/metrics/http.js';

function sniff(options: HttpSnifferOptions = {}) {
  const exchanges: HttpExchange[] = [];
  const sniffer = new HttpSniffer((e) => exchanges.push(e), options);
  const req = (s: string | Buffer) => sniffer.onRequestData(typeof s === 'string' ? Buffer.from(s, 'latin1') : s);
  const res = (s: string | Buffer) => sniffer.onResponseData(typeof s === 'string' ? Buffer.from(s, 'latin1') : s);
  const summary = () => exchanges.map((e) => `${e.method} ${e.path} ${e.status ?? '-'}`);
  return { sniffer, exchanges, req, res, summary };
}

describe('HttpSniffer: not HTTP', () => {
  const cases: [string, Buffer | string][] = [
    ['a PostgreSQL startup message', Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])],
    ['a TLS ClientHello', Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01])],
    ['a Redis RESP command', '*1\r\n$4\r\nPING\r\n'],
    ['a Redis inline command', 'PING\r\n'],
    ['a lower-case method', 'get / HTTP/1.1\r\n\r\n'],
    ["HTTP/2's connection preface", 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'],
    ['HTTP/0.9', 'GET /\r\n'],
    ['a request line with a control byte in the target', 'GET /a\x01b HTTP/1.1\r\n\r\n'],
  ];
  for (const [name, data] of cases) {
    it(`switches off on ${name}`, () => {
      const s = sniff();
      s.req(data);
      assert.equal(s.sniffer.active, false);
      assert.equal(s.sniffer.offReason, 'not-http');
      assert.deepEqual(s.exchanges, []);
    });
  }

  it('decides on the very first byte when it cannot start a method', () => {
    const s = sniff();
    s.req(Buffer.from([0x00]));
    assert.equal(s.sniffer.active, false);
  });

  it('switches off when the server speaks first (MySQL greeting)', () => {
    const s = sniff();
    s.res(Buffer.from([0x4a, 0, 0, 0, 0x0a, 0x38, 0x2e, 0x30]));
    assert.equal(s.sniffer.active, false);
    s.req('GET / HTTP/1.1\r\n\r\n');
    assert.deepEqual(s.exchanges, [], 'nothing is looked at once off');
  });

  it('switches off on a well-formed response nobody asked for', () => {
    const s = sniff();
    s.res('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    assert.equal(s.sniffer.offReason, 'response-without-request');
  });
});

describe('HttpSniffer: limits and bad framing', () => {
  it('accepts a head just under 16 KiB and refuses one over it', () => {
    const ok = sniff();
    ok.req(`GET /ok HTTP/1.1\r\nX-Big: ${'a'.repeat(16 * 1024 - 60)}\r\n\r\n`);
    ok.res('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    assert.deepEqual(ok.summary(), ['GET /ok 200']);

    const big = sniff();
    const piece = `X-Big: ${'a'.repeat(1000)}\r\n`;
    big.req('GET /big HTTP/1.1\r\n');
    for (let i = 0; i < 17; i++) big.req(piece);
    assert.equal(big.sniffer.active, false);
    assert.equal(big.sniffer.offReason, 'head-too-large');
  });

  it('refuses a request line longer than the head limit', () => {
    const s = sniff({ maxHeadBytes: 1024 });
    s.req(`GET /${'x'.repeat(2000)}`);
    assert.equal(s.sniffer.offReason, 'head-too-large');
  });

  for (const [name, head, reason] of [
    ['an invalid Content-Length', 'Content-Length: 12abc', 'bad-content-length'],
    ['conflicting Content-Lengths', 'Content-Length: 5\r\nContent-Length: 6', 'bad-content-length'],
    ['a header line without a colon', 'Just-a-token', 'bad-header'],
    ['whitespace before the colon', 'Content-Length : 5', 'bad-header'],
  ] as const) {
    it(`switches off on ${name}`, () => {
      const s = sniff();
      s.req(`POST /x HTTP/1.1\r\n${head}\r\n\r\n`);
      assert.equal(s.sniffer.offReason, reason);
    });
  }

  it('accepts a repeated identical Content-Length', () => {
    const s = sniff();
    s.req('POST /x HTTP/1.1\r\nContent-Length: 3, 3\r\n\r\nabcGET /y HTTP/1.1\r\n\r\n');
    s.res('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    assert.deepEqual(s.summary(), ['POST /x 200', 'GET /y 200']);
  });

  it('a request with a transfer coding other than chunked cannot be framed: it is reported without a status', () => {
    const s = sniff();
    s.req('POST /gz HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n');
    assert.equal(s.sniffer.offReason, 'bad-framing');
    assert.deepEqual(s.summary(), ['POST /gz -']);
  });

  it('switches off on a bad chunk size', () => {
    const s = sniff();
    s.req('POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n');
    assert.equal(s.sniffer.offReason, 'bad-chunk');
  });

  it('switches off on garbage where the next request should start', () => {
    const s = sniff();
    s.req('GET /a HTTP/1.1\r\n\r\n\x00\x01\x02');
    assert.equal(s.sniffer.offReason, 'bad-start-line');
    assert.deepEqual(s.summary(), ['GET /a -'], 'the open request is reported at once');
  });

  it('caps requests waiting for a response', () => {
    const s = sniff({ maxPending: 3 });
    s.req('GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\nGET /4 HTTP/1.1\r\n\r\n');
    assert.equal(s.sniffer.offReason, 'too-many-pending');
    assert.deepEqual(s.summary(), ['GET /1 -', 'GET /2 -', 'GET /3 -']);
  });

  it('cuts very long paths', () => {
    const s = sniff({ maxPathLength: 10 });
    s.req(`GET /${'p'.repeat(50)} HTTP/1.1\r\n\r\n`);
    s.sniffer.close();
    assert.equal(s.exchanges[0].path, '/ppppppppp…');
  });

  it('a callback that throws switches the sniffer off instead of breaking the connection', () => {
    const sniffer = new HttpSniffer(() => {
      throw new Error('consumer bug');
    });
    sniffer.onRequestData(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    assert.doesNotThrow(() => sniffer.onResponseData(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')));
    assert.equal(sniffer.offReason, 'internal-error');
  });
});

describe('HttpSniffer: protocol switches and special responses', () => {
  it('records 101 Switching Protocols, then ignores the WebSocket bytes', () => {
    const s = sniff();
    s.req('GET /ws HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n');
    s.res('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n\x81\x05hello');
    s.req('\x81\x85abcdHTTP/1.1 junk');
    assert.deepEqual(s.summary(), ['GET /ws 101']);
    assert.equal(s.sniffer.offReason, 'upgrade');
  });

  it('an upgrade the server declines leaves the connection HTTP', () => {
    const s = sniff();
    s.req('GET /ws HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
    s.res('HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\n\r\n');
    s.req('GET /next HTTP/1.1\r\n\r\n');
    s.res('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    assert.deepEqual(s.summary(), ['GET /ws 426', 'GET /next 200']);
    assert.equal(s.sniffer.active, true);
  });

  it('a CONNECT that succeeds becomes a tunnel; one that fails does not', () => {
    const ok = sniff();
    ok.req('CONNECT db:5432 HTTP/1.1\r\nHost: db:5432\r\n\r\n');
    ok.res('HTTP/1.1 200 Connection established\r\n\r\n\x00\x00\x00\x08');
    assert.deepEqual(ok.summary(), ['CONNECT db:5432 200']);
    assert.equal(ok.sniffer.offReason, 'tunnel');

    const denied = sniff();
    denied.req('CONNECT db:5432 HTTP/1.1\r\n\r\n');
    denied.res('HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 2\r\n\r\nno');
    assert.equal(denied.sniffer.active, true);
  });

  it('skips interim 1xx responses (103 Early Hints) and records the final one', () => {
    const s = sniff();
    s.req('GET / HTTP/1.1\r\n\r\n');
    s.res('HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n');
    assert.deepEqual(s.exchanges, []);
    s.res('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    assert.deepEqual(s.summary(), ['GET / 200']);
  });

  it('a response whose body runs to the close is recorded; the pipelined rest is reported without status', () => {
    const s = sniff();
    s.req('GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n');
    s.res('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nbody until close');
    assert.deepEqual(s.summary(), ['GET /a 200', 'GET /b -']);
    assert.equal(s.sniffer.offReason, 'close-delimited');
  });

  it('a response with a transfer coding other than chunked also ends at the close', () => {
    const s = sniff();
    s.req('GET /a HTTP/1.1\r\n\r\n');
    s.res('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n');
    assert.equal(s.sniffer.offReason, 'close-delimited');
  });

  it('Transfer-Encoding wins over Content-Length', () => {
    const s = sniff();
    s.req('GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n');
    s.res('HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: gzip, chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n');
    s.res('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    assert.deepEqual(s.summary(), ['GET /a 200', 'GET /b 200']);
  });

  it('reports requests still open at close, in order, without status or latency', () => {
    const s = sniff({ now: () => 7 });
    s.req('GET /a HTTP/1.1\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 10\r\n\r\n12345');
    s.sniffer.close();
    assert.deepEqual(s.exchanges, [
      { time: 7, method: 'GET', path: '/a' },
      { time: 7, method: 'POST', path: '/b' },
    ]);
    assert.equal(s.sniffer.offReason, 'closed');
    s.sniffer.close();
    assert.equal(s.exchanges.length, 2, 'closing twice reports nothing new');
  });

  it('a request whose head is incomplete at close is not reported', () => {
    const s = sniff();
    s.req('GET /partial HTTP/1.1\r\nHost: a\r\n');
    s.sniffer.close();
    assert.deepEqual(s.exchanges, []);
  });

  it('extension methods and absolute-form targets', () => {
    const s = sniff();
    s.req('PROPFIND /dav/ HTTP/1.1\r\n\r\nGET http://example.invalid/x HTTP/1.1\r\n\r\n');
    s.res('HTTP/1.1 207 Multi-Status\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    assert.deepEqual(s.summary(), ['PROPFIND /dav/ 207', 'GET http://example.invalid/x 200']);
  });
});
