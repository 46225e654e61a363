import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../cluster/paths';
import { requireState } from '../cluster/state';

describe('npm run demo (its main job)', () => {
  it('forwards the demo namespace and shows services answering by name', { timeout: 120_000 }, () => {
    requireState();
    // The demo edits /etc/hosts as a real user's run would: here inside a private mount namespace
    // whose /etc/hosts is a temp copy, so the machine's file is never touched.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-demo-test-'));
    const hosts = path.join(dir, 'hosts');
    fs.copyFileSync('/etc/hosts', hosts);
    const before = fs.readFileSync(hosts);
    try {
      const script = 'mount --make-rprivate / && mount --bind "$1" /etc/hosts && shift && exec "$@"';
      const run = spawnSync('unshare', ['-m', '--', 'sh', '-c', script, 'sh', hosts, process.execPath, path.join(repoRoot, 'out', 'test', 'demo', 'demo.js')],
        { encoding: 'utf8', timeout: 110_000, env: { ...process.env, CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
      const out = `${run.stdout}${run.stderr}`;
      assert.equal(run.status, 0, out);
      assert.match(out, /web\.demo\s+→ 127\.1\.27\.\d+/);
      assert.match(out, /\$ curl http:\/\/web\.demo\/\n\s+200 \{"pod":"web-[^"]+","namespace":"demo","port":8080\}/);
      assert.match(out, /mysql-a\.demo:3306\s+→ pod=demo\/mysql-a-\S+ port=3306/);
      assert.match(out, /mysql-b\.demo:3306\s+→ pod=demo\/mysql-b-\S+ port=3306/);
      for (const i of [0, 1, 2]) assert.match(out, new RegExp(`db-${i}\\.db:5432\\s+→ pod=demo/db-${i} port=5432`));
      assert.match(out, /\/etc\/hosts is back as it was/);
      assert.deepEqual(fs.readFileSync(hosts), before);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
