/** A watch event; ERROR carries a Status (410 Gone: the resource version is too old). */
export type WatchEvent<T> =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK'; object: T }
  | { type: 'ERROR'; object: { code?: number; message?: string } };

const TYPES = new Set(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']);
/** One event larger than this is not an object watch answers with; the stream is broken. */
const MAX_LINE = 16 * 1024 * 1024;

/**
 * A watch response body: one JSON event per line, cut anywhere by the network. Throws on a line
 * that is not an event (the caller restarts the watch).
 */
export class WatchLines<T> {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(private readonly emit: (event: WatchEvent<T>) => void) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      const part = chunk.subarray(start, nl);
      const line = this.pendingBytes > 0 ? Buffer.concat([...this.pending, part]) : part;
      this.pending = [];
      this.pendingBytes = 0;
      start = nl + 1;
      if (line.length > 0) this.line(line.toString('utf8'));
    }
    if (start < chunk.length) {
      this.pending.push(chunk.subarray(start));
      this.pendingBytes += chunk.length - start;
      if (this.pendingBytes > MAX_LINE) throw new Error(`a watch event over ${MAX_LINE} bytes`);
    }
  }

  private line(text: string): void {
    let event: unknown;
    try {
      event = JSON.parse(text);
    } catch {
      throw new Error(`the watch sent a line that is not JSON: ${text.slice(0, 200)}`);
    }
    const e = event as Partial<WatchEvent<T>>;
    if (typeof e !== 'object' || e === null || typeof e.type !== 'string' || !TYPES.has(e.type) || typeof e.object !== 'object' || e.object === null) {
      throw new Error(`the watch sent something that is not an event: ${text.slice(0, 200)}`);
    }
    this.emit(e as WatchEvent<T>);
  }
}
