import { parseHead, type MessageHead } from './httpHead.js';
import { LINE_DONE, LINE_FAIL, LINE_MORE, StartLineValidator } from './httpStartLine.js';

/** How the body after a head is delimited. */
export type BodyFraming = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' };

export const NO_BODY: BodyFraming = { kind: 'none' };
export const CHUNKED_BODY: BodyFraming = { kind: 'chunked' };

export interface ParserHandler {
  /**
   * A complete head arrived. Returns how its body is framed, or undefined when parsing must stop
   * (the handler has then switched the sniffer off).
   */
  onHead(head: MessageHead, startedAt: number): BodyFraming | undefined;
  /** The stream cannot be followed any further. */
  onError(reason: string): void;
}

const CR = 0x0d;
const LF = 0x0a;

const ST_START = 0;
const ST_LINE = 1;
const ST_HEAD = 2;
const ST_BODY = 3;
const ST_CHUNK_SIZE = 4;
const ST_CHUNK_EXT = 5;
const ST_CHUNK_SIZE_LF = 6;
const ST_CHUNK_DATA = 7;
const ST_CHUNK_DATA_CR = 8;
const ST_CHUNK_DATA_LF = 9;
const ST_TRAILER = 10;
const ST_OFF = 11;

/** 16^12 bytes is far beyond any real chunk and keeps the arithmetic exact. */
const MAX_CHUNK_DIGITS = 12;

/**
 * Follows the framing of one direction of an HTTP/1.x connection, message after message,
 * handing each head to its handler. Heads are collected (up to a cap); bodies are skipped by
 * counting and never copied, so a large upload costs a subtraction per chunk.
 */
export class MessageParser {
  private state = ST_START;
  /** The first message of a connection may not be preceded by blank lines. */
  private first = true;
  private startedAt = 0;
  private head = '';
  private readonly line: StartLineValidator;
  // Line scanning state for the header block and chunked trailers.
  private lineBytes = 0;
  private lastCR = false;
  private blockBytes = 0;
  /** Body or chunk bytes still to skip. */
  private remaining = 0;
  private chunkSize = 0;
  private chunkDigits = 0;

  constructor(
    private readonly kind: 'request' | 'response',
    private readonly handler: ParserHandler,
    private readonly now: () => number,
    private readonly maxHeadBytes: number,
  ) {
    this.line = new StartLineValidator(kind);
  }

  get stopped(): boolean {
    return this.state === ST_OFF;
  }

  stop(): void {
    this.state = ST_OFF;
    this.head = '';
  }

  push(buf: Uint8Array): void {
    const len = buf.length;
    let pos = 0;
    while (pos < len) {
      switch (this.state) {
        case ST_START:
          if (!this.first) {
            // RFC 9112 §2.2: ignore blank lines before a request line (some clients add CRLF after a body).
            while (pos < len && (buf[pos] === CR || buf[pos] === LF)) pos++;
            if (pos === len) return;
          }
          this.startedAt = this.now();
          this.head = '';
          this.line.reset();
          this.state = ST_LINE;
          break;
        case ST_LINE:
          pos = this.scanStartLine(buf, pos);
          break;
        case ST_HEAD:
        case ST_TRAILER:
          pos = this.scanBlock(buf, pos);
          break;
        case ST_BODY:
        case ST_CHUNK_DATA: {
          const n = Math.min(this.remaining, len - pos);
          this.remaining -= n;
          pos += n;
          if (this.remaining === 0) {
            if (this.state === ST_BODY) this.messageDone();
            else this.state = ST_CHUNK_DATA_CR;
          }
          break;
        }
        case ST_CHUNK_SIZE:
          pos = this.scanChunkSize(buf, pos);
          break;
        case ST_CHUNK_EXT: {
          const lf = buf.indexOf(LF, pos);
          const end = lf < 0 ? len : lf;
          this.blockBytes += end - pos;
          if (this.blockBytes > this.maxHeadBytes) return this.fail('chunk-extension-too-large');
          pos = end;
          if (lf >= 0) {
            pos++;
            this.chunkLineDone();
          }
          break;
        }
        case ST_CHUNK_SIZE_LF:
          if (buf[pos++] !== LF) return this.fail('bad-chunk');
          this.chunkLineDone();
          break;
        case ST_CHUNK_DATA_CR: {
          const b = buf[pos++];
          if (b === CR) this.state = ST_CHUNK_DATA_LF;
          else if (b === LF) this.startChunk();
          else return this.fail('bad-chunk');
          break;
        }
        case ST_CHUNK_DATA_LF:
          if (buf[pos++] !== LF) return this.fail('bad-chunk');
          this.startChunk();
          break;
        default:
          return;
      }
    }
  }

