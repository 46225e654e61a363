import * as net from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeForwardError, messageOf } from '../errors';
import { pipe, type Direction, type Pipe, type PipeHooks, type PipeOptions } from './pipe';
import { TunnelPool, type PoolOptions } from './pool';
import { findPortHolder } from './portOwner';
import { openMuxStream } from './mux';
import type { SpdySessionOptions } from './spdysession';
import { firstBytes } from './firstbytes';
import type { EarlyData, TunnelLike, TunnelOptions, TunnelTarget } from './tunnel';
import { openTunnel, type OpenTunnelOptions } from './websocket';

/** Where a new local connection goes now. */
export interface ListenerTarget {
  context?: string;
  namespace: string;
  pod: string;
  podPort: number;
}

/** Sees one connection's bytes (e.g. an HTTP sniffer); closed when the connection ends. */
export interface ConnectionTap {
  data(direction: Direction, chunk: Buffer): void;
  close?(): void;
}

export interface ListenerHooks {
  /** One connection failed (no pod, tunnel refused or broken); only it was closed. */
  onError?(code: string, message: string, target: ListenerTarget | undefined): void;
  onBytesIn?(bytes: number): void;
  onBytesOut?(bytes: number): void;
  onOpen?(target: ListenerTarget): void;
  onClose?(target: ListenerTarget): void;
  /** A tap for a new connection, or undefined for none. */
  tap?(target: ListenerTarget): ConnectionTap | undefined;
}

export interface PortListenerOptions {
  kc: KubeConfig;
  ip: string;
  /** 0 picks a free port (tests). */
  port: number;
  /** The current target; may throw (no ready pod), which closes that connection and reports it. */
  resolve(): ListenerTarget;
  hooks?: ListenerHooks;
  /**
   * Pre-opened tunnels: options (always on), false (off), or 'http' (default): on, with default
   * options, once a connection on this port opened with an HTTP/1.x request line.
   */
  pool?: PoolOptions | false | 'http';
  /**
   * How connections reach the pod. 'auto' (default): a WebSocket of their own until the port
   * has shown HTTP, then stream pairs on a shared SPDY session (falling back to a WebSocket when
   * SPDY is refused or every session is congested). 'websocket': always their own WebSocket.
   * 'spdy': SPDY from the first connection.
   */
  transport?: 'auto' | 'websocket' | 'spdy';
  session?: SpdySessionOptions;
  tunnel?: TunnelOptions & Pick<OpenTunnelOptions, 'reuseAgent' | 'randomMask' | 'shareSecureContext'>;
  pipe?: PipeOptions;
}

/**
 * Measured on the test cluster (300 sequential connect + GET / + response, see README.md):
 * without spares p50 ≈ 3.7–4.5 ms, with spares ≈ 1.6–1.8 ms, kubectl's multiplexed
 * port-forward ≈ 1.7 ms. But every spare is a real connection to the backend, and servers log those that
 * close unused (PostgreSQL "incomplete startup packet", MySQL "aborted connection", Go "TLS
 * handshake error"). HTTP servers close idle unused connections silently, and HTTP is where
 * clients open many short connections; so spares are used by default only once a port has
 * shown plain HTTP.
 */
export const DEFAULT_POOL = 'http' as const;

/**
 * Spares once a port has shown HTTP. At least two, because one cannot be replaced in time for
 * back-to-back connections (measured p50 4.2 ms with one, 1.8 ms with two). Sixteen, topped up
 * in one batch when one is left: setting up a spare costs the API server and kubelet about what
 * a request does, and done with every connection it slowed each one (bench P2, 1,000 sequential
 * connections, interleaved: p50 1.13 ms topping up two after each use, 1.02 ms with batches of
 * eight, 0.91 ms with sixteen; p99 4.2 → 5.0 ms, the batches landing on a few connections).
 */
const HTTP_POOL: PoolOptions = { size: 16, refillBelow: 2 };

/**
 * A connection that finds no spare on a SPDY port waits this long for its first bytes, so they go
 * out with the new stream's SYN_STREAM (HTTP clients send at once; a server-first protocol waits).
 */
const EARLY_WAIT_MS = 3;

/** After SPDY was refused (a proxy that only passes WebSockets), WebSockets only for this long. */
const SPDY_RETRY_MS = 60_000;
/** Failures that a WebSocket would meet just the same: reported, no fallback. */
const FINAL = new Set(['RBAC_DENIED', 'UNAUTHORIZED', 'POD_NOT_FOUND', 'ABORTED', 'KUBECONFIG_INVALID', 'UNKNOWN_CONTEXT', 'TUNNEL_REMOTE_ERROR']);

/** The start of an HTTP/1.x request (a method and a space). */
export function looksLikeHttpRequest(chunk: Buffer): boolean {
  return /^(GET|HEAD|POST|PUT|DELETE|OPTIONS|PATCH|TRACE) /.test(chunk.toString('latin1', 0, 8));
}

