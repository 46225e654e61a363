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

/**
 * Parses `text` (the head including its final empty line, latin1-decoded). Returns a reason
 * string when the head cannot be framed reliably; the sniffer then stops for the connection.
 */
export function parseHead(text: string, kind: 'request' | 'response'): MessageHead | string {
  const lines = text.split('\n');
  const first = stripCR(lines[0] ?? '');
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

  let codings: string[] = [];
  let connectionUpgrade = false;
  let upgradeField = false;
  for (let i = 1; i < lines.length; i++) {
    const line = stripCR(lines[i]);
    if (line === '') break;
    // Obsolete line folding continues the previous field; none of the fields we read needs it.
    if (line[0] === ' ' || line[0] === '\t') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) return 'bad-header';
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) return 'bad-header';
    const value = line.slice(colon + 1).trim();
    switch (name.toLowerCase()) {
      case 'content-length': {
        const length = parseContentLength(value);
        if (length === undefined || (head.contentLength !== undefined && head.contentLength !== length)) return 'bad-content-length';
        head.contentLength = length;
        break;
      }
      case 'transfer-encoding':
        head.transferEncoding = true;
        codings = codings.concat(listTokens(value));
        break;
      case 'connection':
        if (listTokens(value).includes('upgrade')) connectionUpgrade = true;
        break;
      case 'upgrade':
        upgradeField = value !== '';
        break;
    }
  }
  head.chunked = codings.length > 0 && codings[codings.length - 1] === 'chunked';
  head.upgrade = connectionUpgrade && upgradeField;
  return head;
}

/** `5`, or a list of identical values such as `5, 5` (RFC 9110 §8.6); anything else is invalid. */
function parseContentLength(value: string): number | undefined {
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
