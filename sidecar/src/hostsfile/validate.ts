import { KubeForwardError } from '../errors';

/**
 * The last gate before the hosts file: a root process writes these values into a file every
 * program on the machine trusts for name resolution, so they are checked here again even when the
 * callers (namer, IP allocator) already did. Anything unusual is refused, never repaired.
 */

export interface HostEntry {
  ip: string;
  names: string[];
}

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** RFC 1123 host name in lowercase: labels of 1–63 [a-z0-9-] not starting or ending with '-', ≤ 253 in all, no trailing dot. */
export function isValidHostname(name: string): boolean {
  if (typeof name !== 'string' || name.length === 0 || name.length > 253) return false;
  return name.split('.').every((label) => LABEL.test(label));
}

/** Strict dotted quad in 127.0.0.0/8: four decimal octets ≤ 255, no leading zeros (some parsers read those as octal). */
export function isLoopbackV4(ip: string): boolean {
  if (typeof ip !== 'string') return false;
  const match = /^127\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})$/.exec(ip);
  return match !== null && match.slice(1).every((octet) => Number(octet) <= 255);
}

/** Owner tokens end up on a marker line, so they are kept to characters that cannot start another line or comment. */
export function isValidOwner(owner: string): boolean {
  return typeof owner === 'string' && /^[A-Za-z0-9=,:._-]{1,100}$/.test(owner);
}

function invalid(what: string, value: unknown): KubeForwardError {
  return new KubeForwardError('INVALID_HOST_ENTRY',
    `refusing to write ${what} ${JSON.stringify(value)} to the hosts file: ` +
    (what === 'IP' ? 'only IPv4 addresses in 127.0.0.0/8 are written' : 'only lowercase RFC 1123 host names are written'));
}

/** Throws INVALID_HOST_ENTRY naming the first bad value; the input is not modified. */
export function validateEntries(entries: readonly HostEntry[]): void {
  if (!Array.isArray(entries)) throw invalid('entries', entries);
  for (const entry of entries) {
    if (typeof entry !== 'object' || entry === null) throw invalid('entry', entry);
    if (!isLoopbackV4(entry.ip)) throw invalid('IP', entry.ip);
    if (!Array.isArray(entry.names)) throw invalid('names of', entry.ip);
    for (const name of entry.names) {
      if (!isValidHostname(name)) throw invalid('host name', name);
    }
  }
}

/** Throws INVALID_HOST_ENTRY when `owner` could not be written safely on a marker line. */
export function validateOwner(owner: string): void {
  if (!isValidOwner(owner)) {
    throw new KubeForwardError('INVALID_HOST_ENTRY',
      `refusing hosts block owner ${JSON.stringify(owner)}: use 1–100 characters of [A-Za-z0-9=,:._-]`);
  }
}
