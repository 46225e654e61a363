import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { SpawnOptions } from 'node:child_process';
import { repoRoot } from '../cluster/paths';
import { requireState } from '../cluster/state';
import { waitFor } from '../cluster/wait';
import { startProcess, type TestProcess } from './process';

/**
 * Runs the real sidecar bundle (dist/sidecar.js) for end-to-end tests and reads what it prints
 * when stdout is not a terminal: one line per forward change, e.g.
 *   ACTIVE       web.demo.admin 127.1.27.9:80 pod=web-… names=web,web.demo,…
 *   SKIPPED      ext.demo.admin (reason)
 *   REMOVED      web.demo.admin
 */

export const sidecarBundle = path.join(repoRoot, 'dist', 'sidecar.js');

const STATUSES = new Set(['STARTING', 'ACTIVE', 'RECONNECTING', 'FAILED', 'STOPPED', 'SKIPPED', 'REMOVED']);

/** One change line of the sidecar's plain output. */
export interface ForwardLine {
  status: string;
  id: string;
  ip?: string;
  /** The ports part as printed: `80`, `80,9090`, `18080→8080`, `53,53/UDP (skipped)`. */
  ports?: string;
  pod?: string;
  names: string[];
  reason?: string;
  line: string;
  /** Position in the output, so "a line after X" can be asked for. */
  index: number;
}

const PORT = String.raw`[^\s,]+(?: \(skipped\))?`;
const CHANGE = new RegExp(String.raw`^([A-Z]+) +(\S+)(?: (\d{1,3}(?:\.\d{1,3}){3}):(${PORT}(?:,${PORT})*))?(?: pod=(\S+))?(?: names=(\S+))?(?: \((.*)\))?$`);

export function parseChangeLine(line: string, index = 0): ForwardLine | undefined {
  const m = CHANGE.exec(line);
  if (!m || !STATUSES.has(m[1] ?? '')) return undefined;
  return {
    status: m[1] ?? '',
    id: m[2] ?? '',
    ...(m[3] ? { ip: m[3] } : {}),
    ...(m[4] ? { ports: m[4] } : {}),
    ...(m[5] ? { pod: m[5] } : {}),
    names: m[6] ? m[6].split(',') : [],
    ...(m[7] !== undefined ? { reason: m[7] } : {}),
    line,
    index,
  };
}

export interface SidecarOptions {
  env?: NodeJS.ProcessEnv;
  /** Command words put before `node dist/sidecar.js` (e.g. an `unshare` wrapper). */
  wrap?: string[];
  /** Another sidecar bundle than dist/sidecar.js (e.g. the one packed in the .vsix). */
  bundle?: string;
  spawn?: SpawnOptions;
}

/** A running sidecar: its process, and its change lines parsed. */
export class Sidecar {
  constructor(readonly proc: TestProcess) {}

  get pid(): number {
    return this.proc.child.pid ?? -1;
  }

  get running(): boolean {
    return this.proc.child.exitCode === null && this.proc.child.signalCode === null;
  }

  output(): string {
    return this.proc.output();
  }

  /** Every change line so far, in order. */
  lines(): ForwardLine[] {
    return this.output().split('\n').map((l, i) => parseChangeLine(l.replace(/\r$/, ''), i)).filter((l): l is ForwardLine => l !== undefined);
  }

  /** Lines that are not change lines (events, errors, notes). */
  otherLines(): string[] {
    return this.output().split('\n').filter((l) => l.trim() !== '' && parseChangeLine(l) === undefined);
  }

  latest(id: string): ForwardLine | undefined {
    return this.lines().filter((l) => l.id === id).at(-1);
  }

  /** The latest line of every forward not removed. */
  current(): Map<string, ForwardLine> {
    const map = new Map<string, ForwardLine>();
    for (const l of this.lines()) {
      if (l.status === 'REMOVED') map.delete(l.id);
      else map.set(l.id, l);
    }
    return map;
  }

  /** Waits until the latest line of `id` satisfies `ok` (default: ACTIVE). */
  forward(id: string, ok: (l: ForwardLine) => boolean = (l) => l.status === 'ACTIVE', timeoutMs = 30_000, what = `${id} ACTIVE`): Promise<ForwardLine> {
    return waitFor(what, () => {
      if (!this.running) throw new Error(`the sidecar exited (${String(this.proc.child.exitCode ?? this.proc.child.signalCode)}); output:\n${this.output()}`);
      const l = this.latest(id);
      return l && ok(l) ? l : undefined;
    }, timeoutMs, 50).catch((error: unknown) => {
      throw new Error(`${error instanceof Error ? error.message : String(error)}; latest line: ${this.latest(id)?.line ?? '(none)'}\noutput:\n${this.output()}`);
    });
  }

  /** Waits until every id has a line with the wanted status. */
  async all(ids: Record<string, string>, timeoutMs = 30_000): Promise<Map<string, ForwardLine>> {
    const out = new Map<string, ForwardLine>();
    for (const [id, status] of Object.entries(ids)) out.set(id, await this.forward(id, (l) => l.status === status, timeoutMs, `${id} ${status}`));
    return out;
  }

