import type { Socket } from 'node:net';
import { KubeForwardError, messageOf } from '../errors';
import type { EarlyData, TunnelLike, TunnelSink } from './tunnel';

/** A payload this large is part of a bulk transfer: it and what follows in the same turn are written together. */
const BULK_CHUNK = 8 * 1024;

/** 'in' = pod → local client, 'out' = local client → pod (as the metrics module counts). */
export type Direction = 'in' | 'out';

/** Per-connection callbacks. Counters and the tap run per chunk: keep them cheap. */
export interface PipeHooks {
  onBytesIn?(bytes: number): void;
  onBytesOut?(bytes: number): void;
  onOpen?(): void;
  /** Both sides are closed (once). */
  onClose?(): void;
  /** This connection failed (remote error text, broken or dead tunnel); only it was closed. */
  onError?(code: string, message: string): void;
  /** Sees every chunk (e.g. an HTTP sniffer); must not keep or modify it. */
  tap?(direction: Direction, chunk: Buffer): void;
}

export interface PipeOptions {
  /** WebSocket send backlog (bytes) at which the local socket stops being read. Default 1 MiB. */
  highWaterMark?: number;
  /** Backlog at which reading resumes. Default 256 KiB. */
  lowWaterMark?: number;
  /**
   * Bytes queued towards the local client at which the tunnel stops being read, until 'drain'.
   * Default: the socket's own writableHighWaterMark (that is, whenever write() returns false).
   */
  socketHighWaterMark?: number;
  /**
   * A bulk transfer's chunks that arrive in one turn of the event loop are written to the local
   * socket together, up to this many bytes (then the backlog check above applies). Default 256 KiB.
   */
  writeBatchBytes?: number;
  /** After the client half-closes, how long the pod may stay quiet before the tunnel is closed. Default 1 s. */
  lingerMs?: number;
  /**
   * After the tunnel closed, how long the client gets to read the rest and close its side before
   * the local socket is destroyed. Default 30 s.
   */
  drainTimeoutMs?: number;
}

export interface Pipe {
  /** Resolves once the local socket and the tunnel are both closed. */
  readonly done: Promise<void>;
  /** Bytes queued in this process: towards the local client and towards the pod. */
  queued(): { toClient: number; toPod: number };
  /** Closes both sides now. */
  destroy(): void;
}

/**
 * Relays one local connection through one tunnel, both ways, with backpressure both ways.
 *
 * Closing: the v4 port-forward protocol has no half-close. A client that half-closes (shutdown
 * of its write side, like `nc -N` or an HTTP/1.0 client) cannot pass that on to the pod, and
 * closing the WebSocket at that moment would cut off the response still on its way. So after the
 * client's FIN the relay keeps copying pod → client until the pod closes or stays quiet for
 * `lingerMs`, then closes the tunnel. A backend that waits for EOF before answering will not get
 * it; it sees the end only when the tunnel closes. A local error or reset closes the tunnel at
 * once; the tunnel closing ends the local socket after what was received is flushed.
 */
export function pipe(tunnel: TunnelLike, socket: Socket, hooks: PipeHooks = {}, options: PipeOptions = {}, early?: EarlyData): Pipe {
  return new Relay(tunnel, socket, hooks, options, early);
}

class Relay implements TunnelSink, Pipe {
  readonly done: Promise<void>;
  private finish!: () => void;
  private readonly high: number;
  private readonly low: number;
  private readonly socketHigh: number;
  private readonly batchBytes: number;
  private readonly lingerMs: number;
  private readonly drainTimeoutMs: number;
  private drainTimer: NodeJS.Timeout | undefined;
  private socketPaused = false;
  private tunnelPaused = false;
  private tunnelClosed = false;
  private socketClosed = false;
  private lingering = false;
  private lastIn = 0;
  private corked = false;
  private flushQueued = false;
  private lingerTimer: NodeJS.Timeout | undefined;
  private finished = false;
  private faulted = false;
  private tap: PipeHooks['tap'];

  /**
   * `early`: the client's first bytes, already read from the socket (which was paused then); sent
   * here unless the tunnel took them with its opening.
   */
  constructor(private readonly tunnel: TunnelLike, private readonly socket: Socket, private readonly hooks: PipeHooks, options: PipeOptions,
    early: EarlyData | undefined) {
    this.high = options.highWaterMark ?? 1024 * 1024;
    this.low = Math.min(options.lowWaterMark ?? 256 * 1024, this.high);
    this.socketHigh = options.socketHighWaterMark ?? socket.writableHighWaterMark;
    this.batchBytes = options.writeBatchBytes ?? 256 * 1024;
    this.lingerMs = options.lingerMs ?? 1000;
    this.drainTimeoutMs = options.drainTimeoutMs ?? 30_000;
    this.tap = hooks.tap;
    this.done = new Promise((resolve) => (this.finish = resolve));
    socket.setNoDelay(true);
    socket.on('data', this.onSocketData);
    socket.on('end', this.onSocketEnd);
    socket.on('error', this.onSocketError);
    socket.on('close', this.onSocketClose);
    socket.on('drain', this.onDrain);
    this.safely(() => hooks.onOpen?.());
    if (socket.destroyed) this.onSocketClose();
    tunnel.attach(this);
    if (early?.sent) {
      const { chunk } = early;
      this.safely(() => {
        this.tap?.('out', chunk);
        this.hooks.onBytesOut?.(chunk.length);
      });
    } else if (early) {
      this.onSocketData(early.chunk);
    }
    if (socket.readableEnded) this.onSocketEnd();
    else if (socket.isPaused() && !socket.destroyed) socket.resume();
  }

