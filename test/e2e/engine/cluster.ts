import * as net from 'node:net';
import { KubeConfig, Watch } from '@kubernetes/client-node';
import { kubectl, kubectlJson } from '../../cluster/kubectl';
import { requireState } from '../../cluster/state';
import { httpGet } from '../../helpers/net';
import { pause } from '../../helpers/sidecar';

/** What the engine tests ask the test cluster, and clients that say which pod answered. */

interface PodJson {
  metadata: { name: string; deletionTimestamp?: string; ownerReferences?: { kind: string; name: string }[]; labels?: Record<string, string> };
  status: { phase?: string; conditions?: { type: string; status: string }[] };
}

const isReady = (p: PodJson) => p.status.phase === 'Running' && !p.metadata.deletionTimestamp
  && (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/** Running, Ready pods (not being deleted) of a Deployment: owned by one of its ReplicaSets. */
export async function deploymentPods(deployment: string, namespace = 'demo', context = 'admin'): Promise<string[]> {
  const rs = await kubectlJson<{ items: { metadata: { name: string; ownerReferences?: { kind: string; name: string }[] } }[] }>(
    ['get', 'replicasets', '-n', namespace], { context });
  const sets = new Set(rs.items.filter((r) => r.metadata.ownerReferences?.some((o) => o.kind === 'Deployment' && o.name === deployment)).map((r) => r.metadata.name));
  const pods = await kubectlJson<{ items: PodJson[] }>(['get', 'pods', '-n', namespace], { context });
  return pods.items.filter((p) => isReady(p) && p.metadata.ownerReferences?.some((o) => o.kind === 'ReplicaSet' && sets.has(o.name)))
    .map((p) => p.metadata.name).sort();
}

/** Every pod name of a namespace (any phase). */
export async function allPods(namespace = 'demo', context = 'admin'): Promise<string[]> {
  const pods = await kubectlJson<{ items: PodJson[] }>(['get', 'pods', '-n', namespace], { context });
  return pods.items.map((p) => p.metadata.name).sort();
}

export async function contextNames(): Promise<string[]> {
  return (await kubectl(['config', 'get-contexts', '-o', 'name'])).split('\n').map((s) => s.trim()).filter(Boolean).sort();
}

/** Waits until a Deployment's rollout is complete (its old pods gone as far as the API says). */
export async function rolloutDone(deployment: string, namespace = 'demo', context = 'admin'): Promise<void> {
  await kubectl(['rollout', 'status', `deployment/${deployment}`, '-n', namespace, '--timeout=120s'], { context, timeoutMs: 130_000 });
}

export function kubeConfig(context = 'admin'): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(requireState().kubeconfig);
  kc.setCurrentContext(context);
  return kc;
}

/**
 * Watches a namespace's pods and notes, in this process's clock, when each became Ready and when
 * each got a deletion timestamp (or vanished): the reference points of heal times.
 */
export class PodWatch {
  readonly readyAt = new Map<string, number>();
  readonly deletingAt = new Map<string, number>();
  private abort: AbortController | undefined;

  static async start(namespace: string, labelSelector: string, context = 'admin'): Promise<PodWatch> {
    const w = new PodWatch();
    w.abort = await new Watch(kubeConfig(context)).watch(`/api/v1/namespaces/${namespace}/pods`, { labelSelector },
      (type: string, pod: PodJson) => {
        const name = pod.metadata.name;
        const now = Date.now();
        if (type === 'DELETED' || pod.metadata.deletionTimestamp) {
          if (!w.deletingAt.has(name)) w.deletingAt.set(name, now);
        } else if (isReady(pod) && !w.readyAt.has(name)) {
          w.readyAt.set(name, now);
        }
      },
      () => undefined);
    return w;
  }

  stop(): void {
    this.abort?.abort();
  }
}

export interface Sample {
  /** When the request was started and when its answer (or failure) came. */
  start: number;
  end: number;
  pod?: string;
  error?: string;
}

/** Sends a GET over a fresh connection every `everyMs` and records which pod answered. */
export class HttpPoller {
  readonly samples: Sample[] = [];
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly url: string, private readonly everyMs = 50, private readonly timeoutMs = 1000) {}

  start(): this {
    this.loop = (async () => {
      while (!this.stopped) {
        const start = Date.now();
        try {
          const response = await httpGet(this.url, this.timeoutMs);
          const pod = response.status === 200 ? (JSON.parse(response.body) as { pod?: string }).pod : undefined;
          this.samples.push(pod ? { start, end: Date.now(), pod } : { start, end: Date.now(), error: `HTTP ${response.status}` });
        } catch (error) {
          this.samples.push({ start, end: Date.now(), error: error instanceof Error ? error.message : String(error) });
        }
        const wait = start + this.everyMs - Date.now();
        if (wait > 0) await pause(wait);
      }
    })();
    return this;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  since(t: number): Sample[] {
    return this.samples.filter((s) => s.start >= t);
  }

  /** The longest time between two successful answers after `t`, and the failures after `t`. */
  gap(t: number): { longestMs: number; failures: number } {
    const after = this.since(t);
    let last = t;
    let longestMs = 0;
    for (const s of after) {
      if (s.pod) {
        longestMs = Math.max(longestMs, s.end - last);
        last = s.end;
      }
    }
    return { longestMs, failures: after.filter((s) => s.error).length };
  }
}

/** GET / of the HTTP backend: {pod, namespace, port}. */
export async function whoAnswers(url: string, timeoutMs = 5000): Promise<{ pod: string; namespace: string; port: number }> {
  const response = await httpGet(url, timeoutMs);
  if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}: ${response.body}`);
  return JSON.parse(response.body) as { pod: string; namespace: string; port: number };
}

/** The responder backend's greeting line `pod=NS/NAME port=N`, parsed. */
export function greeting(host: string, port: number, timeoutMs = 5000): Promise<{ namespace: string; pod: string; port: number }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, host);
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no greeting from ${host}:${port} within ${timeoutMs} ms (got ${JSON.stringify(data)})`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      data += chunk;
      const m = /^pod=([^/\s]+)\/(\S+) port=(\d+)\n/.exec(data);
      if (m) {
        clearTimeout(timer);
        socket.destroy();
        resolve({ namespace: m[1] ?? '', pod: m[2] ?? '', port: Number(m[3]) });
      } else if (data.includes('\n')) {
        clearTimeout(timer);
        socket.destroy();
        reject(new Error(`${host}:${port} greeted ${JSON.stringify(data)}`));
      }
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('end', () => {
      clearTimeout(timer);
      reject(new Error(`${host}:${port} closed before a greeting (got ${JSON.stringify(data)})`));
    });
  });
}
