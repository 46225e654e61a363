import type { Socket } from 'node:net';
import { KubeForwardError } from '../errors';
import { receivePool, type BlockPool } from './blockpool';
import { ReadRests } from './readrests';
import { brokenTunnel, deadTunnel, type FailureContext } from './failures';
import { MuxStream, type StreamHost } from './muxstream';
import {
  dataHeader, FLAG_FIN, GOAWAY, goawayFrame, HeaderEncoder, MAX_STREAM_ID, PING, pingFrame, RST_CANCEL, RST_STREAM, rstStream,
  SpdyParser, SYN_REPLY, synStream,
} from './spdyframe';
import type { ReadSink } from './rawupgrade';
import type { EarlyData, TunnelTarget } from './tunnel';

export interface SpdySessionOptions {
  /** Ping period; a session that answers nothing for a whole period is cut. Default 30 s. 0: off. */
  pingIntervalMs?: number;
  /** Bytes one stream may hold while its reader is paused before the whole session stops reading. Default 1 MiB. */
  streamWindow?: number;
  /** A stream's graceful close waits this long for the pod's FIN. Default 2 s. */
  closeTimeoutMs?: number;
  /** A stream the kubelet reset waits this long for its reason on the error stream. Default 200 ms. */
  errorGraceMs?: number;
  /** No streams for this long: the session closes. Default 60 s. */
  idleMs?: number;
  /**
   * While a stream of the session is in a bulk transfer (more than `bulkStreamBytes` received),
   * the socket is read at most once per this many ms: what arrived meanwhile is read in one go.
   * Default 1. 0: read whenever data arrives.
   */
  coalesceReadsMs?: number;
  /** Bytes a stream receives before it counts as a bulk transfer. Default 1 MiB. */
  bulkStreamBytes?: number;
}

/**
 * Our FIN after the pod's only lets the kubelet release the stream: it waits this long for other
 * frames to go out with (the next connection's request, usually), instead of a TLS record and a
 * send of its own.
 */
const LAZY_FIN_MS = 5;

/** The session's unsent backlog above which it takes no new streams (a pod not reading). */
const CONGESTED_BACKLOG = 4 * 1024 * 1024;

/**
 * One SPDY/3.1 connection to a pod's port-forward endpoint (the API server relays it to the
 * kubelet untouched), carrying a stream pair per forwarded connection — what kubectl and kubefwd
 * do. SPDY has no working flow control here (the kubelet's spdystream ignores it), so a stream
 * whose local reader stalls can only be held back by pausing the whole session: after
 * `streamWindow` held bytes that happens, the session is marked congested and takes no new
 * streams (new connections go to another session, or their own WebSocket), and reading resumes
 * when that reader catches up.
 */
export class SpdySession implements StreamHost {
  private readonly parser: SpdyParser;
  private readonly encoder = new HeaderEncoder();
  private readonly streams = new Map<number, MuxStream>();
  private readonly holders = new Set<MuxStream>();
  private nextId = 1;
  private nextRequest = 0;
  private pingId = 1;
  private heard = true;
  private goneAway = false;
  private ended = false;
  private everHeld = false;
  private corked = false;
  private lazyFins: Buffer[] = [];
  private lazyTimer: NodeJS.Timeout | undefined;
  private readonly pingTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly window: number;
  private readonly closeTimeoutMs: number;
  private readonly errorGraceMs: number;
  private readonly idleMs: number;
  private error: Error | undefined;
  readonly bulkStreamBytes: number;
  private readonly rests: ReadRests;
  /** Set when pings went unanswered for this many ms. */
  private dead = 0;
  /** Set when the socket reads into one reused buffer (see StreamHost.pool). */
  readonly pool: BlockPool | undefined;
  /** Called once when the session is gone (for the session set to drop it). */
  onEnd: (() => void) | undefined;

