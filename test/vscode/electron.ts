/**
 * `npm run test:electron`: the same extension suite through @vscode/test-electron, which
 * downloads a desktop VS Code (so it needs network access to VS Code's update service and a
 * display, e.g. `xvfb-run -a npm run test:electron`). Where that download cannot happen (as on
 * this project's CI machines), `npm test` runs the suite in code-server instead.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';
import { repoRoot } from '../cluster/paths';
import { requireState } from '../cluster/state';

async function main(): Promise<void> {
  const state = requireState();
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-electron-'));
  fs.mkdirSync(path.join(workspace, '.vscode'));
  fs.writeFileSync(path.join(workspace, '.vscode', 'settings.json'), JSON.stringify({
    'kubeForward.kubeconfig': state.kubeconfig,
    'kubeForward.forwards': [{ context: 'admin', namespace: 'demo', autoStart: true }],
  }));
  try {
    await runTests({
      version: process.env.KF_VSCODE_VERSION ?? 'stable',
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath: path.join(repoRoot, 'out', 'test', 'vscode', 'suite', 'index.js'),
      launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust'],
      extensionTestsEnv: { KF_VSCODE_SUITE: '1-,2-,3-', KF_VSCODE_RESULTS: path.join(repoRoot, '.test-artifacts', 'electron-results.json') },
    });
  } finally {
    fs.rmSync(workspace, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`test:electron failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
