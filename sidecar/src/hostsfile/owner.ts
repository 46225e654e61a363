import { readFileSync } from 'node:fs';

/**
 * Who owns a hosts block: the pid, plus on Linux the process start time (clock ticks since boot,
 * /proc/<pid>/stat field 22). A crashed sidecar's pid can be recycled by an unrelated process;
 * the start time tells the two apart, so a stale block is not kept alive by a stranger.
 */

export interface OwnerId {
  pid: number;
  /** Start time in clock ticks since boot (Linux), as written. */
  start?: string;
}

const OWNER = /^pid=([1-9][0-9]{0,9})(?:,start=([0-9]{1,20}))?$/;

export function formatOwner(id: OwnerId): string {
  return id.start === undefined ? `pid=${id.pid}` : `pid=${id.pid},start=${id.start}`;
}

/** The pid form of an owner token, or undefined for tokens this module did not make. */
export function parseOwner(owner: string): OwnerId | undefined {
  const match = OWNER.exec(owner);
  if (!match) return undefined;
  const pid = Number(match[1]);
  if (!Number.isSafeInteger(pid) || pid < 1) return undefined;
  return match[2] === undefined ? { pid } : { pid, start: match[2] };
}

interface ProcStat {
  state: string;
  start: string;
}

/** Fields after the command name, which may itself hold spaces and parentheses: split after the last ')'. */
function readProcStat(pid: number): ProcStat | 'missing' | 'unreadable' {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'unreadable';
  }
  const fields = text.slice(text.lastIndexOf(')') + 2).trim().split(/\s+/);
  // fields[0] is field 3 (state), so field 22 (starttime) is fields[19].
  const state = fields[0];
  const start = fields[19];
  if (state === undefined || start === undefined || !/^[0-9]+$/.test(start)) return 'unreadable';
  return { state, start };
}

/** The start time of `pid` on Linux, or undefined elsewhere or when /proc cannot tell. */
export function processStartTime(pid: number, platform: NodeJS.Platform = process.platform): string | undefined {
  if (platform !== 'linux') return undefined;
  const stat = readProcStat(pid);
  return typeof stat === 'object' ? stat.start : undefined;
}

/** This process's owner token. */
export function currentOwner(): string {
  const start = processStartTime(process.pid);
  return formatOwner(start === undefined ? { pid: process.pid } : { pid: process.pid, start });
}

/** kill(pid, 0): ESRCH means gone; EPERM means it exists but belongs to someone else. */
function signalable(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Whether the process that wrote a block still runs. Anything this module cannot judge (foreign
 * owner tokens, an unreadable /proc) counts as alive: a block is only ever removed when its owner
 * is known to be gone.
 */
export function isOwnerAlive(owner: string, platform: NodeJS.Platform = process.platform): boolean {
  const id = parseOwner(owner);
  if (!id) return true;
  if (platform === 'linux') {
    const stat = readProcStat(id.pid);
    if (stat === 'unreadable') return true;
    // /proc may hide other users' processes (hidepid); kill(0) still sees them.
    if (stat === 'missing') return signalable(id.pid);
    // A zombie has exited; only its parent has not reaped it yet.
    if (stat.state === 'Z' || stat.state === 'X') return false;
    return id.start === undefined || id.start === stat.start;
  }
  return signalable(id.pid);
}
