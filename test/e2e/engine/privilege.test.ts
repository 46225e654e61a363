import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as yaml from 'js-yaml';
import { requireState } from '../../cluster/state';
import { withTimeout } from '../../cluster/wait';
import { startProcess } from '../../helpers/process';
import { listening, Sidecar, sidecarBundle, tempHosts } from '../../helpers/sidecar';
import { deploymentPods, whoAnswers } from './cluster';

/**
 * The sidecar started through sudo (root, with SUDO_UID/SUDO_GID/SUDO_USER naming the invoking
 * user): kubeconfig `exec` credential plugins run as that user, with that user's HOME, so nothing
 * root-owned appears in their home (kubefwd #285); and a kubeconfig the user cannot read is refused
 * rather than read with root's rights.
 *
 * The test user has a real home in a temp dir. The sidecar runs on a copy of Node in a
 * world-readable dir (as under sudo, where it runs on the user's own VS Code Node): /root is 0700,
 * and the sidecar reads the user's files through a child running Node as the user.
 */

const USER = 'kf-privilege-test';
const CONTEXT = 'kf-exec';
let dir = '';
let home = '';
let node = '';
let uid = -1;
let gid = -1;
let kubeconfig = '';
let fwdconf = '';
let createdUser = false;

/** Writes a file (creating its folders) and gives it, and every folder created for it, to the test user. */
function writeAsUser(file: string, content: string, mode: number): void {
  const rel = path.relative(home, path.dirname(file));
  let at = home;
  for (const part of rel.split(path.sep).filter(Boolean)) {
    at = path.join(at, part);
    if (!fs.existsSync(at)) {
      fs.mkdirSync(at, { mode: 0o700 });
      fs.chownSync(at, uid, gid);
    }
  }
  fs.writeFileSync(file, content, { mode });
  fs.chmodSync(file, mode);
  fs.chownSync(file, uid, gid);
}

/** The dev user's token and the cluster of the test kubeconfig (CA inlined, so the user needs no other file). */
function devCredentials(): { token: string; server: string; caData: string } {
  const doc = yaml.load(fs.readFileSync(requireState().kubeconfig, 'utf8')) as {
    clusters: { name: string; cluster: Record<string, string> }[]; users: { name: string; user: Record<string, string> }[];
    contexts: { name: string; context: Record<string, string> }[];
  };
  const context = doc.contexts.find((c) => c.name === 'dev');
  const cluster = doc.clusters.find((c) => c.name === context?.context.cluster);
  const token = doc.users.find((u) => u.name === 'dev')?.user.token;
  assert.ok(context && cluster && token, 'the test kubeconfig has context dev with a token');
  const caData = cluster.cluster['certificate-authority-data'] ?? fs.readFileSync(cluster.cluster['certificate-authority'] ?? '').toString('base64');
  return { token, server: cluster.cluster.server ?? '', caData };
}

/**
 * An exec credential plugin as aws/gcloud/kubelogin are: it notes who runs it (uid, gid, HOME),
 * writes a cache under $HOME/.kube/cache/, and prints an ExecCredential.
 */
function pluginScript(token: string): string {
  const credential = JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token } });
  return [
    '#!/bin/sh',
    'set -e',
    'printf "uid=%s gid=%s home=%s\\n" "$(id -u)" "$(id -g)" "$HOME" >> "$HOME/plugin-runs.log"',
    'mkdir -p "$HOME/.kube/cache/kf-test"',
    'printf "cached at %s\\n" "$(date +%s)" > "$HOME/.kube/cache/kf-test/token.json"',
    `printf '%s\\n' '${credential}'`,
    '',
  ].join('\n');
}

/** A sidecar as `sudo kube-forward …` starts it: root, with sudo's variables naming the test user. */
function startAsSudo(args: string[]): Sidecar {
  const env: NodeJS.ProcessEnv = { ...process.env, SUDO_UID: String(uid), SUDO_GID: String(gid), SUDO_USER: USER, SUDO_COMMAND: `${node} ${sidecarBundle} ${args.join(' ')}` };
  delete env.KUBECONFIG;
  return new Sidecar(startProcess(node, [sidecarBundle, ...args], { env }));
}

/** Every path under `root` (itself included) with its owner. */
function owners(root: string): { file: string; uid: number; gid: number }[] {
  const out: { file: string; uid: number; gid: number }[] = [];
  const walk = (p: string) => {
    const st = fs.lstatSync(p);
    out.push({ file: p, uid: st.uid, gid: st.gid });
    if (st.isDirectory()) for (const name of fs.readdirSync(p)) walk(path.join(p, name));
  };
  walk(root);
  return out;
}

