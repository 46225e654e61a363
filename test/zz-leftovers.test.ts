import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { describe, it } from 'node:test';

/** Runs last: every test before it must have left no hosts entry, process or test user behind. */
describe('nothing left behind', () => {
  it('the real /etc/hosts has no kube-forward block', () => {
    assert.doesNotMatch(fs.readFileSync('/etc/hosts', 'latin1'), /kube-forward/);
  });

  it('no sidecar, code-server or Chromium started by the tests is still running', () => {
    const ps = spawnSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' }).stdout.split('\n');
    const mine = ps.filter((line) => /dist\/sidecar\.js|code-server-[\d.]+\/node_modules\/code-server|\/usr\/lib\/chromium\/chromium/.test(line)
      && !line.includes(String(process.pid)));
    assert.deepEqual(mine, []);
  });

  it('the unprivileged test users were removed', () => {
    for (const user of ['kf-launcher-test', 'kf-privilege-test']) assert.notEqual(spawnSync('id', ['-u', user]).status, 0, user);
  });
});
