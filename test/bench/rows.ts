import { execFile } from 'node:child_process';
import * as path from 'node:path';
import type { Endpoint, Forwarder, Key } from './contenders';
import { request } from './http';
import { sumCpuMs } from './proc';
import type { Results } from './report';

/**
 * P1–P4: the data-path rows. Every contender serves the same backend; each repetition runs the
 * contenders one after another, in an order rotated per repetition, so load from other
 * processes on the machine falls on all of them alike. Clients run in child processes.
 */

const CLIENT = path.join(__dirname, 'client.js');
const MB = 1e6;

/** A forwarder and its endpoint for the `bench` service (or its pod). */
export interface Contender {
  f: Forwarder;
  at: Endpoint;
  /** Starts it again after a crash. */
  revive?(): Promise<Contender>;
}

export interface RowContext {
  results: Results;
  contenders: Contender[];
  /** API server and fake node: CPU of the shared path, per run. */
  pathPids: number[];
  reps: number;
  log(line: string): void;
  /** Backend counters, to check that P3 really opened one connection per request. */
  backendStats(): Promise<{ connections: number; requests: number }>;
  wrk?: string;
}

export function runClient<T>(job: object, timeoutMs = 300_000): Promise<T> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLIENT, JSON.stringify(job)], { timeout: timeoutMs, maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`client ${JSON.stringify(job)} failed: ${stderr.trim() || error.message}`));
      else resolve(JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as T);
    });
  });
}

/**
 * Runs `one` for every contender, `reps` times, rotating the order; records forwarder and path
 * CPU. A forwarder that died (client-node's PortForward can crash the process) is noted on the
 * row's main metric and started again when it can be.
 */
async function rounds(ctx: RowContext, row: string, main: string, reps: number, one: (c: Contender, rep: number) => Promise<void>,
  warmup?: (c: Contender) => Promise<unknown>): Promise<void> {
  const n = ctx.contenders.length;
  const crashes = new Map<string, number>();
  const crashed = (c: Contender) => {
    crashes.set(c.f.key, (crashes.get(c.f.key) ?? 0) + 1);
    const exit = c.f.exitStatus();
    const words = c.f.output().trim().split('\n').filter((l) => /Error|error:/.test(l)).slice(0, 2).join(' | ');
    ctx.log(`${row} ${c.f.key}: the forwarder exited (${exit})${words ? `: ${words.slice(0, 300)}` : ''}`);
    ctx.results.note(main, c.f.key, `(process crashed ${crashes.get(c.f.key)}× in ${row}${c.revive ? ', restarted' : ''})`);
  };
  for (let rep = 0; rep < reps; rep++) {
    for (let i = 0; i < n; i++) {
      const index = (i + rep) % n;
      let c = ctx.contenders[index]!;
      if (rep === 0 && warmup && c.f.alive()) {
        await warmup(c).catch(() => undefined);
        if (!c.f.alive()) crashed(c);
      }
      if (!c.f.alive()) {
        if (!c.revive) continue;
        try {
          c = await c.revive();
          ctx.contenders[index] = c;
          await answers(c.at);
        } catch (error) {
          ctx.log(`${row} ${c.f.key}: could not restart: ${error instanceof Error ? error.message : String(error)}`);
          continue;
        }
      }
      const cpu0 = sumCpuMs(c.f.pids);
      const path0 = sumCpuMs(ctx.pathPids);
      try {
        await one(c, rep);
      } catch (error) {
        ctx.log(`${row} ${c.f.key}: ${error instanceof Error ? error.message : String(error)}`);
      }
      if (c.f.pids.length) ctx.results.add(`${row}.cpu`, c.f.key, (sumCpuMs(c.f.pids) - cpu0) / 1000);
      ctx.results.add(`${row}.pathCpu`, c.f.key, (sumCpuMs(ctx.pathPids) - path0) / 1000);
      if (!c.f.alive()) crashed(c);
    }
  }
}

function defineCpu(results: Results, row: string): void {
  results.define({ id: `${row}.cpu`, row, label: 'forwarder CPU per run', unit: 's', better: 'lower', digits: 2 });
  results.define({ id: `${row}.pathCpu`, row, label: 'API server + node CPU per run', unit: 's', better: 'lower', digits: 2 });
}

/** P1: one connection, GET /bytes?n=1 GiB, MB/s (from connect to the last byte). */
export async function p1(ctx: RowContext, bytes: number): Promise<void> {
  ctx.results.define({ id: 'P1.mbps', row: 'P1', label: `bulk, ${bytes / 2 ** 30} GiB over one connection`, unit: 'MB/s', better: 'higher', digits: 0 });
  defineCpu(ctx.results, 'P1');
  await rounds(ctx, 'P1', 'P1.mbps', ctx.reps, async (c) => {
    const r = await runClient<{ ok: boolean; mbps: number; error?: string }>({ mode: 'bulk', ...c.at, bytes, timeoutMs: 240_000 });
    if (!r.ok) throw new Error(`bulk failed: ${r.error}`);
    ctx.results.add('P1.mbps', c.f.key, r.mbps);
    ctx.log(`P1 ${c.f.key}: ${r.mbps.toFixed(0)} MB/s`);
  }, (c) => runClient({ mode: 'bulk', ...c.at, bytes: 32 * MB }));
}

