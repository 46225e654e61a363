import { validateEntries, validateOwner, type HostEntry } from './validate';

/**
 * The managed block, as text. Pure: strings in, strings out. Everything outside the blocks that
 * are edited is kept byte for byte (callers read the file as latin1 so even invalid UTF-8
 * survives), and removing a block restores exactly the text it was added to.
 *
 *   # BEGIN kube-forward pid=4242,start=123456
 *   127.1.27.1 web web.demo web.demo.svc
 *   # END kube-forward pid=4242,start=123456
 */

export type { HostEntry } from './validate';

export interface HostsBlock {
  owner: string;
  entries: HostEntry[];
  /** Offset of the BEGIN line's first character. */
  start: number;
  /** Offset just after the END line's text (before its line break, if any). */
  contentEnd: number;
}

export interface MalformedMarker {
  /** 1-based line number. */
  line: number;
  text: string;
  problem: 'BEGIN without END' | 'END without BEGIN';
}

export interface ParsedHosts {
  /** The text with every well-formed kube-forward block removed. */
  outside: string;
  blocks: HostsBlock[];
  /** Marker lines that do not pair up; they are left in place as ordinary comment lines. */
  malformed: MalformedMarker[];
  /** The file's line break, used for lines we add. */
  eol: '\n' | '\r\n';
}

const BEGIN = /^# BEGIN kube-forward (\S+)[ \t\r]*$/;
const END = /^# END kube-forward (\S+)[ \t\r]*$/;

interface Line {
  text: string;
  start: number;
  /** Offset after the line's text, before its "\n" or "\r\n". */
  contentEnd: number;
}

function splitLines(text: string): Line[] {
  const lines: Line[] = [];
  let start = 0;
  while (start < text.length) {
    const nl = text.indexOf('\n', start);
    if (nl === -1) {
      lines.push({ text: text.slice(start), start, contentEnd: text.length });
      break;
    }
    const contentEnd = nl > start && text[nl - 1] === '\r' ? nl - 1 : nl;
    lines.push({ text: text.slice(start, contentEnd), start, contentEnd });
    start = nl + 1;
  }
  return lines;
}

export function detectEol(text: string): '\n' | '\r\n' {
  const nl = text.indexOf('\n');
  return nl > 0 && text[nl - 1] === '\r' ? '\r\n' : '\n';
}

