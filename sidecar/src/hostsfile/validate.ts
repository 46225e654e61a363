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

function invalid(problem: string): KubeForwardError {
  return new KubeForwardError('INVALID_HOST_ENTRY', `refusing to write to the hosts file: ${problem}`);
}

/** Throws INVALID_HOST_ENTRY naming the first bad value; the input is not modified. */
export function validateEntries(entries: readonly HostEntry[]): void {
  if (!Array.isArray(entries)) throw invalid(`entries must be a list, got ${JSON.stringify(entries)}`);
  for (const entry of entries) {
    if (typeof entry !== 'object' || entry === null) throw invalid(`entry ${JSON.stringify(entry)} is not { ip, names }`);
    if (!isLoopbackV4(entry.ip)) throw invalid(`IP ${JSON.stringify(entry.ip)} is not an IPv4 address in 127.0.0.0/8`);
    if (!Array.isArray(entry.names)) throw invalid(`the names of ${entry.ip} are not a list of host names`);
    for (const name of entry.names) {
      if (!isValidHostname(name)) {
        throw invalid(`host name ${JSON.stringify(name)} (for ${entry.ip}) is not a lowercase RFC 1123 name (labels of a-z, 0-9 and inner '-', 1-63 characters, 253 in all, no trailing dot)`);
      }
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
