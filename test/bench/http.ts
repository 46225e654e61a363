import * as net from 'node:net';
import { performance } from 'node:perf_hooks';

/**
 * A minimal HTTP/1.1 client on raw sockets for the benchmark: one request per fresh connection,
 * `Connection: close`, the body counted rather than kept (1 GiB downloads), and every failure a
 * result rather than an exception so load loops can count errors.
 */

export interface Outcome {
  ok: boolean;
  status: number;
  /** Body bytes received. */
  bytes: number;
  /** The first up to 512 body bytes (for small answers such as `{"pod":…}`). */
  head: string;
  /** From connect() to the last body byte, milliseconds. */
  ms: number;
  error?: string;
}

export interface RequestOptions {
  host: string;
  port: number;
  path: string;
  timeoutMs: number;
  /** Expected body length: a shorter body is an error. */
  expectBytes?: number;
}

const HEADER_END = Buffer.from('\r\n\r\n');

export function request(o: RequestOptions): Promise<Outcome> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const socket = net.connect({ host: o.host, port: o.port, noDelay: true });
    let header: Buffer | undefined = Buffer.alloc(0);
    let status = 0;
    let length = -1;
    let bytes = 0;
    let head = '';
    let settled = false;
    const finish = (error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const complete = length >= 0 ? bytes >= length : header === undefined;
      const short = o.expectBytes !== undefined && bytes < o.expectBytes;
      const why = error ?? (!complete || short ? `short body (${bytes} of ${length >= 0 ? length : o.expectBytes ?? '?'} bytes)` : status !== 200 ? `status ${status}` : undefined);
      resolve({ ok: why === undefined, status, bytes, head, ms: performance.now() - t0, ...(why ? { error: why } : {}) });
    };
    const timer = setTimeout(() => finish(`timeout after ${o.timeoutMs} ms`), o.timeoutMs);
    const body = (chunk: Buffer) => {
      bytes += chunk.length;
      if (head.length < 512) head += chunk.toString('latin1', 0, Math.min(chunk.length, 512 - head.length));
      if (length >= 0 && bytes >= length) finish();
    };
    socket.on('connect', () => socket.write(`GET ${o.path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n`));
    socket.on('data', (chunk: Buffer) => {
      if (header === undefined) return body(chunk);
      header = Buffer.concat([header, chunk]);
      const end = header.indexOf(HEADER_END);
      if (end < 0) {
        if (header.length > 16 * 1024) finish('header too long');
        return;
      }
      const text = header.toString('latin1', 0, end);
      status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
      const cl = /\r\ncontent-length:\s*(\d+)/i.exec(text);
      length = cl ? Number(cl[1]) : -1;
      const rest = header.subarray(end + 4);
      header = undefined;
      if (rest.length > 0 || length === 0) body(rest);
    });
    socket.on('end', () => finish(header !== undefined ? 'closed before a response' : undefined));
    socket.on('error', (error: NodeJS.ErrnoException) => finish(error.code ?? error.message));
  });
}

/** The pod named in a fake-node HTTP backend's `GET /` answer (`{"pod":"…",…}`). */
export function podOf(outcome: Outcome): string | undefined {
  return /"pod":"([^"]+)"/.exec(outcome.head)?.[1];
}

/** Percentile (nearest rank) of sorted samples. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}
