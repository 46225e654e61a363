import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { KubernetesObject } from '@kubernetes/client-node';
import { WatchedCollection } from '../../../sidecar/src/discovery/watch';
import { kubectl } from '../../cluster/kubectl';
import { waitFor } from '../../cluster/wait';
import { kubeConfig } from '../tunnel/cluster';

/**
 * The sidecar's own list+watch cache against the real API server: the first list, adds, updates
 * and deletes as they happen, watches the server ends (every second here) resumed from the last
 * resourceVersion without replaying or losing anything, and a failed first list reported.
 */
interface ConfigMap extends KubernetesObject { data?: Record<string, string> }

const prefix = `watch-e2e-${process.pid}`;

describe('list+watch cache (e2e)', () => {
  const collections: WatchedCollection<ConfigMap>[] = [];
  after(async () => {
    await Promise.all(collections.map((c) => c.stop()));
    await kubectl(['delete', 'configmap', '-n', 'demo', '-l', `test=${prefix}`, '--ignore-not-found'], { context: 'admin' });
  });

  it('lists, then follows adds, updates and deletes across watches the server ends', { timeout: 120_000 }, async () => {
    await kubectl(['create', 'configmap', `${prefix}-a`, '-n', 'demo', '--from-literal=v=1'], { context: 'admin' });
    await kubectl(['label', 'configmap', `${prefix}-a`, '-n', 'demo', `test=${prefix}`], { context: 'admin' });
    const changes: string[] = [];
    const c = new WatchedCollection<ConfigMap>(kubeConfig('admin'), '/api/v1/namespaces/demo/configmaps',
      { onChange: (kind, o) => changes.push(`${kind} ${o.metadata?.name} ${o.data?.v ?? ''}`) }, `test=${prefix}`, undefined, 1);
    collections.push(c);
    await c.synced;
    assert.deepEqual(c.list().map((o) => o.metadata?.name), [`${prefix}-a`]);
    assert.deepEqual(changes, [`add ${prefix}-a 1`]);

    // Each step waits past a watch's end (1 s), so each is seen by a resumed watch.
    const step = async (args: string[], expect: string) => {
      await new Promise((r) => setTimeout(r, 1500));
      await kubectl([...args, '-n', 'demo'], { context: 'admin' });
      await waitFor(expect, () => changes.includes(expect), 20_000, 20);
    };
    await kubectl(['create', 'configmap', `${prefix}-b`, '--from-literal=v=2', '-n', 'demo'], { context: 'admin' });
    await step(['label', 'configmap', `${prefix}-b`, `test=${prefix}`], `add ${prefix}-b 2`);
    assert.ok(c.get(`${prefix}-b`, 'demo'), 'b is in the cache once it carries the label');
    await step(['patch', 'configmap', `${prefix}-a`, '--type=merge', '-p', '{"data":{"v":"3"}}'], `update ${prefix}-a 3`);
    await step(['delete', 'configmap', `${prefix}-a`], `delete ${prefix}-a 3`);
    await new Promise((r) => setTimeout(r, 2500));
    assert.deepEqual(changes, [`add ${prefix}-a 1`, `add ${prefix}-b 2`, `update ${prefix}-a 3`, `delete ${prefix}-a 3`],
      'every change once, none replayed by a resumed watch');
    assert.deepEqual(c.list().map((o) => o.metadata?.name), [`${prefix}-b`]);
  });

  it('rejects its start when the first list is refused, and stops', async () => {
    const c = new WatchedCollection<ConfigMap>(kubeConfig('restricted'), '/api/v1/namespaces/demo/configmaps', { onChange: () => undefined });
    collections.push(c);
    await assert.rejects(c.synced, (error: { code?: number; body?: string }) => error.code === 403 && /forbidden/i.test(error.body ?? ''));
  });
});