  /**
   * `input`, for a socket opened with `onread`, routes its reads to the session (the socket emits
   * no 'data' then); the session copies what outlives a read into `receivePool`.
   */
  constructor(private readonly socket: Socket, head: Buffer, private readonly where: Omit<FailureContext, 'port'>, options: SpdySessionOptions = {},
    input?: (sink: ReadSink) => void) {
    this.window = options.streamWindow ?? 1024 * 1024;
    this.closeTimeoutMs = options.closeTimeoutMs ?? 2000;
    this.errorGraceMs = options.errorGraceMs ?? 200;
    this.idleMs = options.idleMs ?? 60_000;
    this.rests = new ReadRests(socket, options.coalesceReadsMs ?? 1, () => this.ended, () => this.holders.size > 0);
    this.bulkStreamBytes = options.bulkStreamBytes ?? 1024 * 1024;
    this.parser = new SpdyParser({
      data: (id, chunk) => {
        this.heard = true;
        this.streams.get(id)?.onData(id, chunk);
      },
      fin: (id) => this.streams.get(id)?.onFin(id),
      control: (type, flags, payload) => this.onControl(type, flags, payload),
      error: (reason) => {
        this.error = new Error(`SPDY protocol error from the server: ${reason}`);
        socket.destroy();
      },
    });
    socket.setNoDelay(true);
    const read = (chunk: Buffer): void => {
      this.rests.read(chunk.length);
      this.parser.push(chunk);
    };
    if (input) this.pool = receivePool;
    else socket.on('data', read);
    socket.on('end', () => socket.end());
    socket.on('error', (error: Error) => {
      this.error ??= error;
    });
    socket.on('close', () => this.onClose());
    const pingIntervalMs = options.pingIntervalMs ?? 30_000;
    if (pingIntervalMs > 0) {
      this.pingTimer = setInterval(() => this.heartbeat(pingIntervalMs), pingIntervalMs);
      this.pingTimer.unref();
    }
    this.armIdle();
    if (head.length > 0) queueMicrotask(() => this.parser.push(head));
    // After the head (what the socket read early is passed on then, in order).
    if (input) queueMicrotask(() => input(read));
  }

  /** Takes new streams: open, no GOAWAY, ids left, not congested. */
  get usable(): boolean {
    return !this.ended && !this.goneAway && !this.everHeld && this.nextId < MAX_STREAM_ID - 4 && this.socket.writableLength < CONGESTED_BACKLOG;
  }

  get streamCount(): number {
    return this.streams.size / 2;
  }

  get bufferedAmount(): number {
    return this.socket.writableLength;
  }

  /**
   * A new stream pair to `target.port`; await its `ready`. `early` bytes go out right behind the
   * SYN_STREAMs, in the same record: spdystream handles a stream's frames in order on one worker
   * and replies to the SYN_STREAM before it reads the next frame, so they reach the pod.
   */
  open(target: TunnelTarget, openTimeoutMs: number, early?: EarlyData): MuxStream {
    if (!this.usable) throw new KubeForwardError('TUNNEL_BROKEN', 'SPDY session takes no new streams');
    clearTimeout(this.idleTimer);
    const errorId = this.nextId;
    const dataId = errorId + 2;
    this.nextId += 4;
    const request = String(this.nextRequest++);
    const stream = new MuxStream(this, errorId, dataId, target, { ...this.where, port: target.port },
      { window: this.window, openTimeoutMs, closeTimeoutMs: this.closeTimeoutMs, errorGraceMs: this.errorGraceMs });
    this.streams.set(errorId, stream);
    this.streams.set(dataId, stream);
    const port = String(target.port);
    const s = this.socket;
    this.corkTurn();
    // We never write on the error stream: FIN with its SYN_STREAM (one frame less per connection).
    s.write(synStream(errorId, this.encoder.encode([['streamtype', 'error'], ['port', port], ['requestid', request]]), FLAG_FIN));
    s.write(synStream(dataId, this.encoder.encode([['streamtype', 'data'], ['port', port], ['requestid', request]])));
    if (early) {
      s.write(dataHeader(dataId, 0, early.chunk.length));
      s.write(early.chunk);
      early.sent = true;
    }
    return stream;
  }

