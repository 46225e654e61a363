import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { api } from './helpers';

describe('an untrusted workspace', () => {
  it('does not auto-start forwards or elevate', async () => {
    assert.equal(vscode.workspace.isTrusted, false);
    const a = await api();
    assert.equal(a.sidecarState(), 'stopped', 'autoStart forwards are ignored until the workspace is trusted');
    assert.deepEqual(a.forwards(), []);
  });
});
