import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** A process holding a listening TCP port. */
export interface PortHolder {
  pid: number;
  command: string;
}

export interface ListeningSocket {
  /** Dotted IPv4, or an IPv6 address in full lower-case hex groups (`0:0:0:0:0:ffff:7f01:1b01`). */
  ip: string;
  port: number;
  inode: number;
}

const LISTEN = '0A';

function hexToIpv4(word: string, littleEndian: boolean): string {
  const v = parseInt(word, 16);
  const bytes = [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
  return (littleEndian ? bytes.reverse() : bytes).join('.');
}

function hexToIpv6(hex: string, littleEndian: boolean): string {
  const groups: string[] = [];
  for (let w = 0; w < 4; w++) {
    const v = parseInt(hex.slice(w * 8, w * 8 + 8), 16);
    const bytes = [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
    const b = littleEndian ? bytes.reverse() : bytes;
    groups.push(((b[0]! << 8) | b[1]!).toString(16), ((b[2]! << 8) | b[3]!).toString(16));
  }
  return groups.join(':');
}

/**
 * Listening sockets from the text of /proc/net/tcp or /proc/net/tcp6. The kernel prints each
 * 32-bit word of the address in host byte order; the port is plain big-endian hex.
 */
export function parseProcNetTcp(text: string, littleEndian = os.endianness() === 'LE'): ListeningSocket[] {
  const out: ListeningSocket[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || f[3] !== LISTEN) continue;
    const [addr, port] = f[1]!.split(':');
    if (!addr || !port) continue;
    const ip = addr.length === 8 ? hexToIpv4(addr, littleEndian) : hexToIpv6(addr, littleEndian);
    out.push({ ip, port: parseInt(port, 16), inode: Number(f[9]) });
  }
  return out;
}

/** Whether a socket listening on `s` stops `ip:port` from being bound (exact, wildcard or v4-mapped). */
export function blocks(s: ListeningSocket, ip: string, port: number): boolean {
  if (s.port !== port) return false;
  if (s.ip === ip || s.ip === '0.0.0.0' || s.ip === '0:0:0:0:0:0:0:0') return true;
  const [a, b, c, d] = ip.split('.').map(Number);
  const mapped = `0:0:0:0:0:ffff:${((a! << 8) | b!).toString(16)}:${((c! << 8) | d!).toString(16)}`;
  return s.ip === mapped;
}

/**
 * The process's name (comm). Node renames its main thread "MainThread", which names nothing a
 * person would recognise: then the executable's file name is used.
 */
async function commandOf(procRoot: string, pid: string): Promise<string> {
  const comm = (await fs.readFile(path.join(procRoot, pid, 'comm'), 'utf8').catch(() => '')).trim();
  if (comm && comm !== 'MainThread') return comm;
  const exe = await fs.readlink(path.join(procRoot, pid, 'exe')).catch(() => '');
  return path.basename(exe.replace(/ \(deleted\)$/, '')) || comm || 'unknown';
}

/** Linux: the inode of the blocking socket, then the process whose fd table holds it. */
async function linuxHolder(ip: string, port: number, procRoot: string): Promise<PortHolder | undefined> {
  const sockets: ListeningSocket[] = [];
  for (const file of ['net/tcp', 'net/tcp6']) {
    const text = await fs.readFile(path.join(procRoot, file), 'utf8').catch(() => '');
    sockets.push(...parseProcNetTcp(text));
  }
  const hits = sockets.filter((s) => blocks(s, ip, port) && s.inode > 0);
  // An exact match explains the conflict best; wildcards come after.
  hits.sort((x, y) => Number(y.ip === ip) - Number(x.ip === ip));
  const wanted = new Map(hits.map((s) => [`socket:[${s.inode}]`, s]));
  if (wanted.size === 0) return undefined;
  const pids = (await fs.readdir(procRoot).catch(() => [] as string[])).filter((n) => /^\d+$/.test(n));
  for (const pid of pids) {
    const fdDir = path.join(procRoot, pid, 'fd');
    // Other users' processes are unreadable unless we are root: skip them.
    const fds = await fs.readdir(fdDir).catch(() => [] as string[]);
    for (const fd of fds) {
      const link = await fs.readlink(path.join(fdDir, fd)).catch(() => '');
      if (wanted.has(link)) return { pid: Number(pid), command: await commandOf(procRoot, pid) };
    }
  }
  return undefined;
}

/** The first listening process in `lsof -F pcn` output whose address blocks ip:port. */
export function parseLsof(text: string, ip: string, port: number): PortHolder | undefined {
  let pid = 0;
  let command = '';
  for (const line of text.split('\n')) {
    const tag = line[0];
    const value = line.slice(1);
    if (tag === 'p') pid = Number(value);
    else if (tag === 'c') command = value;
    else if (tag === 'n') {
      const i = value.lastIndexOf(':');
      const host = value.slice(0, i).replace(/^\[|\]$/g, '');
      if (Number(value.slice(i + 1)) === port && (host === ip || host === '*' || host === '0.0.0.0' || host === '::')) {
        return { pid, command };
      }
    }
  }
  return undefined;
}

function lsofHolder(ip: string, port: number): Promise<PortHolder | undefined> {
  return new Promise((resolve) => {
    execFile('lsof', ['-nP', `-iTCP:${port}`, '-sTCP:LISTEN', '-Fpcn'], { timeout: 3000 }, (error, stdout) => {
      resolve(error && !stdout ? undefined : parseLsof(String(stdout), ip, port));
    });
  });
}

/** Who holds `ip:port`, where the OS tells (Linux /proc, macOS lsof); undefined otherwise. */
export async function findPortHolder(ip: string, port: number, procRoot = '/proc'): Promise<PortHolder | undefined> {
  try {
    if (process.platform === 'linux') return await linuxHolder(ip, port, procRoot);
    if (process.platform === 'darwin') return await lsofHolder(ip, port);
  } catch {
    // best effort: the caller still reports the conflict without a name
  }
  return undefined;
}
