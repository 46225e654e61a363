import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planService } from '../../../sidecar/src/forward/plan';
import { pod, service, slice } from '../../helpers/builders';

const web = service('web').port(80, 'http').build();
const webPods = [pod('web-1').labels({ app: 'web' }).startedAt(1).build(), pod('web-2').labels({ app: 'web' }).startedAt(2).build()];

describe('service plans', () => {
  it('forwards a normal service to one pod', () => {
    const plan = planService(web, webPods, []);
    assert.equal(plan.kind, 'forward');
    assert.ok(plan.kind === 'forward' && !plan.headless);
    assert.deepEqual(plan.units.map((u) => [u.key, u.pod?.metadata?.name, u.answersForService]), [['web', 'web-1', true]]);
  });

  it('waits with a reason when no pod is ready', () => {
    const plan = planService(web, [pod('web-1').labels({ app: 'web' }).unready().build()], []);
    assert.ok(plan.kind === 'forward');
    assert.equal(plan.units[0]?.pod, undefined);
    assert.match(plan.waiting ?? '', /not ready/);
  });

  it('forwards every ready pod of a headless service, the first also under the service name', () => {
    const db = service('db').headless().port(5432).build();
    const pods = ['db-10', 'db-2', 'db-1'].map((n) => pod(n).labels({ app: 'db' }).build());
    const plan = planService(db, pods, []);
    assert.ok(plan.kind === 'forward' && plan.headless);
    assert.deepEqual(plan.units.map((u) => [u.key, u.answersForService]), [['db-1', true], ['db-2', false], ['db-10', false]]);
  });

  it('keeps an unready headless pod as a waiting unit and gives the service name to a ready one', () => {
    const db = service('db').headless().port(5432).build();
    const pods = [pod('db-0').labels({ app: 'db' }).unready().build(), pod('db-1').labels({ app: 'db' }).build(),
      pod('db-2').labels({ app: 'db' }).phase('Succeeded').build()];
    const plan = planService(db, pods, []);
    assert.ok(plan.kind === 'forward');
    assert.deepEqual(plan.units.map((u) => [u.key, u.pod?.metadata?.name, u.answersForService]),
      [['db-0', undefined, false], ['db-1', 'db-1', true]]);
  });

  it('follows EndpointSlice targetRefs for a service without a selector', () => {
    const legacy = service('legacy').selector(undefined).port(5432).build();
    const pods = [pod('db-0').labels({ app: 'db' }).build(), pod('db-1').labels({ app: 'db' }).build()];
    const plan = planService(legacy, pods, [slice('legacy', ['db-1'])]);
    assert.ok(plan.kind === 'forward');
    assert.equal(plan.units[0]?.pod?.metadata?.name, 'db-1');
  });

  it('skips ExternalName and UDP-only services with a reason', () => {
    const ext = planService(service('ext').externalName('db.example.invalid').build(), [], []);
    assert.ok(ext.kind === 'skip');
    assert.match(ext.reason, /ExternalName/);
    const udp = planService(service('dns').port(53, 53, 'UDP').build(), [], []);
    assert.ok(udp.kind === 'skip');
    assert.match(udp.reason, /UDP/);
  });
});
