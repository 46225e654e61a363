import * as vscode from 'vscode';
import { summarize, type StatusSummary } from './summary';
import type { ForwardInfo } from '../../../sidecar/src/protocol/types';

/** Owns the single status bar item; nobody else touches it. */
export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('kubeForward.status', vscode.StatusBarAlignment.Left, 10);
  last: StatusSummary | undefined;

  constructor() {
    this.item.name = 'Kube Forward';
    this.item.command = 'kubeForward.showTraffic';
  }

  update(forwards: readonly ForwardInfo[], opts: Parameters<typeof summarize>[1]): void {
    const s = summarize(forwards, opts);
    this.last = s;
    this.item.text = s.text;
    this.item.tooltip = s.tooltip;
    this.item.backgroundColor = s.severity === 'error' ? new vscode.ThemeColor('statusBarItem.errorBackground')
      : s.severity === 'warning' ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    if (s.visible) this.item.show();
    else this.item.hide();
  }

  dispose(): void {
    this.item.dispose();
  }
}
