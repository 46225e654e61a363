import * as crypto from 'node:crypto';
import * as vscode from 'vscode';
import type { FromPanel, ToPanel } from '../../../webview/src/messages';
import type { ForwardStore } from '../model/store';
import { panelHtml } from './html';

export const PANEL_TYPE = 'kubeForward.traffic';

/**
 * The one traffic panel: created on demand, revived after a reload by its serializer. It sends
 * nothing until the page says `ready` (so early messages are not lost), then the full state,
 * then changes (forwards at most 10 times a second).
 */
export class TrafficPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private ready = false;
  private readonly disposables: vscode.Disposable[] = [];
  private panelDisposables: vscode.Disposable[] = [];
  private forwardsTimer: NodeJS.Timeout | undefined;
  /** Messages posted to the page, for the integration tests. */
  readonly posted: ToPanel['type'][] = [];

  constructor(private readonly extensionUri: vscode.Uri, private readonly store: ForwardStore,
    private readonly sidecarState: () => { state: string; error?: string }, private readonly showLogs: () => void) {
    this.disposables.push(
      store.onDidChange(() => this.scheduleForwards()),
      store.onDidMetrics((metrics) => this.post({ type: 'metrics', metrics })),
      store.onDidHttp((records) => this.post({ type: 'http', records })),
      store.onDidEvents((events) => this.post({ type: 'events', events })),
    );
  }

  get visible(): boolean {
    return !!this.panel?.visible;
  }

  get isReady(): boolean {
    return this.ready;
  }

  show(): void {
    if (this.panel) return this.panel.reveal();
    const panel = vscode.window.createWebviewPanel(PANEL_TYPE, 'Kube Forward Traffic', vscode.ViewColumn.Active, this.options());
    this.attach(panel);
  }

  /** Called by the serializer after a window reload. */
  revive(panel: vscode.WebviewPanel): void {
    this.panel?.dispose();
    panel.webview.options = this.options();
    this.attach(panel);
  }

  private options(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return { enableScripts: true, retainContextWhenHidden: true, localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist')] };
  }

  private attach(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    this.ready = false;
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'kube-forward.svg');
    const nonce = crypto.randomBytes(16).toString('base64');
    const script = panel.webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview.js'));
    panel.webview.html = panelHtml(panel.webview.cspSource, script.toString(), nonce);
    this.panelDisposables = [
      panel.webview.onDidReceiveMessage((message: FromPanel) => this.received(message)),
      panel.onDidDispose(() => {
        this.panel = undefined;
        this.ready = false;
        for (const d of this.panelDisposables) d.dispose();
        this.panelDisposables = [];
      }),
    ];
  }

  private received(message: FromPanel): void {
    switch (message.type) {
      case 'ready': {
        this.ready = true;
        const sidecar = this.sidecarState();
        this.post({ type: 'init', forwards: this.store.forwards, metrics: this.store.metrics, http: this.store.http, events: this.store.events,
          sidecar: sidecar.error ? `${sidecar.state}: ${sidecar.error}` : sidecar.state });
        break;
      }
      case 'showLogs':
        this.showLogs();
        break;
      case 'copy':
        void vscode.env.clipboard.writeText(message.text);
        break;
    }
  }

  sidecarChanged(state: string, error?: string): void {
    this.post({ type: 'sidecar', state, ...(error ? { error } : {}) });
  }

  private scheduleForwards(): void {
    if (this.forwardsTimer || !this.ready) return;
    this.forwardsTimer = setTimeout(() => {
      this.forwardsTimer = undefined;
      this.post({ type: 'forwards', forwards: this.store.forwards });
    }, 100);
  }

  private post(message: ToPanel): void {
    if (!this.panel || !this.ready) return;
    this.posted.push(message.type);
    if (this.posted.length > 1000) this.posted.splice(0, 500);
    void this.panel.webview.postMessage(message);
  }

  dispose(): void {
    clearTimeout(this.forwardsTimer);
    this.panel?.dispose();
    for (const d of [...this.disposables, ...this.panelDisposables]) d.dispose();
  }
}
