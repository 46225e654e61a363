import * as vscode from 'vscode';
import * as P from '../../sidecar/src/protocol/methods';
import type { ForwardInfo } from '../../sidecar/src/protocol/types';
import type { KubeForwardContext } from './context';
import { ids, looksHttp, type Node } from './tree/nodes';

type Item<T> = vscode.QuickPickItem & { value: T };

async function pickContext(ctx: KubeForwardContext): Promise<string | undefined> {
  const result = await ctx.client.request(P.ListContexts.type);
  if (result.error) throw new Error(result.error);
  if (result.contexts.length === 0) throw new Error(`the kubeconfig (${result.kubeconfig.join(', ')}) has no contexts`);
  if (result.contexts.length === 1) return result.contexts[0]?.name;
  const items: Item<string>[] = result.contexts.map((c) => ({ label: c.name, description: c.current ? 'current' : '', detail: c.server, value: c.name }));
  items.sort((a, b) => Number(b.description === 'current') - Number(a.description === 'current'));
  return (await vscode.window.showQuickPick(items, { title: 'Kube Forward: context', placeHolder: 'Pick a kubeconfig context' }))?.value;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Runs a command body with the sidecar started, reporting failures as one message. */
function command(ctx: KubeForwardContext, name: string, body: (...args: unknown[]) => Promise<unknown>): vscode.Disposable {
  return vscode.commands.registerCommand(name, async (...args: unknown[]) => {
    try {
      await ctx.ensureStarted(`command ${name}`);
      return await body(...args);
    } catch (error) {
      ctx.output.error(`${name}: ${errorText(error)}`);
      void vscode.window.showErrorMessage(`Kube Forward: ${errorText(error)}`);
      return undefined;
    }
  });
}

/** The forward a command acts on: the tree node it was invoked on, else a pick among forwards. */
async function forwardOf(ctx: KubeForwardContext, arg: unknown, title: string, filter: (f: ForwardInfo) => boolean = () => true): Promise<ForwardInfo | undefined> {
  const node = arg as Node | undefined;
  if (node && typeof node === 'object' && 'kind' in node) {
    if (node.kind === 'port' || node.kind === 'pod') return ctx.store.forward(node.forwardId);
    if (node.kind === 'service') return ctx.store.forwards.find((f) => f.context === node.context && f.namespace === node.namespace && f.service === node.name && f.ip && f.status !== 'Stopped');
  }
  const items: Item<ForwardInfo>[] = ctx.store.forwards.filter((f) => f.ip && f.status !== 'Stopped' && filter(f))
    .map((f) => ({ label: f.id, description: `${f.ip} · ${f.status}`, value: f }));
  if (items.length === 0) throw new Error('nothing is forwarded');
  return (await vscode.window.showQuickPick(items, { title }))?.value;
}

function address(f: ForwardInfo, port?: number): { byName: string; byIp: string } {
  const p = f.ports.find((x) => !x.skipped && (port === undefined || x.port === port)) ?? f.ports[0];
  const local = p?.localPort ?? 0;
  return { byName: `${f.hostnames[0] ?? f.ip}:${local}`, byIp: `${f.ip}:${local}` };
}

export function registerCommands(ctx: KubeForwardContext): vscode.Disposable[] {
  return [
    command(ctx, 'kubeForward.forwardNamespace', async () => {
      const context = await pickContext(ctx);
      if (!context) return;
      const { namespaces } = await ctx.client.request(P.ListNamespaces.type, { context });
      const picked = await vscode.window.showQuickPick(namespaces.map((n): Item<string> => ({
        label: n.name, description: n.services !== undefined ? `${n.services} services` : '', picked: n.forwarded, value: n.name,
      })), { title: `Kube Forward: namespaces of ${context}`, canPickMany: true, placeHolder: 'Pick the namespaces to forward' });
      if (!picked || picked.length === 0) return;
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Forwarding ${picked.map((p) => p.value).join(', ')}` }, async () => {
        for (const p of picked) await ctx.client.request(P.ForwardNamespace.type, { context, namespace: p.value });
      });
      const failed = ctx.store.namespaces.filter((n) => n.status === 'Failed' && picked.some((p) => p.value === n.namespace));
      for (const n of failed) void vscode.window.showErrorMessage(`Kube Forward: ${n.reason ?? `${n.namespace} failed`}`);
    }),
    command(ctx, 'kubeForward.forwardService', async (arg) => {
      const node = arg as Node | undefined;
      if (node?.kind === 'service') {
        await ctx.client.request(P.ForwardTarget.type, { context: node.context, namespace: node.namespace, kind: 'service', name: node.name });
        return;
      }
      const context = await pickContext(ctx);
      if (!context) return;
      const { namespaces } = await ctx.client.request(P.ListNamespaces.type, { context });
      const namespace = (await vscode.window.showQuickPick(namespaces.map((n): Item<string> => ({ label: n.name, value: n.name })), { title: 'Namespace' }))?.value;
      if (!namespace) return;
      const { services } = await ctx.client.request(P.ListServices.type, { context, namespace });
      const service = (await vscode.window.showQuickPick(services.map((s): Item<string> => ({
        label: s.name, description: s.ports.map((p) => `${p.port}/${p.protocol}`).join(', '), value: s.name,
      })), { title: `Service in ${namespace}` }))?.value;
      if (!service) return;
      await ctx.client.request(P.ForwardTarget.type, { context, namespace, kind: 'service', name: service });
    }),
    command(ctx, 'kubeForward.stopForward', async (arg) => {
      const node = arg as Node | undefined;
      if (node?.kind === 'namespace') return ctx.client.request(P.Stop.type, { namespace: { context: node.context, namespace: node.namespace } });
      const f = await forwardOf(ctx, arg, 'Stop forwarding');
      if (f) await ctx.client.request(P.Stop.type, { ids: [f.serviceId] });
      return undefined;
    }),
    command(ctx, 'kubeForward.stopAll', () => ctx.client.request(P.Stop.type, { all: true })),
    vscode.commands.registerCommand('kubeForward.restartSidecar', async () => {
      try {
        await ctx.restart('Restart Sidecar command');
      } catch (error) {
        void vscode.window.showErrorMessage(`Kube Forward: ${errorText(error)}`);
      }
    }),
    vscode.commands.registerCommand('kubeForward.showTraffic', () => {
      ctx.traffic.show();
      void ctx.ensureStarted('the traffic panel was opened').catch(() => undefined);
    }),
    vscode.commands.registerCommand('kubeForward.showLogs', () => ctx.output.show()),
    command(ctx, 'kubeForward.copyAddress', async (arg) => {
      const f = await forwardOf(ctx, arg, 'Copy address');
      if (!f) return;
      const node = arg as Node | undefined;
      const a = address(f, node?.kind === 'port' ? node.port.port : undefined);
      const text = f.hostnames.length > 0 ? `${a.byName} (${a.byIp})` : a.byIp;
      await vscode.env.clipboard.writeText(f.hostnames.length > 0 ? a.byName : a.byIp);
      void vscode.window.setStatusBarMessage(`Copied ${text}`, 3000);
    }),
    command(ctx, 'kubeForward.openInBrowser', async (arg) => {
      const f = await forwardOf(ctx, arg, 'Open in browser', (x) => x.ports.some((p) => !p.skipped && looksHttp(p)));
      if (!f) return;
      const node = arg as Node | undefined;
      const port = node?.kind === 'port' ? node.port : f.ports.find((p) => !p.skipped && looksHttp(p)) ?? f.ports.find((p) => !p.skipped);
      if (!port) return;
      const scheme = port.port === 443 || port.port === 8443 || /https/.test(port.name ?? '') ? 'https' : 'http';
      await vscode.env.openExternal(vscode.Uri.parse(`${scheme}://${f.hostnames[0] ?? f.ip}:${port.localPort}/`));
    }),
    command(ctx, 'kubeForward.revealInTree', async (arg) => {
      const f = await forwardOf(ctx, arg, 'Reveal in tree');
      if (!f) return;
      await vscode.commands.executeCommand('kubeForward.forwards.focus');
      // Expanding parents loads them (and registers the nodes) before reveal.
      const parents = await ctx.tree.getChildren();
      const context = parents.find((n) => n.id === ids.context(f.context));
      if (context) {
        const nss = await ctx.tree.getChildren(context);
        const ns = nss.find((n) => n.id === ids.namespace(f.context, f.namespace));
        if (ns) await ctx.tree.getChildren(ns);
      }
      const node = ctx.tree.node(ids.service(f.context, f.namespace, f.service));
      if (node) await ctx.treeView.reveal(node, { select: true, focus: true, expand: true });
    }),
    vscode.commands.registerCommand('kubeForward.refresh', () => ctx.tree.refresh()),
    ctx.treeView.onDidChangeCheckboxState(async (event) => {
      for (const [node, state] of event.items) {
        const on = state === vscode.TreeItemCheckboxState.Checked;
        try {
          await ctx.ensureStarted('a tree checkbox was toggled');
          if (node.kind === 'namespace') {
            if (on) await ctx.client.request(P.ForwardNamespace.type, { context: node.context, namespace: node.namespace });
            else await ctx.client.request(P.Stop.type, { namespace: { context: node.context, namespace: node.namespace } });
          } else if (node.kind === 'service') {
            if (on) await ctx.client.request(P.ForwardTarget.type, { context: node.context, namespace: node.namespace, kind: 'service', name: node.name });
            else await ctx.client.request(P.Stop.type, { ids: [`${node.name}.${node.namespace}.${node.context}`] });
          }
        } catch (error) {
          void vscode.window.showErrorMessage(`Kube Forward: ${errorText(error)}`);
          // The checkbox shows what was clicked: redraw that node from the real state.
          ctx.tree.redraw(node);
        }
      }
    }),
  ];
}
