import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoRoot } from '../cluster/paths';
import { waitFor } from '../cluster/wait';
import { httpGet } from '../helpers/net';
import { startSidecar, svcArgs, tempHosts } from '../helpers/sidecar';

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

  it('ships a sidecar bundle that forwards a namespace and answers by name', async () => {
    const hosts = tempHosts();
    const sidecar = startSidecar(svcArgs({ hostsPath: hosts.path }), { bundle: path.join(unpacked, 'extension', 'dist', 'sidecar.js') });
    try {
      const web = await sidecar.forward('web.demo.admin');
      assert.ok(web.ip, web.line);
      await waitFor('web in the hosts file', () => hosts.ip('web') === web.ip, 10_000, 50);
      const response = await httpGet(`http://${web.ip}:${Number(/^(\d+)/.exec(web.ports ?? '')?.[1])}/`);
      assert.equal(JSON.parse(response.body).namespace, 'demo');
    } finally {
      await sidecar.stop();
      hosts.remove();
    }
  });
});
