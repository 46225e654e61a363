import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import * as yaml from 'js-yaml';
import { repoRoot } from '../cluster/paths';
import { requireState } from '../cluster/state';

const USER = 'kf-demo-test';

/** The cluster's kubeconfig with every file it names inlined, readable by another user. */
function inlinedKubeconfig(file: string, to: string): void {
  const doc = yaml.load(fs.readFileSync(file, 'utf8')) as {
    clusters: { cluster: Record<string, string> }[]; users: { user: Record<string, string> }[];
  };
  const inline = (entry: Record<string, string>) => {
    for (const key of ['certificate-authority', 'client-certificate', 'client-key']) {
      const at = entry[key];
      if (!at) continue;
      entry[`${key}-data`] = fs.readFileSync(at).toString('base64');
      delete entry[key];
    }
  };
  doc.clusters.forEach((c) => inline(c.cluster));
  doc.users.forEach((u) => inline(u.user));
  fs.writeFileSync(to, yaml.dump(doc), { mode: 0o644 });
}

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

  it('without root, shows the services answering by address, with the ports it moved', { timeout: 120_000 }, () => {
    const state = requireState();
    let createdUser = false;
    if (spawnSync('id', ['-u', USER]).status !== 0) {
      execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', USER]);
      createdUser = true;
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-demo-user-'));
    try {
      fs.chmodSync(dir, 0o755);
      // The user cannot reach Node 24 under root's cache, nor the cluster's key files: copies.
      fs.copyFileSync(process.execPath, path.join(dir, 'node'));
      fs.chmodSync(path.join(dir, 'node'), 0o755);
      inlinedKubeconfig(state.kubeconfig, path.join(dir, 'kubeconfig'));
      const run = spawnSync('/usr/sbin/runuser', ['-u', USER, '--', path.join(dir, 'node'), path.join(repoRoot, 'out', 'test', 'demo', 'demo.js')], {
        encoding: 'utf8', timeout: 110_000, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'],
        env: { PATH: '/usr/bin:/bin', HOME: dir, KF_CLUSTER_DIR: dir, CI: 'true' },
      });
      const out = `${run.stdout}${run.stderr}`;
      assert.equal(run.status, 0, out);
      assert.match(out, /no root: names are not written/);
      assert.match(out, /\$ curl http:\/\/127\.1\.27\.\d+:10080\/\n\s+200 \{"pod":"web-[^"]+","namespace":"demo","port":8080\}/);
      assert.match(out, /127\.1\.27\.\d+:3306\s+→ pod=demo\/mysql-a-\S+ port=3306/);
      assert.match(out, /127\.1\.27\.\d+:3306\s+→ pod=demo\/mysql-b-\S+ port=3306/);
      for (const i of [0, 1, 2]) assert.match(out, new RegExp(`127\\.1\\.27\\.\\d+:5432\\s+→ pod=demo/db-${i} port=5432`));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      if (createdUser) execFileSync('userdel', [USER]);
    }
  });
});
