import * as fs from 'node:fs';
import { kubectl } from '../cluster/kubectl';
import { PodWatch, rolloutDone } from '../e2e/engine/cluster';
import { parseHostsNames } from '../helpers/sidecar';
import { startClientNode, startKubectl, usage, type Endpoint, type Env, type Forwarder, type Key } from './contenders';
import { podOf, request } from './http';
import type { Results } from './report';
import { answers } from './rows';
import { NAMESPACE, onePod } from './workloads';

/**
 * P6: `kubectl rollout restart deployment/heal` while a client polls each contender every 50 ms
 * over fresh connections. Namespace forwarders are reached by name, resolved through the hosts
 * file each forwarder writes, on every request (as glibc reads /etc/hosts on every lookup):
 * kubefwd moves a service to a new IP when its pod changes and only its names follow.
 * Heal time: from the moment the watch (in this process) saw the new pod Ready to the end of the
 * first request that pod answered. Failed requests: over the whole window, from the restart until
 * 2 s after the old pod is gone. kubectl port-forward and client-node's PortForward are bound to
 * one pod: they are run too, to show that they do not heal.
 */

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Sample {
  start: number;
  end: number;
  pod?: string;
  error?: string;
}

/** GET / every `everyMs` over a fresh connection to wherever `resolve` points at that moment. */
class Poller {
  readonly samples: Sample[] = [];
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(private readonly resolve: () => Endpoint | undefined, private readonly everyMs = 50) {}

