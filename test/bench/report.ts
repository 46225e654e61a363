import { LABELS, type Key } from './contenders';

/** Figures of the benchmark: runs per metric and contender, medians, ratios, targets, tables. */

export const ORDER: Key[] = ['kube-forward', 'kubectl-ws', 'kubectl-spdy', 'kubefwd', 'client-node', 'direct'];
const PEERS: Key[] = ['kubectl-ws', 'kubectl-spdy', 'kubefwd', 'client-node'];

export interface Series {
  runs: number[];
  median: number;
  min: number;
  max: number;
  /** Shown instead of (or after) the figure, e.g. "cannot heal" or "×10 of 20 measured". */
  note?: string;
}

export interface MetricDef {
  id: string;
  row: string;
  label: string;
  unit: string;
  better: 'higher' | 'lower';
  digits: number;
}

export interface Metric extends MetricDef {
  values: Partial<Record<Key, Series>>;
  /** Each contender's median ÷ kubectl's (default WebSocket mode) and ÷ kubefwd's. */
  ratios: Partial<Record<Key, { vsKubectl?: number; vsKubefwd?: number }>>;
}

export interface Target {
  row: string;
  goal: string;
  /** undefined: not measured in this run. */
  met: boolean | undefined;
  detail: string;
}

const median = (xs: number[]): number => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

export class Results {
  private readonly defs = new Map<string, MetricDef>();
  private readonly runs = new Map<string, Map<Key, number[]>>();
  private readonly notes = new Map<string, Map<Key, string>>();

  define(def: MetricDef): void {
    this.defs.set(def.id, def);
  }

  add(id: string, key: Key, value: number): void {
    if (!this.defs.has(id)) throw new Error(`metric ${id} is not defined`);
    const byKey = this.runs.get(id) ?? new Map<Key, number[]>();
    this.runs.set(id, byKey);
    byKey.set(key, [...(byKey.get(key) ?? []), value]);
  }

  note(id: string, key: Key, text: string): void {
    const byKey = this.notes.get(id) ?? new Map<Key, string>();
    this.notes.set(id, byKey);
    byKey.set(key, text);
  }

  metrics(): Metric[] {
    const out: Metric[] = [];
    for (const def of this.defs.values()) {
      const values: Partial<Record<Key, Series>> = {};
      for (const key of ORDER) {
        const runs = this.runs.get(def.id)?.get(key);
        const note = this.notes.get(def.id)?.get(key);
        if (!runs && !note) continue;
        const finite = (runs ?? []).filter(Number.isFinite);
        values[key] = {
          runs: runs ?? [],
          median: median(runs ?? []),
          min: finite.length ? Math.min(...finite) : NaN,
          max: finite.length ? Math.max(...finite) : NaN,
          ...(note ? { note } : {}),
        };
      }
      if (Object.keys(values).length === 0) continue;
      const ratios: Metric['ratios'] = {};
      const ref = (k: Key) => values[k]?.median;
      for (const key of ORDER) {
        const v = ref(key);
        if (v === undefined || !Number.isFinite(v)) continue;
        const k = ref('kubectl-ws');
        const f = ref('kubefwd');
        ratios[key] = {
          ...(k !== undefined && Number.isFinite(k) && k !== 0 ? { vsKubectl: v / k } : {}),
          ...(f !== undefined && Number.isFinite(f) && f !== 0 ? { vsKubefwd: v / f } : {}),
        };
      }
      out.push({ ...def, values, ratios });
    }
    return out;
  }
}

// ---- targets ------------------------------------------------------------------------------------

function med(metrics: Metric[], id: string, key: Key): number | undefined {
  const v = metrics.find((m) => m.id === id)?.values[key]?.median;
  return v !== undefined && Number.isFinite(v) ? v : undefined;
}

function best(metrics: Metric[], id: string, keys: Key[], better: 'higher' | 'lower'): { key: Key; value: number } | undefined {
  const found = keys.map((key) => ({ key, value: med(metrics, id, key) })).filter((x): x is { key: Key; value: number } => x.value !== undefined);
  if (found.length === 0) return undefined;
  return found.reduce((a, b) => ((better === 'higher' ? b.value > a.value : b.value < a.value) ? b : a));
}

const f = (x: number, d = 0) => x.toFixed(d);

