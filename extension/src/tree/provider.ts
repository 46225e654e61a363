import * as vscode from 'vscode';
import * as P from '../../../sidecar/src/protocol/methods';
import type { ContextInfo, ForwardInfo, NamespaceSummary, ServiceSummary } from '../../../sidecar/src/protocol/types';
import type { ForwardStore } from '../model/store';
import type { SidecarClient } from '../sidecar/client';
import { ids, looksHttp, serviceContextValue, serviceStatus, statusIcon, type Node } from './nodes';

/**
 * Maps the model (contexts from the kubeconfig, namespaces and services listed by the sidecar,
 * forwards from the store) to tree items. Listings are cached and fetched when a node expands;
 * forward changes refresh only the service nodes they touch, debounced.
 */
export class ForwardTree implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<Node | Node[] | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private contexts: ContextInfo[] | undefined;
  private readonly namespaces = new Map<string, NamespaceSummary[]>();
  private readonly services = new Map<string, ServiceSummary[]>();
  private readonly nodes = new Map<string, Node>();
  private pending = new Set<string>();
  /** Forward id → its service node id (remembered, since a removed forward is gone from the store). */
  private readonly serviceOf = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  /** Set when the kubeconfig could not be read: the welcome view explains what to do. */
  kubeconfigError: string | undefined;

  constructor(private readonly store: ForwardStore, private readonly client: SidecarClient) {
    this.disposables.push(store.onDidChange((change) => {
      // A reset (sidecar started or stopped) redraws everything; otherwise only the nodes touched.
      if (!change.ids) return this.refresh();
      if (change.namespaces) {
        for (const node of this.nodes.values()) if (node.kind === 'namespace') this.pending.add(node.id);
      }
      for (const id of change.ids) {
        const f = store.forward(id);
        if (f) this.serviceOf.set(id, ids.service(f.context, f.namespace, f.service));
        const nodeId = this.serviceOf.get(id);
        if (!f) this.serviceOf.delete(id);
        this.pending.add(nodeId ?? `?${id}`);
      }
      this.schedule();
    }));
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const nodes = [...this.pending].map((id) => this.nodes.get(id)).filter((n): n is Node => !!n);
      const missing = this.pending.size !== nodes.length;
      this.pending = new Set();
      // A forward for a service not yet shown (e.g. created after listing) needs its namespace re-listed.
      if (missing) {
        this.services.clear();
        this.emitter.fire(undefined);
      } else if (nodes.length > 0) {
        this.emitter.fire(nodes);
      }
    }, 100);
  }

  /** Forgets cached listings and redraws everything. */
  refresh(): void {
    this.contexts = undefined;
    this.namespaces.clear();
    this.services.clear();
    this.emitter.fire(undefined);
  }

  /** Redraws one node (e.g. a checkbox whose action failed). */
  redraw(node: Node): void {
    this.emitter.fire(node);
  }

  private remember<T extends Node>(node: T): T {
    this.nodes.set(node.id, node);
    return node;
  }

  node(id: string): Node | undefined {
    return this.nodes.get(id);
  }

  private forwardsOf(context: string, namespace: string, service?: string): ForwardInfo[] {
    return this.store.forwards.filter((f) => f.context === context && f.namespace === namespace && (service === undefined || f.service === service));
  }

  async getChildren(element?: Node): Promise<Node[]> {
    if (this.client.state !== 'running') return [];
    try {
      if (!element) {
        if (!this.contexts) {
          const result = await this.client.request(P.ListContexts.type);
          this.kubeconfigError = result.error;
          void vscode.commands.executeCommand('setContext', 'kubeForward.noKubeconfig', !!result.error);
          this.contexts = result.contexts;
        }
        return this.contexts.map((context) => this.remember({ kind: 'context', id: ids.context(context.name), context }));
      }
      switch (element.kind) {
        case 'context': {
          const name = element.context.name;
          if (!this.namespaces.has(name)) this.namespaces.set(name, (await this.client.request(P.ListNamespaces.type, { context: name })).namespaces);
          const listed = this.namespaces.get(name) ?? [];
          const forwarded = this.store.namespaces.filter((n) => n.context === name).map((n) => n.namespace);
          const all = [...new Set([...listed.map((n) => n.name), ...forwarded])].sort();
          return all.map((ns) => this.remember({ kind: 'namespace', id: ids.namespace(name, ns), context: name, namespace: ns,
            ...(listed.find((n) => n.name === ns)?.services !== undefined ? { services: listed.find((n) => n.name === ns)?.services } : {}) }));
        }
        case 'namespace': {
          const key = `${element.context}/${element.namespace}`;
          if (!this.services.has(key)) {
            this.services.set(key, (await this.client.request(P.ListServices.type, { context: element.context, namespace: element.namespace })).services);
          }
          const listed = this.services.get(key) ?? [];
          const names = [...new Set([...listed.map((s) => s.name), ...this.forwardsOf(element.context, element.namespace).map((f) => f.service)])].sort();
          return names.map((name) => {
            const summary = listed.find((s) => s.name === name);
            return this.remember({ kind: 'service', id: ids.service(element.context, element.namespace, name), context: element.context,
              namespace: element.namespace, name, ...(summary ? { summary } : {}) });
          });
        }
        case 'service': {
          const forwards = this.forwardsOf(element.context, element.namespace, element.name).filter((f) => f.status !== 'Stopped');
          const main = forwards.find((f) => f.id === f.serviceId && f.ip) ?? forwards.find((f) => f.ip);
          const ports: Node[] = (main?.ports ?? []).map((port) => this.remember({ kind: 'port', id: ids.port(main?.id ?? '', port.port),
            context: element.context, namespace: element.namespace, service: element.name, forwardId: main?.id ?? '', port }));
          const pods: Node[] = forwards.filter((f) => f.pod).map((f) => this.remember({ kind: 'pod', id: ids.pod(f.id, f.pod ?? ''),
            context: element.context, namespace: element.namespace, service: element.name, forwardId: f.id, pod: f.pod ?? '' }));
          return [...ports, ...pods];
        }
        default:
          return [];
      }
    } catch (error) {
      const text = error instanceof Error ? error.message : String(error);
      return [this.remember({ kind: 'message', id: `msg/${element?.id ?? 'root'}`, text, ...(element ? { parentId: element.id } : {}) })];
    }
  }

  getParent(node: Node): Node | undefined {
    switch (node.kind) {
      case 'context': return undefined;
      case 'namespace': return this.nodes.get(ids.context(node.context));
      case 'service': return this.nodes.get(ids.namespace(node.context, node.namespace));
      case 'port':
      case 'pod': return this.nodes.get(ids.service(node.context, node.namespace, node.service));
      case 'message': return node.parentId ? this.nodes.get(node.parentId) : undefined;
    }
  }

  getTreeItem(node: Node): vscode.TreeItem {
    const C = vscode.TreeItemCollapsibleState;
    switch (node.kind) {
      case 'context': {
        const item = new vscode.TreeItem(node.context.name, node.context.current ? C.Expanded : C.Collapsed);
        item.id = node.id;
        item.description = node.context.current ? `current · ${node.context.server}` : node.context.server;
        item.iconPath = new vscode.ThemeIcon('server-environment');
        item.contextValue = 'context';
        return item;
      }
      case 'namespace': {
        const forwarded = this.store.namespaces.find((n) => n.context === node.context && n.namespace === node.namespace && n.status !== 'Stopped');
        const item = new vscode.TreeItem(node.namespace, C.Collapsed);
        item.id = node.id;
        const count = this.forwardsOf(node.context, node.namespace).filter((f) => f.status === 'Active').length;
        item.description = forwarded ? `${forwarded.status === 'Failed' ? 'failed' : `${count} forwarded`}` : node.services !== undefined ? `${node.services} services` : '';
        item.tooltip = forwarded?.reason ?? `${node.namespace} (${node.context})`;
        item.iconPath = new vscode.ThemeIcon(forwarded?.status === 'Failed' ? 'error' : 'symbol-namespace');
        item.checkboxState = forwarded && forwarded.status !== 'Failed' ? vscode.TreeItemCheckboxState.Checked : vscode.TreeItemCheckboxState.Unchecked;
        item.contextValue = forwarded ? 'namespace forwarding' : 'namespace idle';
        return item;
      }
      case 'service': {
        const forwards = this.forwardsOf(node.context, node.namespace, node.name);
        const status = serviceStatus(forwards);
        const main = forwards.find((f) => f.id === f.serviceId) ?? forwards[0];
        const item = new vscode.TreeItem(node.name, C.Collapsed);
        item.id = node.id;
        const ip = forwards.filter((f) => f.ip && f.status !== 'Stopped').map((f) => f.ip);
        item.description = status ? [ip[0], ip.length > 1 ? `+${ip.length - 1}` : undefined, status !== 'Active' ? status.toLowerCase() : undefined]
          .filter(Boolean).join(' · ') : node.summary?.ports.map((p) => `${p.port}/${p.protocol}`).join(', ');
        const icon = statusIcon(status);
        item.iconPath = new vscode.ThemeIcon(icon.icon, icon.color ? new vscode.ThemeColor(icon.color) : undefined);
        const reasons = forwards.filter((f) => f.reason).map((f) => `${f.id}: ${f.reason}`);
        item.tooltip = new vscode.MarkdownString([`**${node.name}.${node.namespace}** (${node.context})`,
          ...(main?.hostnames.length ? [`names: ${main.hostnames.join(', ')}`] : []), ...reasons].join('\n\n'));
        item.checkboxState = status && status !== 'Skipped' ? vscode.TreeItemCheckboxState.Checked : vscode.TreeItemCheckboxState.Unchecked;
        item.contextValue = serviceContextValue(forwards, node.summary);
        return item;
      }
      case 'port': {
        const p = node.port;
        const f = this.store.forward(node.forwardId);
        const item = new vscode.TreeItem(`${p.name ? `${p.name} ` : ''}${p.port}/${p.protocol}`, C.None);
        item.id = node.id;
        item.description = p.skipped ? `skipped: ${p.skipped}` : `${f?.ip ?? ''}:${p.localPort} → ${p.podPort ?? p.targetPort}`;
        item.iconPath = new vscode.ThemeIcon(p.skipped ? 'circle-slash' : 'plug');
        item.contextValue = `port${!p.skipped && looksHttp(p) ? ' http' : ''}${p.skipped ? '' : ' addressable'}`;
        return item;
      }
      case 'pod': {
        const f = this.store.forward(node.forwardId);
        const item = new vscode.TreeItem(node.pod, C.None);
        item.id = node.id;
        item.description = f?.headless ? `${f.ip} · ${f.status.toLowerCase()}` : 'serving';
        item.iconPath = new vscode.ThemeIcon('vm');
        item.contextValue = 'pod';
        return item;
      }
      case 'message': {
        const item = new vscode.TreeItem(node.text, C.None);
        item.id = node.id;
        item.iconPath = new vscode.ThemeIcon('warning');
        return item;
      }
    }
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.emitter.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