  private scanStartLine(buf: Uint8Array, pos: number): number {
    const start = pos;
    let result = LINE_MORE;
    while (pos < buf.length && result === LINE_MORE) result = this.line.feed(buf[pos++]);
    if (result === LINE_FAIL) {
      this.fail(this.first && this.kind === 'request' ? 'not-http' : 'bad-start-line');
      return buf.length;
    }
    this.head += latin1(buf, start, pos);
    if (this.head.length > this.maxHeadBytes) {
      this.fail('head-too-large');
      return buf.length;
    }
    if (result === LINE_DONE) {
      this.state = ST_HEAD;
      this.lineBytes = 0;
      this.lastCR = false;
    }
    return pos;
  }

  /** Scans header (or trailer) lines up to the empty line that ends the block. */
  private scanBlock(buf: Uint8Array, pos: number): number {
    const start = pos;
    const collect = this.state === ST_HEAD;
    let done = false;
    while (pos < buf.length) {
      const lf = buf.indexOf(LF, pos);
      const end = lf < 0 ? buf.length : lf;
      if (end > pos) {
        this.lineBytes += end - pos;
        this.lastCR = buf[end - 1] === CR;
      }
      if (lf < 0) {
        pos = buf.length;
        break;
      }
      pos = lf + 1;
      const empty = this.lineBytes === 0 || (this.lineBytes === 1 && this.lastCR);
      this.lineBytes = 0;
      this.lastCR = false;
      if (empty) {
        done = true;
        break;
      }
    }
    if (collect) this.head += latin1(buf, start, pos);
    this.blockBytes += pos - start;
    if ((collect ? this.head.length : this.blockBytes) > this.maxHeadBytes) {
      this.fail(collect ? 'head-too-large' : 'trailers-too-large');
      return buf.length;
    }
    if (done) {
      if (collect) this.headDone();
      else this.messageDone();
    }
    return this.state === ST_OFF ? buf.length : pos;
  }

  private scanChunkSize(buf: Uint8Array, pos: number): number {
    while (pos < buf.length) {
      const b = buf[pos++];
      const digit = hexValue(b);
      if (digit >= 0) {
        if (++this.chunkDigits > MAX_CHUNK_DIGITS) return this.failAt(buf, 'bad-chunk');
        this.chunkSize = this.chunkSize * 16 + digit;
        continue;
      }
      if (this.chunkDigits === 0) return this.failAt(buf, 'bad-chunk');
      if (b === LF) {
        this.chunkLineDone();
      } else if (b === CR) {
        this.state = ST_CHUNK_SIZE_LF;
      } else if (b === 0x3b || b === 0x20 || b === 0x09) {
        // `;ext=value` (or whitespace before it): skipped up to the end of the line.
        this.state = ST_CHUNK_EXT;
      } else {
        return this.failAt(buf, 'bad-chunk');
      }
      return pos;
    }
    return pos;
  }

  private headDone(): void {
    const text = this.head;
    this.head = '';
    const head = parseHead(text, this.kind);
    if (typeof head === 'string') return this.fail(head);
    const framing = this.handler.onHead(head, this.startedAt);
    if (!framing || this.state === ST_OFF) {
      this.state = ST_OFF;
      return;
    }
    if (framing.kind === 'chunked') return this.startChunk();
    if (framing.kind === 'length' && framing.length > 0) {
      this.remaining = framing.length;
      this.state = ST_BODY;
      return;
    }
    this.messageDone();
  }

  private startChunk(): void {
    this.state = ST_CHUNK_SIZE;
    this.chunkSize = 0;
    this.chunkDigits = 0;
    this.blockBytes = 0;
  }

  private chunkLineDone(): void {
    if (this.chunkSize === 0) {
      this.state = ST_TRAILER;
      this.lineBytes = 0;
      this.lastCR = false;
      this.blockBytes = 0;
      return;
    }
    this.remaining = this.chunkSize;
    this.state = ST_CHUNK_DATA;
  }

  private messageDone(): void {
    this.state = ST_START;
    this.first = false;
  }

  private fail(reason: string): void {
    this.stop();
    this.handler.onError(reason);
  }

  private failAt(buf: Uint8Array, reason: string): number {
    this.fail(reason);
    return buf.length;
  }
}

function hexValue(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  return -1;
}

function latin1(buf: Uint8Array, start: number, end: number): string {
  if (end <= start) return '';
  return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('latin1');
}
