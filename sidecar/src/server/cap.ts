import { Transform, type TransformCallback } from 'node:stream';
import { KubeForwardError } from '../errors';

const HEADER_LIMIT = 8 * 1024;
const SEPARATOR = Buffer.from('\r\n\r\n');

/**
 * Sits between stdin and the JSON-RPC reader and enforces the message size cap BEFORE anything
 * is buffered or parsed: it follows the `Content-Length` framing itself and fails the stream on a
 * message larger than `maxBytes` or a header block larger than 8 KiB. The root sidecar's only
 * input is this pipe, so an oversized message ends the connection (and the sidecar cleans up).
 */
export class MessageSizeCap extends Transform {
  private header = Buffer.alloc(0);
  private bodyLeft = 0;

  constructor(private readonly maxBytes: number) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    let offset = 0;
    try {
      while (offset < chunk.length) {
        if (this.bodyLeft > 0) {
          const n = Math.min(this.bodyLeft, chunk.length - offset);
          this.bodyLeft -= n;
          offset += n;
          continue;
        }
        const start = offset;
        const joined = Buffer.concat([this.header, chunk.subarray(offset)]);
        const end = joined.indexOf(SEPARATOR);
        if (end < 0) {
          if (joined.length > HEADER_LIMIT) throw new KubeForwardError('MESSAGE_TOO_LARGE', `JSON-RPC header block over ${HEADER_LIMIT} bytes`);
          this.header = joined;
          offset = chunk.length;
          break;
        }
        const headerText = joined.subarray(0, end).toString('ascii');
        const match = /^content-length:\s*(\d+)\s*$/im.exec(headerText);
        if (!match) throw new KubeForwardError('BAD_MESSAGE', 'JSON-RPC message without Content-Length');
        const length = Number(match[1]);
        if (length > this.maxBytes) {
          throw new KubeForwardError('MESSAGE_TOO_LARGE', `JSON-RPC message of ${length} bytes refused (limit ${this.maxBytes})`);
        }
        offset = start + (end + SEPARATOR.length - this.header.length);
        this.header = Buffer.alloc(0);
        this.bodyLeft = length;
      }
    } catch (error) {
      callback(error as Error);
      return;
    }
    callback(null, chunk);
  }
}
