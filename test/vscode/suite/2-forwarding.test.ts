import * as assert from 'node:assert/strict';
import * as dns from 'node:dns/promises';
import * as vscode from 'vscode';
import type { Node } from '../../../extension/src/tree/nodes';
import { api, get, until } from './helpers';

const web = 'web.demo.admin';

describe('forwarding from the workspace settings', () => {
  it('starts the sidecar (as root here) and forwards demo on open (autoStart)', async () => {
    const a = await api();
    assert.equal(a.sidecarState(), 'running');
    assert.deepEqual(a.settingsForwards(), [{ namespace: 'demo', autoStart: true }]);
    const f = await until('web.demo to be Active', () => a.forwards().find((x) => x.id === web && x.status === 'Active'), 60_000);
    assert.match(f.ip, /^127\.1\.27\.\d+$/);
    assert.ok(a.engineState()?.privileges.root, 'the sidecar runs as root (direct path)');
  });

  it('answers through the forward by IP and by name (names written to this VS Code\'s /etc/hosts)', async () => {
    const a = await api();
    const f = a.forwards().find((x) => x.id === web);
    assert.ok(f);
    const byIp = JSON.parse((await get(`http://${f.ip}/`)).body) as { pod: string };
    assert.equal(byIp.pod, f.pod);
    // The names are written in a batch just after Active: poll until the resolver finds it.
    const resolved = await until('web.demo to resolve', () => dns.lookup('web.demo', { family: 4 }), 10_000);
    assert.equal(resolved.address, f.ip);
    assert.equal((await get('http://web.demo/')).status, 200);
  });

  it('summarises the forwards in the status bar', async () => {
    const a = await api();
    const active = () => a.forwards().filter((f) => f.status === 'Active').length;
    const text = await until('the status bar to count the active forwards', () => {
      const t = a.statusBarText();
      return t?.startsWith(`$(plug) ${active()}`) ? t : undefined;
    });
    assert.ok(a.statusBarVisible());
    assert.match(text, /^\$\(plug\) \d+/);
  });

  it('shows contexts → namespaces → services → ports and pods in the tree', async () => {
    const a = await api();
    const contexts = await a.treeChildren();
    const admin = contexts.find((n) => n.kind === 'context' && n.context.name === 'admin');
    assert.ok(admin, `contexts: ${contexts.map((c) => c.id).join(', ')}`);
    const namespaces = await a.treeChildren(admin);
    const demo = namespaces.find((n) => n.kind === 'namespace' && n.namespace === 'demo');
    assert.ok(demo);
    assert.equal(a.treeItem(demo).checked, true);
    const services = await a.treeChildren(demo);
    const webNode = services.find((n) => n.kind === 'service' && n.name === 'web') as Node;
    const ip = a.forwards().find((f) => f.id === web)?.ip ?? '?';
    assert.match(a.treeItem(webNode).description ?? '', new RegExp(ip.replace(/\./g, '\\.')));
    assert.match(a.treeItem(webNode).contextValue ?? '', /\bforwarding\b.*\bhttp\b/);
    const ext = services.find((n) => n.kind === 'service' && n.name === 'ext') as Node;
    assert.ok(ext);
    const children = await a.treeChildren(webNode);
    assert.ok(children.some((n) => n.kind === 'port' && n.port.port === 80), 'web has its port 80');
    assert.ok(children.some((n) => n.kind === 'pod'), 'web shows its pod');
    const db = services.find((n) => n.kind === 'service' && n.name === 'db') as Node;
    const dbPods = (await a.treeChildren(db)).filter((n) => n.kind === 'pod').map((n) => (n.kind === 'pod' ? n.pod : ''));
    assert.deepEqual(dbPods.sort(), ['db-0', 'db-1', 'db-2']);
  });

  it('toggles one service off and on without touching the others', async () => {
    const a = await api();
    const demo = (await a.treeChildren((await a.treeChildren()).find((n) => n.id === 'ctx/admin'))).find((n) => n.id === 'ns/admin/demo');
    const webNode = (await a.treeChildren(demo)).find((n) => n.id === 'svc/admin/demo/web');
    assert.ok(webNode);
    await vscode.commands.executeCommand('kubeForward.stopForward', webNode);
    await until('web to stop', () => !a.forwards().some((f) => f.id === web && f.status !== 'Stopped'));
    assert.ok(a.forwards().some((f) => f.id === 'api.demo.admin' && f.status === 'Active'), 'api keeps running');
    await vscode.commands.executeCommand('kubeForward.forwardService', webNode);
    await until('web to be forwarded again', () => a.forwards().find((f) => f.id === web && f.status === 'Active'));
  });

  it('shows traffic in the panel after the page said ready', async () => {
    const a = await api();
    await vscode.commands.executeCommand('kubeForward.showTraffic');
    await until('the traffic page handshake', () => a.trafficReady(), 30_000);
    const f = a.forwards().find((x) => x.id === web);
    assert.ok(f);
    await get(`http://${f.ip}/status-check`);
    await until('an HTTP record and metrics posted to the page', () => a.trafficPosted().includes('http') && a.trafficPosted().includes('metrics'), 15_000);
  });

  it('applies changed workspace settings live', async () => {
    const a = await api();
    const config = vscode.workspace.getConfiguration('kubeForward');
    await config.update('forwards', [{ context: 'admin', namespace: 'demo', autoStart: true }, { context: 'admin', namespace: 'other', autoStart: true }],
      vscode.ConfigurationTarget.Workspace);
    const other = await until('other/web to be forwarded', () => a.forwards().find((f) => f.id === 'web.other.admin' && f.status === 'Active'), 30_000);
    assert.match(other.ip, /^127\.1\.28\.\d+$/, 'the second namespace gets the next range');
    await config.update('forwards', [{ context: 'admin', namespace: 'demo', autoStart: true }], vscode.ConfigurationTarget.Workspace);
    await until('other to stop', () => !a.forwards().some((f) => f.namespace === 'other' && f.status !== 'Stopped'), 30_000);
  });

  it('stops everything with Stop All and the status bar follows', async () => {
    const a = await api();
    await vscode.commands.executeCommand('kubeForward.stopAll');
    await until('no live forwards', () => a.forwards().filter((f) => f.status !== 'Stopped').length === 0);
    await until('the status bar to show 0', () => a.statusBarText()?.startsWith('$(plug) 0'));
  });
});
