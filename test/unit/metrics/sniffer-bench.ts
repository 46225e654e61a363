/**
 * Micro-benchmark of the HTTP sniffer (not a test). Run after compiling:
 *   node out/test/unit/metrics/sniffer-bench.js
 * Reports MB/s for data the sniffer sees on forwarded connections: non-HTTP streams (where it
 * must cost nothing once switched off), HTTP with large Content-Length and chunked bodies
 * (counting only), and many small exchanges (head parsing, the worst case per byte).
 */
import { HttpSniffer } from '../../../sidecar/src/metrics/http.js';

const CHUNK = 64 * 1024;
const MB = 1024 * 1024;

interface Result {
  name: string;
  bytes: number;
  ms: number;
  records: number;
}

function time(name: string, totalBytes: number, run: () => number): Result {
  run(); // warm up
  const start = process.hrtime.bigint();
  const records = run();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return { name, bytes: totalBytes, ms, records };
}

/** Random bytes not starting with an upper-case letter, like a TLS or database stream. */
function binaryChunks(count: number): Buffer[] {
  const chunk = Buffer.alloc(CHUNK);
  for (let i = 0; i < CHUNK; i++) chunk[i] = (i * 2654435761) >>> 24;
  chunk[0] = 0x16;
  return Array.from({ length: count }, () => chunk);
}

/** One message: head, then a body cut into 64 KiB buffers (the head shares the first one). */
function lengthMessage(head: string, bodyBytes: number): Buffer[] {
  const all = Buffer.concat([Buffer.from(head, 'latin1'), Buffer.alloc(bodyBytes, 0x61)]);
  const out: Buffer[] = [];
  for (let i = 0; i < all.length; i += CHUNK) out.push(all.subarray(i, i + CHUNK));
  return out;
}

/** A chunked body of 16 KiB chunks, so chunk framing falls anywhere in the 64 KiB buffers. */
function chunkedMessage(head: string, bodyBytes: number): Buffer[] {
  const parts: Buffer[] = [Buffer.from(head, 'latin1')];
  const piece = Buffer.alloc(16 * 1024 - 7, 0x62);
  for (let sent = 0; sent < bodyBytes; sent += piece.length) {
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`, 'latin1'), piece, Buffer.from('\r\n', 'latin1'));
  }
  parts.push(Buffer.from('0\r\n\r\n', 'latin1'));
  const all = Buffer.concat(parts);
  const out: Buffer[] = [];
  for (let i = 0; i < all.length; i += CHUNK) out.push(all.subarray(i, i + CHUNK));
  return out;
}

const sum = (buffers: Buffer[]) => buffers.reduce((n, b) => n + b.length, 0);

const results: Result[] = [];

// 1. Non-HTTP: one long-lived connection (e.g. a database) pushing 1 GiB.
{
  const chunks = binaryChunks(16 * 1024);
  results.push(
    time('non-HTTP stream, 64 KiB chunks (switched off on byte 1)', sum(chunks) * 2, () => {
      const sniffer = new HttpSniffer(() => undefined);
      for (const c of chunks) {
        sniffer.onRequestData(c);
        sniffer.onResponseData(c);
      }
      return 0;
    }),
  );
}

// 2. Non-HTTP, many short connections: construction plus detection per connection.
{
  const chunk = binaryChunks(1)[0].subarray(0, 512);
  const connections = 200_000;
  results.push(
    time(`non-HTTP, ${connections} connections of 512 B`, connections * chunk.length, () => {
      for (let i = 0; i < connections; i++) {
        const sniffer = new HttpSniffer(() => undefined);
        sniffer.onRequestData(chunk);
        sniffer.close();
      }
      return 0;
    }),
  );
}

// 3. HTTP keep-alive with 16 MiB Content-Length bodies both ways.
{
  const request = lengthMessage('POST /upload HTTP/1.1\r\nHost: api\r\nContent-Type: application/octet-stream\r\nContent-Length: 16777216\r\n\r\n', 16 * MB);
  const response = lengthMessage('HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 16777216\r\n\r\n', 16 * MB);
  const rounds = 32;
  results.push(
    time(`HTTP, ${rounds} × 16 MiB Content-Length bodies each way`, (sum(request) + sum(response)) * rounds, () => {
      let records = 0;
      const sniffer = new HttpSniffer(() => records++);
      for (let r = 0; r < rounds; r++) {
        for (const c of request) sniffer.onRequestData(c);
        for (const c of response) sniffer.onResponseData(c);
      }
      return records;
    }),
  );
}

// 4. HTTP with 16 MiB chunked response bodies.
{
  const request = Buffer.from('GET /download HTTP/1.1\r\nHost: api\r\n\r\n', 'latin1');
  const response = chunkedMessage('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', 16 * MB);
  const rounds = 32;
  results.push(
    time(`HTTP, ${rounds} × 16 MiB chunked responses (16 KiB chunks)`, (request.length + sum(response)) * rounds, () => {
      let records = 0;
      const sniffer = new HttpSniffer(() => records++);
      for (let r = 0; r < rounds; r++) {
        sniffer.onRequestData(request);
        for (const c of response) sniffer.onResponseData(c);
      }
      return records;
    }),
  );
}

// 5. Many small keep-alive exchanges: heads dominate, the per-byte worst case.
{
  const request = Buffer.from(
    'GET /api/v1/items?page=2 HTTP/1.1\r\nHost: api.shop\r\nUser-Agent: bench/1.0\r\nAccept: application/json\r\nAccept-Encoding: gzip\r\nConnection: keep-alive\r\n\r\n',
    'latin1',
  );
  const response = Buffer.from(
    'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 64\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\nConnection: keep-alive\r\n\r\n' + 'x'.repeat(64),
    'latin1',
  );
  const exchanges = 200_000;
  results.push(
    time(`HTTP, ${exchanges} small keep-alive exchanges (${request.length} B + ${response.length} B)`, (request.length + response.length) * exchanges, () => {
      let records = 0;
      const sniffer = new HttpSniffer(() => records++);
      for (let i = 0; i < exchanges; i++) {
        sniffer.onRequestData(request);
        sniffer.onResponseData(response);
      }
      return records;
    }),
  );
}

// Reference: copying the same amount of memory once (what a forwarded byte costs at least).
{
  const chunks = binaryChunks(16 * 1024);
  const target = Buffer.alloc(CHUNK);
  results.push(
    time('reference: Buffer.copy of every 64 KiB chunk', sum(chunks), () => {
      for (const c of chunks) c.copy(target);
      return 0;
    }),
  );
}

console.log(`node ${process.version}, ${process.arch}`);
for (const r of results) {
  const mbps = r.bytes / MB / (r.ms / 1000);
  const extra = r.records ? `, ${Math.round(r.records / (r.ms / 1000)).toLocaleString('en')} exchanges/s` : '';
  console.log(`${r.name}: ${(r.bytes / MB).toFixed(0)} MiB in ${r.ms.toFixed(1)} ms = ${mbps.toFixed(0)} MB/s${extra}`);
}