function parseEntry(line: string): HostEntry | undefined {
  const tokens = line.replace(/#.*/, '').trim().split(/\s+/).filter((t) => t.length > 0);
  const [ip, ...names] = tokens;
  return ip !== undefined && names.length > 0 ? { ip, names } : undefined;
}

export function parseHosts(text: string): ParsedHosts {
  const lines = splitLines(text);
  const blocks: HostsBlock[] = [];
  const malformed: MalformedMarker[] = [];
  let open: { owner: string; index: number; entries: HostEntry[] } | undefined;
  const unterminated = (index: number): void => {
    malformed.push({ line: index + 1, text: lines[index]?.text ?? '', problem: 'BEGIN without END' });
  };
  lines.forEach((line, index) => {
    const begin = BEGIN.exec(line.text);
    if (begin) {
      // A second BEGIN before the END: the first is broken and stays as plain text, so a
      // damaged block never swallows the lines after it.
      if (open) unterminated(open.index);
      open = { owner: begin[1] ?? '', index, entries: [] };
      return;
    }
    const end = END.exec(line.text);
    if (end) {
      const first = open ? lines[open.index] : undefined;
      if (open && first && end[1] === open.owner) {
        blocks.push({ owner: open.owner, entries: open.entries, start: first.start, contentEnd: line.contentEnd });
        open = undefined;
      } else {
        malformed.push({ line: index + 1, text: line.text, problem: 'END without BEGIN' });
      }
      return;
    }
    if (open) {
      const entry = parseEntry(line.text);
      if (entry) open.entries.push(entry);
    }
  });
  if (open) unterminated(open.index);
  return { outside: removeBlocks(text, blocks), blocks, malformed, eol: detectEol(text) };
}

/**
 * The span a block occupies in `text`: its lines with the END line's break. A block at the very
 * end with no final line break was appended to a file without one, so it takes the line break
 * before it instead, giving back the file as it was.
 */
function span(text: string, block: HostsBlock): [number, number] {
  if (block.contentEnd >= text.length) {
    const { start } = block;
    if (start >= 2 && text.slice(start - 2, start) === '\r\n') return [start - 2, text.length];
    if (start >= 1 && text[start - 1] === '\n') return [start - 1, text.length];
    return [start, text.length];
  }
  const breakLength = text[block.contentEnd] === '\r' ? 2 : 1;
  return [block.start, block.contentEnd + breakLength];
}

/** Removes `blocks` (found by parseHosts in `text`) from the last to the first, so offsets stay valid. */
function removeBlocks(text: string, blocks: readonly HostsBlock[]): string {
  let result = text;
  for (const block of [...blocks].sort((a, b) => b.start - a.start)) {
    const [from, to] = span(result, block);
    result = result.slice(0, from) + result.slice(to);
  }
  return result;
}

/** One line per IP (repeated IPs merged); a name goes to its first IP only; IPs left without names are dropped. */
function entryLines(entries: readonly HostEntry[]): string[] {
  const byIp = new Map<string, string[]>();
  const seen = new Set<string>();
  for (const { ip, names } of entries) {
    const list = byIp.get(ip) ?? [];
    for (const name of names) {
      if (seen.has(name)) continue;
      seen.add(name);
      list.push(name);
    }
    byIp.set(ip, list);
  }
  return [...byIp].filter(([, names]) => names.length > 0).map(([ip, names]) => `${ip} ${names.join(' ')}`);
}

/** The block's lines joined by `eol`, with no final line break. Validates owner and entries. */
function blockBody(owner: string, entries: readonly HostEntry[], eol: string): string {
  validateOwner(owner);
  validateEntries(entries);
  return [`# BEGIN kube-forward ${owner}`, ...entryLines(entries), `# END kube-forward ${owner}`].join(eol);
}

/** The block as it appears in a file, ending with a line break. Throws INVALID_HOST_ENTRY on bad input. */
export function renderBlock(owner: string, entries: readonly HostEntry[], eol: '\n' | '\r\n' = '\n'): string {
  return blockBody(owner, entries, eol) + eol;
}

export interface StripResult {
  text: string;
  removed: HostsBlock[];
}

/** Removes the blocks for which `remove` answers true; it is asked once per block. */
export function stripBlocks(text: string, remove: (block: HostsBlock) => boolean): StripResult {
  const removed = parseHosts(text).blocks.filter((block) => remove(block));
  return { text: removeBlocks(text, removed), removed };
}

export function stripOwner(text: string, owner: string): StripResult {
  return stripBlocks(text, (block) => block.owner === owner);
}

/** Removes the blocks of owners that are gone, never `keep`'s (this process's) own. Liveness is asked once per owner. */
export function stripDeadOwners(text: string, isAlive: (owner: string) => boolean, keep?: string): StripResult {
  const verdicts = new Map<string, boolean>();
  return stripBlocks(text, (block) => {
    if (block.owner === keep) return false;
    let alive = verdicts.get(block.owner);
    if (alive === undefined) {
      alive = isAlive(block.owner);
      verdicts.set(block.owner, alive);
    }
    return !alive;
  });
}

/**
 * `text` with `owner`'s block holding `entries`: replaced where it stands, appended when absent,
 * removed when no entry has a name. Duplicate blocks of the same owner are folded into the first.
 */
export function withBlock(text: string, owner: string, entries: readonly HostEntry[]): string {
  const { blocks, eol } = parseHosts(text);
  const body = blockBody(owner, entries, eol);
  const ours = blocks.filter((block) => block.owner === owner);
  if (entryLines(entries).length === 0) return removeBlocks(text, ours);
  const [first, ...duplicates] = ours;
  if (!first) {
    if (text.length === 0) return body + eol;
    if (text.endsWith('\n')) return text + body + eol;
    // The separator is what span() takes back on removal: after a lone '\r' it must be '\r\n'
    // so that removal takes exactly the two characters added and leaves the '\r'.
    return text + (text.endsWith('\r') ? '\r\n' : eol) + body;
  }
  // Removing later duplicates leaves the first block's offsets untouched.
  const rest = removeBlocks(text, duplicates);
  return rest.slice(0, first.start) + body + rest.slice(first.contentEnd);
}
