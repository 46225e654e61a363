import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requireState } from '../cluster/state';
import { runExtensionSuite } from './runSuite';

describe('extension integration tests in a real VS Code (code-server + Chromium)', () => {
  it('pass inside the extension host', { timeout: 600_000 }, async () => {
    const state = requireState();
    const result = await runExtensionSuite({
      name: 'integration',
      suite: '1-,2-,3-',
      settings: { 'kubeForward.kubeconfig': state.kubeconfig, 'kubeForward.forwards': [{ context: 'admin', namespace: 'demo', autoStart: true }] },
    });
    for (const title of result.passed) process.stdout.write(`  ✔ [vscode] ${title}\n`);
    for (const f of result.failed) process.stdout.write(`  ✖ [vscode] ${f.title}\n${f.error}\n`);
    assert.deepEqual(result.failed, [], 'extension tests failed');
    assert.ok(result.passed.length > 0, 'the suite ran tests');
    assert.equal(result.exitCode, 0, 'the workbench reported success');
  });

  it('show the welcome view when there is no kubeconfig', { timeout: 300_000 }, async () => {
    const result = await runExtensionSuite({ name: 'no-kubeconfig', suite: '8-', settings: { 'kubeForward.kubeconfig': '/nonexistent/kubeconfig' } });
    for (const f of result.failed) process.stdout.write(`  ✖ [vscode] ${f.title}\n${f.error}\n`);
    assert.deepEqual(result.failed, []);
    assert.equal(result.passed.length, 1);
  });

  it('ignore autoStart in an untrusted workspace', { timeout: 300_000 }, async () => {
    const state = requireState();
    const result = await runExtensionSuite({
      name: 'untrusted',
      suite: '9-',
      trust: false,
      settings: { 'kubeForward.kubeconfig': state.kubeconfig, 'kubeForward.forwards': [{ context: 'admin', namespace: 'demo', autoStart: true }] },
    });
    for (const f of result.failed) process.stdout.write(`  ✖ [vscode] ${f.title}\n${f.error}\n`);
    assert.deepEqual(result.failed, []);
    assert.deepEqual(result.passed, ['an untrusted workspace does not auto-start forwards or elevate']);
  });
});
