import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { api, until } from './helpers';

const web = 'web.demo.admin';

async function webNode() {
  const a = await api();
  const demo = (await a.treeChildren((await a.treeChildren()).find((n) => n.id === 'ctx/admin'))).find((n) => n.id === 'ns/admin/demo');
  const node = (await a.treeChildren(demo)).find((n) => n.id === 'svc/admin/demo/web');
  assert.ok(node);
  return node;
}

describe('commands and crash handling', () => {
  before(async () => {
    const a = await api();
    // The forwarding suite ends with Stop All: bring the workspace forwards back.
    await vscode.commands.executeCommand('kubeForward.restartSidecar');
    await until('web.demo active again', () => a.forwards().find((f) => f.id === web && f.status === 'Active'), 60_000);
  });

  it('Copy Address puts name:port on the clipboard', async () => {
    await vscode.commands.executeCommand('kubeForward.copyAddress', await webNode());
    assert.equal(await vscode.env.clipboard.readText(), 'web:80');
  });

  it('Reveal in Tree selects the service', async () => {
    await vscode.commands.executeCommand('kubeForward.revealInTree', await webNode());
    const a = await api();
    await until('the web node to be selected', () => a.treeSelection().includes('svc/admin/demo/web'));
  });

  it('a killed sidecar is reported once and Restart brings the forwards back (the stale hosts block purged)', async () => {
    const a = await api();
    const pid = a.sidecarPid();
    assert.ok(pid);
    // The names are written in a batch just after Active: the block must be there before the kill
    // for what the kill leaves behind to mean anything.
    await until('the sidecar\'s block in /etc/hosts', () => /^# BEGIN kube-forward /m.test(fs.readFileSync('/etc/hosts', 'utf8')));
    process.kill(pid, 'SIGKILL');
    await until('the sidecar to be reported failed', () => a.sidecarState() === 'failed', 30_000);
    assert.match(fs.readFileSync('/etc/hosts', 'utf8'), /# BEGIN kube-forward/, 'kill -9 left its block (this VS Code\'s private /etc/hosts)');
    await vscode.commands.executeCommand('kubeForward.restartSidecar');
    await until('running again', () => a.sidecarState() === 'running', 60_000);
    assert.notEqual(a.sidecarPid(), pid);
    await until('web.demo active again', () => a.forwards().find((f) => f.id === web && f.status === 'Active'), 60_000);
    await until('exactly one block, the new sidecar\'s', () => (fs.readFileSync('/etc/hosts', 'utf8').match(/# BEGIN kube-forward/g) ?? []).length === 1);
  });
});
