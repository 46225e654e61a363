import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as yaml from 'js-yaml';
import { repoRoot } from '../../cluster/paths';
import { requireState } from '../../cluster/state';
import { httpGet } from '../../helpers/net';


const USER = 'kf-launcher-test';
const PASSWORD = 'correct horse battery staple';
let dir = '';
let createdUser = false;

/** A kubeconfig the test user can read: context dev (token) with the CA inlined. */
function userKubeconfig(): string {
  const state = requireState();
  const doc = yaml.load(fs.readFileSync(state.kubeconfig, 'utf8')) as {
    clusters: { name: string; cluster: Record<string, string> }[]; users: { name: string; user: Record<string, string> }[];
    contexts: { name: string; context: Record<string, string> }[];
  };
  const context = doc.contexts.find((c) => c.name === 'dev');
  assert.ok(context);
  const cluster = doc.clusters.find((c) => c.name === context.context.cluster);
  assert.ok(cluster);
  const ca = fs.readFileSync(cluster.cluster['certificate-authority'] ?? '').toString('base64');
  const out = {
    apiVersion: 'v1', kind: 'Config', 'current-context': 'dev',
    clusters: [{ name: cluster.name, cluster: { server: cluster.cluster.server, 'certificate-authority-data': ca } }],
    users: doc.users.filter((u) => u.name === 'dev'),
    contexts: [context],
  };
  const file = path.join(dir, 'kubeconfig');
  fs.writeFileSync(file, yaml.dump(out), { mode: 0o644 });
  return file;
}

/** Runs the launcher as the test user with a stub sudo; returns the runner's results and the stub's log. */
function run(env: Record<string, string>): { result: Record<string, unknown>; log: string } {
  const log = path.join(dir, `sudo-${Math.random().toString(36).slice(2)}.log`);
  fs.writeFileSync(log, '');
  fs.chmodSync(log, 0o666);
  const child = spawnSync('/usr/sbin/runuser', ['-u', USER, '--', path.join(dir, 'node'), path.join(repoRoot, 'out', 'test', 'e2e', 'launcher', 'runner.js')], {
    encoding: 'utf8', timeout: 60_000, cwd: dir,
    env: {
      PATH: `${path.join(dir, 'bin')}:/usr/bin:/bin`, HOME: dir, KF_SUDO_LOG: log, KF_SUDO_PASSWORD: PASSWORD,
      KF_EXT: repoRoot, KF_KUBECONFIG: path.join(dir, 'kubeconfig'), ...env,
    },
  });
  assert.equal(child.error, undefined, `runuser: ${String(child.error)}`);
  const line = child.stdout.trim().split('\n').pop() ?? '';
  assert.ok(line.startsWith('{'), `runner output: ${child.stdout}\n${child.stderr}`);
  return { result: JSON.parse(line) as Record<string, unknown>, log: fs.readFileSync(log, 'utf8') };
}

const STUB_SUDO = `#!/bin/bash
# A stand-in for sudo that records how it was called (never the password) and runs the command
# as the calling (unprivileged) user: enough to prove the launcher's protocol with sudo.
echo "ARGS $*" >> "$KF_SUDO_LOG"
if [ "$1" = "-n" ]; then
  [ -n "$KF_SUDO_NOPASSWD" ] || { echo "sudo: a password is required" >&2; exit 1; }
  shift; [ "$1" = "--" ] && shift
  exec "$@"
fi
[ "$1" = "-S" ] && [ "$2" = "-p" ] || { echo "unexpected sudo use: $*" >&2; exit 3; }
shift 3
IFS= read -r password
if [ "$password" != "$KF_SUDO_PASSWORD" ]; then echo "Sorry, try again." >&2; echo "BAD-PASSWORD" >> "$KF_SUDO_LOG"; exit 1; fi
echo "PASSWORD-OK" >> "$KF_SUDO_LOG"
[ "$1" = "-v" ] && exit 0
[ "$1" = "--" ] && shift
exec "$@"
`;

