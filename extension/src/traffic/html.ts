/** The panel's page: strict CSP (nonce-only scripts, no inline handlers); data arrives by postMessage. */
export function panelHtml(cspSource: string, scriptUri: string, nonce: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src ${cspSource} data:; font-src ${cspSource}; style-src ${cspSource} 'nonce-${nonce}'; script-src 'nonce-${nonce}';">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Kube Forward Traffic</title>
<style nonce="${nonce}">
  body { padding: 0 12px; font-size: var(--vscode-font-size); }
  header { display: flex; align-items: center; gap: 12px; margin: 8px 0; }
  header .grow { flex: 1; }
  #sidecar { opacity: .7; }
  table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
  th { text-align: left; font-weight: 600; border-bottom: 1px solid var(--vscode-panel-border); padding: 3px 6px; position: sticky; top: 0; background: var(--vscode-editor-background); }
  td { padding: 2px 6px; border-bottom: 1px solid var(--vscode-tree-tableOddRowsBackground, transparent); white-space: nowrap; }
  td.num { text-align: right; }
  td.path { max-width: 420px; overflow: hidden; text-overflow: ellipsis; }
  .ns { opacity: .6; }
  .st-active { color: var(--vscode-testing-iconPassed); }
  .st-reconnecting, .st-starting { color: var(--vscode-editorWarning-foreground); }
  .st-failed, .bad, .lvl-error { color: var(--vscode-errorForeground); }
  .warn, .lvl-warn { color: var(--vscode-editorWarning-foreground); }
  .spark { color: var(--vscode-charts-blue); vertical-align: middle; }
  .empty { opacity: .7; padding: 12px 6px; }
  vscode-panel-view { padding: 6px 0; }
  .reason { opacity: .75; font-size: 90%; margin-left: 4px; display: inline-block; max-width: 14em; overflow: hidden; text-overflow: ellipsis; vertical-align: bottom; }
  td.pod { max-width: 16em; overflow: hidden; text-overflow: ellipsis; }
</style>
</head>
<body>
<header><strong>Kube Forward</strong><span id="sidecar"></span><span class="grow"></span><vscode-button id="show-logs" appearance="secondary">Show Logs</vscode-button></header>
<vscode-panels id="tabs" aria-label="Traffic">
  <vscode-panel-tab id="tab-forwards">FORWARDS <vscode-badge id="forward-count">0</vscode-badge></vscode-panel-tab>
  <vscode-panel-tab id="tab-http">HTTP <vscode-badge id="http-count">0</vscode-badge></vscode-panel-tab>
  <vscode-panel-tab id="tab-events">EVENTS</vscode-panel-tab>
  <vscode-panel-view id="view-forwards">
    <div style="width:100%; overflow-x:auto">
      <table aria-label="Forwards">
        <thead><tr><th>Service</th><th>IP</th><th>Ports</th><th>Pod</th><th>State</th><th>In</th><th>Out</th><th>Rate</th><th>Last 60 s</th><th>Conns</th></tr></thead>
        <tbody id="forwards-body"></tbody>
      </table>
      <div id="empty-forwards" class="empty">Nothing is forwarded. Run “Kube Forward: Forward Namespace…”.</div>
    </div>
  </vscode-panel-view>
  <vscode-panel-view id="view-http">
    <div style="width:100%">
      <vscode-text-field id="http-filter" placeholder="Filter: method, path, status, service, pod">Filter</vscode-text-field>
      <table aria-label="HTTP requests">
        <thead><tr><th>Time</th><th>Method</th><th>Path</th><th>Status</th><th>Latency</th><th>Service</th><th>Pod</th></tr></thead>
        <tbody id="http-body"></tbody>
      </table>
      <div id="empty-http" class="empty">No HTTP requests seen yet.</div>
    </div>
  </vscode-panel-view>
  <vscode-panel-view id="view-events">
    <table aria-label="Events"><thead><tr><th>Time</th><th>Level</th><th>Message</th></tr></thead><tbody id="events-body"></tbody></table>
  </vscode-panel-view>
</vscode-panels>
<script nonce="${nonce}" src="${scriptUri}"></script>
</body>
</html>`;
}