describe('under sudo: exec credential plugins run as the invoking user', { timeout: 180_000 }, () => {
  before(() => {
    if (spawnSync('id', ['-u', USER]).status === 0) execFileSync('userdel', ['-r', USER], { stdio: 'ignore' }); // left by a killed run
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-privilege-'));
    fs.chmodSync(dir, 0o755);
    home = path.join(dir, 'home');
    execFileSync('useradd', ['--system', '--create-home', '--home-dir', home, '--shell', '/bin/sh', USER]);
    createdUser = true;
    uid = Number(execFileSync('id', ['-u', USER], { encoding: 'utf8' }).trim());
    gid = Number(execFileSync('id', ['-g', USER], { encoding: 'utf8' }).trim());
    assert.notEqual(uid, 0);
    node = path.join(dir, 'node');
    fs.copyFileSync(process.execPath, node);
    fs.chmodSync(node, 0o755);

    const { token, server, caData } = devCredentials();
    const plugin = path.join(home, 'bin', 'kf-credential');
    writeAsUser(plugin, pluginScript(token), 0o755);
    kubeconfig = path.join(home, '.kube', 'config');
    writeAsUser(kubeconfig, yaml.dump({
      apiVersion: 'v1', kind: 'Config', 'current-context': CONTEXT,
      clusters: [{ name: 'kf-cluster', cluster: { server, 'certificate-authority-data': caData } }],
      users: [{ name: 'kf-exec-user', user: { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: plugin, interactiveMode: 'Never' } } }],
      contexts: [{ name: CONTEXT, context: { cluster: 'kf-cluster', user: 'kf-exec-user', namespace: 'demo' } }],
    }), 0o600);
    // Addresses away from 127.1.27.x, where other suites forward demo.
    fwdconf = path.join(dir, 'fwdconf.yml');
    fs.writeFileSync(fwdconf, 'baseUnreservedIP: 127.1.36.1\n', { mode: 0o644 });
  });

  after(() => {
    if (createdUser) execFileSync('userdel', ['-r', USER], { stdio: 'ignore' });
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('svc -n demo through an exec plugin: the plugin ran as the user with their HOME, nothing root-owned in their home, web answers', async () => {
    const before = owners(home).filter((o) => o.uid !== uid);
    assert.deepEqual(before, [], 'the home starts out all the user\'s');
    const hosts = tempHosts();
    const sidecar = startAsSudo(['svc', '-n', 'demo', '-x', CONTEXT, '-c', kubeconfig, '--hosts-path', hosts.path, '-z', fwdconf]);
    try {
      const web = await sidecar.forward(`web.demo.${CONTEXT}`, undefined, 60_000);
      assert.match(web.ip ?? '', /^127\.1\.36\.\d{1,3}$/, web.line);
      await listening(web.ip ?? '', 80);
      const answer = await whoAnswers(`http://${web.ip}/?from=privilege-e2e`);
      const pods = await deploymentPods('web');
      assert.ok(pods.includes(answer.pod), `${answer.pod} is one of web's pods (${pods.join(', ')})`);

      const runs = fs.readFileSync(path.join(home, 'plugin-runs.log'), 'utf8').trim().split('\n');
      assert.ok(runs.length >= 1, 'the exec plugin ran');
      for (const run of runs) assert.equal(run, `uid=${uid} gid=${gid} home=${home}`, 'the plugin ran as the invoking user, with their HOME');
      assert.ok(fs.existsSync(path.join(home, '.kube', 'cache', 'kf-test', 'token.json')), 'the plugin wrote its cache');

      const code = await sidecar.stop();
      assert.equal(code, 143, `the sidecar ended on SIGTERM; output:\n${sidecar.output()}`);
      assert.ok(hosts.bytes().equals(hosts.original), 'the hosts file is back to its original bytes');
    } finally {
      await sidecar.stop();
      hosts.remove();
    }
    const foreign = owners(home).filter((o) => o.uid !== uid || o.gid !== gid);
    assert.deepEqual(foreign.map((o) => `${o.file} ${o.uid}:${o.gid}`), [], `every file under ${home} belongs to ${USER} (${uid}:${gid})`);
  });

  it('a kubeconfig only root can read is refused: one "cannot read kubeconfig" line, exit 2, the hosts file untouched', async () => {
    const secret = path.join(dir, 'root-only.kubeconfig');
    fs.copyFileSync(kubeconfig, secret);
    fs.chownSync(secret, 0, 0);
    fs.chmodSync(secret, 0o600);
    const runsBefore = fs.existsSync(path.join(home, 'plugin-runs.log')) ? fs.readFileSync(path.join(home, 'plugin-runs.log'), 'utf8') : '';
    const hosts = tempHosts();
    const sidecar = startAsSudo(['svc', '-n', 'demo', '-x', CONTEXT, '-c', secret, '--hosts-path', hosts.path, '-z', fwdconf]);
    try {
      const code = await withTimeout(sidecar.exited(), 30_000, 'the sidecar to exit');
      const lines = sidecar.output().split('\n').map((l) => l.trim()).filter(Boolean);
      assert.equal(code, 2, `exit code 2; output:\n${sidecar.output()}`);
      assert.equal(lines.length, 1, `one line:\n${sidecar.output()}`);
      const [line = ''] = lines;
      assert.match(line, /cannot read kubeconfig/);
      assert.ok(line.includes(secret), `names the file: ${line}`);
      assert.match(line, /EACCES|permission denied/i, `says the user may not read it: ${line}`);
      assert.doesNotMatch(line, /\bat \S+:\d+:\d+/, 'no stack trace');
      assert.deepEqual(sidecar.lines(), [], 'nothing was forwarded');
      const runsAfter = fs.existsSync(path.join(home, 'plugin-runs.log')) ? fs.readFileSync(path.join(home, 'plugin-runs.log'), 'utf8') : '';
      assert.equal(runsAfter, runsBefore, 'the plugin it names never ran');
      assert.ok(hosts.bytes().equals(hosts.original), 'the hosts file was not touched');
    } finally {
      await sidecar.stop();
      hosts.remove();
    }
  });
});
