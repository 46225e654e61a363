import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { kubectl } from '../../cluster/kubectl';
import { waitFor } from '../../cluster/wait';
import { startSidecar, svcArgs, tempHosts, type Sidecar, type TempHosts } from '../../helpers/sidecar';
import { HttpPoller, PodWatch, deploymentPods, rolloutDone, type Sample } from './cluster';

/**
 * Self-healing: a rollout restart and the deletion of the serving pod move web's forward to a
 * new pod without restarting the sidecar, on the same IP. A client polls every 50 ms over fresh
 * connections; the heal time is from the moment a heal was possible (the new pod Ready, and the
 * old serving pod being deleted) to the first request answered by a new pod.
 */

const HEAL_LIMIT_MS = 5000;

describe('web heals without restarting the sidecar', () => {
  let hosts: TempHosts;
  let sidecar: Sidecar;
  let watch: PodWatch;
  let ip: string;

  before(async () => {
    await rolloutDone('web');
    hosts = tempHosts();
    sidecar = startSidecar(svcArgs({ hostsPath: hosts.path }));
    ip = (await sidecar.forward('web.demo.admin')).ip ?? '';
    await waitFor('web in the hosts file', () => hosts.ip('web') === ip, 10_000, 50);
    watch = await PodWatch.start('demo', 'app=web');
  });
  after(async () => {
    watch?.stop();
    await sidecar?.stop();
    hosts?.remove();
    // Leave web as the fixtures have it: two ready replicas.
    await rolloutDone('web');
  });

  /** Polls until a request is answered by a pod outside `old`, and reports the heal. */
  async function measure(what: string, old: string[], serving: string, act: () => Promise<void>): Promise<void> {
    const poller = new HttpPoller(`http://${ip}/`, 50).start();
    try {
      await waitFor('the poller\'s first answer', () => poller.samples.find((s) => s.pod), 10_000, 20);
      const t0 = Date.now();
      await act();
      const first = await waitFor(`a request answered by a pod other than ${old.join(', ')}`,
        () => poller.since(t0).find((s): s is Sample & { pod: string } => !!s.pod && !old.includes(s.pod)), 60_000, 20);
      await rolloutDone('web');
      // Once the rollout is over, every answer must come from a current pod.
      const settled = Date.now();
      await waitFor('5 answers after the rollout', () => poller.since(settled).filter((s) => s.pod).length >= 5, 10_000, 20);
      const current = await deploymentPods('web');
      const late = poller.since(settled).filter((s) => s.pod && !current.includes(s.pod));
      assert.deepEqual(late.map((s) => s.pod), [], `after the rollout answers come from ${current.join(', ')}`);

      const readyAt = watch.readyAt.get(first.pod);
      // The pod that answered last before the new one. In a rollout that is not always `serving`:
      // when the controller deletes the serving pod first, the forward rightly moves to the other
      // old replica (the longest-running ready pod) and reaches a new pod only once that one goes.
      const handover = poller.samples.filter((s) => s.pod && s !== first && s.end <= first.end)
        .reduce<Sample | undefined>((a, s) => (!a || s.end > a.end ? s : a), undefined)?.pod ?? serving;
      assert.ok(handover === serving || old.includes(handover), `the forward moved from ${serving} to ${handover}, one of ${old.join(', ')}`);
      const goneAt = watch.deletingAt.get(handover);
      assert.ok(goneAt !== undefined, `the watch saw ${handover} being deleted`);
      // The heal could start once the answering pod was Ready and the pod it took over from was
      // going away (a pod that was Ready long before, e.g. the other replica, counts from the deletion).
      const from = Math.max(readyAt ?? t0, goneAt < first.end ? goneAt : t0);
      const heal = first.end - from;
      const { longestMs, failures } = poller.gap(t0);
      console.log(`${what}: new pod ${first.pod} Ready → first successful request ${readyAt === undefined ? 'n/a (Ready before the watch)' : `${first.end - readyAt} ms`}; `
        + `serving pod ${handover}${handover !== serving ? ` (after ${serving})` : ''} deleted → first success from a new pod ${first.end - goneAt} ms; heal time ${heal} ms; `
        + `longest gap between answers ${longestMs} ms, ${failures} failed requests of ${poller.since(t0).length}`
        + `${failures > 0 ? ` (${[...new Set(poller.since(t0).map((s) => s.error).filter(Boolean))].join('; ')})` : ''}`);
      assert.ok(heal <= HEAL_LIMIT_MS, `${what} healed in ${heal} ms (limit ${HEAL_LIMIT_MS} ms)`);
      assert.ok(sidecar.running, 'the sidecar was not restarted');
      assert.equal(sidecar.latest('web.demo.admin')?.ip, ip, 'web keeps its IP');
      assert.equal(hosts.ip('web'), ip, 'web keeps its name on the same IP');
      assert.equal(hosts.ip('web.demo'), ip);
    } finally {
      await poller.stop();
    }
  }

  it('kubectl rollout restart deployment/web', { timeout: 180_000 }, async () => {
    const old = await deploymentPods('web');
    assert.equal(old.length, 2);
    const serving = sidecar.latest('web.demo.admin')?.pod ?? '';
    assert.ok(old.includes(serving), `the forward serves from ${serving}, one of ${old.join(', ')}`);
    await measure('rollout restart', old, serving, async () => {
      await kubectl(['rollout', 'restart', 'deployment/web', '-n', 'demo'], { context: 'admin' });
    });
    const now = sidecar.latest('web.demo.admin');
    assert.equal(now?.status, 'ACTIVE');
    assert.ok(!old.includes(now?.pod ?? ''), `the output names a new pod: ${now?.line}`);
  });

  it('kubectl delete pod of the serving pod', { timeout: 180_000 }, async () => {
    await rolloutDone('web');
    const serving = await waitFor('the pod serving web', async () => {
      const pods = await deploymentPods('web');
      const pod = sidecar.latest('web.demo.admin')?.pod;
      return pod && pods.includes(pod) ? pod : undefined;
    }, 30_000, 100);
    await measure('delete of the serving pod', [serving], serving, async () => {
      await kubectl(['delete', 'pod', serving, '-n', 'demo', '--wait=false'], { context: 'admin' });
    });
    const now = sidecar.latest('web.demo.admin');
    assert.equal(now?.status, 'ACTIVE');
    assert.notEqual(now?.pod, serving, `the output names another pod: ${now?.line}`);
  });
});
