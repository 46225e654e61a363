import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { describe, it } from 'node:test';
import { kubectl } from '../../cluster/kubectl';
import { requireState } from '../../cluster/state';
import { waitFor } from '../../cluster/wait';
import { connectResult, listening, startSidecar } from '../../helpers/sidecar';
import { HttpPoller, deploymentPods, greeting, rolloutDone, whoAnswers } from './cluster';

/** `kube-forward target KIND/NAME`: one workload or pod on a fixed local address and port. */

function targetArgs(spec: string, ...extra: string[]): string[] {
  return ['target', spec, '-n', 'demo', '-c', requireState().kubeconfig, '-x', 'admin', ...extra];
}

describe('single targets', () => {
  it('target deploy/web --address 127.0.0.1 --port 8080:18080 answers from a web pod and follows a rollout restart', { timeout: 180_000 }, async () => {
    await rolloutDone('web');
    const etcHosts = fs.readFileSync('/etc/hosts');
    const sidecar = startSidecar(targetArgs('deploy/web', '--address', '127.0.0.1', '--port', '8080:18080'));
    const poller = new HttpPoller('http://127.0.0.1:18080/', 50);
    try {
      const line = await sidecar.forward('deployment/web.demo.admin');
      assert.equal(line.ip, '127.0.0.1');
      assert.equal(line.ports, '18080→8080');
      // ACTIVE can come before the listener is bound: see the BUG test below. Wait for the port.
      await listening('127.0.0.1', 18080);
      const old = await deploymentPods('web');
      const answer = await whoAnswers('http://127.0.0.1:18080/');
      assert.equal(answer.port, 8080);
      assert.ok(old.includes(answer.pod), `${answer.pod} is one of ${old.join(', ')}`);
      assert.equal(answer.pod, line.pod);

      poller.start();
      const t0 = Date.now();
      await kubectl(['rollout', 'restart', 'deployment/web', '-n', 'demo'], { context: 'admin' });
      const first = await waitFor('an answer from a new web pod', () => poller.since(t0).find((s) => s.pod && !old.includes(s.pod)), 60_000, 20);
      await rolloutDone('web');
      const settled = Date.now();
      await waitFor('5 answers after the rollout', () => poller.since(settled).filter((s) => s.pod).length >= 5, 10_000, 20);
      const current = await deploymentPods('web');
      assert.deepEqual(poller.since(settled).filter((s) => s.pod && !current.includes(s.pod)).map((s) => s.pod), [],
        `after the rollout every answer comes from ${current.join(', ')}`);
      const { longestMs, failures } = poller.gap(t0);
      console.log(`target deploy/web: rollout restart → first answer from a new pod after ${first.end - t0} ms; `
        + `longest gap between answers ${longestMs} ms, ${failures} failed requests of ${poller.since(t0).length}`);
      assert.ok(sidecar.running);
      assert.ok(fs.readFileSync('/etc/hosts').equals(etcHosts), 'a target with --address writes no names');
    } finally {
      await poller.stop();
      await sidecar.stop();
      await rolloutDone('web');
    }
  });

  it('target pod/db-1 answers from db-1', { timeout: 60_000 }, async () => {
    const sidecar = startSidecar(targetArgs('pod/db-1', '--address', '127.0.0.1', '--port', '5432:15432'));
    try {
      const line = await sidecar.forward('pod/db-1.demo.admin');
      assert.equal(line.pod, 'db-1');
      assert.equal(line.ports, '15432→5432');
      // ACTIVE can come before the listener is bound: see the BUG test below. Wait for the port.
      await listening('127.0.0.1', 15432);
      for (let i = 0; i < 3; i++) assert.deepEqual(await greeting('127.0.0.1', 15432), { namespace: 'demo', pod: 'db-1', port: 5432 });
    } finally {
      await sidecar.stop();
    }
  });

  // Regression: Active used to be published before the listeners were bound (a client that
  // connected on reading ACTIVE was refused).
  it('a forward is printed ACTIVE only once its port accepts connections (3 starts of target pod/db-1)', { timeout: 60_000 }, async () => {
    const results: string[] = [];
    for (let i = 0; i < 3; i++) {
      const sidecar = startSidecar(targetArgs('pod/db-1', '--address', '127.0.0.1', '--port', '5432:15432'));
      try {
        // Event-driven (no polling delay): connect the moment the line arrives, as a script would.
        await sidecar.proc.waitFor(/^ACTIVE +pod\/db-1\.demo\.admin /m, 30_000);
        results.push(await connectResult('127.0.0.1', 15432));
      } finally {
        await sidecar.stop();
      }
    }
    assert.deepEqual(results, ['connected', 'connected', 'connected'], 'a connection made when ACTIVE is printed is accepted');
  });
});
