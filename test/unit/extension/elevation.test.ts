import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { launchArgv, planElevation, type ElevationFacts } from '../../../extension/src/sidecar/elevation';

const facts = (f: Partial<ElevationFacts>): ElevationFacts => ({
  isRoot: false, trusted: true, hasSudo: true, sudoWithoutPassword: false, hasPkexec: false, declined: false, ...f,
});

describe('elevation plan', () => {
  it('follows DESIGN.md order', () => {
    assert.deepEqual(planElevation('auto', facts({ isRoot: true })), { kind: 'direct', root: true });
    assert.deepEqual(planElevation('auto', facts({ sudoWithoutPassword: true })), { kind: 'sudo-n' });
    assert.deepEqual(planElevation('auto', facts({})), { kind: 'sudo-password' });
    assert.deepEqual(planElevation('pkexec', facts({ hasPkexec: true })), { kind: 'pkexec' });
    assert.deepEqual(planElevation('none', facts({ sudoWithoutPassword: true })), { kind: 'direct', root: false });
  });

  it('never elevates in an untrusted workspace, after a decline, or without sudo', () => {
    assert.deepEqual(planElevation('auto', facts({ trusted: false, sudoWithoutPassword: true })), { kind: 'direct', root: false });
    assert.deepEqual(planElevation('auto', facts({ declined: true })), { kind: 'direct', root: false });
    assert.deepEqual(planElevation('sudo', facts({ hasSudo: false })), { kind: 'direct', root: false });
  });

  it('passes the environment through /usr/bin/env under sudo and never the password', () => {
    const argv = launchArgv({ kind: 'sudo-password' }, '/code/node', '/ext/dist/sidecar.js', ['serve', '--stdio'], { ELECTRON_RUN_AS_NODE: '1' });
    assert.deepEqual(argv, ['sudo', '-S', '-p', '', '--', '/usr/bin/env', 'ELECTRON_RUN_AS_NODE=1', '/code/node', '/ext/dist/sidecar.js', 'serve', '--stdio']);
    assert.deepEqual(launchArgv({ kind: 'direct', root: false }, 'n', 's', ['serve'], { A: '1' }), ['n', 's', 'serve']);
  });
});
