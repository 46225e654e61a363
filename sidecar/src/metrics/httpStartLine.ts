/**
 * Byte-at-a-time check of an HTTP/1.x start line, so that a connection carrying anything else
 * (TLS, a database protocol, HTTP/2's preface) is recognised on its first bytes, whatever the
 * chunking. The line's fields are parsed later, from the complete head.
 */

/** What feed() answers: keep going, the line ended with this byte, or this is not HTTP/1.x. */
export const LINE_MORE = 0;
export const LINE_DONE = 1;
export const LINE_FAIL = -1;

const SP = 0x20;
const CR = 0x0d;
const LF = 0x0a;
const HTTP_1 = [0x48, 0x54, 0x54, 0x50, 0x2f, 0x31, 0x2e]; // "HTTP/1."
/** Longest standard method is BASELINE-CONTROL (16); leave some room for extension methods. */
const MAX_METHOD = 24;

// Request line: METHOD SP target SP HTTP/1.d CRLF
const R_METHOD = 0;
const R_TARGET_FIRST = 1;
const R_TARGET = 2;
const R_VERSION = 3;
const R_MINOR = 4;
const R_END = 5;
// Status line: HTTP/1.d SP ddd [SP reason] CRLF
const S_VERSION = 10;
const S_MINOR = 11;
const S_SP = 12;
const S_STATUS = 13;
const S_AFTER_STATUS = 14;
const S_REASON = 15;
// Both
const EXPECT_LF = 20;

const isUpper = (b: number) => b >= 0x41 && b <= 0x5a;
const isDigit = (b: number) => b >= 0x30 && b <= 0x39;
/** Visible ASCII or obs-text: what a request target may hold (lenient about non-ASCII). */
const isTargetByte = (b: number) => b > SP && b !== 0x7f;

export class StartLineValidator {
  private state = 0;
  private count = 0;

  constructor(private readonly kind: 'request' | 'response') {
    this.reset();
  }

  reset(): void {
    this.state = this.kind === 'request' ? R_METHOD : S_VERSION;
    this.count = 0;
  }

  feed(b: number): number {
    switch (this.state) {
      case R_METHOD:
        if (isUpper(b) || (this.count > 0 && (b === 0x2d || b === 0x5f))) {
          return ++this.count > MAX_METHOD ? LINE_FAIL : LINE_MORE;
        }
        if (b === SP && this.count > 0) return this.to(R_TARGET_FIRST);
        return LINE_FAIL;
      case R_TARGET_FIRST:
        return isTargetByte(b) ? this.to(R_TARGET) : LINE_FAIL;
      case R_TARGET:
        if (isTargetByte(b)) return LINE_MORE;
        return b === SP ? this.to(R_VERSION) : LINE_FAIL;
      case R_VERSION:
      case S_VERSION:
        if (b !== HTTP_1[this.count]) return LINE_FAIL;
        if (++this.count === HTTP_1.length) return this.to(this.state === R_VERSION ? R_MINOR : S_MINOR);
        return LINE_MORE;
      case R_MINOR:
        return b === 0x30 || b === 0x31 ? this.to(R_END) : LINE_FAIL;
      case R_END:
        return this.endOfLine(b);
      case S_MINOR:
        return b === 0x30 || b === 0x31 ? this.to(S_SP) : LINE_FAIL;
      case S_SP:
        return b === SP ? this.to(S_STATUS) : LINE_FAIL;
      case S_STATUS:
        if (!isDigit(b)) return LINE_FAIL;
        return ++this.count === 3 ? this.to(S_AFTER_STATUS) : LINE_MORE;
      case S_AFTER_STATUS:
        return b === SP ? this.to(S_REASON) : this.endOfLine(b);
      case S_REASON:
        // Reason phrase: HTAB, SP, VCHAR, obs-text.
        if (b === 0x09 || b >= SP) return b === 0x7f ? LINE_FAIL : LINE_MORE;
        return this.endOfLine(b);
      case EXPECT_LF:
        return b === LF ? LINE_DONE : LINE_FAIL;
      default:
        return LINE_FAIL;
    }
  }

  private endOfLine(b: number): number {
    if (b === LF) return LINE_DONE;
    return b === CR ? this.to(EXPECT_LF) : LINE_FAIL;
  }

  private to(state: number): number {
    this.state = state;
    this.count = 0;
    return LINE_MORE;
  }
}
