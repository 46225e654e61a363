/**
 * Measurements of the tunnel against the test cluster (not a test; numbers for decisions):
 *   node out/test/e2e/tunnel/bench.js [download|echo|latency|concurrency|all] [--kubectl]
 * Needs `npm run cluster:up`. Listens on 127.1.27.240–249. Throughput clients run in a child
 * process, so they do not share the forwarder's thread (as with a real sidecar).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import { PortListener, type PortListenerOptions } from '../../../sidecar/src/tunnel/listener';
import { startProcess } from '../../helpers/process';
import { requireState } from '../../cluster/state';
import { connect, kubeConfig, readyPods } from './cluster';

const MB = 1024 * 1024;
let nextIp = 240;

async function withListener<T>(options: Partial<PortListenerOptions> & Pick<PortListenerOptions, 'resolve'>, run: (port: number, ip: string, l: PortListener) => Promise<T>): Promise<T> {
  const ip = `127.1.27.${nextIp++}`;
  const listener = await PortListener.listen({ kc: kubeConfig('dev'), ip, port: 0, ...options });
  try {
    return await run(listener.address.port, ip, listener);
  } finally {
    await listener.close();
  }
}

/** GET /bytes?n= over one fresh connection; resolves with MB/s of the body. */
async function download(port: number, ip: string, bytes: number): Promise<number> {
  const socket = await connect(port, ip);
  const t0 = performance.now();
  let got = 0;
  await new Promise<void>((resolve, reject) => {
    socket.on('data', (c: Buffer) => (got += c.length));
    socket.on('end', () => resolve());
    socket.on('error', reject);
    socket.write(`GET /bytes?n=${bytes} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n`);
  });
  const seconds = (performance.now() - t0) / 1000;
  socket.destroy();
  if (got < bytes) throw new Error(`short body: ${got} < ${bytes}`);
  return bytes / MB / seconds;
}

/** Streams `bytes` through an echo backend and reads them back; resolves with MB/s each way. */
async function echo(port: number, ip: string, bytes: number): Promise<number> {
  const socket = await connect(port, ip);
  const chunk = Buffer.alloc(64 * 1024, 7);
  let greeting = -1;
  let got = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    socket.on('data', (c: Buffer) => {
      if (greeting < 0) {
        const nl = c.indexOf(10);
        if (nl < 0) return;
        greeting = nl;
        c = c.subarray(nl + 1);
      }
      got += c.length;
      if (got >= bytes) resolve();
    });
    socket.on('error', reject);
    let sent = 0;
    const write = () => {
      while (sent < bytes) {
        sent += chunk.length;
        if (!socket.write(chunk)) return void socket.once('drain', write);
      }
    };
    write();
  });
  const seconds = (performance.now() - t0) / 1000;
  socket.destroy();
  return bytes / MB / seconds;
}

/** One fresh connection: connect, GET /, read the whole response. Milliseconds. */
async function request(port: number, ip: string): Promise<number> {
  const t0 = performance.now();
  const socket = net.connect(port, ip);
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    let body = '';
    socket.on('connect', () => socket.write('GET / HTTP/1.1\r\nHost: bench\r\n\r\n'));
    socket.on('data', (c: Buffer) => {
      body += c.toString('latin1');
      if (body.includes('"port"') && body.endsWith('}')) resolve();
    });
    socket.on('error', reject);
    socket.on('end', () => reject(new Error(`ended early: ${body}`)));
  });
  const ms = performance.now() - t0;
  socket.destroy();
  return ms;
}

