import { randomFillSync } from 'node:crypto';
import type { Socket } from 'node:net';
import { ReadRests } from './readrests';
import { applyMask, FrameParser, frameHeader, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG } from './wsframe';

/** What a WebSocket connection reports to its owner (one owner, so plain callbacks). */
export interface WsHandlers {
  /** A slice of a data message's payload (no copy); `start` on a message's first bytes. */
  data(chunk: Buffer, start: boolean): void;
  pong(): void;
  /** Once, when the TCP connection is gone: the peer's close code (1006: none) and any error. */
  closed(code: number, error: Error | undefined): void;
}

export interface WsConnectionOptions {
  /** Mask with random keys (plain-HTTP servers); otherwise an all-zero key (see websocket.ts). */
  randomMask?: boolean;
  /** After our close frame, how long to wait for the peer's before cutting. Default 2 s. */
  closeTimeoutMs?: number;
  /**
   * Once more than `bulkBytes` were received, the socket is read at most once per this many ms
   * (as SpdySession does): what arrives meanwhile is read in one go. Default 1. 0: off.
   */
  coalesceReadsMs?: number;
  /** Bytes received before the connection counts as a bulk transfer. Default 1 MiB. */
  bulkBytes?: number;
}

const ZERO_MASK = new Uint8Array(4);

/**
 * A client WebSocket on an upgraded socket: binary messages out, streamed payload slices in,
 * ping/pong and the close handshake. Backpressure is the socket's own: `bufferedAmount` is what
 * it has not written yet, pause()/resume() stop and restart reading.
 */
export class WsConnection {
  private readonly parser: FrameParser;
  private readonly randomMask: boolean;
  private readonly closeTimeoutMs: number;
  private closeSent = false;
  private closeCode = 1006;
  private error: Error | undefined;
  private ended = false;
  private closeTimer: NodeJS.Timeout | undefined;
  private readonly rests: ReadRests;
  private readonly bulkBytes: number;
  private received = 0;
  private pausedByOwner = false;

  constructor(private readonly socket: Socket, head: Buffer, private readonly handlers: WsHandlers, options: WsConnectionOptions = {}) {
    this.randomMask = options.randomMask ?? false;
    this.closeTimeoutMs = options.closeTimeoutMs ?? 2000;
    this.parser = new FrameParser({
      data: handlers.data.bind(handlers),
      control: (opcode, payload) => this.onControl(opcode, payload),
      error: (reason) => this.fail(new Error(`WebSocket protocol error from the server: ${reason}`)),
    });
    this.rests = new ReadRests(socket, options.coalesceReadsMs ?? 1, () => this.ended, () => this.pausedByOwner);
    this.bulkBytes = options.bulkBytes ?? 1024 * 1024;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.rests.read(chunk.length);
      this.received += chunk.length;
      if (this.received > this.bulkBytes) this.rests.bulk();
      this.parser.push(chunk);
    });
    socket.on('end', () => {
      // The server closed TCP: finish our side too (a close frame from us adds nothing now).
      this.closeSent = true;
      socket.end();
    });
    socket.on('error', (error: Error) => {
      this.error ??= error;
    });
    socket.on('close', () => this.onSocketClose());
    if (head.length > 0) queueMicrotask(() => this.parser.push(head));
  }

  /** Open for sending: no close frame sent or received, socket alive. */
  get open(): boolean {
    return !this.closeSent && !this.ended && !this.socket.destroyed;
  }

  /** Bytes accepted by send() and not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this.socket.writableLength;
  }

  /**
   * One binary message: `lead` (the channel byte), then `chunk`. With the zero mask the chunk is
   * written as it is, behind a header that carries the lead byte: no copy in JavaScript.
   */
  send(lead: number, chunk: Uint8Array, done?: (error?: Error | null) => void): void {
    if (!this.open) {
      if (done) queueMicrotask(() => done(new Error('WebSocket is closed')));
      return;
    }
    const length = chunk.length + 1;
    if (!this.randomMask) {
      const socket = this.socket;
      socket.cork();
      socket.write(frameHeader(OP_BINARY, length, ZERO_MASK, lead));
      socket.write(chunk, done);
      socket.uncork();
      return;
    }
    const mask = randomFillSync(Buffer.allocUnsafe(4));
    const body = Buffer.from(chunk);
    applyMask(body, mask, 1);
    const header = frameHeader(OP_BINARY, length, mask, lead);
    this.socket.write(Buffer.concat([header, body]), done);
  }

  ping(): void {
    if (this.open) this.socket.write(frameHeader(OP_PING, 0, this.maskKey()));
  }

  pause(): void {
    this.pausedByOwner = true;
    this.socket.pause();
  }

  resume(): void {
    this.pausedByOwner = false;
    if (!this.rests.resting) this.socket.resume();
  }

  /** Close handshake: our close frame, then the peer's; cut after closeTimeoutMs. */
  close(code = 1000): void {
    if (this.ended) return;
    if (!this.closeSent) this.sendClose(code);
    this.closeTimer ??= setTimeout(() => this.socket.destroy(), this.closeTimeoutMs);
    this.closeTimer.unref();
  }

  /** Cuts the TCP connection now. */
  destroy(): void {
    this.socket.destroy();
  }

  private maskKey(): Uint8Array {
    return this.randomMask ? randomFillSync(Buffer.allocUnsafe(4)) : ZERO_MASK;
  }

  private sendClose(code: number): void {
    this.closeSent = true;
    const mask = this.maskKey();
    const payload = Buffer.allocUnsafe(2);
    payload.writeUInt16BE(code, 0);
    applyMask(payload, mask);
    this.socket.write(Buffer.concat([frameHeader(OP_CLOSE, 2, mask), payload]));
  }

  private onControl(opcode: number, payload: Buffer): void {
    if (opcode === OP_PING) {
      if (!this.open) return;
      const mask = this.maskKey();
      const body = Buffer.from(payload);
      applyMask(body, mask);
      this.socket.write(Buffer.concat([frameHeader(OP_PONG, body.length, mask), body]));
    } else if (opcode === OP_PONG) {
      this.handlers.pong();
    } else if (opcode === OP_CLOSE) {
      this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
      // Answer with the same code, then let the server close TCP (or cut after the timeout).
      if (!this.closeSent) this.sendClose(this.closeCode === 1005 ? 1000 : this.closeCode);
      this.closeTimer ??= setTimeout(() => this.socket.destroy(), this.closeTimeoutMs);
      this.closeTimer.unref();
      this.socket.end();
    }
  }

  private fail(error: Error): void {
    this.error ??= error;
    this.socket.destroy();
  }

  private onSocketClose(): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.closeTimer);
    this.rests.stop();
    // After a close frame, a reset while we answered it is no failure.
    this.handlers.closed(this.closeCode, this.closeCode === 1006 ? this.error : undefined);
  }
}
