import { KubeForwardError } from '../errors';
import { BlockWriter, type BlockPool } from './blockpool';
import { brokenTunnel, remoteFailure, type FailureContext } from './failures';
import type { TunnelLike, TunnelSink, TunnelTarget } from './tunnel';

/** What a stream pair needs of its session. */
export interface StreamHost {
  /** DATA on `streamId` (FIN with an empty chunk and `fin`); `done` once in the kernel. */
  writeData(streamId: number, chunk: Uint8Array, fin: boolean, done?: (error?: Error | null) => void): void;
  /** Our FIN once the pod ended the stream: may wait briefly to go out with other frames. */
  finishLater(streamId: number): void;
  reset(streamId: number): void;
  /** The session's unsent backlog (shared by all its streams). */
  readonly bufferedAmount: number;
  /** This stream holds too much while its reader is paused: stop reading the session. */
  holdOn(stream: MuxStream): void;
  holdOff(stream: MuxStream): void;
  /** Bytes a stream receives before it counts as a bulk transfer. */
  readonly bulkStreamBytes: number;
  /** A stream in a bulk transfer received data (the session may read less often). */
  bulkData(): void;
  /** Both stream ids are finished: forget them. */
  forget(stream: MuxStream): void;
  /**
   * Set when the session reads into one reused buffer: payloads passed to onData are valid only
   * during the call, and what the stream passes on is copied into this pool's blocks.
   */
  readonly pool?: BlockPool | undefined;
}

const MAX_ERROR_TEXT = 4096;

type ReleaseFn = () => void;

/** Payloads smaller than this are copied with Buffer.from (pooled by Node below 4 KiB). */
const SMALL_COPY = 4096;

/**
 * One forwarded connection as a SPDY stream pair in a shared session (the way kubectl does it):
 * a data stream and an error stream with the same `requestid`. Ready when the kubelet replied
 * to the data stream; until then only the bytes its SpdySession.open was given go out (right
 * behind the SYN_STREAM, which the kubelet handles first). Unlike the v4 WebSocket, SPDY has
 * half-close: the client's FIN goes to the pod as ours.
 */
export class MuxStream implements TunnelLike {
  readonly ready: Promise<this>;
  openedAt = 0;
  private resolveReady!: (s: this) => void;
  private rejectReady!: (e: KubeForwardError) => void;
  private settled = false;
  private failure: KubeForwardError | undefined;
  private sink: TunnelSink | undefined;
  private held: Buffer[] = [];
  private heldRelease: (ReleaseFn | undefined)[] = [];
  private writer: BlockWriter | undefined;
  private heldBytes = 0;
  private received = 0;
  private pausedBySink = false;
  private holding = false;
  private errorText = '';
  private localFin = false;
  private finPending = false;
  private remoteFin = false;
  /** sink.closed was called, or is due once the held bytes are delivered. */
  private ended = false;
  private endDelivered = false;
  private endError: KubeForwardError | undefined;
  private closeTimer: NodeJS.Timeout | undefined;
  private openTimer: NodeJS.Timeout | undefined;
  private graceTimer: NodeJS.Timeout | undefined;

