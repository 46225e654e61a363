import type { HttpRecord } from '../protocol/types.js';
import type { MessageHead } from './httpHead.js';
import { CHUNKED_BODY, MessageParser, NO_BODY, type BodyFraming } from './httpParser.js';

/** What the sniffer knows of an exchange; the caller adds forward, service, pod and port. */
export type HttpExchange = Pick<HttpRecord, 'time' | 'method' | 'path' | 'status' | 'latencyMs'>;

export interface HttpSnifferOptions {
  /** Epoch ms; injectable for tests. */
  now?: () => number;
  /** A head (or chunked trailer block) larger than this switches the sniffer off. */
  maxHeadBytes?: number;
  /** Requests awaiting a response; a client pipelining more than this switches the sniffer off. */
  maxPending?: number;
  /** Longer request targets are cut, so one odd client cannot bloat the request log. */
  maxPathLength?: number;
}

interface PendingRequest {
  time: number;
  method: string;
  path: string;
}

/**
 * Watches one forwarded connection for HTTP/1.x: request lines and status lines, matched FIFO
 * (keep-alive and pipelining included), reported through `onExchange` when the response head
 * arrives, or without a status when the response never comes.
 *
 * It runs on every forwarded byte, so it gives up as early as it can: the first bytes of a
 * connection that are not a request line, an oversized head, framing it cannot follow, or a
 * protocol switch (101, CONNECT) turn it off for good, and from then on each call returns after
 * one property check. Bodies are skipped by counting.
 *
 * `onExchange` runs inside onRequestData/onResponseData; it should be quick and must not throw.
 */
export class HttpSniffer {
  private readonly request: MessageParser;
  private readonly response: MessageParser;
  private readonly pending: PendingRequest[] = [];
  private readonly maxPending: number;
  private readonly maxPathLength: number;
  private enabled = true;
  private seenRequest = false;
  private reason: string | undefined;

  constructor(private readonly onExchange: (exchange: HttpExchange) => void, options: HttpSnifferOptions = {}) {
    const now = options.now ?? Date.now;
    const maxHead = options.maxHeadBytes ?? 16 * 1024;
    this.maxPending = options.maxPending ?? 100;
    this.maxPathLength = options.maxPathLength ?? 2048;
    const onError = (reason: string) => this.disable(reason);
    this.request = new MessageParser('request', { onHead: (h, t) => this.onRequestHead(h, t), onError }, now, maxHead);
    this.response = new MessageParser('response', { onHead: (h, t) => this.onResponseHead(h, t), onError }, now, maxHead);
  }

  /** Still looking at the traffic. */
  get active(): boolean {
    return this.enabled;
  }

  /** At least one HTTP/1.x request head was seen on the connection. */
  get isHttp(): boolean {
    return this.seenRequest;
  }

  /** Why the sniffer stopped (`not-http`, `upgrade`, `head-too-large`, `closed`, …). */
  get offReason(): string | undefined {
    return this.reason;
  }

  /** Bytes from the local client to the pod. */
  onRequestData(chunk: Uint8Array): void {
    if (!this.enabled) return;
    try {
      this.request.push(chunk);
    } catch {
      // A bug in here must never cost the user the connection it watches.
      this.disable('internal-error');
    }
  }

  /** Bytes from the pod to the local client. */
  onResponseData(chunk: Uint8Array): void {
    if (!this.enabled) return;
    try {
      this.response.push(chunk);
    } catch {
      this.disable('internal-error');
    }
  }

  /** The connection ended: requests still waiting are reported without a status. */
  close(): void {
    this.disable('closed');
  }

  private onRequestHead(head: MessageHead, startedAt: number): BodyFraming | undefined {
    if (this.pending.length >= this.maxPending) return this.off('too-many-pending');
    this.seenRequest = true;
    const path = head.target.length > this.maxPathLength ? `${head.target.slice(0, this.maxPathLength)}…` : head.target;
    this.pending.push({ time: startedAt, method: head.method, path });
    // RFC 9112 §6.3: a request body is framed only by Transfer-Encoding or Content-Length.
    if (head.transferEncoding) return head.chunked ? CHUNKED_BODY : this.off('bad-framing');
    if (head.contentLength !== undefined) return { kind: 'length', length: head.contentLength };
    return NO_BODY;
  }

  private onResponseHead(head: MessageHead, startedAt: number): BodyFraming | undefined {
    const request = this.pending[0];
    if (!request) return this.off('response-without-request');
    const status = head.status;
    // Interim responses (100 Continue, 103 Early Hints) precede the real one.
    if (status < 200 && status !== 101) return NO_BODY;
    this.pending.shift();
    this.emit(request, status, startedAt - request.time);
    if (status === 101) return this.off('upgrade');
    if (request.method === 'CONNECT' && status < 300) return this.off('tunnel');
    if (request.method === 'HEAD' || status === 204 || status === 304) return NO_BODY;
    if (head.transferEncoding) return head.chunked ? CHUNKED_BODY : this.off('close-delimited');
    if (head.contentLength !== undefined) return { kind: 'length', length: head.contentLength };
    // The body runs to the end of the connection: nothing after it is HTTP to follow.
    return this.off('close-delimited');
  }

  private emit(request: PendingRequest, status: number | undefined, latencyMs: number | undefined): void {
    const exchange: HttpExchange = { time: request.time, method: request.method, path: request.path };
    if (status !== undefined) exchange.status = status;
    if (latencyMs !== undefined) exchange.latencyMs = Math.max(0, latencyMs);
    this.onExchange(exchange);
  }

  private off(reason: string): undefined {
    this.disable(reason);
    return undefined;
  }

  private disable(reason: string): void {
    if (!this.enabled) return;
    this.enabled = false;
    this.reason = reason;
    this.request.stop();
    this.response.stop();
    // Nothing more will be matched: report what is still open now rather than at close.
    for (const request of this.pending.splice(0)) this.emit(request, undefined, undefined);
  }
}
