/**
 * `npm run bench` (test/bench/bench.sh starts the cluster and runs this): Kube Forward against
 * kubectl port-forward (WebSocket and SPDY), kubefwd, client-node's PortForward and direct TCP,
 * all through the same API server and fake node to the same backend. Prints tables and writes
 * .bench/latest.json.
 *   node out/test/bench/main.js [--quick] [--rows P1,P2,…] [--reps N] [--cpu-prof] [--out FILE]
 * Needs KF_CLUSTER_DIR's cluster up, KF_KUBEFWD (kubefwd binary; absent → kubefwd skipped), and
 * WRK (wrk binary; absent → the Node load generator for P3). KF_BENCH_SIDECAR (another bundle) and
 * KF_BENCH_NODE_FLAGS (flags for the sidecar's node) measure variants of the sidecar.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../cluster/paths';
import { requireState } from '../cluster/state';
import { kubectlJson } from '../cluster/kubectl';
import { bundle, direct, started as allForwarders, startClientNode, startKubectl, startKubefwd, startKubeForward, type Env, type Forwarder } from './contenders';
import { p6 } from './heal';
import { request } from './http';
import { machineLoad } from './proc';
import { figuresTable, judge, ratiosTable, Results, targetsTable } from './report';
import { answers, p1, p2, p3, p4, type Contender, type RowContext } from './rows';
import { defineP5, p5Once, p7, SCALE_NS, serviceNames } from './scale';
import { applyBench, createScale, NAMESPACE, onePod } from './workloads';

const t0 = Date.now();
const log = (line: string) => process.stderr.write(`[bench +${((Date.now() - t0) / 1000).toFixed(0).padStart(3)}s] ${line}\n`);
const ALL_ROWS = ['P1', 'P2', 'P3', 'P4', 'P5', 'P6', 'P7'];

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rows: { type: 'string' },
    reps: { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    out: { type: 'string', default: path.join(repoRoot, '.bench', 'latest.json') },
    count: { type: 'string', default: '200' },
  },
});
const quick = values.quick;
const rows = new Set((values.rows ?? (quick ? 'P1,P2,P5' : ALL_ROWS.join(','))).split(',').map((r) => r.trim().toUpperCase()));
const reps = Number(values.reps ?? (quick ? 2 : 3));
/** Rows of a few seconds per contender, whose medians one slow phase of the machine can move: more runs. */
const SHORT_ROWS = new Set(['P1', 'P2', 'P4']);
/**
 * Repetitions per row: 5 for P1, P2 and P4, 3 for the others (or --reps for all); quick: once
 * each (P5 alone takes kubefwd 80 s). P7 runs once (60 s of idling).
 */
const repsOf = (row: string): number => (row === 'P7' ? 1 : values.reps !== undefined ? reps : quick ? 1 : SHORT_ROWS.has(row) ? 5 : reps);
const count = Number(values.count);

/** The backend process: prints `listening PORT`; its stdin is ours, so it dies with us. */
async function startBackend(): Promise<{ port: number; pid: number; stop(): void }> {
  const child = spawn(process.execPath, [path.join(__dirname, 'backend.js')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`backend exited (${code})`)));
  });
  return { port, pid: child.pid!, stop: () => child.kill('SIGTERM') };
}