  /** GOAWAY and close once the streams are done (now, if there are none). */
  close(): void {
    if (this.ended) return;
    this.writeLazyFins();
    if (!this.goneAway) {
      this.goneAway = true;
      this.write(goawayFrame(0));
    }
    if (this.streams.size === 0) this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  // ---- StreamHost --------------------------------------------------------------------------------

  writeData(streamId: number, chunk: Uint8Array, fin: boolean, done?: (error?: Error | null) => void): void {
    const s = this.socket;
    if (this.ended || s.destroyed) {
      if (done) queueMicrotask(() => done(new Error('SPDY session is closed')));
      return;
    }
    // A DATA frame carries at most 2^24 − 1 bytes; socket reads are far smaller.
    this.corkTurn();
    s.write(dataHeader(streamId, fin ? FLAG_FIN : 0, chunk.length));
    if (chunk.length > 0 || done) s.write(chunk, done);
  }

  finishLater(streamId: number): void {
    if (!this.takesLazyFins) return;
    const frame = dataHeader(streamId, FLAG_FIN, 0);
    if (this.corked) return void this.socket.write(frame);
    this.lazyFins.push(frame);
    if (!this.lazyTimer) {
      this.lazyTimer = setTimeout(() => (this.corked ? this.writeLazyFins() : this.corkTurn()), LAZY_FIN_MS);
      this.lazyTimer.unref();
    }
  }

  reset(streamId: number): void {
    this.write(rstStream(streamId, RST_CANCEL));
  }

  holdOn(stream: MuxStream): void {
    this.everHeld = true;
    this.holders.add(stream);
    this.socket.pause();
  }

  holdOff(stream: MuxStream): void {
    if (this.holders.delete(stream) && this.holders.size === 0 && !this.rests.resting) this.socket.resume();
  }

  /** A stream in a bulk transfer got data in this turn of the event loop (see ReadRests). */
  bulkData(): void {
    this.rests.bulk();
  }

  forget(stream: MuxStream): void {
    this.streams.delete(stream.errorId);
    this.streams.delete(stream.dataId);
    if (this.streams.size === 0) {
      if (this.goneAway || this.everHeld) this.close();
      else this.armIdle();
    }
  }

  // ---- internals ---------------------------------------------------------------------------------

  /**
   * Corks the socket until the current callback and the promise continuations it started are
   * done (a microtask that queues a tick runs after the whole microtask queue), so the frames they
   * produce (a connection's first bytes, and the stream pair opened to replace its spare) go out
   * as one TLS record and one send.
   */
  private corkTurn(): void {
    if (this.corked) return;
    this.corked = true;
    this.socket.cork();
    this.writeLazyFins();
    queueMicrotask(() => process.nextTick(this.uncorkTurn));
  }

  private writeLazyFins(): void {
    clearTimeout(this.lazyTimer);
    this.lazyTimer = undefined;
    if (this.lazyFins.length === 0) return;
    const frames = this.lazyFins;
    this.lazyFins = [];
    if (!this.takesLazyFins) return;
    for (const frame of frames) this.socket.write(frame);
  }

  /** Not closed, nor ended on our side (a FIN written after end() would fail the socket). */
  private get takesLazyFins(): boolean {
    return !this.ended && !this.socket.destroyed && !this.socket.writableEnded;
  }

  private readonly uncorkTurn = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

  private write(frame: Buffer): void {
    if (!this.ended && !this.socket.destroyed) this.socket.write(frame);
  }

  private onControl(type: number, flags: number, payload: Buffer): void {
    this.heard = true;
    if (type === SYN_REPLY || type === RST_STREAM) {
      if (payload.length < 4) return;
      const id = payload.readUInt32BE(0) & MAX_STREAM_ID;
      const stream = this.streams.get(id);
      if (!stream) return;
      if (type === SYN_REPLY) {
        stream.onReply(id);
        if (flags & FLAG_FIN) stream.onFin(id);
      } else {
        stream.onReset(id);
      }
    } else if (type === PING) {
      // Even ids are the server's: echo them. Odd ones answer ours (`heard` is set).
      if (payload.length === 4 && (payload.readUInt32BE(0) & 1) === 0) this.write(pingFrame(payload.readUInt32BE(0)));
    } else if (type === GOAWAY) {
      this.goneAway = true;
      if (this.streams.size === 0) this.socket.end();
    }
    // SETTINGS, WINDOW_UPDATE, HEADERS: nothing port-forward needs.
  }

  private heartbeat(periodMs: number): void {
    if (!this.heard && this.holders.size === 0 && this.socket.writableLength === 0) {
      this.dead = periodMs;
      this.socket.destroy();
      return;
    }
    this.heard = false;
    this.write(pingFrame(this.pingId));
    this.pingId = (this.pingId + 2) & MAX_STREAM_ID;
  }

  private armIdle(): void {
    clearTimeout(this.idleTimer);
    if (this.ended) return;
    this.idleTimer = setTimeout(() => {
      if (this.streams.size === 0) this.close();
    }, this.idleMs);
    this.idleTimer.unref();
  }

  private onClose(): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.pingTimer);
    clearTimeout(this.idleTimer);
    clearTimeout(this.lazyTimer);
    this.rests.stop();
    this.lazyFins = [];
    const dead = this.dead;
    const message = this.error?.message ?? 'the SPDY session closed';
    const reason = (where: FailureContext) => (dead ? deadTunnel(dead, where) : brokenTunnel(message, where));
    const streams = new Set(this.streams.values());
    this.streams.clear();
    for (const stream of streams) stream.onSessionEnd(reason);
    this.onEnd?.();
  }
}