  start(): void {
    this.loop = (async () => {
      while (!this.stopped) {
        const start = Date.now();
        const at = this.resolve();
        if (!at) this.samples.push({ start, end: Date.now(), error: 'no hosts entry' });
        else {
          const o = await request({ ...at, path: '/', timeoutMs: 1000 });
          const pod = o.ok ? podOf(o) : undefined;
          this.samples.push(pod ? { start, end: Date.now(), pod } : { start, end: Date.now(), error: o.error ?? 'no pod named' });
        }
        const rest = start + this.everyMs - Date.now();
        if (rest > 0) await wait(rest);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  since(t: number): Sample[] {
    return this.samples.filter((s) => s.start >= t);
  }
}

/** `name`'s address in a hosts file, read now. */
function byName(hostsPath: string, name: string, port: number): () => Endpoint | undefined {
  return () => {
    try {
      const ip = parseHostsNames(fs.readFileSync(hostsPath, 'latin1')).get(name)?.[0];
      return ip ? { host: ip, port } : undefined;
    } catch {
      return undefined;
    }
  };
}

async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await wait(20);
}

/** Runs P6 `reps` times; resolves with remarks for the report. */
export async function p6(results: Results, env: Env, namespaceForwarders: Forwarder[], reps: number, log: (l: string) => void): Promise<string[]> {
  const remarks = new Set<string>();
  results.define({ id: 'P6.healMs', row: 'P6', label: 'rollout restart: new pod Ready → first answer from it', unit: 'ms', better: 'lower', digits: 0 });
  results.define({ id: 'P6.afterDeleteMs', row: 'P6', label: 'rollout restart: old pod deleted → first answer from the new pod', unit: 'ms', better: 'lower', digits: 0 });
  results.define({ id: 'P6.failed', row: 'P6', label: 'failed requests (polling every 50 ms)', unit: 'count', better: 'lower', digits: 0 });
  results.define({ id: 'P6.cpu', row: 'P6', label: 'forwarder CPU during the rollout window', unit: 's', better: 'lower', digits: 2 });
  const neverHealed = new Map<Key, string>();
  for (let rep = 0; rep < reps; rep++) {
    const old = await onePod('heal');
    const pinned: Forwarder[] = [
      await startKubectl(env, 'ws', NAMESPACE, old, 8080, '127.5.0.20'),
      await startClientNode(env, NAMESPACE, old, 8080, '127.5.0.21'),
    ];
    const subjects = [
      ...namespaceForwarders.map((f) => ({ f, resolve: byName(f.hostsPath!, 'heal', 80) })),
      ...pinned.map((f) => ({ f, resolve: () => f.endpoints.get('pod') })),
    ];
    const watch = await PodWatch.start(NAMESPACE, 'app=heal');
    const pollers = subjects.map((s) => new Poller(s.resolve));
    try {
      for (const s of subjects) await answers(s.resolve()!);
      pollers.forEach((p) => p.start());
      await until(() => pollers.every((p) => p.samples.some((x) => x.pod)), 10_000);
      const cpu0 = subjects.map((s) => usage(s.f).cpuMs);
      const t0 = Date.now();
      await kubectl(['rollout', 'restart', 'deployment/heal', '-n', NAMESPACE], { context: 'admin' });
      // Until every namespace forwarder was answered by a new pod (or 30 s), then the rollout's end.
      await until(() => pollers.slice(0, namespaceForwarders.length).every((p) => p.since(t0).some((x) => x.pod && x.pod !== old)), 30_000);
      await rolloutDone('heal', NAMESPACE);
      // The window closes 2 s after the old pod is gone (its streams are cut at deletion).
      const goneBy = Date.now() + 30_000;
      while (Date.now() < goneBy && (await kubectl(['get', 'pod', old, '-n', NAMESPACE, '--ignore-not-found', '-o', 'name'], { context: 'admin' })).trim()) await wait(100);
      const objectGoneAt = Date.now();
      await wait(2000);
      await Promise.all(pollers.map((p) => p.stop()));
      const goneAt = watch.deletingAt.get(old);
      subjects.forEach((s, i) => {
        const samples = pollers[i]!.since(t0);
        const failed = samples.filter((x) => x.error).length;
        const first = samples.find((x) => x.pod && x.pod !== old);
        const readyAt = first?.pod ? watch.readyAt.get(first.pod) : undefined;
        const errors = [...new Set(samples.map((x) => x.error).filter(Boolean))].slice(0, 3).join('; ');
        results.add('P6.failed', s.f.key, failed);
        if (s.f.pids.length) results.add('P6.cpu', s.f.key, (usage(s.f).cpuMs - cpu0[i]!) / 1000);
        if (first && readyAt !== undefined) {
          results.add('P6.healMs', s.f.key, first.end - readyAt);
          if (goneAt !== undefined) results.add('P6.afterDeleteMs', s.f.key, first.end - goneAt);
          log(`P6 ${s.f.key}: new pod ${first.pod} Ready → first answer ${first.end - readyAt} ms; old pod deleted → ${goneAt !== undefined ? first.end - goneAt : '?'} ms; ${failed}/${samples.length} requests failed${errors ? ` (${errors})` : ''}`);
        } else {
          // The fake node forgets a deleted pod's UID once the object is gone and then serves new
          // streams on a connection opened before (a real kubelet has no sandbox left to dial).
          const zombie = samples.filter((x) => x.pod === old && x.start > objectGoneAt).length;
          if (zombie > 0) {
            remarks.add('P6: on this fake node a port-forward connection opened before a pod\'s deletion keeps answering from that pod once its object is gone '
              + '(test/cluster/fakenode forgets the UID, so new streams are served again); kubectl and client-node therefore show few failures there. '
              + 'With a real kubelet they fail or exit once the sandbox is gone. Either way they never reach the new pod.');
          }
          neverHealed.set(s.f.key, !s.f.alive() ? 'cannot heal (exits when its pod goes)'
            : zombie > 0 ? 'cannot heal (bound to one pod; here it kept answering from the deleted pod, see notes)' : 'cannot heal (bound to one pod)');
          log(`P6 ${s.f.key}: never answered from the new pod${s.f.alive() ? '' : ' (process exited)'}; ${failed}/${samples.length} requests failed${errors ? `: ${errors}` : ''}`
            + `${zombie > 0 ? `; ${zombie} answers came from the deleted pod ${old} after its object was gone (fake-node artifact)` : ''}`);
          const last = s.f.output().trim().split('\n').filter((l) => /lost connection|error|fail/i.test(l)).at(-1);
          if (last) log(`   its last words: ${last.slice(0, 200)}`);
        }
      });
    } finally {
      watch.stop();
      await Promise.all(pollers.map((p) => p.stop()));
      await Promise.all(pinned.map((f) => f.stop()));
    }
  }
  for (const [key, note] of neverHealed) results.note('P6.healMs', key, note);
  return [...remarks];
}