/** Kube Forward's targets from the issue, judged on medians. */
export function judge(metrics: Metric[]): Target[] {
  const kf = (id: string) => med(metrics, id, 'kube-forward');
  const targets: Target[] = [];
  const add = (row: string, goal: string, check: () => { met: boolean; detail: string } | undefined) => {
    const r = check();
    targets.push({ row, goal, met: r?.met, detail: r?.detail ?? 'not measured in this run' });
  };
  add('P1', '≥ 1.25× the better of kubectl (either mode) and kubefwd', () => {
    const ours = kf('P1.mbps');
    const peer = best(metrics, 'P1.mbps', ['kubectl-ws', 'kubectl-spdy', 'kubefwd'], 'higher');
    if (ours === undefined || !peer) return undefined;
    return { met: ours >= 1.25 * peer.value, detail: `${f(ours)} MB/s vs ${LABELS[peer.key]} ${f(peer.value)} MB/s = ${f(ours / peer.value, 2)}×` };
  });
  add('P2', 'p50 ≤ 0.5× kubectl', () => {
    const ours = kf('P2.p50');
    const k = med(metrics, 'P2.p50', 'kubectl-ws');
    if (ours === undefined || k === undefined) return undefined;
    return { met: ours <= 0.5 * k, detail: `${f(ours, 2)} ms vs kubectl ${f(k, 2)} ms = ${f(ours / k, 2)}×` };
  });
  add('P3', '≥ 2× kubectl requests/s with 0 errors', () => {
    const ours = kf('P3.rps');
    const k = med(metrics, 'P3.rps', 'kubectl-ws');
    const errors = metrics.find((m) => m.id === 'P3.errors')?.values['kube-forward']?.runs.reduce((a, b) => a + b, 0);
    if (ours === undefined || k === undefined) return undefined;
    return { met: ours >= 2 * k && errors === 0, detail: `${f(ours)} req/s vs kubectl ${f(k)} = ${f(ours / k, 2)}×; ${errors ?? '?'} errors over all runs` };
  });
  add('P4', '≥ the best peer with 0 errors', () => {
    const ours = kf('P4.mbps');
    const peer = best(metrics, 'P4.mbps', PEERS, 'higher');
    const errors = metrics.find((m) => m.id === 'P4.errors')?.values['kube-forward']?.runs.reduce((a, b) => a + b, 0);
    if (ours === undefined || !peer) return undefined;
    return { met: ours >= peer.value && errors === 0, detail: `${f(ours)} MB/s vs ${LABELS[peer.key]} ${f(peer.value)} MB/s = ${f(ours / peer.value, 2)}×; ${errors ?? '?'} errors` };
  });
  add('P5', 'all 200 services answer ≤ 5 s after start', () => {
    const ours = kf('P5.seconds');
    if (ours === undefined) return undefined;
    const k = med(metrics, 'P5.seconds', 'kubefwd');
    return { met: ours <= 5, detail: `${f(ours, 2)} s${k !== undefined ? ` (kubefwd ${f(k, 2)} s)` : ''}` };
  });
  add('P6', 'heal ≤ 1 s and no more failed requests than kubefwd', () => {
    const ours = kf('P6.healMs');
    const failed = kf('P6.failed');
    const kFailed = med(metrics, 'P6.failed', 'kubefwd');
    if (ours === undefined || failed === undefined) return undefined;
    const kHeal = med(metrics, 'P6.healMs', 'kubefwd');
    return { met: ours <= 1000 && (kFailed === undefined || failed <= kFailed),
      detail: `${f(ours)} ms, ${f(failed)} failed (kubefwd ${kHeal !== undefined ? `${f(kHeal)} ms` : 'n/a'}, ${kFailed !== undefined ? f(kFailed) : 'n/a'} failed)` };
  });
  add('P7', '≤ 120 MB RSS and near-zero idle CPU (≤ 1% of a core)', () => {
    const rss = kf('P7.rssMB');
    const cpu = kf('P7.cpuPct');
    if (rss === undefined || cpu === undefined) return undefined;
    const max = metrics.find((m) => m.id === 'P7.rssMB')?.values['kube-forward']?.max;
    return { met: rss <= 120 && cpu <= 1, detail: `${f(rss)} MB median RSS${max !== undefined ? ` (max ${f(max)})` : ''}, ${f(cpu, 2)}% CPU` };
  });
  return targets;
}

// ---- tables -------------------------------------------------------------------------------------

function figure(x: number, digits: number): string {
  if (!Number.isFinite(x)) return '—';
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function cell(s: Series | undefined, digits: number): string {
  if (!s) return '';
  const finite = s.runs.filter(Number.isFinite);
  let text = finite.length === 0 ? '' : finite.length === 1 || s.min === s.max ? figure(s.median, digits)
    : `${figure(s.median, digits)} (${figure(s.min, digits)}–${figure(s.max, digits)})`;
  if (s.note) text = text ? `${text} ${s.note}` : s.note;
  return text || '—';
}

const ratio = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '' : `${x >= 10 ? x.toFixed(0) : x.toFixed(2)}×`);

function row(cells: string[]): string {
  return `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
}

/** Figures: medians with (min–max) over the runs, and Kube Forward's ratios. */
export function figuresTable(metrics: Metric[]): string {
  const keys = ORDER.filter((k) => metrics.some((m) => m.values[k]));
  const lines = [
    row(['Row', 'Metric', ...keys.map((k) => LABELS[k]), 'KF ÷ kubectl', 'KF ÷ kubefwd']),
    row(['---', '---', ...keys.map(() => '---:'), '---:', '---:']),
  ];
  for (const m of metrics) {
    const r = m.ratios['kube-forward'];
    lines.push(row([m.row, `${m.label} (${m.unit}, ${m.better} is better)`, ...keys.map((k) => cell(m.values[k], m.digits)), ratio(r?.vsKubectl), ratio(r?.vsKubefwd)]));
  }
  return lines.join('\n');
}

/** Every contender's median ÷ kubectl's (WebSocket) and ÷ kubefwd's. */
export function ratiosTable(metrics: Metric[]): string {
  const keys = ORDER.filter((k) => k !== 'kubectl-ws' && metrics.some((m) => m.ratios[k]));
  const lines = [row(['Row', 'Metric', ...keys.map((k) => `${LABELS[k]} ÷ kubectl / ÷ kubefwd`)]), row(['---', '---', ...keys.map(() => '---:')])];
  for (const m of metrics) {
    if (m.unit === 'count') continue;
    lines.push(row([m.row, m.label, ...keys.map((k) => {
      const r = m.ratios[k];
      if (!r) return '';
      return [ratio(r.vsKubectl) || '—', k === 'kubefwd' ? '1×' : ratio(r.vsKubefwd) || '—'].join(' / ');
    })]));
  }
  return lines.join('\n');
}

export function targetsTable(targets: Target[]): string {
  const lines = [row(['Row', 'Target for Kube Forward', 'Result', 'Measured']), row(['---', '---', '---', '---'])];
  for (const t of targets) lines.push(row([t.row, t.goal, t.met === undefined ? 'not run' : t.met ? 'met' : '**missed**', t.detail]));
  return lines.join('\n');
}
