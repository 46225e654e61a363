import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { kubectlJson } from '../cluster/kubectl';
import { repoRoot } from '../cluster/paths';
import { requireState } from '../cluster/state';
import { httpGet } from '../helpers/net';
import { startProcess } from '../helpers/process';

const vsix = path.join(repoRoot, 'kube-forward.vsix');
let unpacked = '';

describe('npm run package', () => {
  before(() => {
    execFileSync('npm', ['run', '-s', 'package'], { cwd: repoRoot, stdio: 'pipe', timeout: 300_000 });
    unpacked = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-vsix-'));
    execFileSync('unzip', ['-q', vsix, '-d', unpacked]);
  });
  after(() => {
    fs.rmSync(unpacked, { recursive: true, force: true });
    fs.rmSync(vsix, { force: true });
    // Leave development bundles (with source maps) for the tests that follow.
    execFileSync(process.execPath, ['esbuild.mjs'], { cwd: repoRoot });
  });

  it('holds only the bundles, media, package.json, README and licence', () => {
    const files = execFileSync('unzip', ['-Z1', vsix], { encoding: 'utf8' }).trim().split('\n').filter((f) => !f.endsWith('/'));
    const allowed = /^(extension\.vsixmanifest|\[Content_Types\]\.xml|extension\/(package\.json|readme\.md|LICENSE\.txt|dist\/(extension|sidecar|webview)\.js|media\/[^/]+))$/i;
    const unexpected = files.filter((f) => !allowed.test(f));
    assert.deepEqual(unexpected, [], `unexpected files in the .vsix: ${unexpected.join(', ')}`);
    for (const needed of ['extension/dist/extension.js', 'extension/dist/sidecar.js', 'extension/dist/webview.js', 'extension/package.json']) {
      assert.ok(files.includes(needed), `${needed} is in the .vsix`);
    }
    assert.ok(!files.some((f) => /node_modules|\.ts$|\.map$|^extension\/(test|sidecar\/src|extension\/src)/.test(f)));
  });

  it('ships a sidecar bundle whose client-node opens WebSockets to the API server', async () => {
    const state = requireState();
    const pods = await kubectlJson<{ items: { metadata: { name: string }; status: { phase: string } }[] }>(['get', 'pods', '-n', 'demo', '-l', 'app=web,!role']);
    const pod = pods.items.find((p) => p.status.phase === 'Running')?.metadata.name;
    assert.ok(pod);
    const proc = startProcess(process.execPath, [path.join(unpacked, 'extension', 'dist', 'sidecar.js'), 'client-node-forward',
      '--kubeconfig', state.kubeconfig, '--context', 'admin', '-n', 'demo', '--pod', pod, '--port', '8080']);
    try {
      const match = await proc.waitFor(/listening 127\.0\.0\.1:(\d+)/);
      const response = await httpGet(`http://127.0.0.1:${match[1]}/`);
      assert.equal(JSON.parse(response.body).pod, pod);
    } finally {
      await proc.stop();
    }
  });
});