/** The `code` of anything thrown (KubeForwardError or an Error with a code), else `fallback`. */
function codeOf(error: unknown, fallback: string): string {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') return error.code;
  return fallback;
}

export async function bindFailure(error: unknown, ip: string, port: number): Promise<KubeForwardError> {
  const address = `${ip}:${port}`;
  switch (codeOf(error, '')) {
    case 'EADDRINUSE': {
      const holder = await findPortHolder(ip, port);
      const who = holder ? `${holder.command} (pid ${holder.pid})` : 'another process';
      return new KubeForwardError('PORT_IN_USE', `${address} is already in use by ${who}; stop it or map the port to another local port`);
    }
    case 'EACCES':
      return new KubeForwardError('PORT_PRIVILEGED', `${address}: ports below 1024 need root; grant elevation or map the port to one ≥ 1024`);
    case 'EADDRNOTAVAIL':
      return new KubeForwardError('ADDRESS_UNAVAILABLE', `${address}: the address is not on this machine (on macOS, loopback aliases need root)`);
    default:
      return new KubeForwardError('LISTEN_FAILED', `cannot listen on ${address}: ${messageOf(error)}`);
  }
}

/**
 * Listens on one ip:port and forwards each accepted connection through its own tunnel to the
 * target the resolver names at that moment (pods come and go; the listener stays bound).
 * Failures stay per connection: they are reported through hooks and close only that connection.
 */
export class PortListener {
  private readonly pipes = new Set<Pipe>();
  private readonly sockets = new Set<net.Socket>();
  private pool: TunnelPool | undefined;
  private readonly poolOnHttp: boolean;
  private readonly muxOnHttp: boolean;
  private mux: boolean;
  private spdyRefusedAt = -Infinity;
  private readonly hooks: ListenerHooks;
  private readonly onBytesIn: ((n: number) => void) | undefined;
  private readonly onBytesOut: ((n: number) => void) | undefined;
  private closing: Promise<void> | undefined;

  private constructor(private readonly server: net.Server, private readonly options: PortListenerOptions) {
    this.hooks = options.hooks ?? {};
    this.onBytesIn = this.hooks.onBytesIn?.bind(this.hooks);
    this.onBytesOut = this.hooks.onBytesOut?.bind(this.hooks);
    const poolOptions = options.pool ?? DEFAULT_POOL;
    this.poolOnHttp = poolOptions === 'http';
    const transport = options.transport ?? 'auto';
    this.muxOnHttp = transport === 'auto';
    this.mux = transport === 'spdy';
    if (typeof poolOptions === 'object' && (poolOptions.size ?? 1) > 0) this.startPool(poolOptions);
    server.on('connection', (socket) => this.accept(socket));
    // After binding, a server error (EMFILE on accept) must not crash the process.
    server.on('error', (error) => this.report(codeOf(error, 'LISTEN_FAILED'), `${options.ip}:${options.port}: ${messageOf(error)}`, undefined));
  }