  constructor(private readonly host: StreamHost, readonly errorId: number, readonly dataId: number, readonly target: TunnelTarget,
    private readonly where: FailureContext, private readonly limits: { window: number; openTimeoutMs: number; closeTimeoutMs: number; errorGraceMs: number }) {
    this.ready = new Promise<this>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => undefined);
    this.openTimer = setTimeout(() => this.fail(new KubeForwardError('API_UNREACHABLE',
      `port-forward to pod ${where.namespace}/${where.pod}: the kubelet did not answer the new stream within ${limits.openTimeoutMs} ms`)), limits.openTimeoutMs);
  }

  get isOpen(): boolean {
    return this.settled && !this.failure && !this.ended && !this.localFin && !this.errorText;
  }

  get bufferedAmount(): number {
    return this.host.bufferedAmount;
  }

  get heldAmount(): number {
    return this.heldBytes;
  }

  send(chunk: Uint8Array, done?: (error?: Error | null) => void): void {
    if (this.ended || this.localFin || !this.settled) {
      if (done) queueMicrotask(() => done(new Error('stream is closed')));
      return;
    }
    this.host.writeData(this.dataId, chunk, false, done);
  }

  pause(): void {
    this.pausedBySink = true;
  }

  resume(): void {
    this.pausedBySink = false;
    this.flush();
  }

  attach(sink: TunnelSink): void {
    if (this.sink) throw new Error('stream already attached');
    this.sink = sink;
    this.flush();
  }

  halfClose(): void {
    if (this.localFin || this.ended) return;
    if (!this.settled) {
      this.finPending = true;
      return;
    }
    this.localFin = true;
    this.host.writeData(this.dataId, Buffer.alloc(0), true);
    this.maybeForget();
  }

  /** Our FIN, then the pod's (after its backend closed); reset if it does not come in time. */
  close(): void {
    if (this.ended) return;
    this.halfClose();
    this.closeTimer ??= setTimeout(() => this.destroy(), this.limits.closeTimeoutMs);
    this.closeTimer.unref();
  }

  destroy(): void {
    if (!this.settled) return this.fail(new KubeForwardError('ABORTED', `port-forward to pod ${this.where.namespace}/${this.where.pod} was cancelled`));
    if (!this.ended) {
      this.host.reset(this.dataId);
      this.host.reset(this.errorId);
    }
    this.dropHeld();
    this.end(undefined, true);
  }

  // ---- from the session --------------------------------------------------------------------------

  onReply(streamId: number): void {
    // Our half of the error stream ended with its SYN_STREAM.
    if (streamId === this.errorId || this.settled || this.failure) return;
    this.settled = true;
    this.openedAt = performance.now();
    clearTimeout(this.openTimer);
    this.resolveReady(this);
    if (this.finPending) this.halfClose();
  }

  onData(streamId: number, chunk: Buffer): void {
    if (streamId === this.errorId) {
      if (this.errorText.length < MAX_ERROR_TEXT) this.errorText += chunk.toString('utf8').slice(0, MAX_ERROR_TEXT - this.errorText.length);
      if (this.graceTimer) this.endReset();
      return;
    }
    if (this.ended) return;
    this.received += chunk.length;
    if (this.received > this.host.bulkStreamBytes) this.host.bulkData();
    const pool = this.host.pool;
    if (!pool) this.deliver(chunk, undefined);
    // A small payload (an HTTP answer, say) is copied into Node's own shared slab: a stream that
    // never carries more takes no block, and an idle process keeps none.
    else if (chunk.length < SMALL_COPY) this.deliver(Buffer.from(chunk), undefined);
    else (this.writer ??= new BlockWriter(pool)).copy(chunk, this.deliver);
  }

  private readonly deliver = (chunk: Buffer, release: ReleaseFn | undefined): void => {
    if (this.sink && !this.pausedBySink && this.held.length === 0) {
      this.sink.data(chunk, release);
      return;
    }
    // Chunks are slices of the session's read buffers (or pooled copies): keep them only while they are needed.
    this.held.push(chunk);
    this.heldRelease.push(release);
    this.heldBytes += chunk.length;
    if (this.heldBytes >= this.limits.window && !this.holding) {
      this.holding = true;
      this.host.holdOn(this);
    }
  };

  private dropHeld(): void {
    for (const release of this.heldRelease) release?.();
    this.held = [];
    this.heldRelease = [];
    this.heldBytes = 0;
  }

  onFin(streamId: number): void {
    if (streamId === this.errorId) {
      if (this.graceTimer) this.endReset();
      return;
    }
    this.remoteFin = true;
    this.end(this.errorText ? remoteFailure(this.errorText, this.where) : undefined, false);
  }

  onReset(streamId: number): void {
    if (streamId === this.dataId) this.remoteFin = true;
    if (!this.settled) {
      return this.fail(this.errorText ? remoteFailure(this.errorText, this.where) : brokenTunnel('the kubelet refused the stream', this.where));
    }
    if (this.ended) return this.maybeForget();
    if (this.errorText || streamId === this.errorId) return this.endReset();
    // The kubelet may reset the data stream before it writes why on the error stream (a pod
    // being deleted): give that text a moment to arrive.
    this.graceTimer ??= setTimeout(() => this.endReset(), this.limits.errorGraceMs);
  }

  private endReset(): void {
    clearTimeout(this.graceTimer);
    this.end(this.errorText ? remoteFailure(this.errorText, this.where) : brokenTunnel('the kubelet reset the stream', this.where), false);
  }

  /** The session is gone. */
  onSessionEnd(reason: (where: FailureContext) => KubeForwardError): void {
    this.remoteFin = true;
    if (!this.settled) return this.fail(reason(this.where));
    // After our own close (a spare being discarded, a closing client) the end is no failure.
    this.end(this.localFin ? undefined : reason(this.where), false);
  }

  // ---- internals ---------------------------------------------------------------------------------

  private fail(error: KubeForwardError): void {
    if (this.settled || this.failure) return;
    this.failure = error;
    this.writer?.close();
    clearTimeout(this.openTimer);
    this.rejectReady(error);
    this.host.reset(this.dataId);
    this.host.reset(this.errorId);
    this.remoteFin = true;
    this.localFin = true;
    this.ended = true;
    this.endDelivered = true;
    this.maybeForget();
  }

  private end(error: KubeForwardError | undefined, local: boolean): void {
    if (!this.ended) {
      this.ended = true;
      this.writer?.close();
      this.endError = error;
      clearTimeout(this.closeTimer);
      clearTimeout(this.graceTimer);
      if (!local && !this.localFin) {
        // The pod's side is done; finish ours so the kubelet can let the stream go.
        this.localFin = true;
        this.host.finishLater(this.dataId);
      }
      if (local) {
        this.localFin = true;
        this.remoteFin = true;
      }
    }
    this.flush();
    this.maybeForget();
  }

  private flush(): void {
    const sink = this.sink;
    if (!sink) return;
    while (this.held.length > 0 && !this.pausedBySink) {
      const chunk = this.held.shift()!;
      const release = this.heldRelease.shift();
      this.heldBytes -= chunk.length;
      sink.data(chunk, release);
    }
    if (this.holding && this.heldBytes < this.limits.window / 2) {
      this.holding = false;
      this.host.holdOff(this);
    }
    if (this.ended && !this.endDelivered && this.held.length === 0) {
      this.endDelivered = true;
      sink.closed(this.endError);
    }
  }

  private maybeForget(): void {
    // The error stream needs no wait: its FIN went out with its SYN_STREAM, and what the kubelet
    // writes on it always comes before it ends the data stream.
    if (this.localFin && this.remoteFin) {
      if (this.holding) {
        this.holding = false;
        this.host.holdOff(this);
      }
      this.host.forget(this);
    }
  }
}
