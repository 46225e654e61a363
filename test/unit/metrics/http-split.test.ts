import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpSniffer, type HttpExchange } from '../../../sidecar/src/metrics/http.js';

// A small pipelined exchange touching every framing rule: no body, Content-Length, chunked with
// extensions and trailers, interim 100, HEAD, 204, 304 with a Content-Length, a blank line
// between requests, and LF-only line endings.
const REQUEST_PARTS = [
  'GET /a HTTP/1.1\r\nHost: x\r\n\r\n',
  'POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello\r\n',
  'PUT /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n',
  'HEAD /d HTTP/1.1\r\nHost: x\r\n\r\n',
  'GET /e?q=1 HTTP/1.1\nHost: x\n\n',
  'GET /f HTTP/1.0\r\n\r\n',
];
const RESPONSE_PARTS = [
  'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
  'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\nA\r\n0123456789\r\n0\r\n\r\n',
  'HTTP/1.1 204 No Content\r\n\r\n',
  'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n',
  'HTTP/1.1 304\nContent-Length: 50\n\n',
  'HTTP/1.1 500 Internal Server Error\r\nContent-Length: 3\r\n\r\nbad',
];
const REQUESTS = Buffer.from(REQUEST_PARTS.join(''), 'latin1');
const RESPONSES = Buffer.from(RESPONSE_PARTS.join(''), 'latin1');
const EXPECTED = ['GET /a 200', 'POST /b 201', 'PUT /c 204', 'HEAD /d 200', 'GET /e?q=1 304', 'GET /f 500'];

/** Feeds requests at t=100 and responses at t=130, in the given pieces. */
function run(requestPieces: Buffer[], responsePieces: Buffer[]): { summary: string[]; exchanges: HttpExchange[]; sniffer: HttpSniffer } {
  let now = 100;
  const exchanges: HttpExchange[] = [];
  const sniffer = new HttpSniffer((e) => exchanges.push(e), { now: () => now });
  for (const piece of requestPieces) sniffer.onRequestData(piece);
  now = 130;
  for (const piece of responsePieces) sniffer.onResponseData(piece);
  return { summary: exchanges.map((e) => `${e.method} ${e.path} ${e.status ?? '-'}`), exchanges, sniffer };
}

const at = (buf: Buffer, ...cuts: number[]) => [0, ...cuts, buf.length].slice(1).map((end, i, ends) => buf.subarray(i === 0 ? 0 : ends[i - 1], end));
const bytes = (buf: Buffer) => Array.from({ length: buf.length }, (_, i) => buf.subarray(i, i + 1));

describe('HttpSniffer with data split at any byte boundary', () => {
  it('reads the whole exchange in one piece each way', () => {
    const { summary, exchanges, sniffer } = run([REQUESTS], [RESPONSES]);
    assert.deepEqual(summary, EXPECTED);
    assert.ok(exchanges.every((e) => e.time === 100 && e.latencyMs === 30));
    assert.equal(sniffer.active, true, 'still following the connection');
  });

  it('every split of the requests gives the same records', () => {
    for (let i = 0; i <= REQUESTS.length; i++) {
      assert.deepEqual(run(at(REQUESTS, i), [RESPONSES]).summary, EXPECTED, `requests split at ${i}`);
    }
  });

  it('every split of the responses gives the same records', () => {
    for (let i = 0; i <= RESPONSES.length; i++) {
      assert.deepEqual(run([REQUESTS], at(RESPONSES, i)).summary, EXPECTED, `responses split at ${i}`);
    }
  });

  it('every pair of splits, in either direction, gives the same records', () => {
    for (let i = 0; i <= REQUESTS.length; i++) {
      for (let j = i; j <= REQUESTS.length; j++) {
        const { summary } = run(at(REQUESTS, i, j), [RESPONSES]);
        if (summary.join() !== EXPECTED.join()) assert.deepEqual(summary, EXPECTED, `requests split at ${i} and ${j}`);
      }
    }
    for (let i = 0; i <= RESPONSES.length; i++) {
      for (let j = i; j <= RESPONSES.length; j++) {
        const { summary } = run([REQUESTS], at(RESPONSES, i, j));
        if (summary.join() !== EXPECTED.join()) assert.deepEqual(summary, EXPECTED, `responses split at ${i} and ${j}`);
      }
    }
  });

  it('one byte at a time, both ways', () => {
    assert.deepEqual(run(bytes(REQUESTS), bytes(RESPONSES)).summary, EXPECTED);
  });

  it('interleaved like a real keep-alive connection, one byte at a time', () => {
    // Request k, then response k, so each exchange completes before the next request starts.
    const ends = (parts: string[]) => parts.map((_, k) => parts.slice(0, k + 1).join('').length);
    const requestEnds = ends(REQUEST_PARTS);
    const responseEnds = ends(RESPONSE_PARTS);
    let now = 0;
    const exchanges: HttpExchange[] = [];
    const sniffer = new HttpSniffer((e) => exchanges.push(e), { now: () => now });
    for (let k = 0; k < 6; k++) {
      now = k * 100;
      for (const b of bytes(REQUESTS.subarray(k === 0 ? 0 : requestEnds[k - 1], requestEnds[k]))) sniffer.onRequestData(b);
      now = k * 100 + k + 1;
      for (const b of bytes(RESPONSES.subarray(k === 0 ? 0 : responseEnds[k - 1], responseEnds[k]))) sniffer.onResponseData(b);
      assert.equal(exchanges.length, k + 1, `exchange ${k} recorded once its response head arrived`);
    }
    assert.deepEqual(exchanges.map((e) => `${e.method} ${e.path} ${e.status}`), EXPECTED);
    assert.deepEqual(exchanges.map((e) => e.latencyMs), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(exchanges.map((e) => e.time), [0, 100, 200, 300, 400, 500]);
  });
});
