import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { freePort } from '../cluster/ports';
import { repoRoot } from '../cluster/paths';
import { waitFor } from '../cluster/wait';

/**
 * A real VS Code (code-server 4.139.1, VS Code 1.139) with our extension loaded from source,
 * driven by headless Debian Chromium. code-server runs in a private mount namespace whose
 * /etc/hosts is a bind-mounted temp file, so the root sidecar never touches the real one.
 */
export interface VsCodeSession {
  port: number;
  workspace: string;
  hostsFile: string;
  page: Page;
  browser: Browser;
  logs: string[];
  artifacts: string;
  stop(): Promise<void>;
}

export interface SessionOptions {
  /** Workspace settings (.vscode/settings.json). */
  settings?: Record<string, unknown>;
  /** Absolute path of the compiled mocha entry (exports run()) to run in the extension host. */
  testsPath?: string;
  env?: Record<string, string>;
  name: string;
  trust?: boolean;
}

function codeServerEntry(): string {
  const entry = process.env.KF_CODE_SERVER;
  if (!entry || !fs.existsSync(entry)) throw new Error('KF_CODE_SERVER is not set or missing: run through npm test (test/setup/env.sh kf_code_server)');
  return entry;
}

/** Stops a process group: SIGTERM, then SIGKILL (killing only the PID leaves extension hosts behind). */
async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null) return;
  const kill = (signal: NodeJS.Signals) => {
    try {
      process.kill(-(child.pid as number), signal);
    } catch {
      /* gone */
    }
  };
  kill('SIGTERM');
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const timer = setTimeout(() => kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
  // Children that outlived the leader (extension host, sidecar) share its group.
  kill('SIGKILL');
}

export async function startVsCode(options: SessionOptions): Promise<VsCodeSession> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `kf-vscode-${options.name}-`));
  const artifacts = path.join(repoRoot, '.test-artifacts', options.name);
  fs.mkdirSync(artifacts, { recursive: true });
  const dirs = Object.fromEntries(['user', 'extensions', 'workspace', 'config', 'data', 'cache', 'tmp', 'chromium'].map((d) => {
    const p = path.join(root, d);
    fs.mkdirSync(p, { recursive: true });
    return [d, p];
  })) as Record<string, string>;
  fs.mkdirSync(path.join(dirs.user!, 'User'), { recursive: true });
  fs.writeFileSync(path.join(dirs.user!, 'User', 'settings.json'), JSON.stringify({
    'workbench.startupEditor': 'none', 'telemetry.telemetryLevel': 'off', 'security.workspace.trust.enabled': options.trust === false,
    'extensions.autoCheckUpdates': false, 'extensions.autoUpdate': false, 'chat.disableAIFeatures': true,
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
  }));
  const workspace = dirs.workspace!;
  fs.mkdirSync(path.join(workspace, '.vscode'), { recursive: true });
  fs.writeFileSync(path.join(workspace, '.vscode', 'settings.json'), JSON.stringify(options.settings ?? {}, null, 2));
  const hostsFile = path.join(root, 'hosts');
  fs.copyFileSync('/etc/hosts', hostsFile);

  const port = await freePort();
  const logs: string[] = [];
  const args = [codeServerEntry(), '--config', '/dev/null', '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none',
    '--user-data-dir', dirs.user!, '--extensions-dir', dirs.extensions!, '--disable-telemetry', '--disable-update-check',
    '--disable-getting-started-override', ...(options.trust === false ? [] : ['--disable-workspace-trust']),
    '--vscode-option', 'enable-smoke-test-driver', workspace];
  const script = 'mount --make-rprivate / && mount --bind "$KF_HOSTS" /etc/hosts && exec "$@"';
  const server = spawn('unshare', ['-m', '--', 'sh', '-c', script, 'sh', process.execPath, ...args], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env, ...options.env, KF_HOSTS: hostsFile,
      XDG_CONFIG_HOME: dirs.config, XDG_DATA_HOME: dirs.data, XDG_CACHE_HOME: dirs.cache, TMPDIR: dirs.tmp,
      EXTENSIONS_GALLERY: '{}', VSCODE_OPTIONS: 'enable-smoke-test-driver',
    },
  });
  const serverLog = fs.createWriteStream(path.join(artifacts, 'code-server.log'));
  server.stdout?.pipe(serverLog);
  server.stderr?.pipe(serverLog);

  let browser: Browser | undefined;
  const stop = async () => {
    await browser?.close().catch(() => undefined);
    await stopGroup(server);
    serverLog.end();
    fs.writeFileSync(path.join(artifacts, 'window.log'), logs.join('\n'));
    fs.rmSync(root, { recursive: true, force: true });
  };
  try {
    await waitFor('code-server to answer', async () => {
      if (server.exitCode !== null) throw new Error(`code-server exited (${server.exitCode}); see ${artifacts}/code-server.log`);
      const response = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
      return response?.ok;
    }, 60_000, 200);
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
      env: { ...process.env, XDG_CONFIG_HOME: dirs.config, HOME: root },
    });
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, permissions: ['clipboard-read', 'clipboard-write'] });
    const page = await context.newPage();
    page.on('console', (m) => logs.push(`[console.${m.type()}] ${m.text()}`));
    return { port, workspace, hostsFile, page, browser, logs, artifacts, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The workbench URL that loads the extension from source (and optionally its tests). */
export function workbenchUrl(session: { port: number; workspace: string }, testsPath?: string): string {
  const remote = (p: string) => `vscode-remote://127.0.0.1:${session.port}${p}`;
  const payload: [string, string][] = [['extensionDevelopmentPath', remote(repoRoot)]];
  if (testsPath) payload.push(['extensionTestsPath', remote(testsPath)]);
  return `http://127.0.0.1:${session.port}/?folder=${encodeURIComponent(session.workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
}
