import * as vscode from 'vscode';
import * as P from '../../sidecar/src/protocol/methods';
import type { ForwardSpec } from '../../sidecar/src/protocol/types';
import { ForwardStore } from './model/store';
import { readSettings, type Settings } from './settings';
import { SidecarClient } from './sidecar/client';
import { StatusBar } from './status/statusBar';
import { TrafficPanel } from './traffic/panel';
import { ForwardTree } from './tree/provider';

/**
 * Owns the extension's lifecycle: the sidecar client, the store, the status bar, the tree and the
 * traffic panel. Two disposal lists: one for the extension's life, one for the current sidecar's.
 */
export class KubeForwardContext implements vscode.Disposable {
  readonly output = vscode.window.createOutputChannel('Kube Forward', { log: true });
  readonly store = new ForwardStore();
  readonly client = new SidecarClient(this.output, this.store);
  readonly statusBar = new StatusBar();
  readonly tree = new ForwardTree(this.store, this.client);
  readonly treeView: vscode.TreeView<import('./tree/nodes').Node>;
  readonly traffic: TrafficPanel;
  private readonly disposables: vscode.Disposable[] = [];
  private sidecarDisposables: vscode.Disposable[] = [];
  private viewOpened = false;
  private settings: Settings;
  private reportedProblems = new Set<string>();
  private starting: Promise<void> | undefined;
  private crashShown = false;

