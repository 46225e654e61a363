import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { api } from './helpers';

describe('activation', () => {
  it('activates and returns its API', async () => {
    const a = await api();
    assert.equal(typeof a.forwards, 'function');
  });

  it('registers every command of the manifest', async () => {
    const all = await vscode.commands.getCommands(true);
    const manifest = vscode.extensions.getExtension('kube-forward.kube-forward')?.packageJSON as { contributes: { commands: { command: string }[] } };
    const missing = manifest.contributes.commands.map((c) => c.command).filter((c) => !all.includes(c));
    assert.deepEqual(missing, []);
  });
});
