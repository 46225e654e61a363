import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { startProcess, type TestProcess } from '../helpers/process';
import { parseChangeLine, sidecarBundle } from '../helpers/sidecar';
import { cpuMs, rssBytes } from './proc';

/**
 * The forwarders under test, each started as its own process(es) against the bench cluster:
 * Kube Forward's sidecar and kubefwd forward whole namespaces (each on its own loopback range
 * through a fwdconf `baseUnreservedIP`, so they never collide with each other or with anybody's
 * 127.1.27.x); kubectl port-forward (WebSocket and SPDY) and client-node's PortForward forward
 * one pod each; "direct" is the backend itself.
 */

export type Key = 'kube-forward' | 'kubectl-ws' | 'kubectl-spdy' | 'kubefwd' | 'client-node' | 'direct';

export const LABELS: Record<Key, string> = {
  'kube-forward': 'Kube Forward',
  'kubectl-ws': 'kubectl (WebSocket)',
  'kubectl-spdy': 'kubectl (SPDY)',
  kubefwd: 'kubefwd',
  'client-node': 'client-node',
  direct: 'direct',
};

export interface Endpoint {
  host: string;
  port: number;
}

export interface Forwarder {
  key: Key;
  /** Processes whose CPU and memory are this forwarder's. */
  pids: number[];
  /** Service name (or `pod` for pod forwarders) → where it listens, as announced so far. */
  endpoints: Map<string, Endpoint>;
  /** performance.now() when the process was spawned. */
  startedAt: number;
  /** The hosts file it writes names to (namespace forwarders). */
  hostsPath?: string;
  /** Hosts lines it left behind once stopped. */
  leftHosts?: number;
  alive(): boolean;
  /** `exit code N`, `signal S`, or `running`. */
  exitStatus(): string;
  output(): string;
  /** Called with each service as the forwarder announces it (namespace forwarders). */
  onEndpoint?: (service: string, endpoint: Endpoint) => void;
  stop(): Promise<void>;
}

export interface Env {
  kubeconfig: string;
  context: string;
  kubectl: string;
  kubefwd?: string;
  /** Scratch folder for hosts files, fwdconfs and kubefwd's HOME. */
  scratch: string;
  /** Extra node flags for our sidecar (e.g. --cpu-prof). */
  sidecarNodeFlags?: string[];
}

/** Base IPs (fwdconf) per namespace forwarder: away from 127.1.27.x, which other runs use. */
export const BASE_IP: Record<'kube-forward' | 'kubefwd', string> = { 'kube-forward': '127.3.27.1', kubefwd: '127.4.27.1' };

/** The sidecar bundle under test: dist/sidecar.js, or KF_BENCH_SIDECAR (e.g. a production build to compare). */
export const bundle = process.env.KF_BENCH_SIDECAR || sidecarBundle;

const strip = (s: string) => s.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');

/** Feeds every complete output line of a process to `onLine`. */
function eachLine(proc: TestProcess, onLine: (line: string) => void): void {
  for (const stream of [proc.child.stdout, proc.child.stderr]) {
    let rest = '';
    stream?.on('data', (chunk: Buffer) => {
      rest += chunk.toString('utf8');
      const lines = rest.split('\n');
      rest = lines.pop() ?? '';
      for (const l of lines) onLine(strip(l).replace(/\r$/, ''));
    });
  }
}

/** Every forwarder started in this run (for the leftovers check at the end). */
export const started: Forwarder[] = [];

function forwarder(key: Key, proc: TestProcess, stopSignal: NodeJS.Signals, startedAt: number): Forwarder {
  const pid = proc.child.pid ?? -1;
  const f: Forwarder = {
    key,
    pids: [pid],
    endpoints: new Map(),
    startedAt,
    alive: () => proc.child.exitCode === null && proc.child.signalCode === null,
    exitStatus: () => (proc.child.exitCode !== null ? `exit code ${proc.child.exitCode}` : proc.child.signalCode ? `signal ${proc.child.signalCode}` : 'running'),
    output: () => proc.output(),
    async stop() {
      if (proc.child.exitCode === null && proc.child.signalCode === null) {
        proc.child.kill(stopSignal);
        const timer = setTimeout(() => proc.child.kill('SIGKILL'), 10_000);
        await proc.exited();
        clearTimeout(timer);
      }
      f.leftHosts ??= hostsLeft(f);
    },
  };
  started.push(f);
  return f;
}

function scratchFile(env: Env, name: string, content: string): string {
  const file = path.join(env.scratch, name);
  fs.writeFileSync(file, content, { mode: 0o644 });
  return file;
}

/** Our sidecar: `kube-forward svc -n NS` (one line per change on a pipe). */
export function startKubeForward(env: Env, namespace: string, tag: string): Forwarder {
  const hosts = scratchFile(env, `hosts-kf-${tag}`, '127.0.0.1 localhost\n');
  const conf = scratchFile(env, `fwdconf-kf-${tag}.yaml`, `baseUnreservedIP: ${BASE_IP['kube-forward']}\n`);
  const startedAt = performance.now();
  const proc = startProcess(process.execPath, [...(env.sidecarNodeFlags ?? []), bundle, 'svc', '-n', namespace,
    '-c', env.kubeconfig, '-x', env.context, '--hosts-path', hosts, '-z', conf]);
  const f = forwarder('kube-forward', proc, 'SIGTERM', startedAt);
  f.hostsPath = hosts;
  eachLine(proc, (line) => {
    const change = parseChangeLine(line);
    if (!change || change.status !== 'ACTIVE' || !change.ip || !change.ports) return;
    const service = change.id.split('.')[0] ?? change.id;
    // `80`, or `10080→80` when ports were moved; the local port is the first number.
    const port = Number(/^(\d+)/.exec(change.ports)?.[1]);
    if (f.endpoints.has(service)) return;
    const endpoint = { host: change.ip, port };
    f.endpoints.set(service, endpoint);
    f.onEndpoint?.(service, endpoint);
  });
  return f;
}