  /** Binds ip:port; rejects with PORT_IN_USE (naming the holder where the OS tells), PORT_PRIVILEGED, … */
  static async listen(options: PortListenerOptions): Promise<PortListener> {
    const server = net.createServer({ allowHalfOpen: true, noDelay: true });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: options.ip, port: options.port, exclusive: true }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      server.close();
      throw await bindFailure(error, options.ip, options.port);
    }
    return new PortListener(server, options);
  }

  get address(): { ip: string; port: number } {
    const a = this.server.address();
    return { ip: this.options.ip, port: typeof a === 'object' && a ? a.port : this.options.port };
  }

  /** Local connections open now (including those still opening their tunnel). */
  get connectionCount(): number {
    return this.sockets.size;
  }

  /** Spare tunnels ready now. */
  get spareCount(): number {
    return this.pool?.spareCount ?? 0;
  }

  /** Bytes queued in this process over all connections (for tests of backpressure). */
  queuedBytes(): { toClient: number; toPod: number } {
    let toClient = 0;
    let toPod = 0;
    for (const p of this.pipes) {
      const q = p.queued();
      toClient += q.toClient;
      toPod += q.toPod;
    }
    return { toClient, toPod };
  }

  /** Whether spares are being kept (always with pool options; after HTTP was seen with 'http'). */
  get pooling(): boolean {
    return this.pool !== undefined;
  }

  private startPool(options: PoolOptions): void {
    this.pool = new TunnelPool((target, signal, early) => this.open(target, signal, early), options);
  }

  /** Drops pre-opened tunnels (the target is changing). */
  dropSpares(): void {
    this.pool?.drop();
  }

  /** Stops listening and closes every connection and tunnel. Idempotent. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.pool?.close();
      for (const p of this.pipes) p.destroy();
      for (const s of this.sockets) s.destroy();
    });
    return this.closing;
  }

  /** Whether new connections go as SPDY streams now. */
  get multiplexing(): boolean {
    return this.mux;
  }

  /** New connections go as SPDY streams, and SPDY was not refused lately. */
  private get spdyNow(): boolean {
    return this.mux && performance.now() - this.spdyRefusedAt > SPDY_RETRY_MS;
  }

  private async open(target: TunnelTarget, signal?: AbortSignal, early?: EarlyData): Promise<TunnelLike> {
    const options = { ...this.options.tunnel, ...target, ...(signal ? { signal } : {}) };
    if (this.spdyNow) {
      try {
        return await openMuxStream(this.options.kc, { ...options, ...(this.options.session ? { session: this.options.session } : {}), ...(early ? { early } : {}) });
      } catch (error) {
        const code = codeOf(error, '');
        if (FINAL.has(code)) throw error;
        if (code !== 'MUX_BUSY') this.spdyRefusedAt = performance.now();
        // The pod may have the first bytes already: sending them again elsewhere could repeat a request.
        if (early?.sent) throw error;
      }
    }
    return openTunnel(this.options.kc, options);
  }

  private report(code: string, message: string, target: ListenerTarget | undefined): void {
    try {
      this.hooks.onError?.(code, message, target);
    } catch {
      // a reporting hook must not take the listener down
    }
  }

  private accept(socket: net.Socket): void {
    // Until the pipe takes over, an error on this socket must not become an uncaught exception.
    socket.on('error', () => undefined);
    if (this.closing) return void socket.destroy();
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    let target: ListenerTarget;
    try {
      target = this.options.resolve();
    } catch (error) {
      this.report(codeOf(error, 'NO_POD'), messageOf(error), undefined);
      return void socket.resetAndDestroy();
    }
    void this.connect(socket, target);
  }

  private async connect(socket: net.Socket, target: ListenerTarget): Promise<void> {
    const gone = new AbortController();
    const onGone = () => gone.abort();
    socket.once('close', onGone);
    const tunnelTarget: TunnelTarget = { ...(target.context ? { context: target.context } : {}), namespace: target.namespace, pod: target.pod, port: target.podPort };
    let early: EarlyData | undefined;
    if (this.spdyNow && !this.pool?.spareCount) {
      const chunk = await firstBytes(socket, EARLY_WAIT_MS);
      if (chunk) early = { chunk, sent: false };
    }
    let tunnel: TunnelLike;
    try {
      tunnel = this.pool ? await this.pool.acquire(tunnelTarget, gone.signal, early) : await this.open(tunnelTarget, gone.signal, early);
    } catch (error) {
      socket.off('close', onGone);
      if (!gone.signal.aborted && !this.closing) this.report(codeOf(error, 'TUNNEL_FAILED'), messageOf(error), target);
      if (!socket.destroyed) socket.resetAndDestroy();
      return;
    }
    socket.off('close', onGone);
    if (this.closing || socket.destroyed) {
      tunnel.destroy();
      socket.destroy();
      return;
    }
    const p = pipe(tunnel, socket, this.connectionHooks(target), this.options.pipe, early);
    // After the pipe's own 'data' listener: the first bytes are sent, then spares are topped up.
    if (this.pool) {
      if (early) this.pool.replenish();
      else socket.once('data', this.pool.replenish);
    }
    // Registered after the pipe's own 'data' listener, so it sees the same first chunk.
    if ((this.poolOnHttp && !this.pool) || (this.muxOnHttp && !this.mux)) {
      const sniff = (chunk: Buffer) => {
        if (this.closing || !looksLikeHttpRequest(chunk)) return;
        if (this.muxOnHttp) this.mux = true;
        if (this.poolOnHttp && !this.pool) this.startPool(HTTP_POOL);
      };
      if (early) sniff(early.chunk);
      else socket.once('data', sniff);
    }
    this.pipes.add(p);
    void p.done.then(() => this.pipes.delete(p));
  }

  private connectionHooks(target: ListenerTarget): PipeHooks {
    const hooks = this.hooks;
    let tap: ConnectionTap | undefined;
    try {
      tap = hooks.tap?.(target);
    } catch (error) {
      this.report('INTERNAL', `tap failed: ${messageOf(error)}`, target);
    }
    return {
      ...(this.onBytesIn ? { onBytesIn: this.onBytesIn } : {}),
      ...(this.onBytesOut ? { onBytesOut: this.onBytesOut } : {}),
      ...(tap ? { tap: (direction: Direction, chunk: Buffer) => tap.data(direction, chunk) } : {}),
      onOpen: () => hooks.onOpen?.(target),
      onClose: () => {
        try {
          tap?.close?.();
        } finally {
          hooks.onClose?.(target);
        }
      },
      onError: (code, message) => this.report(code, message, target),
    };
  }
}