  stop(graceMs = 10_000): Promise<number | string> {
    return this.proc.stop(graceMs);
  }

  exited(): Promise<number | string> {
    return this.proc.exited();
  }
}

/** Starts `node dist/sidecar.js ARGS` (stdout is a pipe: one line per change). */
export function startSidecar(args: string[], options: SidecarOptions = {}): Sidecar {
  const bundle = options.bundle ?? sidecarBundle;
  if (!fs.existsSync(bundle)) throw new Error(`${bundle} is missing: run \`node esbuild.mjs\``);
  const words = [...(options.wrap ?? []), process.execPath, bundle, ...args];
  const [command = process.execPath, ...rest] = words;
  return new Sidecar(startProcess(command, rest, { env: { ...process.env, ...options.env }, ...options.spawn }));
}

export interface SvcArgs {
  namespaces?: string[];
  contexts?: string[];
  hostsPath: string;
  kubeconfig?: string;
  extra?: string[];
}

/** `svc -n … -c KUBECONFIG -x … --hosts-path …` against the test cluster. */
export function svcArgs(o: SvcArgs): string[] {
  return ['svc', '-n', (o.namespaces ?? ['demo']).join(','), '-c', o.kubeconfig ?? requireState().kubeconfig,
    ...(o.contexts ?? ['admin']).flatMap((c) => ['-x', c]), '--hosts-path', o.hostsPath, ...(o.extra ?? [])];
}

// ---- temp hosts files ------------------------------------------------------------------------

export const DEFAULT_HOSTS = '127.0.0.1\tlocalhost\n::1 localhost ip6-localhost ip6-loopback\n# a comment the sidecar must keep\n10.11.12.13 keep-me.example\n';

export interface TempHosts {
  path: string;
  dir: string;
  /** The bytes the file was created with. */
  original: Buffer;
  bytes(): Buffer;
  text(): string;
  /** name → every IP the file gives it (comments ignored). */
  names(): Map<string, string[]>;
  /** The one IP of `name`, or undefined when it has none; throws when it has several. */
  ip(name: string): string | undefined;
  blocks(): HostsMarkers[];
  remove(): void;
}

export interface HostsMarkers {
  owner: string;
  begin: string;
  end: string;
  /** Entry lines between the markers. */
  entries: string[];
}

export function parseHostsNames(text: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const [ip, ...names] = line.replace(/#.*/, '').trim().split(/\s+/).filter(Boolean);
    if (!ip) continue;
    for (const n of names) map.set(n, [...(map.get(n) ?? []), ip]);
  }
  return map;
}

/** kube-forward blocks (`# BEGIN kube-forward OWNER` … `# END kube-forward OWNER`). */
export function parseHostsBlocks(text: string): HostsMarkers[] {
  const out: HostsMarkers[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const begin = /^# BEGIN kube-forward (\S+)\s*$/.exec(lines[i] ?? '');
    if (!begin) continue;
    const endAt = lines.findIndex((l, j) => j > i && /^# END kube-forward /.test(l));
    out.push({ owner: begin[1] ?? '', begin: lines[i] ?? '', end: endAt < 0 ? '' : lines[endAt] ?? '', entries: endAt < 0 ? [] : lines.slice(i + 1, endAt) });
    if (endAt > i) i = endAt;
  }
  return out;
}

export function tempHosts(content: string | Buffer = DEFAULT_HOSTS): TempHosts {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-e2e-hosts-'));
  const file = path.join(dir, 'hosts');
  const original = Buffer.isBuffer(content) ? content : Buffer.from(content, 'latin1');
  fs.writeFileSync(file, original, { mode: 0o644 });
  const text = () => fs.readFileSync(file, 'latin1');
  return {
    path: file,
    dir,
    original,
    bytes: () => fs.readFileSync(file),
    text,
    names: () => parseHostsNames(text()),
    ip(name) {
      const ips = parseHostsNames(text()).get(name);
      if (ips && new Set(ips).size > 1) throw new Error(`${name} has several IPs in ${file}: ${ips.join(', ')}`);
      return ips?.[0];
    },
    blocks: () => parseHostsBlocks(text()),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

// ---- sockets and processes -------------------------------------------------------------------

/** Resolves with the connect error code (ECONNREFUSED…), or 'connected' when something accepted. */
export function connectResult(host: string, port: number, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (result: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done('timeout'), timeoutMs);
    socket.once('connect', () => done('connected'));
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
  });
}

/**
 * Waits until host:port accepts connections. An ACTIVE line can come before the listener is bound
 * (see the engine bug asserted in test/e2e/engine/cli-errors.test.ts), so tests that connect right
 * after one wait for the port too, briefly, and keep their own subject strict.
 */
export function listening(host: string, port: number, timeoutMs = 3000): Promise<true> {
  return waitFor(`${host}:${port} accepting connections`, async () => (await connectResult(host, port, 1000)) === 'connected', timeoutMs, 20);
}

/** Resident set size of a process in bytes (Linux /proc/<pid>/status VmRSS). */
export function rssBytes(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!m) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

/** Resolves after `ms`: only for deliberate pacing (a reader that pauses, a 50 ms poll), never to wait for a state. */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