/** Runs download or echo in a child process (this same file with --client); resolves with MB/s. */
function remote(kind: 'download' | 'echo', port: number, ip: string, bytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [__filename, '--client', kind, ip, String(port), String(bytes)], { timeout: 300_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${kind} client failed: ${stderr || error.message}`));
      else resolve(Number(stdout.trim()));
    });
  });
}

function stats(samples: number[]): string {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return `p50 ${q(0.5).toFixed(2)} ms, p90 ${q(0.9).toFixed(2)} ms, p99 ${q(0.99).toFixed(2)} ms (n=${s.length})`;
}

async function sequential(port: number, ip: string, n: number, gapMs = 0): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    out.push(await request(port, ip));
    if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
  }
  return out;
}

/** kubectl port-forward as a peer: resolves with its local port and a stop function. */
async function kubectlForward(pod: string, remote: number): Promise<{ port: number; ip: string; pid: number; stop: () => Promise<unknown> }> {
  const state = requireState();
  const ip = `127.1.27.${nextIp++}`;
  const p = startProcess(state.bins.kubectl, ['--kubeconfig', state.kubeconfig, '--context', 'dev', '-n', 'demo',
    'port-forward', '--address', ip, `pod/${pod}`, `0:${remote}`]);
  const m = await p.waitFor(/Forwarding from [\d.]+:(\d+)/);
  return { port: Number(m[1]), ip, pid: p.child.pid!, stop: () => p.stop() };
}

/** Something that forwards a local port: ours with some options, or kubectl. */
interface Contender {
  name: string;
  start(): Promise<{ ip: string; port: number; cpuMs(): number; stop(): Promise<unknown> }>;
}

function ours(name: string, options: Partial<PortListenerOptions> & Pick<PortListenerOptions, 'resolve'>): Contender {
  return {
    name,
    async start() {
      const ip = `127.1.27.${nextIp++}`;
      const listener = await PortListener.listen({ kc: kubeConfig('dev'), ip, port: 0, ...options });
      return { ip, port: listener.address.port, cpuMs: () => cpuMs(process.cpuUsage()), stop: () => listener.close() };
    },
  };
}

function kubectlContender(pod: string, remotePort: number): Contender {
  return {
    name: 'kubectl port-forward',
    async start() {
      const k = await kubectlForward(pod, remotePort);
      return { ...k, cpuMs: () => procCpuMs(k.pid) };
    },
  };
}

function cpuMs(u: NodeJS.CpuUsage): number {
  return (u.user + u.system) / 1000;
}

/** utime+stime of a process from /proc (clock ticks of 10 ms). */
function procCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Rounds of each contender in turn (so load from other processes hits all alike); medians. */
async function throughput(kind: 'download' | 'echo', rounds: number, contenders: Contender[]): Promise<void> {
  const size = Number(process.env.BENCH_MB ?? 256) * MB;
  const running = await Promise.all(contenders.map((c) => c.start()));
  const rates = contenders.map(() => [] as number[]);
  const cpu = contenders.map(() => [] as number[]);
  try {
    for (let r = 0; r < rounds; r++) {
      for (const [i, c] of running.entries()) {
        const c0 = c.cpuMs();
        rates[i]!.push(await remote(kind, c.port, c.ip, size));
        cpu[i]!.push(c.cpuMs() - c0);
      }
    }
  } finally {
    await Promise.all(running.map((c) => c.stop()));
  }
  for (const [i, c] of contenders.entries()) {
    console.log(`${kind} ${size / MB} MB [${c.name}]: median ${median(rates[i]!).toFixed(0)} MB/s (${rates[i]!.map((x) => x.toFixed(0)).join(', ')}), forwarder CPU median ${median(cpu[i]!).toFixed(0)} ms`);
  }
}

async function main(): Promise<void> {
  if (process.argv[2] === '--client') {
    const [kind, ip, port, bytes] = process.argv.slice(3);
    const run = kind === 'echo' ? echo : download;
    console.log(String(await run(Number(port), ip!, Number(bytes))));
    return;
  }
  const what = process.argv[2] ?? 'all';
  const withKubectl = process.argv.includes('--kubectl');
  const web = (await readyPods('app=web'))[0]!;
  const db = 'db-0';
  const toWeb = () => ({ namespace: 'demo', pod: web, podPort: 8080 });
  const toDb = () => ({ namespace: 'demo', pod: db, podPort: 5432 });
  console.log(`web pod ${web}, db pod ${db}, node ${process.version}`);

  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  if (what === 'download' || what === 'all') {
    await throughput('download', rounds, [
      ours('socketHWM default', { resolve: toWeb }),
      ours('socketHWM 256K', { resolve: toWeb, pipe: { socketHighWaterMark: 256 * 1024 } }),
      ours('socketHWM 1M', { resolve: toWeb, pipe: { socketHighWaterMark: MB } }),
      ...(withKubectl ? [kubectlContender(web, 8080)] : []),
    ]);
  }

  if (what === 'echo' || what === 'all') {
    await throughput('echo', rounds, [
      ours('zero mask', { resolve: toDb }),
      ours('random mask', { resolve: toDb, tunnel: { randomMask: true } }),
      ours('zero mask, backlog 4M', { resolve: toDb, pipe: { highWaterMark: 4 * MB, lowWaterMark: MB } }),
      ...(withKubectl ? [kubectlContender(db, 5432)] : []),
    ]);
  }

  if (what === 'latency' || what === 'all') {
    const n = Number(process.env.BENCH_N ?? 300);
    const variants: [string, Partial<PortListenerOptions>][] = [
      ['no pool, agent', { pool: false }],
      ['no pool, no agent', { pool: false, tunnel: { reuseAgent: false } }],
      ['pool 1, agent', { pool: { size: 1, ttlMs: 4000 } }],
      ['pool 2, agent', { pool: { size: 2, ttlMs: 4000 } }],
    ];
    for (const [name, options] of variants) {
      await withListener({ resolve: toWeb, ...options }, async (port, ip) => {
        await sequential(port, ip, 20); // warm-up: JIT, TLS session cache
        console.log(`latency [${name}] back-to-back: ${stats(await sequential(port, ip, n))}`);
        console.log(`latency [${name}] 10 ms apart:  ${stats(await sequential(port, ip, Math.min(n, 150), 10))}`);
      });
    }
    if (withKubectl) {
      const k = await kubectlForward(web, 8080);
      await sequential(k.port, k.ip, 20);
      console.log(`latency [kubectl] back-to-back: ${stats(await sequential(k.port, k.ip, n))}`);
      await k.stop();
    }
  }

  if (what === 'concurrency' || what === 'all') {
    const n = Number(process.env.BENCH_C ?? 200);
    const contenders = [ours('no pool', { resolve: toWeb, pool: false }), ...(withKubectl ? [kubectlContender(web, 8080)] : [])];
    for (const contender of contenders) {
      const c = await contender.start();
      try {
        await sequential(c.port, c.ip, 10);
        for (let r = 0; r < rounds; r++) {
          const t0 = performance.now();
          const samples = await Promise.all(Array.from({ length: n }, () => request(c.port, c.ip)));
          console.log(`concurrency ${n} [${contender.name}]: all done in ${(performance.now() - t0).toFixed(0)} ms; per connection ${stats(samples)}`);
        }
      } finally {
        await c.stop();
      }
    }
  }
}

main().then(() => process.exit(0), (error: unknown) => {
  console.error(error);
  process.exit(1);
});
