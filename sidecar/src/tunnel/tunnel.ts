import type { Socket } from 'node:net';
import { KubeForwardError } from '../errors';
import { dataChannel, errorChannel, PrefixStripper } from './channels';
import { brokenTunnel, deadTunnel, remoteFailure, type FailureContext } from './failures';
import { WsConnection } from './wsconnection';

/** Where a tunnel goes. `context` names the kubeconfig context (default: the current one). */
export interface TunnelTarget {
  context?: string;
  namespace: string;
  pod: string;
  port: number;
}

/**
 * A new connection's first bytes, read before its tunnel was opened. A SPDY stream sends them
 * right behind its SYN_STREAM (one TLS record for both, no wait for the SYN_REPLY) and sets
 * `sent`; otherwise the relay sends them first.
 */
export interface EarlyData {
  readonly chunk: Buffer;
  sent: boolean;
}

/** Receives what comes out of a tunnel once attached. */
export interface TunnelSink {
  /**
   * Pod → client bytes, port prefix removed. Hot path: keep it cheap. `release`, when given, must
   * be called once the payload is no longer needed (written, or dropped): its memory is reused.
   */
  data(payload: Buffer, release?: () => void): void;
  /** The WebSocket is gone (once); `error` when it ended abnormally or the kubelet reported one. */
  closed(error: KubeForwardError | undefined): void;
}

/**
 * What a relay needs of one forwarded connection's remote end: a v4 WebSocket of its own
 * (`Tunnel`) or a stream pair in a shared SPDY session (`MuxStream`).
 */
export interface TunnelLike {
  readonly target: TunnelTarget;
  /** performance.now() when it became ready. */
  readonly openedAt: number;
  /** Ready and not closing, ended or failed. */
  readonly isOpen: boolean;
  /** Client → pod bytes not yet handed to the kernel (a shared session's whole backlog). */
  readonly bufferedAmount: number;
  /** Pod → client bytes received and not yet given to the sink. */
  readonly heldAmount: number;
  send(chunk: Uint8Array, done?: (error?: Error | null) => void): void;
  pause(): void;
  resume(): void;
  attach(sink: TunnelSink): void;
  /** Passes the client's FIN on; absent where the protocol has no half-close (v4). */
  halfClose?(): void;
  /** Graceful close. */
  close(): void;
  /** Cuts it now. */
  destroy(): void;
}

export interface TunnelOptions {
  /** Ping period, so idle load balancers keep the connection; 0 turns pings off. Default 30 s. */
  pingIntervalMs?: number;
  /** How long a graceful close waits for the peer's close frame before cutting. Default 2 s. */
  closeTimeoutMs?: number;
  /** Bytes held for a tunnel nobody reads yet (a pooled spare) before it stops reading. Default 256 KiB. */
  maxUnattachedBytes?: number;
  /** Handshake plus port prefixes must complete within this. Default 15 s. */
  openTimeoutMs?: number;
}

const MAX_ERROR_TEXT = 4096;
const DATA = dataChannel(0);
const ERROR = errorChannel(0);

/**
 * One port-forward WebSocket to one pod port, built on a freshly upgraded socket. `ready`
 * settles once the kubelet announced the port on both channels (or with an actionable
 * KubeForwardError). Bytes that arrive before a sink is attached (a pooled spare whose backend
 * speaks first) are held, up to a bound, and handed over on attach.
 */
export class Tunnel implements TunnelLike {
  readonly ready: Promise<this>;
  /** performance.now() when the tunnel became ready. */
  openedAt = 0;
  private resolveReady!: (t: this) => void;
  private rejectReady!: (e: KubeForwardError) => void;
  private settled = false;
  private failure: KubeForwardError | undefined;
  private readonly conn: WsConnection;
  private readonly stripper = new PrefixStripper(2);
  private channel = -1;
  private sink: TunnelSink | undefined;
  private held: Buffer[] = [];
  private heldBytes = 0;
  private pausedBySink = false;
  private pausedByHold = false;
  private errorText = '';
  private closedLocally = false;
  private ended = false;
  private endError: KubeForwardError | undefined;
  private alive = true;
  private pingTimer: NodeJS.Timeout | undefined;
  private openTimer: NodeJS.Timeout | undefined;
  private readonly pingIntervalMs: number;
  private readonly maxUnattached: number;

  constructor(socket: Socket, head: Buffer, readonly target: TunnelTarget, private readonly where: FailureContext,
    options: TunnelOptions & { randomMask?: boolean } = {}, signal?: AbortSignal) {
    this.pingIntervalMs = options.pingIntervalMs ?? 30_000;
    this.maxUnattached = options.maxUnattachedBytes ?? 256 * 1024;
    this.ready = new Promise<this>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    // Nobody may be awaiting `ready` when it fails late (a pooled spare); never an unhandled rejection.
    this.ready.catch(() => undefined);
    this.conn = new WsConnection(socket, head, {
      data: (chunk, start) => this.onData(chunk, start),
      pong: () => (this.alive = true),
      closed: (code, error) => this.onClosed(code, error),
    }, { ...(options.randomMask ? { randomMask: true } : {}), closeTimeoutMs: options.closeTimeoutMs ?? 2000 });
    const openTimeoutMs = options.openTimeoutMs ?? 15_000;
    this.openTimer = setTimeout(() => this.fail(new KubeForwardError('API_UNREACHABLE',
      `port-forward to pod ${where.namespace}/${where.pod}: the kubelet did not start the port-forward within ${openTimeoutMs} ms`)), openTimeoutMs);
    if (signal) {
      const onAbort = () => this.fail(new KubeForwardError('ABORTED', `port-forward to pod ${where.namespace}/${where.pod} was cancelled`));
      if (signal.aborted) onAbort();
      else {
        signal.addEventListener('abort', onAbort, { once: true });
        const off = () => signal.removeEventListener('abort', onAbort);
        void this.ready.then(off, off);
      }
    }
  }

