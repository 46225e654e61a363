import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requireState } from '../../cluster/state';
import { waitFor } from '../../cluster/wait';
import { listening, startSidecar, svcArgs, tempHosts } from '../../helpers/sidecar';
import { contextNames, deploymentPods, whoAnswers } from './cluster';

/**
 * Two clusters at once (`-x admin -x second -n demo`): each context gets its own second octet
 * (127.1.x for the first, 127.2.x for the second) and each forward reaches its own cluster.
 * Needs the second control plane (`cluster up --clusters 2`, as `npm test` starts it).
 */

describe('two clusters', () => {
  it('-x admin -x second -n demo: 127.1.27.x and 127.2.27.x, each answered by its own cluster\'s pod', { timeout: 90_000 }, async () => {
    const state = requireState();
    // npm test always starts two control planes; a missing one is a set-up failure, not a skip.
    assert.ok(state.controlPlanes.length >= 2 && (await contextNames()).includes('second'),
      'needs the second control plane: KF_CLUSTER_DIR=… npm run cluster:up -- --clusters 2 (npm test starts it)');
    const hosts = tempHosts();
    const sidecar = startSidecar(svcArgs({ hostsPath: hosts.path, contexts: ['admin', 'second'] }));
    try {
      const first = await sidecar.forward('web.demo.admin');
      const second = await sidecar.forward('web.demo.second');
      assert.match(first.ip ?? '', /^127\.1\.27\.\d{1,3}$/);
      assert.match(second.ip ?? '', /^127\.2\.27\.\d{1,3}$/);
      await listening(first.ip ?? '', 80);
      await listening(second.ip ?? '', 80);

      const podsFirst = await deploymentPods('web', 'demo', 'admin');
      const podsSecond = await deploymentPods('web', 'demo', 'second');
      assert.ok(podsFirst.length > 0 && podsSecond.length > 0);
      assert.deepEqual(podsFirst.filter((p) => podsSecond.includes(p)), [], 'the clusters\' pods are told apart by name');
      for (let i = 0; i < 5; i++) {
        const a = await whoAnswers(`http://${first.ip}/`);
        const b = await whoAnswers(`http://${second.ip}/`);
        assert.ok(podsFirst.includes(a.pod), `${a.pod} is a web pod of the first cluster (${podsFirst.join(', ')})`);
        assert.ok(podsSecond.includes(b.pod), `${b.pod} is a web pod of the second cluster (${podsSecond.join(', ')})`);
      }
      assert.equal(first.pod && podsFirst.includes(first.pod), true);
      assert.equal(second.pod && podsSecond.includes(second.pod), true);

      // The second cluster's demo holds only web: the first cluster's services are not mixed in.
      assert.equal(sidecar.latest('api.demo.second'), undefined);
      await waitFor('both webs in the hosts file', () => hosts.ip('web.demo.second') && hosts.ip('web.demo.admin'), 10_000, 50);
      assert.equal(hosts.ip('web'), first.ip, 'the bare name is the first context\'s');
      assert.equal(hosts.ip('web.demo.admin'), first.ip);
      assert.equal(hosts.ip('web.demo.second'), second.ip, 'the second context is reached by its context-qualified name');
      assert.ok(!second.names.includes('web') && !second.names.includes('web.demo'), `second's names are context-qualified: ${second.names.join(',')}`);
    } finally {
      await sidecar.stop();
      hosts.remove();
    }
  });
});
