import type { EngineState, ForwardInfo } from '../../sidecar/src/protocol/types';
import type { KubeForwardContext } from './context';
import type { Node } from './tree/nodes';

/** What `activate` returns: the integration tests use this instead of poking internals. */
export interface KubeForwardApi {
  /** Resolves once activation finished (and the sidecar started, if the workspace asked for it). */
  ready: Promise<void>;
  ensureStarted(): Promise<void>;
  sidecarState(): string;
  sidecarPid(): number | undefined;
  forwards(): ForwardInfo[];
  engineState(): EngineState | undefined;
  statusBarText(): string | undefined;
  statusBarVisible(): boolean;
  treeChildren(node?: Node): Promise<Node[]>;
  treeItem(node: Node): { label: string; description?: string; checked?: boolean; contextValue?: string };
  trafficReady(): boolean;
  trafficPosted(): string[];
  settingsForwards(): { namespace: string; autoStart: boolean }[];
  /** The kubeconfig problem the welcome view explains, if any. */
  kubeconfigError(): string | undefined;
  treeSelection(): string[];
}

export function makeApi(ctx: KubeForwardContext, ready: Promise<void>): KubeForwardApi {
  return {
    ready,
    ensureStarted: () => ctx.ensureStarted('test API'),
    sidecarState: () => ctx.client.state,
    sidecarPid: () => ctx.client.pid,
    forwards: () => ctx.store.forwards,
    engineState: () => (ctx.store.privileges ? { forwards: ctx.store.forwards, namespaces: ctx.store.namespaces, privileges: ctx.store.privileges } : undefined),
    statusBarText: () => ctx.statusBar.last?.text,
    statusBarVisible: () => ctx.statusBar.last?.visible ?? false,
    treeChildren: (node) => ctx.tree.getChildren(node),
    treeItem: (node) => {
      const item = ctx.tree.getTreeItem(node);
      const label = typeof item.label === 'string' ? item.label : item.label?.label ?? '';
      return {
        label,
        ...(typeof item.description === 'string' ? { description: item.description } : {}),
        ...(item.checkboxState !== undefined ? { checked: (typeof item.checkboxState === 'object' ? item.checkboxState.state : item.checkboxState) === 1 } : {}),
        ...(item.contextValue ? { contextValue: item.contextValue } : {}),
      };
    },
    trafficReady: () => ctx.traffic.isReady,
    trafficPosted: () => [...ctx.traffic.posted],
    settingsForwards: () => ctx.currentSettings.forwards.map((f) => ({ namespace: f.namespace, autoStart: f.autoStart })),
    kubeconfigError: () => ctx.tree.kubeconfigError,
    treeSelection: () => ctx.treeView.selection.map((n) => n.id),
  };
}