/** P2: n sequential fresh connections, each GET / and its answer; p50 and p99. */
export async function p2(ctx: RowContext, n: number): Promise<void> {
  ctx.results.define({ id: 'P2.p50', row: 'P2', label: `new connection + GET /, p50 of ${n} sequential`, unit: 'ms', better: 'lower', digits: 2 });
  ctx.results.define({ id: 'P2.p99', row: 'P2', label: `new connection + GET /, p99 of ${n} sequential`, unit: 'ms', better: 'lower', digits: 2 });
  ctx.results.define({ id: 'P2.errors', row: 'P2', label: 'failed connections', unit: 'count', better: 'lower', digits: 0 });
  defineCpu(ctx.results, 'P2');
  await rounds(ctx, 'P2', 'P2.p50', ctx.reps, async (c) => {
    const r = await runClient<{ p50: number; p99: number; errors: number; firstError?: string }>({ mode: 'latency', ...c.at, n, warmup: 20 });
    ctx.results.add('P2.p50', c.f.key, r.p50);
    ctx.results.add('P2.p99', c.f.key, r.p99);
    ctx.results.add('P2.errors', c.f.key, r.errors);
    ctx.log(`P2 ${c.f.key}: p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, ${r.errors} errors${r.firstError ? ` (${r.firstError})` : ''}`);
  });
}

interface LoadResult { rps: number; errors: number; detail: string }

/** wrk with `Connection: close` (the backend answers with it and closes, so wrk reconnects). */
function wrkRun(wrk: string, at: Endpoint, conns: number, seconds: number): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    execFile(wrk, ['-t2', `-c${conns}`, `-d${seconds}s`, '--timeout', '5s', '-H', 'Connection: close', `http://${at.host}:${at.port}/`],
      { timeout: (seconds + 30) * 1000 }, (error, stdout, stderr) => {
        if (error) return reject(new Error(`wrk failed: ${stderr.trim() || error.message}`));
        const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
        const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
        const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0);
        const errors = (socket ? socket.slice(1).reduce((a, x) => a + Number(x), 0) : 0) + non2xx;
        resolve({ rps, errors, detail: `${socket ? socket[0] : 'no socket errors'}; non-2xx ${non2xx}` });
      });
  });
}

/** P3: 50 concurrent clients, a new connection per GET /, requests/s and errors. */
export async function p3(ctx: RowContext, conns: number, seconds: number): Promise<void> {
  const tool = ctx.wrk ? 'wrk' : 'Node load generator';
  ctx.results.define({ id: 'P3.rps', row: 'P3', label: `short HTTP, new connection each, ${conns} concurrent (${tool})`, unit: 'req/s', better: 'higher', digits: 0 });
  ctx.results.define({ id: 'P3.errors', row: 'P3', label: 'errors per run', unit: 'count', better: 'lower', digits: 0 });
  ctx.results.define({ id: 'P3.connsPerReq', row: 'P3', label: 'backend connections per request (1 = no reuse)', unit: 'ratio', better: 'lower', digits: 2 });
  defineCpu(ctx.results, 'P3');
  const run = (at: Endpoint, s: number): Promise<LoadResult> => ctx.wrk ? wrkRun(ctx.wrk, at, conns, s)
    : runClient<{ rps: number; errors: number; firstError?: string }>({ mode: 'load', ...at, conns, seconds: s }).then((r) => ({ ...r, detail: r.firstError ?? '' }));
  await rounds(ctx, 'P3', 'P3.rps', ctx.reps, async (c) => {
    const before = await ctx.backendStats();
    const r = await run(c.at, seconds);
    const after = await ctx.backendStats();
    const reqs = after.requests - before.requests - 1;
    ctx.results.add('P3.rps', c.f.key, r.rps);
    ctx.results.add('P3.errors', c.f.key, r.errors);
    if (reqs > 0) ctx.results.add('P3.connsPerReq', c.f.key, (after.connections - before.connections - 1) / reqs);
    ctx.log(`P3 ${c.f.key}: ${r.rps.toFixed(0)} req/s, ${r.errors} errors (${r.detail}); backend saw ${after.connections - before.connections - 1} connections for ${reqs} requests`);
  }, (c) => run(c.at, 1));
}

/** P4: conns concurrent connections × bytes each; aggregate MB/s and failed connections. */
export async function p4(ctx: RowContext, conns: number, bytes: number): Promise<void> {
  ctx.results.define({ id: 'P4.mbps', row: 'P4', label: `${conns} concurrent connections × ${bytes / MB} MB, aggregate`, unit: 'MB/s', better: 'higher', digits: 0 });
  ctx.results.define({ id: 'P4.errors', row: 'P4', label: 'failed connections per run', unit: 'count', better: 'lower', digits: 0 });
  defineCpu(ctx.results, 'P4');
  await rounds(ctx, 'P4', 'P4.mbps', ctx.reps, async (c) => {
    const r = await runClient<{ mbps: number; errors: number; firstError?: string }>({ mode: 'burst', ...c.at, conns, bytes, timeoutMs: 240_000 });
    ctx.results.add('P4.mbps', c.f.key, r.mbps);
    ctx.results.add('P4.errors', c.f.key, r.errors);
    ctx.log(`P4 ${c.f.key}: ${r.mbps.toFixed(0)} MB/s, ${r.errors} errors${r.firstError ? ` (${r.firstError})` : ''}`);
  });
}

/** Waits until GET / through `at` answers 200 (a forwarder's listener and tunnel work). */
export async function answers(at: Endpoint, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const o = await request({ ...at, path: '/', timeoutMs: 3000 });
    if (o.ok) return;
    last = o.error ?? `status ${o.status}`;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${at.host}:${at.port} did not answer GET / within ${timeoutMs} ms (last: ${last})`);
}

export type { Key };