  constructor(readonly extension: vscode.ExtensionContext) {
    this.treeView = vscode.window.createTreeView('kubeForward.forwards', { treeDataProvider: this.tree, showCollapseAll: true, manageCheckboxStateManually: true });
    this.traffic = new TrafficPanel(extension.extensionUri, this.store,
      () => ({ state: this.client.state, ...(this.client.lastError ? { error: this.client.lastError } : {}) }), () => this.output.show());
    this.settings = this.readSettings();
    this.disposables.push(
      this.output, this.store, this.client, this.statusBar, this.tree, this.treeView, this.traffic,
      this.store.onDidChange(() => this.updateStatus()),
      this.client.onDidChangeState((state) => this.sidecarStateChanged(state)),
      this.treeView.onDidChangeVisibility((e) => {
        if (!e.visible) return;
        this.viewOpened = true;
        this.updateStatus();
        void this.ensureStarted('the Kube Forward view was opened').catch(() => undefined);
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('kubeForward')) void this.settingsChanged(e);
      }),
      vscode.workspace.onDidGrantWorkspaceTrust(() => void this.applyWorkspaceForwards()),
    );
    this.updateStatus();
  }

  private readSettings(): Settings {
    const folder = vscode.workspace.workspaceFolders?.[0];
    const config = vscode.workspace.getConfiguration('kubeForward', folder?.uri);
    const { settings, problems } = readSettings({
      get: (key) => config.get(key),
      getGlobal: (key) => config.inspect(key)?.globalValue,
    }, folder?.uri.fsPath);
    for (const problem of problems) {
      if (this.reportedProblems.has(problem)) continue;
      this.reportedProblems.add(problem);
      this.output.warn(`invalid setting ${problem}`);
      void vscode.window.showWarningMessage(`Kube Forward: invalid setting ${problem}. The other settings still apply.`, 'Open Settings')
        .then((choice) => choice && vscode.commands.executeCommand('workbench.action.openSettings', 'kubeForward'));
    }
    return settings;
  }

  get currentSettings(): Settings {
    return this.settings;
  }

  /** Starts the sidecar if it is not running (one start at a time). */
  ensureStarted(why: string): Promise<void> {
    if (this.client.state === 'running') return Promise.resolve();
    this.starting ??= this.startSidecar(why).finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async startSidecar(why: string): Promise<void> {
    this.crashShown = false;
    await this.client.start({
      extensionPath: this.extension.extensionPath,
      setting: this.settings.elevation,
      trusted: vscode.workspace.isTrusted,
      ...(this.settings.kubeconfig ? { kubeconfig: this.settings.kubeconfig } : {}),
      askPassword: () => Promise.resolve(vscode.window.showInputBox({
        title: 'Kube Forward needs administrator rights',
        prompt: 'Password for sudo, to write names to /etc/hosts and bind ports below 1024. Press Escape to run without (connect by IP).',
        password: true,
        ignoreFocusOut: true,
      })),
    }, why);
    await this.client.request(P.Configure.type, this.engineOptions());
    this.tree.refresh();
    await this.applyWorkspaceForwards();
  }

  private engineOptions() {
    const s = this.settings;
    return { portMappings: s.portMappings, reservations: s.reservations, domain: s.domain ?? '', autoReconnect: s.autoReconnect };
  }

  /** The workspace's autoStart forwards (never in an untrusted workspace). */
  workspaceSpecs(): ForwardSpec[] {
    if (!vscode.workspace.isTrusted) return [];
    return this.settings.forwards.filter((f) => f.autoStart).map((f) => ({
      namespace: f.namespace, ...(f.context ? { context: f.context } : {}), ...(f.selector ? { selector: f.selector } : {}),
      ...(f.services ? { services: f.services } : {}),
    }));
  }

  private async applyWorkspaceForwards(): Promise<void> {
    if (this.client.state !== 'running') return;
    await this.client.request(P.ApplySpecs.type, { specs: this.workspaceSpecs() });
  }

  /** Activation with autoStart forwards in the settings starts the sidecar right away. */
  async startIfWorkspaceWantsIt(): Promise<void> {
    if (this.workspaceSpecs().length > 0) await this.ensureStarted('the workspace settings have autoStart forwards');
  }

  private async settingsChanged(e: vscode.ConfigurationChangeEvent): Promise<void> {
    const before = this.settings;
    this.settings = this.readSettings();
    if (this.client.state !== 'running') return this.startIfWorkspaceWantsIt();
    // What runs as root, and with which kubeconfig, is fixed at launch: those need a restart.
    if (e.affectsConfiguration('kubeForward.kubeconfig') && before.kubeconfig !== this.settings.kubeconfig) {
      return this.restart('kubeForward.kubeconfig changed');
    }
    if (e.affectsConfiguration('kubeForward.elevation') && before.elevation !== this.settings.elevation) {
      const choice = await vscode.window.showInformationMessage('Kube Forward: the elevation setting applies when the sidecar restarts.', 'Restart Now');
      if (choice) await this.restart('kubeForward.elevation changed');
      return;
    }
    const { warnings } = await this.client.request(P.Configure.type, this.engineOptions());
    for (const w of warnings) this.output.warn(w);
    await this.applyWorkspaceForwards();
  }

  async restart(why: string): Promise<void> {
    this.client.forgetDecline();
    await this.client.stop(why);
    await this.ensureStarted(why);
  }

  private sidecarStateChanged(state: string): void {
    this.updateStatus();
    this.traffic.sidecarChanged(state, this.client.lastError);
    if (state === 'running') {
      for (const d of this.sidecarDisposables) d.dispose();
      this.sidecarDisposables = [];
    }
    if (state === 'failed' && !this.crashShown) {
      // One actionable notification, never a cascade and never a silent restart loop.
      this.crashShown = true;
      void vscode.window.showErrorMessage(`Kube Forward: ${this.client.lastError ?? 'the sidecar stopped'}.`, 'Restart', 'Show Logs').then((choice) => {
        if (choice === 'Restart') void this.restart('restart after a crash').catch(() => undefined);
        if (choice === 'Show Logs') this.output.show();
      });
    }
    if (state === 'running' && this.client.plan?.kind === 'direct' && !this.store.privileges?.root) {
      const limits = this.store.privileges?.limitations ?? [];
      if (limits.length > 0) this.output.warn(`running without root: ${limits.join('; ')}`);
    }
  }

  updateStatus(): void {
    this.statusBar.update(this.store.forwards, {
      viewOpened: this.viewOpened,
      sidecar: this.client.state,
      ...(this.client.lastError ? { sidecarError: this.client.lastError } : {}),
    });
  }

  dispose(): void {
    for (const d of [...this.sidecarDisposables, ...this.disposables].reverse()) d.dispose();
  }
}