  /** Still open: ready, no close started by either side, no error reported by the kubelet. */
  get isOpen(): boolean {
    return this.settled && !this.failure && !this.ended && !this.closedLocally && !this.errorText && this.conn.open;
  }

  /** Bytes handed to the WebSocket and not yet written to the kernel. */
  get bufferedAmount(): number {
    return this.conn.bufferedAmount;
  }

  /** Bytes received but not yet taken by a sink (pooled spares only). */
  get heldAmount(): number {
    return this.heldBytes;
  }

  /** Client → pod bytes; `done` runs once they reached the kernel (or failed). */
  send(chunk: Uint8Array, done?: (error?: Error | null) => void): void {
    this.conn.send(DATA, chunk, done);
  }

  /** Stops reading from the API server (the local side cannot take more now). */
  pause(): void {
    this.pausedBySink = true;
    this.conn.pause();
  }

  resume(): void {
    this.pausedBySink = false;
    if (!this.pausedByHold) this.conn.resume();
  }

  get paused(): boolean {
    return this.pausedBySink || this.pausedByHold;
  }

  /** Starts delivering to `sink`, first what was held. */
  attach(sink: TunnelSink): void {
    if (this.sink) throw new Error('tunnel already attached');
    this.sink = sink;
    const held = this.held;
    this.held = [];
    this.heldBytes = 0;
    for (const b of held) sink.data(b);
    if (this.pausedByHold) {
      this.pausedByHold = false;
      if (!this.pausedBySink) this.conn.resume();
    }
    if (this.ended) sink.closed(this.endError);
  }

  /** Graceful close (close frame), cut after closeTimeoutMs if the peer does not answer. */
  close(): void {
    if (this.ended || this.closedLocally) return;
    this.closedLocally = true;
    this.conn.close(1000);
  }

  /** Cuts the connection now. */
  destroy(): void {
    if (this.ended) return;
    this.closedLocally = true;
    this.conn.destroy();
  }

  private fail(error: KubeForwardError): void {
    if (this.settled || this.failure) return;
    this.failure = error;
    this.rejectReady(error);
    this.conn.destroy();
  }

  private onData(chunk: Buffer, start: boolean): void {
    this.alive = true;
    let payload = chunk;
    if (start) {
      this.channel = chunk[0]!;
      payload = chunk.subarray(1);
    }
    if (!this.settled) {
      payload = this.stripper.strip(this.channel, payload);
      this.checkReady();
    }
    if (payload.length === 0) return;
    if (this.channel === DATA) {
      if (this.sink) this.sink.data(payload);
      else this.hold(payload);
    } else if (this.channel === ERROR) {
      if (this.errorText.length < MAX_ERROR_TEXT) this.errorText += payload.toString('utf8').slice(0, MAX_ERROR_TEXT - this.errorText.length);
    }
  }

  private checkReady(): void {
    if (!this.stripper.complete || this.settled || this.failure) return;
    const port = this.stripper.port(DATA);
    if (port !== this.target.port) {
      return this.fail(brokenTunnel(`the kubelet announced port ${String(port)} instead of ${this.target.port}`, this.where));
    }
    this.settled = true;
    this.openedAt = performance.now();
    clearTimeout(this.openTimer);
    if (this.pingIntervalMs > 0) {
      this.pingTimer = setInterval(this.heartbeat, this.pingIntervalMs);
      this.pingTimer.unref();
    }
    this.resolveReady(this);
  }

  private hold(payload: Buffer): void {
    this.held.push(payload);
    this.heldBytes += payload.length;
    if (this.heldBytes >= this.maxUnattached && !this.pausedByHold) {
      this.pausedByHold = true;
      this.conn.pause();
    }
  }

  /**
   * Anything received since the last ping proves the peer alive. While we are paused we read
   * nothing (pongs included), and while our own bytes queue the peer may simply be slow to read:
   * neither is a dead peer.
   */
  private heartbeat = (): void => {
    if (!this.alive && !this.paused && this.conn.bufferedAmount === 0) {
      this.endError = deadTunnel(this.pingIntervalMs, this.where);
      this.conn.destroy();
      return;
    }
    this.alive = false;
    this.conn.ping();
  };

  private onClosed(code: number, error: Error | undefined): void {
    this.ended = true;
    clearInterval(this.pingTimer);
    clearTimeout(this.openTimer);
    if (!this.settled) {
      const reason = this.errorText ? remoteFailure(this.errorText, this.where)
        : brokenTunnel(error?.message ?? `closed (${code}) before the port-forward started`, this.where);
      this.fail(reason);
      return;
    }
    if (this.errorText) this.endError = remoteFailure(this.errorText, this.where);
    else if (!this.endError && !this.closedLocally && (error || code === 1006)) {
      this.endError = brokenTunnel(error?.message ?? 'connection lost', this.where);
    }
    this.sink?.closed(this.endError);
  }
}
