import * as net from 'node:net';
import * as tls from 'node:tls';
import { CONTEXT_MATERIAL } from './secureContext';
import { MAX_ERROR_BODY, spdyUpgradeHeaders, spdyUpgradeProblem, UpgradeRejected, type UpgradeOptions } from './wsconnect';

/** Bytes of one read; TLS hands at most one record (16 KiB) per callback. */
const READ_BUFFER = 64 * 1024;
const MAX_HEAD = 64 * 1024;

/**
 * Where a reused-buffer socket's bytes go. `chunk` is a view of the socket's one read buffer:
 * valid only during the call (copy what must outlive it).
 */
export interface ReadSink {
  (chunk: Buffer): void;
}

/** An upgraded connection whose reads land in one reused buffer instead of a new one per read. */
export interface RawUpgraded {
  socket: net.Socket;
  /** Bytes that came right after the 101 response (a copy). */
  head: Buffer;
  /** Sends what the socket reads from now on to `sink` (the 'data' event never fires). */
  setSink(sink: ReadSink): void;
}

/**
 * The SPDY/3.1 upgrade (as `spdyUpgrade`) on a socket opened with `onread`, so that the session
 * later reads into one buffer: no new buffer per TLS record, no garbage for the collector to
 * sweep (in a bulk transfer those made a third of the sidecar's CPU). The HTTP exchange is the
 * one kubectl sends, written by hand: `options` gives the TLS material and headers, as for
 * https.request; an agent is not used (proxies take the other path).
 */
export function rawSpdyUpgrade(url: string, protocol: string, options: UpgradeOptions): Promise<RawUpgraded> {
  const target = new URL(url);
  const secure = target.protocol === 'https:';
  const port = Number(target.port) || (secure ? 443 : 80);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  return new Promise<RawUpgraded>((resolve, reject) => {
    const request = requestHead('POST', target, { ...(options.headers as Record<string, HeaderValue> | undefined), ...spdyUpgradeHeaders(protocol) });
    let sink: ReadSink = () => undefined;
    const buffer = Buffer.allocUnsafe(READ_BUFFER);
    const onread: net.OnReadOpts = {
      buffer,
      callback: (n) => {
        sink(buffer.subarray(0, n));
        return true;
      },
    };
    // tls.connect takes `onread` too (when it opens the TCP connection itself); its types lack it.
    const tlsOptions: tls.ConnectionOptions & { onread: net.OnReadOpts } = {
      ...tlsOnly(options),
      host,
      port,
      ...(options.servername === undefined && net.isIP(host) === 0 ? { servername: host } : {}),
      onread,
    };
    const socket = secure ? tls.connect(tlsOptions) : net.connect({ host, port, onread });
    const signal = options.signal;
    const fail = (error: Error): void => {
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      reject(error);
    };
    const onAbort = (): void => fail(new Error('aborted'));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once(secure ? 'secureConnect' : 'connect', () => socket.write(request));
    socket.on('error', fail);
    const response = new ResponseReader((head, rest) => {
      const problem = head.status !== 101 ? undefined
        : spdyUpgradeProblem(head.headers.get('upgrade'), head.headers.get('x-stream-protocol-version'), protocol);
      if (problem) return fail(new Error(problem));
      if (head.status !== 101) {
        sink = (chunk) => response.body(chunk);
        response.bodyDone = (body) => fail(new UpgradeRejected(head.status, body));
        socket.once('end', () => response.end());
        response.startBody(head, rest);
        return;
      }
      signal?.removeEventListener('abort', onAbort);
      socket.off('error', fail);
      // Frames that arrive before the session takes over are kept for it.
      const early: Buffer[] = [];
      sink = (chunk) => void early.push(Buffer.from(chunk));
      resolve({
        socket,
        head: Buffer.from(rest),
        setSink: (next) => {
          sink = next;
          for (const chunk of early.splice(0)) next(chunk);
        },
      });
    }, (reason) => fail(new Error(reason)));
    sink = (chunk) => response.head(chunk);
    socket.once('end', () => response.headEnded());
  });
}

type HeaderValue = string | string[] | number | undefined;

