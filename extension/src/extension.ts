import * as vscode from 'vscode';
import { makeApi, type KubeForwardApi } from './api';
import { registerCommands } from './commands';
import { KubeForwardContext } from './context';
import { PANEL_TYPE } from './traffic/panel';

let context: KubeForwardContext | undefined;

/**
 * Only wires things up (nothing is created at import time); the sidecar starts when something
 * needs it: the view, a command, or autoStart forwards in the workspace settings.
 */
export function activate(extension: vscode.ExtensionContext): KubeForwardApi {
  const ctx = new KubeForwardContext(extension);
  context = ctx;
  extension.subscriptions.push(ctx, ...registerCommands(ctx),
    vscode.window.registerWebviewPanelSerializer(PANEL_TYPE, {
      deserializeWebviewPanel: async (panel) => {
        ctx.traffic.revive(panel);
        void ctx.ensureStarted('the traffic panel was restored').catch(() => undefined);
      },
    }));
  const ready = ctx.startIfWorkspaceWantsIt().catch((error: unknown) => {
    ctx.output.error(`starting the workspace forwards failed: ${error instanceof Error ? error.message : String(error)}`);
  });
  return makeApi(ctx, ready);
}

export async function deactivate(): Promise<void> {
  await context?.client.stop('VS Code is closing');
  context = undefined;
}
