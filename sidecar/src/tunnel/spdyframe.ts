/**
 * SPDY/3.1 framing, client side, as far as Kubernetes port-forward needs it (pure; no I/O).
 * Frames: https://www.chromium.org/spdy/spdy-protocol/spdy-protocol-draft3-1/
 *
 * Header blocks we send are zlib "stored" blocks: valid for the peer's zlib reader (which shares
 * one stream across the session and is primed with SPDY's dictionary, which stored blocks never
 * reference) and no compressor on our side. Header blocks we receive (SYN_REPLY) are skipped:
 * port-forward needs nothing from them.
 */

export const SPDY_VERSION = 3;
export const SYN_STREAM = 1;
export const SYN_REPLY = 2;
export const RST_STREAM = 3;
export const SETTINGS = 4;
export const PING = 6;
export const GOAWAY = 7;
export const HEADERS = 8;
export const WINDOW_UPDATE = 9;

export const FLAG_FIN = 0x01;

/** RST_STREAM status codes. */
export const RST_PROTOCOL_ERROR = 1;
export const RST_CANCEL = 5;

/** The largest stream id (31 bits). */
export const MAX_STREAM_ID = 0x7fffffff;
/** Control frames we accept (SETTINGS, GOAWAY, a SYN_REPLY header block) are small. */
const MAX_CONTROL_PAYLOAD = 1 << 20;

/** The 8-byte header of a DATA frame. */
export function dataHeader(streamId: number, flags: number, length: number): Buffer {
  const h = Buffer.allocUnsafe(8);
  h.writeUInt32BE(streamId & MAX_STREAM_ID, 0);
  h.writeUInt32BE(((flags & 0xff) << 24 | length) >>> 0, 4);
  return h;
}

/** A whole control frame. */
export function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(8 + payload.length);
  frame.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  frame.writeUInt16BE(type, 2);
  frame.writeUInt32BE(((flags & 0xff) << 24 | payload.length) >>> 0, 4);
  payload.copy(frame, 8);
  return frame;
}

/** The uncompressed name/value block: count, then length-prefixed names and values. */
export function nameValueBlock(pairs: ReadonlyArray<readonly [string, string]>): Buffer {
  const parts: Buffer[] = [];
  const count = Buffer.allocUnsafe(4);
  count.writeUInt32BE(pairs.length, 0);
  parts.push(count);
  for (const [name, value] of pairs) {
    for (const text of [name.toLowerCase(), value]) {
      const bytes = Buffer.from(text, 'utf8');
      const len = Buffer.allocUnsafe(4);
      len.writeUInt32BE(bytes.length, 0);
      parts.push(len, bytes);
    }
  }
  return Buffer.concat(parts);
}

const ZLIB_HEADER = Buffer.from([0x78, 0x01]);
/** An empty stored block: the sync-flush marker that ends each header block's bytes. */
const SYNC_FLUSH = Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff]);

/**
 * The session's header compressor: one zlib stream per direction per session, so the first block
 * carries the zlib header and every block ends on a sync flush.
 */
export class HeaderEncoder {
  private started = false;

  encode(pairs: ReadonlyArray<readonly [string, string]>): Buffer {
    const raw = nameValueBlock(pairs);
    if (raw.length > 0xffff) throw new Error('header block too large');
    const stored = Buffer.allocUnsafe(5);
    stored[0] = 0x00; // BFINAL 0, BTYPE 00 (stored)
    stored.writeUInt16LE(raw.length, 1);
    stored.writeUInt16LE(~raw.length & 0xffff, 3);
    const parts = this.started ? [stored, raw, SYNC_FLUSH] : [ZLIB_HEADER, stored, raw, SYNC_FLUSH];
    this.started = true;
    return Buffer.concat(parts);
  }
}

/** SYN_STREAM: stream id, no associated stream, priority 0, then the header block. */
export function synStream(streamId: number, headerBlock: Buffer, flags = 0): Buffer {
  const payload = Buffer.allocUnsafe(10 + headerBlock.length);
  payload.writeUInt32BE(streamId & MAX_STREAM_ID, 0);
  payload.writeUInt32BE(0, 4);
  payload.writeUInt16BE(0, 8);
  headerBlock.copy(payload, 10);
  return controlFrame(SYN_STREAM, flags, payload);
}