/** Which sidecar build was measured: path, content hash, and the commit checked out. */
function sidecarInfo(): { bundle: string; sha256: string; gitHead: string; dirty: boolean } {
  const git = (args: string[]) => { try { return execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8' }).trim(); } catch { return ''; } };
  return {
    bundle,
    sha256: createHash('sha256').update(fs.readFileSync(bundle)).digest('hex').slice(0, 16),
    gitHead: git(['rev-parse', '--short', 'HEAD']),
    dirty: git(['status', '--porcelain', '--', 'sidecar/src']) !== '',
  };
}

async function ensureScaleNamespace(): Promise<void> {
  const list = await kubectlJson<{ items: unknown[] }>(['get', 'services', '-n', SCALE_NS, '-l', 'kube-forward-scale=true'], { context: 'admin' }).catch(() => ({ items: [] }));
  if (list.items.length === count) return;
  log(`creating ${count} services with pods in namespace ${SCALE_NS}`);
  const started = Date.now();
  await createScale(SCALE_NS, count);
  log(`namespace ${SCALE_NS} ready in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

async function main(): Promise<void> {
  const started = new Date();
  const state = requireState();
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-bench-'));
  // On every exit path (children are killed by test/helpers/process's exit hook).
  process.on('exit', () => fs.rmSync(scratch, { recursive: true, force: true }));
  const profDir = path.join(repoRoot, '.bench', 'prof');
  if (values['cpu-prof']) fs.mkdirSync(profDir, { recursive: true });
  const env: Env = {
    kubeconfig: state.kubeconfig,
    context: 'admin',
    kubectl: state.bins.kubectl,
    ...(process.env.KF_KUBEFWD ? { kubefwd: process.env.KF_KUBEFWD } : {}),
    scratch,
    // KF_BENCH_NODE_FLAGS: V8/Node flags for the sidecar (e.g. --max-semi-space-size=1), to compare.
    sidecarNodeFlags: [...(process.env.KF_BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean),
      ...(values['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [])],
  };
  const wrk = process.env.WRK || undefined;
  const pathPids = state.controlPlanes[0]!.processes.filter((p) => p.name === 'kube-apiserver' || p.name === 'fakenode').map((p) => p.pid);
  const results = new Results();
  const notes: string[] = [];
  let healNotes: string[] = [];
  if (!env.kubefwd) notes.push('kubefwd was not available (see the bench log): its columns are empty.');
  const load0 = machineLoad();
  log(`rows ${[...rows].map((r) => `${r}×${repsOf(r)}`).join(', ')}${quick ? ' (quick)' : ''}; load average ${load0.loadavg.join(' ')}`);

  const backend = await startBackend();
  const forwarders: Forwarder[] = [];
  try {
    await applyBench(backend.port);
    if (rows.has('P5') || rows.has('P7')) await ensureScaleNamespace();

    const dataRows = ['P1', 'P2', 'P3', 'P4'].filter((r) => rows.has(r));
    if (dataRows.length > 0 || rows.has('P6')) {
      const pod = await onePod('bench');
      const ours = startKubeForward(env, NAMESPACE, 'bench');
      forwarders.push(ours);
      const kubefwd = env.kubefwd ? startKubefwd(env, NAMESPACE, 'bench') : undefined;
      if (kubefwd) forwarders.push(kubefwd);
      forwarders.push(await startKubectl(env, 'ws', NAMESPACE, pod, 8080, '127.5.0.1'));
      forwarders.push(await startKubectl(env, 'spdy', NAMESPACE, pod, 8080, '127.5.0.2'));
      forwarders.push(await startClientNode(env, NAMESPACE, pod, 8080, '127.5.0.3'));
      forwarders.push(direct(backend.port));
      const reviveClientNode = async (): Promise<Contender> => {
        const f = await startClientNode(env, NAMESPACE, pod, 8080, '127.5.0.3');
        forwarders.push(f);
        return { f, at: f.endpoints.get('pod')!, revive: reviveClientNode };
      };
      for (const f of [ours, ...(kubefwd ? [kubefwd] : [])]) {
        const deadline = Date.now() + 30_000;
        while (!(f.endpoints.has('bench') && f.endpoints.has('heal')) && f.alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        if (!f.endpoints.has('bench')) throw new Error(`${f.key} did not forward bench.bench; output:\n${f.output().slice(-3000)}`);
      }
      const contenders: Contender[] = forwarders.map((f) => ({ f, at: f.endpoints.get('bench') ?? f.endpoints.get('pod')!,
        ...(f.key === 'client-node' ? { revive: reviveClientNode } : {}) }));
      for (const c of contenders) await answers(c.at);
      log(`contenders: ${contenders.map((c) => `${c.f.key} ${c.at.host}:${c.at.port}`).join(', ')}`);
      const ctx: RowContext = {
        results, contenders, pathPids, reps, log, ...(wrk ? { wrk } : {}),
        backendStats: async () => JSON.parse((await request({ host: '127.0.0.1', port: backend.port, path: '/stats', timeoutMs: 5000 })).head) as { connections: number; requests: number },
      };
      const at = (row: string) => Object.assign(ctx, { reps: repsOf(row) });
      if (rows.has('P1')) await p1(at('P1'), 2 ** 30);
      if (rows.has('P2')) await p2(at('P2'), 1000);
      if (rows.has('P3')) await p3(at('P3'), 50, 10);
      if (rows.has('P4')) await p4(at('P4'), 100, 10e6);
      if (rows.has('P6')) healNotes = await p6(results, env, [ours, ...(kubefwd ? [kubefwd] : [])], repsOf('P6'), log);
      await Promise.all(forwarders.splice(0).map((f) => f.stop()));
    }

    if (rows.has('P5')) {
      defineP5(results, count);
      const services = serviceNames(count);
      for (let rep = 0; rep < repsOf('P5'); rep++) {
        for (const key of rep % 2 ? ['kubefwd', 'kube-forward'] as const : ['kube-forward', 'kubefwd'] as const) {
          if (key === 'kubefwd' && !env.kubefwd) continue;
          await p5Once(results, env, key, services, log, `p5-${rep}`);
        }
      }
    }
    if (rows.has('P7')) await p7(results, env, serviceNames(count), Math.min(20, count), quick ? 20 : 60, log);
  } finally {
    await Promise.all(forwarders.map((f) => f.stop()));
    backend.stop();
  }

  for (const key of ['kube-forward', 'kubefwd'] as const) {
    const runs = allForwarders.filter((f) => f.key === key && f.hostsPath);
    const dirty = runs.filter((f) => (f.leftHosts ?? 0) > 0);
    if (dirty.length > 0) notes.push(`${key} left entries in its hosts file after being stopped (${key === 'kubefwd' ? 'SIGINT' : 'SIGTERM'}) in ${dirty.length} of ${runs.length} runs (up to ${Math.max(...dirty.map((f) => f.leftHosts ?? 0))} lines).`);
  }
  notes.push(...healNotes);
  const metrics = results.metrics();
  const targets = judge(metrics);
  const load1 = machineLoad();
  const meta = {
    date: started.toISOString(),
    seconds: Math.round((Date.now() - started.getTime()) / 1000),
    command: `npm run bench${quick ? ' -- --quick' : ''}`,
    argv: process.argv.slice(2),
    quick,
    rows: [...rows],
    reps: Object.fromEntries([...rows].map((r) => [r, repsOf(r)])),
    machine: { ...load1, loadavgAtStart: load0.loadavg, model: os.cpus()[0]?.model ?? '', kernel: os.release() },
    node: process.version,
    sidecar: { ...sidecarInfo(), nodeFlags: env.sidecarNodeFlags ?? [] },
    p3Tool: wrk ? 'wrk (Debian) with -H "Connection: close"' : 'Node load generator (test/bench/client.ts load)',
    mb: 'MB = 10^6 bytes; MiB = 2^20 bytes',
    notes,
  };
  const figures = figuresTable(metrics);
  const ratios = ratiosTable(metrics);
  const targetText = targetsTable(targets);
  fs.mkdirSync(path.dirname(values.out), { recursive: true });
  fs.writeFileSync(values.out, `${JSON.stringify({ meta, metrics, targets, tables: { figures, ratios, targets: targetText } }, null, 2)}\n`);
  process.stdout.write(`\n## Figures (median (min–max) over runs: ${Object.entries(meta.reps).map(([r, n]) => `${r} ×${n}`).join(', ')}; ${meta.machine.cpus} cores, load average ${load0.loadavg[0]} → ${load1.loadavg[0]})\n\n${figures}\n\n`
    + `## Ratios\n\n${ratios}\n\n## Targets\n\n${targetText}\n\n${notes.map((n) => `- ${n}\n`).join('')}JSON: ${values.out}\n`);
}

process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));
main().then(() => process.exit(0), (error: unknown) => {
  log(`error: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
  process.exit(1);
});
