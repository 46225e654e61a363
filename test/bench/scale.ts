import { performance } from 'node:perf_hooks';
import { startClientNode, startKubectl, startKubefwd, startKubeForward, usage, type Env, type Forwarder, type Key } from './contenders';
import { podOf, request } from './http';
import type { Results } from './report';
import { answers } from './rows';

/**
 * P5 (200 services: time from start until every one answers, and RSS then) and P7 (the cost of
 * 200 idle forwards over 60 s), on namespace `scale` made by `cluster.js scale -n scale
 * --count 200`: services svc-0001… each with its own pod whose GET / names it.
 */

export const SCALE_NS = 'scale';
const MB = 1e6;

export const serviceNames = (count: number): string[] => Array.from({ length: count }, (_, i) => `svc-${String(i + 1).padStart(4, '0')}`);

export interface Reach {
  /** Seconds from spawn until the last service answered (NaN if not all did). */
  seconds: number;
  /** Seconds from spawn until the last service was announced. */
  announcedSeconds: number;
  answered: number;
  rss: number;
  cpuMs: number;
}

/**
 * Probes each service as soon as the forwarder announces where it listens, every 100 ms, until
 * GET / is answered by that service's own pod. Resolves when all answered or at the deadline.
 */
export function reachAll(f: Forwarder, services: string[], timeoutMs: number): Promise<Reach> {
  return new Promise((resolve) => {
    const wanted = new Set(services);
    const answeredAt = new Map<string, number>();
    const probing = new Set<string>();
    let lastAnnounced = NaN;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      f.onEndpoint = undefined;
      const all = answeredAt.size === wanted.size;
      const u = usage(f);
      resolve({
        seconds: all ? (Math.max(...answeredAt.values()) - f.startedAt) / 1000 : NaN,
        announcedSeconds: (lastAnnounced - f.startedAt) / 1000,
        answered: answeredAt.size,
        rss: u.rss,
        cpuMs: u.cpuMs,
      });
    };
    const timer = setTimeout(finish, timeoutMs);
    const probe = async (service: string) => {
      if (probing.has(service) || !wanted.has(service)) return;
      probing.add(service);
      while (!finished) {
        const at = f.endpoints.get(service)!;
        const o = await request({ ...at, path: '/', timeoutMs: 2000 });
        if (o.ok && podOf(o) === service) {
          answeredAt.set(service, performance.now());
          if (answeredAt.size === wanted.size) finish();
          return;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const announced = () => {
      const seen = [...f.endpoints.keys()].filter((s) => wanted.has(s)).length;
      if (seen === wanted.size && Number.isNaN(lastAnnounced)) lastAnnounced = performance.now();
    };
    f.onEndpoint = (service) => {
      announced();
      void probe(service);
    };
    for (const service of f.endpoints.keys()) void probe(service);
    announced();
  });
}

export function defineP5(results: Results, count: number): void {
  results.define({ id: 'P5.seconds', row: 'P5', label: `${count} services: start → every one answers`, unit: 's', better: 'lower', digits: 2 });
  results.define({ id: 'P5.announced', row: 'P5', label: `${count} services: start → every one announced`, unit: 's', better: 'lower', digits: 2 });
  results.define({ id: 'P5.rssMB', row: 'P5', label: 'RSS when all answer', unit: 'MB', better: 'lower', digits: 0 });
  results.define({ id: 'P5.cpu', row: 'P5', label: 'forwarder CPU until all answer', unit: 's', better: 'lower', digits: 2 });
}

/** P5 for one namespace forwarder, once. */
export async function p5Once(results: Results, env: Env, key: 'kube-forward' | 'kubefwd', services: string[], log: (l: string) => void, tag: string): Promise<void> {
  const f = key === 'kube-forward' ? startKubeForward(env, SCALE_NS, tag) : startKubefwd(env, SCALE_NS, tag);
  try {
    const r = await reachAll(f, services, 90_000);
    results.add('P5.seconds', key, r.seconds);
    results.add('P5.announced', key, r.announcedSeconds);
    results.add('P5.rssMB', key, r.rss / MB);
    results.add('P5.cpu', key, r.cpuMs / 1000);
    log(`P5 ${key}: ${r.answered}/${services.length} answered in ${r.seconds.toFixed(2)} s (announced by ${r.announcedSeconds.toFixed(2)} s), RSS ${(r.rss / MB).toFixed(0)} MB, CPU ${(r.cpuMs / 1000).toFixed(2)} s`);
    if (r.answered < services.length) results.note('P5.seconds', key, `(${r.answered}/${services.length} answered in 90 s)`);
  } finally {
    await f.stop();
  }
}

/**
 * P7: Kube Forward and kubefwd with all services of the namespace, and `sample` kubectl and
 * client-node processes (one pod each; scaled up to `count` and marked so), idle for `seconds`.
 */
export async function p7(results: Results, env: Env, services: string[], sample: number, seconds: number, log: (l: string) => void): Promise<void> {
  const count = services.length;
  results.define({ id: 'P7.rssMB', row: 'P7', label: `RSS with ${count} idle forwards (every 5 s of the window)`, unit: 'MB', better: 'lower', digits: 0 });
  results.define({ id: 'P7.cpuPct', row: 'P7', label: `CPU over ${seconds} s idle (% of one core)`, unit: '%', better: 'lower', digits: 2 });
  const groups: { key: Key; forwarders: Forwarder[]; scale: number }[] = [];
  try {
    const ours = startKubeForward(env, SCALE_NS, 'p7');
    groups.push({ key: 'kube-forward', forwarders: [ours], scale: 1 });
    const ourReach = await reachAll(ours, services, 90_000);
    if (env.kubefwd) {
      const kubefwd = startKubefwd(env, SCALE_NS, 'p7');
      groups.push({ key: 'kubefwd', forwarders: [kubefwd], scale: 1 });
      const theirs = await reachAll(kubefwd, services, 90_000);
      log(`P7 set-up: Kube Forward ${ourReach.answered}/${count} answer, kubefwd ${theirs.answered}/${count}`);
    }
    const picked = services.slice(0, sample);
    for (const [key, mode] of [['kubectl-ws', 'ws'], ['client-node', '']] as const) {
      const list: Forwarder[] = [];
      groups.push({ key, forwarders: list, scale: count / picked.length });
      let i = 0;
      for (const pod of picked) {
        const ip = `127.5.${key === 'kubectl-ws' ? 1 : 2}.${++i}`;
        list.push(key === 'kubectl-ws' ? await startKubectl(env, mode as 'ws', SCALE_NS, pod, 8080, ip) : await startClientNode(env, SCALE_NS, pod, 8080, ip));
      }
      await Promise.all(list.map((f) => answers(f.endpoints.get('pod')!)));
    }
    // Let start-up work (JIT, GC, pools) settle before the idle window.
    await new Promise((r) => setTimeout(r, 5000));
    const cpu0 = groups.map((g) => g.forwarders.reduce((a, f) => a + usage(f).cpuMs, 0));
    const t0 = performance.now();
    log(`P7: idle for ${seconds} s (RSS sampled every 5 s)`);
    // RSS moves with garbage collection while idle: sampled through the window, median and range.
    const samples = groups.map(() => [] as number[]);
    for (let t = 5; t <= seconds; t += 5) {
      await new Promise((r) => setTimeout(r, Math.max(0, t0 + t * 1000 - performance.now())));
      groups.forEach((g, i) => samples[i]!.push(g.forwarders.reduce((a, f) => a + usage(f).rss, 0) * g.scale / MB));
    }
    const elapsed = performance.now() - t0;
    groups.forEach((g, i) => {
      const cpu = g.forwarders.reduce((a, f) => a + usage(f).cpuMs, 0) - cpu0[i]!;
      const alive = g.forwarders.filter((f) => f.alive()).length;
      for (const rss of samples[i]!) results.add('P7.rssMB', g.key, rss);
      results.add('P7.cpuPct', g.key, ((cpu * g.scale) / elapsed) * 100);
      if (g.scale !== 1) {
        const note = `(${g.forwarders.length} processes measured, ×${g.scale})`;
        results.note('P7.rssMB', g.key, note);
        results.note('P7.cpuPct', g.key, note);
      }
      const rss = samples[i]!;
      log(`P7 ${g.key}: RSS ${Math.min(...rss).toFixed(0)}–${Math.max(...rss).toFixed(0)} MB, CPU ${(((cpu * g.scale) / elapsed) * 100).toFixed(2)}% (${alive}/${g.forwarders.length} processes alive${g.scale !== 1 ? `, scaled ×${g.scale}` : ''})`);
    });
  } finally {
    await Promise.all(groups.flatMap((g) => g.forwarders.map((f) => f.stop())));
  }
}