function requestHead(method: string, url: URL, headers: Record<string, HeaderValue>): string {
  const lines = [`${method} ${url.pathname}${url.search} HTTP/1.1`];
  const names = new Set(Object.keys(headers).map((k) => k.toLowerCase()));
  if (!names.has('host')) lines.push(`Host: ${url.host}`);
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) {
      const text = String(v);
      // What http.request refuses too: a header that would end the line early or break the head.
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name) || /[\r\n\0]/.test(text)) throw new Error(`invalid request header "${name}"`);
      lines.push(`${name}: ${text}`);
    }
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** The TLS options of an https request (material, verification, SNI), without HTTP ones. */
function tlsOnly(options: UpgradeOptions): tls.ConnectionOptions {
  const keys = [...CONTEXT_MATERIAL, 'secureContext', 'rejectUnauthorized', 'servername', 'checkServerIdentity', 'minVersion', 'maxVersion',
    'secureOptions', 'session'] as const;
  const out: Record<string, unknown> = {};
  for (const k of keys) if ((options as Record<string, unknown>)[k] !== undefined) out[k] = (options as Record<string, unknown>)[k];
  return out as tls.ConnectionOptions;
}

interface ResponseHead {
  status: number;
  headers: Map<string, string>;
}

/** The HTTP/1.1 response to the upgrade: its head, and for a refusal its (short) body. */
class ResponseReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private done = false;
  private bodyParts: Buffer[] = [];
  private bodyBytes = 0;
  private bodyLimit = Infinity;
  private chunked = false;
  bodyDone: (body: string) => void = () => undefined;

  constructor(private readonly onHead: (head: ResponseHead, rest: Buffer) => void, private readonly onError: (reason: string) => void) {}

  head(chunk: Buffer): void {
    if (this.done) return;
    this.pending.push(Buffer.from(chunk));
    this.pendingBytes += chunk.length;
    const all = Buffer.concat(this.pending);
    const end = all.indexOf('\r\n\r\n');
    if (end < 0) {
      if (this.pendingBytes > MAX_HEAD) this.fail('the upgrade response head is too large');
      this.pending = [all];
      return;
    }
    this.done = true;
    const lines = all.subarray(0, end).toString('latin1').split('\r\n');
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
    if (!status) return this.fail(`not an HTTP response: ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`);
    const headers = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    this.onHead({ status: Number(status[1]), headers }, all.subarray(end + 4));
  }

  headEnded(): void {
    if (!this.done) this.fail('the API server closed the connection before answering the upgrade');
  }

  startBody(head: ResponseHead, rest: Buffer): void {
    const length = head.headers.get('content-length');
    this.chunked = /chunked/i.test(head.headers.get('transfer-encoding') ?? '');
    if (!this.chunked && length !== undefined) this.bodyLimit = Number(length) || 0;
    if (this.bodyLimit === 0) return this.finish();
    if (rest.length > 0) this.body(rest);
  }

  body(chunk: Buffer): void {
    if (this.bodyBytes < MAX_ERROR_BODY + 64) this.bodyParts.push(Buffer.from(chunk));
    this.bodyBytes += chunk.length;
    if (this.bodyBytes >= this.bodyLimit) this.finish();
    else if (this.chunked && Buffer.concat(this.bodyParts).includes('\r\n0\r\n\r\n')) this.finish();
  }

  end(): void {
    this.finish();
  }

  private finish(): void {
    let raw: Buffer = Buffer.concat(this.bodyParts);
    if (Number.isFinite(this.bodyLimit)) raw = raw.subarray(0, this.bodyLimit);
    if (this.chunked) raw = dechunk(raw);
    this.bodyParts = [];
    this.bodyDone(raw.subarray(0, MAX_ERROR_BODY).toString('utf8'));
    this.bodyDone = () => undefined;
  }

  private fail(reason: string): void {
    this.done = true;
    this.onError(reason);
  }
}

/** A chunked body's data (as much as is well formed). */
function dechunk(raw: Buffer): Buffer {
  const parts: Buffer[] = [];
  let i = 0;
  while (i < raw.length) {
    const eol = raw.indexOf('\r\n', i);
    if (eol < 0) break;
    const size = parseInt(raw.subarray(i, eol).toString('latin1'), 16);
    if (!Number.isFinite(size) || size <= 0) break;
    parts.push(raw.subarray(eol + 2, eol + 2 + size));
    i = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}
