/**
 * Load generators of the benchmark, each run in a child process of its own (so they share no
 * event loop with the bench or a forwarder). One JSON argument in, one JSON line out:
 *   node out/test/bench/client.js '{"mode":"bulk","host":…,"port":…,"bytes":…}'
 * Modes:
 *   bulk     one connection, GET /bytes?n=bytes              → { mbps, seconds, ok, error? }
 *   latency  n sequential fresh connections, GET /           → { p50, p90, p99, mean, max, errors, n }
 *   burst    conns concurrent connections × bytes each       → { mbps, seconds, errors, firstError? }
 *   load     conns concurrent loops of fresh-connection GET / for seconds (wrk's stand-in)
 *                                                            → { rps, requests, errors, firstError? }
 * MB = 10^6 bytes.
 */
import { performance } from 'node:perf_hooks';
import { percentile, request } from './http';

interface Base { host: string; port: number }
type Job =
  | (Base & { mode: 'bulk'; bytes: number; timeoutMs?: number })
  | (Base & { mode: 'latency'; n: number; warmup?: number })
  | (Base & { mode: 'burst'; conns: number; bytes: number; timeoutMs?: number })
  | (Base & { mode: 'load'; conns: number; seconds: number });

const MB = 1e6;

async function bulk(j: Extract<Job, { mode: 'bulk' }>): Promise<object> {
  const o = await request({ host: j.host, port: j.port, path: `/bytes?n=${j.bytes}`, timeoutMs: j.timeoutMs ?? 180_000, expectBytes: j.bytes });
  return { ok: o.ok, mbps: o.ok ? j.bytes / MB / (o.ms / 1000) : 0, seconds: o.ms / 1000, ...(o.error ? { error: o.error } : {}) };
}

async function latency(j: Extract<Job, { mode: 'latency' }>): Promise<object> {
  for (let i = 0; i < (j.warmup ?? 20); i++) await request({ host: j.host, port: j.port, path: '/', timeoutMs: 5000 });
  const samples: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  for (let i = 0; i < j.n; i++) {
    const o = await request({ host: j.host, port: j.port, path: '/', timeoutMs: 5000 });
    if (o.ok) samples.push(o.ms);
    else {
      errors++;
      firstError ??= o.error;
    }
  }
  samples.sort((a, b) => a - b);
  const mean = samples.reduce((a, b) => a + b, 0) / Math.max(1, samples.length);
  return { n: j.n, errors, p50: percentile(samples, 0.5), p90: percentile(samples, 0.9), p99: percentile(samples, 0.99), mean, max: samples.at(-1) ?? NaN, ...(firstError ? { firstError } : {}) };
}

async function burst(j: Extract<Job, { mode: 'burst' }>): Promise<object> {
  const t0 = performance.now();
  const outcomes = await Promise.all(Array.from({ length: j.conns }, () =>
    request({ host: j.host, port: j.port, path: `/bytes?n=${j.bytes}`, timeoutMs: j.timeoutMs ?? 180_000, expectBytes: j.bytes })));
  const seconds = (performance.now() - t0) / 1000;
  const failed = outcomes.filter((o) => !o.ok);
  const bytes = outcomes.reduce((a, o) => a + o.bytes, 0);
  return { mbps: bytes / MB / seconds, seconds, errors: failed.length, ...(failed[0]?.error ? { firstError: failed[0].error } : {}) };
}

async function load(j: Extract<Job, { mode: 'load' }>): Promise<object> {
  const deadline = performance.now() + j.seconds * 1000;
  let done = 0;
  let errors = 0;
  let firstError: string | undefined;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: j.conns }, async () => {
    while (performance.now() < deadline) {
      const o = await request({ host: j.host, port: j.port, path: '/', timeoutMs: 5000 });
      if (o.ok) done++;
      else {
        errors++;
        firstError ??= o.error;
      }
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  return { rps: done / seconds, requests: done, errors, seconds, ...(firstError ? { firstError } : {}) };
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '{}') as Job;
  const run = { bulk, latency, burst, load }[job.mode] as (j: Job) => Promise<object>;
  if (!run) throw new Error(`unknown mode ${String((job as { mode?: unknown }).mode)}`);
  process.stdout.write(`${JSON.stringify(await run(job))}\n`);
}

main().then(() => process.exit(0), (error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
