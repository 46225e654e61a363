/**
 * The part of RFC 6455 framing a WebSocket client needs, without reassembling messages: data
 * frames are handed on as slices of the socket's own chunks, so bytes from the API server reach
 * the local socket without being copied (the `ws` package concatenates every message first).
 */

export const OP_CONTINUATION = 0x0;
export const OP_TEXT = 0x1;
export const OP_BINARY = 0x2;
export const OP_CLOSE = 0x8;
export const OP_PING = 0x9;
export const OP_PONG = 0xa;

const MAX_CONTROL_PAYLOAD = 125;
/** A sanity bound on one frame's length (payloads are streamed, never held whole). */
const MAX_FRAME = 2 ** 40;

/**
 * The header of one client frame (FIN set), its mask key, and optionally the payload's first
 * byte (the port-forward channel) so a chunk can follow as is. `length` counts that byte.
 */
export function frameHeader(opcode: number, length: number, mask: Uint8Array, lead?: number): Buffer {
  const ext = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const h = Buffer.allocUnsafe(2 + ext + 4 + (lead === undefined ? 0 : 1));
  h[0] = 0x80 | opcode;
  if (ext === 0) h[1] = 0x80 | length;
  else if (ext === 2) {
    h[1] = 0x80 | 126;
    h.writeUInt16BE(length, 2);
  } else {
    h[1] = 0x80 | 127;
    h.writeUInt32BE(Math.floor(length / 2 ** 32), 2);
    h.writeUInt32BE(length >>> 0, 6);
  }
  h.set(mask, 2 + ext);
  if (lead !== undefined) h[2 + ext + 4] = lead ^ mask[0]!;
  return h;
}

/** XORs `data` with `mask`, the key's phase starting at `phase` (0–3). */
export function applyMask(data: Uint8Array, mask: Uint8Array, phase = 0): void {
  for (let i = 0; i < data.length; i++) data[i] ^= mask[(i + phase) & 3]!;
}

export interface FrameHandlers {
  /** A slice of a data message's payload; `start` on the first non-empty slice of a message. */
  data(chunk: Buffer, start: boolean): void;
  /** A whole control frame (close, ping, pong). */
  control(opcode: number, payload: Buffer): void;
  /** The peer broke the protocol; nothing more will be parsed. */
  error(reason: string): void;
}

const enum State {
  Header,
  Payload,
  Failed,
}

/** Streaming parser of server-to-client frames. */
export class FrameParser {
  private state = State.Header;
  private readonly header = Buffer.alloc(14);
  private headerBytes = 0;
  private opcode = 0;
  private remaining = 0;
  private inMessage = false;
  private startPending = false;
  private control: Buffer[] = [];

  constructor(private readonly handlers: FrameHandlers) {}

  push(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length && this.state !== State.Failed) {
      if (this.state === State.Header) {
        i = this.readHeader(chunk, i);
        continue;
      }
      const n = Math.min(this.remaining, chunk.length - i);
      const piece = n === chunk.length ? chunk : chunk.subarray(i, i + n);
      i += n;
      this.remaining -= n;
      if (this.opcode >= OP_CLOSE) {
        this.control.push(piece);
        if (this.remaining === 0) this.endControl();
      } else {
        if (n > 0) {
          const start = this.startPending;
          this.startPending = false;
          this.handlers.data(piece, start);
        }
        if (this.remaining === 0) this.state = State.Header;
      }
    }
  }

  /** Consumes header bytes from chunk[i…]; returns the new index. */
  private readHeader(chunk: Buffer, i: number): number {
    const h = this.header;
    // Fast path: the whole header is in this chunk (nearly always).
    let need = this.headerBytes < 2 ? 2 : this.headerSize();
    while (this.headerBytes < need) {
      if (i >= chunk.length) return i;
      h[this.headerBytes++] = chunk[i++]!;
      if (this.headerBytes === 2) need = this.headerSize();
    }
    if (!this.begin()) return chunk.length;
    this.headerBytes = 0;
    return i;
  }

  private headerSize(): number {
    const len = this.header[1]! & 0x7f;
    return 2 + (len === 126 ? 2 : len === 127 ? 8 : 0) + (this.header[1]! & 0x80 ? 4 : 0);
  }

  /** Validates a complete header and sets up the payload state; false on a protocol error. */
  private begin(): boolean {
    const h = this.header;
    const fin = (h[0]! & 0x80) !== 0;
    const opcode = h[0]! & 0x0f;
    if (h[0]! & 0x70) return this.fail('reserved bits set (no extension was negotiated)');
    if (h[1]! & 0x80) return this.fail('masked frame from the server');
    const len7 = h[1]! & 0x7f;
    const length = len7 === 126 ? h.readUInt16BE(2) : len7 === 127 ? h.readUInt32BE(2) * 2 ** 32 + h.readUInt32BE(6) : len7;
    if (length > MAX_FRAME) return this.fail(`frame of ${length} bytes`);
    if (opcode >= OP_CLOSE) {
      if (opcode !== OP_CLOSE && opcode !== OP_PING && opcode !== OP_PONG) return this.fail(`unknown control opcode ${opcode}`);
      if (!fin || length > MAX_CONTROL_PAYLOAD) return this.fail('fragmented or oversized control frame');
    } else if (opcode === OP_CONTINUATION) {
      if (!this.inMessage) return this.fail('continuation frame outside a message');
    } else if (opcode === OP_TEXT || opcode === OP_BINARY) {
      if (this.inMessage) return this.fail('new message before the previous one ended');
      this.startPending = true;
    } else {
      return this.fail(`unknown opcode ${opcode}`);
    }
    if (opcode < OP_CLOSE) this.inMessage = !fin;
    this.opcode = opcode;
    this.remaining = length;
    this.state = State.Payload;
    if (length === 0) {
      if (opcode >= OP_CLOSE) this.endControl();
      else this.state = State.Header;
    }
    return true;
  }

  private endControl(): void {
    const payload = this.control.length === 1 ? this.control[0]! : Buffer.concat(this.control);
    this.control = [];
    this.state = State.Header;
    this.handlers.control(this.opcode, payload);
  }

  private fail(reason: string): false {
    this.state = State.Failed;
    this.handlers.error(reason);
    return false;
  }
}
