import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from './cluster/paths';

/** Runs last: every test before it must have left no hosts entry, process or test user behind. */
describe('nothing left behind', () => {
  it('the real /etc/hosts has no kube-forward block', () => {
    assert.doesNotMatch(fs.readFileSync('/etc/hosts', 'latin1'), /kube-forward/);
  });

  it('no sidecar, code-server or Chromium started by the tests is still running', () => {
    const ps = spawnSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' }).stdout.split('\n');
    // Only this checkout's sidecars (another checkout's may run at the same time on a shared
    // machine), any code-server with this run's temp workspace, and Chromium.
    const sidecar = path.join(repoRoot, 'dist', 'sidecar.js');
    const mine = ps.filter((line) => (line.includes(sidecar) || /kf-vscode-|\/usr\/lib\/chromium\/chromium.*--headless/.test(line))
      && !line.includes(String(process.pid)));
    assert.deepEqual(mine, []);
  });

  it('the unprivileged test users were removed', () => {
    for (const user of ['kf-launcher-test', 'kf-privilege-test', 'kf-demo-test']) assert.notEqual(spawnSync('id', ['-u', user]).status, 0, user);
  });
});