  queued(): { toClient: number; toPod: number } {
    return { toClient: this.socket.writableLength + this.tunnel.heldAmount, toPod: this.tunnel.bufferedAmount };
  }

  destroy(): void {
    this.tunnel.destroy();
    this.socket.destroy();
  }

  // ---- pod → client ----------------------------------------------------------------------------

  data(payload: Buffer, release?: () => void): void {
    if (this.socketClosed) return release?.();
    try {
      this.tap?.('in', payload);
      this.hooks.onBytesIn?.(payload.length);
      if (this.lingering) this.lastIn = performance.now();
      // The write's callback releases pooled memory once the kernel has the bytes (or the write failed).
      if (this.corked) {
        this.socket.write(payload, release);
        if (this.socket.writableLength >= this.batchBytes) this.flush();
      } else if (payload.length >= BULK_CHUNK) {
        // Bulk: what arrives in this turn of the event loop (several TLS records) goes out in
        // one writev instead of a send per record, up to batchBytes.
        this.corked = true;
        this.socket.cork();
        this.socket.write(payload, release);
        if (!this.flushQueued) {
          this.flushQueued = true;
          setImmediate(this.onImmediate);
        }
      } else {
        this.socket.write(payload, release);
        this.checkSocketBacklog();
      }
    } catch (error) {
      this.fault(error);
    }
  }

  private onImmediate = (): void => {
    this.flushQueued = false;
    if (this.corked) this.flush();
  };

  private flush(): void {
    this.corked = false;
    this.socket.uncork();
    this.checkSocketBacklog();
  }

  private checkSocketBacklog(): void {
    if (this.socket.writableLength >= this.socketHigh && !this.tunnelPaused && !this.socketClosed) {
      this.tunnelPaused = true;
      this.tunnel.pause();
    }
  }

  private onDrain = (): void => {
    if (!this.tunnelPaused) return;
    this.tunnelPaused = false;
    this.tunnel.resume();
  };

  closed(error: KubeForwardError | undefined): void {
    this.tunnelClosed = true;
    clearTimeout(this.lingerTimer);
    if (error) this.safely(() => this.hooks.onError?.(error.code, error.message));
    if (!this.socketClosed) {
      // Keep reading (and dropping) what the client still sends, so its FIN is seen.
      if (this.socketPaused) {
        this.socketPaused = false;
        this.socket.resume();
      }
      // end() flushes what was written before it. A client that neither reads the rest nor closes
      // would hold the socket forever: it gets drainTimeoutMs.
      this.socket.end();
      this.drainTimer = setTimeout(() => this.socket.destroy(), this.drainTimeoutMs);
      this.drainTimer.unref();
    }
    this.settle();
  }

  // ---- client → pod ----------------------------------------------------------------------------

  private onSocketData = (chunk: Buffer): void => {
    // Nowhere to go once the tunnel is gone (the v4 protocol cannot say so to the client).
    if (this.tunnelClosed) return;
    try {
      this.tap?.('out', chunk);
      this.hooks.onBytesOut?.(chunk.length);
      this.tunnel.send(chunk, this.onSent);
      if (!this.socketPaused && this.tunnel.bufferedAmount >= this.high) {
        this.socketPaused = true;
        this.socket.pause();
      }
    } catch (error) {
      this.fault(error);
    }
  };

  private onSent = (): void => {
    if (this.socketPaused && this.tunnel.bufferedAmount <= this.low) {
      this.socketPaused = false;
      this.socket.resume();
    }
  };

  // ---- closing ---------------------------------------------------------------------------------

  private onSocketEnd = (): void => {
    if (this.tunnelClosed) return;
    // SPDY streams carry the FIN to the pod; the pod's side closes when the backend is done.
    if (this.tunnel.halfClose) return this.tunnel.halfClose();
    this.lingering = true;
    this.lastIn = performance.now();
    this.lingerTimer = setTimeout(this.checkLinger, this.lingerMs);
  };

  private checkLinger = (): void => {
    if (this.tunnelClosed) return;
    const quiet = performance.now() - this.lastIn;
    // A paused tunnel is a client still reading a response, not a quiet pod.
    if (this.tunnelPaused || quiet < this.lingerMs) {
      this.lingerTimer = setTimeout(this.checkLinger, this.tunnelPaused ? this.lingerMs : this.lingerMs - quiet);
      return;
    }
    this.tunnel.close();
  };

  private onSocketError = (): void => {
    // The client reset or vanished: its own doing, not a failure of the forward.
    this.tunnel.destroy();
  };

  private onSocketClose = (): void => {
    this.socketClosed = true;
    clearTimeout(this.lingerTimer);
    clearTimeout(this.drainTimer);
    if (!this.tunnelClosed) this.tunnel.destroy();
    this.settle();
  };

  private settle(): void {
    if (this.finished || !this.socketClosed || !this.tunnelClosed) return;
    this.finished = true;
    this.safely(() => this.hooks.onClose?.());
    this.finish();
  }

  /** A hook threw: report it and close this connection only. */
  private fault(error: unknown): void {
    if (this.faulted) return;
    this.faulted = true;
    this.tap = undefined;
    try {
      this.hooks.onError?.('INTERNAL', `relay failed: ${messageOf(error)}`);
    } catch {
      // nothing more can be done for this connection
    }
    this.destroy();
  }

  private safely(call: () => void): void {
    try {
      call();
    } catch (error) {
      this.fault(error);
    }
  }
}
