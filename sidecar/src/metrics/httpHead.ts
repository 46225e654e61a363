/** Parsing of a complete HTTP/1.x head (start line and header fields), once per message. */

export interface MessageHead {
  /** Request method; '' for a response. */
  method: string;
  /** Request target as sent; '' for a response. */
  target: string;
  /** Response status; 0 for a request. */
  status: number;
  /** Content-Length, when present and valid. */
  contentLength: number | undefined;
  /** A Transfer-Encoding field is present. */
  transferEncoding: boolean;
  /** The final transfer coding is chunked. */
  chunked: boolean;
  /** `Connection: upgrade` together with an Upgrade field. */
  upgrade: boolean;
}

const REQUEST_LINE = /^([A-Z][A-Z_-]*) (\S+) HTTP\/1\.[01]$/;
const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const DIGITS = /^\d+$/;
/** Lengths of content-length, transfer-encoding, connection, upgrade. */
const RELEVANT_LENGTHS = new Set([14, 17, 10, 7]);

/**
 * Parses `text` (the head including its final empty line, latin1-decoded). Returns a reason
 * string when the head cannot be framed reliably; the sniffer then stops for the connection.
 */
export function parseHead(text: string, kind: 'request' | 'response'): MessageHead | string {
  let eol = text.indexOf('\n');
  if (eol < 0) return 'bad-start-line';
  const first = stripCR(text.slice(0, eol));
  const head: MessageHead = {
    method: '',
    target: '',
    status: 0,
    contentLength: undefined,
    transferEncoding: false,
    chunked: false,
    upgrade: false,
  };
  if (kind === 'request') {
    const m = REQUEST_LINE.exec(first);
    if (!m) return 'bad-start-line';
    head.method = m[1];
    head.target = m[2];
  } else {
    const m = STATUS_LINE.exec(first);
    if (!m) return 'bad-start-line';
    head.status = Number(m[1]);
  }

  let lastCoding = '';
  let connectionUpgrade = false;
  let upgradeField = false;
  for (let start = eol + 1; start < text.length; start = eol + 1) {
    eol = text.indexOf('\n', start);
    if (eol < 0) eol = text.length;
    const line = stripCR(text.slice(start, eol));
    if (line === '') break;
    // Obsolete line folding continues the previous field; none of the fields we read needs it.
    if (line[0] === ' ' || line[0] === '\t') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) return 'bad-header';
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) return 'bad-header';
    // Heads are parsed for every exchange: only the four fields that frame a message are
    // lower-cased and read, picked out by length first.
    const field = RELEVANT_LENGTHS.has(name.length) ? name.toLowerCase() : '';
    if (field === '') continue;
    const value = line.slice(colon + 1).trim();
    switch (field) {
      case 'content-length': {
        const length = parseContentLength(value);
        if (length === undefined || (head.contentLength !== undefined && head.contentLength !== length)) return 'bad-content-length';
        head.contentLength = length;
        break;
      }
      case 'transfer-encoding': {
        head.transferEncoding = true;
        const codings = listTokens(value);
        if (codings.length > 0) lastCoding = codings[codings.length - 1];
        break;
      }
      case 'connection':
        if (listTokens(value).includes('upgrade')) connectionUpgrade = true;
        break;
      case 'upgrade':
        upgradeField = value !== '';
        break;
    }
  }
  head.chunked = lastCoding === 'chunked';
  head.upgrade = connectionUpgrade && upgradeField;
  return head;
}

/** `5`, or a list of identical values such as `5, 5` (RFC 9110 §8.6); anything else is invalid. */
function parseContentLength(value: string): number | undefined {
  if (DIGITS.test(value)) {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  let length: number | undefined;
  for (const part of value.split(',')) {
    const v = part.trim();
    if (!DIGITS.test(v)) return undefined;
    const n = Number(v);
    if (!Number.isSafeInteger(n) || (length !== undefined && n !== length)) return undefined;
    length = n;
  }
  return length;
}

function listTokens(value: string): string[] {
  return value
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t !== '');
}

function stripCR(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}