describe('sidecar launcher: sudo, password and unprivileged paths (as an unprivileged user)', { timeout: 240_000 }, () => {
  before(() => {
    if (spawnSync('id', ['-u', USER]).status !== 0) {
      execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', USER]);
      createdUser = true;
    }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-launcher-'));
    fs.chmodSync(dir, 0o755);
    // The user cannot reach Node 24 under root's cache: give it a copy.
    fs.copyFileSync(process.execPath, path.join(dir, 'node'));
    fs.chmodSync(path.join(dir, 'node'), 0o755);
    fs.mkdirSync(path.join(dir, 'bin'));
    fs.writeFileSync(path.join(dir, 'bin', 'sudo'), STUB_SUDO, { mode: 0o755 });
    userKubeconfig();
  });
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    if (createdUser) execFileSync('userdel', [USER]);
  });

  it('asks for the password, checks it once with sudo -v, and hands it to sudo -S without logging it', () => {
    const { result, log } = run({ KF_ANSWER: PASSWORD });
    assert.equal(result.error, undefined, JSON.stringify(result));
    assert.equal(result.plan, 'sudo-password');
    assert.deepEqual(result.asked, ['password']);
    assert.equal(result.server, 'kube-forward');
    const lines = log.trim().split('\n');
    assert.equal(lines[0], 'ARGS -n true', 'first: does sudo work without a password?');
    assert.equal(lines[1], 'ARGS -S -p  -v');
    assert.equal(lines[2], 'PASSWORD-OK');
    assert.match(lines[3] ?? '', /^ARGS -S -p {2}-- \/usr\/bin\/env ELECTRON_RUN_AS_NODE=1 \S+node \S+dist\/sidecar\.js serve --stdio --hosts-path \/etc\/hosts --kubeconfig /);
    assert.equal(lines[4], 'PASSWORD-OK');
    assert.ok(!log.includes(PASSWORD), 'the password is not in sudo\'s arguments');
    assert.ok(!String(result.cmdline).includes(PASSWORD), 'nor in the sidecar\'s command line');
    assert.equal(result.exit, 0);
  });

  it('reports a wrong password once, without retrying or starting anything', () => {
    const { result, log } = run({ KF_ANSWER: 'wrong' });
    assert.deepEqual(result.error, { code: 'WRONG_PASSWORD', message: 'sudo did not accept the password: the sidecar was not started. Run "Kube Forward: Restart Sidecar" to try again.' });
    assert.deepEqual(log.trim().split('\n'), ['ARGS -n true', 'ARGS -S -p  -v', 'BAD-PASSWORD']);
  });

  it('runs unprivileged when the prompt is declined: no names, ports below 1024 moved up', async () => {
    const { result, log } = run({ KF_ANSWER: 'decline' });
    assert.equal(result.error, undefined, JSON.stringify(result));
    assert.equal(result.plan, 'direct-user');
    assert.equal(result.root, false);
    assert.equal(result.hostsPath, null, 'no hosts file is written without root');
    assert.ok((result.limitations as string[]).some((l) => /10000/.test(l)));
    assert.deepEqual(result.webPorts, ['80->10080']);
    assert.equal(log, 'ARGS -n true\n', 'only sudo -n was tried');
    assert.equal(result.exit, 0);
  });

  it('uses sudo -n when it works, without asking', () => {
    const { result, log } = run({ KF_SUDO_NOPASSWD: '1' });
    assert.equal(result.plan, 'sudo-n');
    assert.deepEqual(result.asked, []);
    assert.match(log, /^ARGS -n true\nARGS -n -- \/usr\/bin\/env ELECTRON_RUN_AS_NODE=1 /);
  });

  it('never elevates with kubeForward.elevation "none"', () => {
    const { result, log } = run({ KF_SUDO_NOPASSWD: '1', KF_SETTING: 'none' });
    assert.equal(result.plan, 'direct-user');
    assert.deepEqual(result.asked, []);
    assert.ok(!log.includes('--'), `sudo did not run the sidecar: ${log}`);
  });

  it('the unprivileged sidecar forwards for real', async () => {
    const { result } = run({ KF_ANSWER: 'decline' });
    assert.match(String(result.webIp), /^127\.1\.27\.\d+$/);
    const answer = JSON.parse(String(result.webAnswer)) as { pod: string; port: number };
    assert.match(answer.pod, /^web-/, 'a web pod answered through 10080');
    assert.equal(answer.port, 8080);
    await assert.rejects(httpGet(`http://${String(result.webIp)}:10080/`, 2000), 'the sidecar exited with the runner and left no listener');
  });
});
