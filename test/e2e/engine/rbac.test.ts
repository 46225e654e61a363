import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitFor, withTimeout } from '../../cluster/wait';
import { listening, startSidecar, svcArgs, tempHosts } from '../../helpers/sidecar';
import { deploymentPods, whoAnswers } from './cluster';

/**
 * RBAC is checked before a namespace is forwarded (SelfSubjectAccessReview): a denied namespace is
 * one clear message; when it was the only one, the sidecar exits non-zero; otherwise the rest goes on.
 */

describe('RBAC', () => {
  it('restricted (may list but not port-forward in demo): one line naming pods/portforward, exit non-zero', { timeout: 60_000 }, async () => {
    const hosts = tempHosts();
    const sidecar = startSidecar(svcArgs({ hostsPath: hosts.path, contexts: ['restricted'] }));
    try {
      const code = await withTimeout(sidecar.exited(), 30_000, 'the sidecar exiting on its own');
      const output = sidecar.output();
      assert.equal(typeof code, 'number', `it exited by itself, not by a signal (${String(code)}); output:\n${output}`);
      assert.notEqual(code, 0, `exit code ${String(code)}; output:\n${output}`);
      const rbac = output.split('\n').filter((l) => /pods\/portforward/.test(l));
      assert.equal(rbac.length, 1, `one line names pods/portforward:\n${output}`);
      assert.match(rbac[0] ?? '', /restricted/);
      assert.match(rbac[0] ?? '', /"demo"|\bdemo\b/);
      assert.match(rbac[0] ?? '', /create pods\/portforward/);
      assert.equal(sidecar.lines().filter((l) => l.status === 'ACTIVE').length, 0, 'nothing was forwarded');
      assert.ok(hosts.bytes().equals(hosts.original), 'the hosts file is as it was');
    } finally {
      await sidecar.stop();
      hosts.remove();
    }
  });

  it('dev with -n demo,secret: secret fails with one RBAC message, demo is forwarded', { timeout: 60_000 }, async () => {
    const hosts = tempHosts();
    const sidecar = startSidecar(svcArgs({ hostsPath: hosts.path, contexts: ['dev'], namespaces: ['demo', 'secret'] }));
    try {
      const web = await sidecar.forward('web.demo.dev');
      await waitFor('the RBAC message for secret', () => /"secret"|namespace secret/.test(sidecar.output()), 20_000, 50);
      await waitFor('web in the hosts file', () => hosts.ip('web') === web.ip, 10_000, 50);
      await listening(web.ip ?? '', 80);
      const pods = await deploymentPods('web');
      const answer = await whoAnswers(`http://${web.ip}/`);
      assert.equal(answer.namespace, 'demo');
      assert.ok(pods.includes(answer.pod), `${answer.pod} is one of ${pods.join(', ')}`);
      assert.equal(hosts.ip('web.demo'), web.ip);
      assert.ok(sidecar.running, 'the sidecar goes on with demo');
      const about = sidecar.output().split('\n').filter((l) => /\bsecret\b/.test(l));
      assert.equal(about.length, 1, `one line about secret:\n${about.join('\n')}`);
      assert.match(about[0] ?? '', /may not/);
      assert.match(about[0] ?? '', /\bdev\b/);
      assert.match(about[0] ?? '', /pods\/portforward|services|pods/);
      assert.equal(sidecar.lines().filter((l) => l.id.endsWith('.secret.dev')).length, 0, 'nothing of secret is forwarded');
      assert.equal(hosts.ip('vault'), undefined);
      assert.equal(hosts.ip('vault.secret'), undefined);
    } finally {
      await sidecar.stop();
      hosts.remove();
    }
  });
});