export function rstStream(streamId: number, status: number): Buffer {
  const payload = Buffer.allocUnsafe(8);
  payload.writeUInt32BE(streamId & MAX_STREAM_ID, 0);
  payload.writeUInt32BE(status, 4);
  return controlFrame(RST_STREAM, 0, payload);
}

export function pingFrame(id: number): Buffer {
  const payload = Buffer.allocUnsafe(4);
  payload.writeUInt32BE(id >>> 0, 0);
  return controlFrame(PING, 0, payload);
}

export function goawayFrame(lastGoodStreamId: number, status = 0): Buffer {
  const payload = Buffer.allocUnsafe(8);
  payload.writeUInt32BE(lastGoodStreamId & MAX_STREAM_ID, 0);
  payload.writeUInt32BE(status, 4);
  return controlFrame(GOAWAY, 0, payload);
}

export interface SpdyFrameHandlers {
  /** A slice of a DATA frame's payload (no copy: it may be a view of a reused read buffer). */
  data(streamId: number, chunk: Buffer): void;
  /** A DATA frame with FIN ended (after its payload). */
  fin(streamId: number): void;
  /** A whole control frame. */
  control(type: number, flags: number, payload: Buffer): void;
  /** The peer broke the protocol; nothing more will be parsed. */
  error(reason: string): void;
}

const enum State {
  Header,
  Payload,
  Failed,
}

/** Streaming parser of the frames a SPDY/3 server sends. */
export class SpdyParser {
  private state = State.Header;
  private readonly header = Buffer.alloc(8);
  private headerBytes = 0;
  private control = false;
  private type = 0;
  private flags = 0;
  private streamId = 0;
  private remaining = 0;
  private parts: Buffer[] = [];

  constructor(private readonly handlers: SpdyFrameHandlers) {}

  push(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length && this.state !== State.Failed) {
      if (this.state === State.Header) {
        while (this.headerBytes < 8 && i < chunk.length) this.header[this.headerBytes++] = chunk[i++]!;
        if (this.headerBytes < 8) return;
        this.headerBytes = 0;
        this.begin();
        continue;
      }
      const n = Math.min(this.remaining, chunk.length - i);
      const piece = n === chunk.length ? chunk : chunk.subarray(i, i + n);
      i += n;
      this.remaining -= n;
      if (this.control) {
        // A frame split across reads is kept: copy (reads may reuse one buffer).
        this.parts.push(this.remaining === 0 && this.parts.length === 0 ? piece : Buffer.from(piece));
        if (this.remaining === 0) this.endControl();
      } else {
        if (n > 0) this.handlers.data(this.streamId, piece);
        if (this.remaining === 0) this.endData();
      }
    }
  }

  private begin(): void {
    const h = this.header;
    const word = h.readUInt32BE(4);
    this.flags = word >>> 24;
    this.remaining = word & 0xffffff;
    this.control = (h[0]! & 0x80) !== 0;
    if (this.control) {
      const version = h.readUInt16BE(0) & 0x7fff;
      if (version !== SPDY_VERSION) return this.fail(`SPDY version ${version}`);
      if (this.remaining > MAX_CONTROL_PAYLOAD) return this.fail(`control frame of ${this.remaining} bytes`);
      this.type = h.readUInt16BE(2);
    } else {
      this.streamId = h.readUInt32BE(0) & MAX_STREAM_ID;
    }
    this.state = State.Payload;
    if (this.remaining === 0) {
      if (this.control) this.endControl();
      else this.endData();
    }
  }

  private endData(): void {
    this.state = State.Header;
    if (this.flags & FLAG_FIN) this.handlers.fin(this.streamId);
  }

  private endControl(): void {
    const payload = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
    this.parts = [];
    this.state = State.Header;
    this.handlers.control(this.type, this.flags, payload);
  }

  private fail(reason: string): void {
    this.state = State.Failed;
    this.handlers.error(reason);
  }
}