/** kubefwd v1.25.16: `kubefwd svc -n NS -a`, its hosts file and HOME (hosts.original) in scratch. */
export function startKubefwd(env: Env, namespace: string, tag: string): Forwarder {
  if (!env.kubefwd) throw new Error('kubefwd is not installed');
  const home = path.join(env.scratch, `kubefwd-home-${tag}`);
  fs.mkdirSync(home, { recursive: true });
  const hosts = scratchFile(env, `hosts-kubefwd-${tag}`, '127.0.0.1 localhost\n');
  const conf = scratchFile(env, `fwdconf-kubefwd-${tag}.yaml`, `baseUnreservedIP: ${BASE_IP.kubefwd}\n`);
  const startedAt = performance.now();
  const proc = startProcess(env.kubefwd, ['svc', '-n', namespace, '-c', env.kubeconfig, '-x', env.context,
    '--hosts-path', hosts, '-a', '-z', conf], { env: { ...process.env, HOME: home } });
  // SIGINT is Ctrl-C, the way people stop kubefwd.
  const f = forwarder('kubefwd', proc, 'SIGINT', startedAt);
  f.hostsPath = hosts;
  eachLine(proc, (line) => {
    // "Port-Forward:       127.4.27.2 api:80 to pod api-d8df548c-pp8kb:8080"
    const m = /Port-Forward:\s+(\d+\.\d+\.\d+\.\d+) ([^\s:]+):(\d+) to pod (\S+):/.exec(line);
    if (!m) return;
    const service = m[2]!;
    const endpoint = { host: m[1]!, port: Number(m[3]) };
    // A re-forward after a pod change announces the service again, same IP.
    f.endpoints.set(service, endpoint);
    f.onEndpoint?.(service, endpoint);
  });
  return f;
}

/** `kubectl port-forward --address IP pod/POD 0:PORT` (default WebSocket, or SPDY). */
export async function startKubectl(env: Env, mode: 'ws' | 'spdy', namespace: string, pod: string, podPort: number, ip: string): Promise<Forwarder> {
  const startedAt = performance.now();
  const proc = startProcess(env.kubectl, ['--kubeconfig', env.kubeconfig, '--context', env.context, '-n', namespace,
    'port-forward', '--address', ip, `pod/${pod}`, `0:${podPort}`],
  { env: { ...process.env, KUBECTL_PORT_FORWARD_WEBSOCKETS: mode === 'ws' ? 'true' : 'false' } });
  const f = forwarder(mode === 'ws' ? 'kubectl-ws' : 'kubectl-spdy', proc, 'SIGTERM', startedAt);
  try {
    const m = await proc.waitFor(/Forwarding from [\d.]+:(\d+)/, 30_000);
    f.endpoints.set('pod', { host: ip, port: Number(m[1]) });
  } catch (error) {
    await f.stop();
    throw error;
  }
  return f;
}

/** client-node's PortForward as its example uses it, from the npm package (test/peers/clientNodeForward.ts). */
export async function startClientNode(env: Env, namespace: string, pod: string, podPort: number, ip: string): Promise<Forwarder> {
  const startedAt = performance.now();
  const proc = startProcess(process.execPath, [path.join(__dirname, '..', 'peers', 'clientNodeForward.js'), '-c', env.kubeconfig, '-x', env.context,
    '-n', namespace, '--pod', pod, '--port', String(podPort), '--listen', `${ip}:0`]);
  const f = forwarder('client-node', proc, 'SIGTERM', startedAt);
  try {
    const m = await proc.waitFor(/listening [\d.]+:(\d+)/, 30_000);
    f.endpoints.set('pod', { host: ip, port: Number(m[1]) });
  } catch (error) {
    await f.stop();
    throw error;
  }
  return f;
}

/** The backend itself: no process of its own to measure. */
export function direct(port: number): Forwarder {
  return {
    key: 'direct',
    pids: [],
    endpoints: new Map([['pod', { host: '127.0.0.1', port }]]),
    startedAt: performance.now(),
    alive: () => true,
    exitStatus: () => 'running',
    output: () => '',
    stop: async () => undefined,
  };
}

/** Hosts-file lines a stopped namespace forwarder left behind (its file started with one line). */
export function hostsLeft(f: Forwarder): number {
  if (!f.hostsPath) return 0;
  try {
    return fs.readFileSync(f.hostsPath, 'latin1').split('\n').filter((l) => l.trim() && !l.startsWith('#') && !/^127\.0\.0\.1\s+localhost\s*$/.test(l)).length;
  } catch {
    return 0;
  }
}

/** CPU ms and RSS bytes of a forwarder now (summed over its processes). */
export function usage(f: Forwarder): { cpuMs: number; rss: number } {
  return { cpuMs: f.pids.reduce((a, p) => a + cpuMs(p), 0), rss: f.pids.reduce((a, p) => a + rssBytes(p), 0) };
}
