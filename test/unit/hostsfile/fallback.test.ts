import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { COMPILED, leftovers, tempDir } from './fixtures';

/**
 * The in-place fallback, for real: in a private mount namespace (unshare -m, so nothing leaks to
 * the machine) a file is bind-mounted onto the target, as Docker and Kubernetes mount /etc/hosts.
 * rename() onto a mount point fails with EBUSY there; the writer must still get the content in.
 */

const tmp = tempDir();
after(() => tmp.cleanup());

before(() => {
  assert.equal(process.getuid?.(), 0, 'these tests need root (mount namespaces and bind mounts); run them as root');
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `setup` (sh) then node with `code` in a new mount namespace; env carries the paths. */
function inMountNamespace(setup: string, code: string, env: Record<string, string>): Promise<Run> {
  const script = `set -e; ${setup}; exec "$KF_TEST_NODE" -e "$KF_TEST_CODE"`;
  const child = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], {
    env: { ...process.env, ...env, KF_TEST_NODE: process.execPath, KF_TEST_CODE: code, KF_HOSTSFILE: COMPILED },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', (error) => reject(new Error(`cannot run unshare (install util-linux): ${error.message}`)));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function result(run: Run): Record<string, unknown> {
  assert.equal(run.code, 0, `namespace script failed:\n${run.stderr}${run.stdout}`);
  return JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
}

const PRELUDE = `
  const fs = require('fs');
  const path = require('path');
  const { writeAtomic, writeAtomicSync } = require(path.join(process.env.KF_HOSTSFILE, 'writer.js'));
  const { HostsFileManager } = require(path.join(process.env.KF_HOSTSFILE, 'manager.js'));
  const target = process.env.TARGET;
  const out = {};
  const codeOf = (fn) => fn().then(() => 'no error', (e) => e.code);
  // Proves the premise: a plain rename onto the target really fails here.
  function plainRename() {
    const probe = path.join(path.dirname(target), 'probe.tmp');
    try { fs.writeFileSync(probe, 'x'); fs.renameSync(probe, target); return 'renamed'; }
    catch (e) { return e.code; }
    finally { fs.rmSync(probe, { force: true }); }
  }
`;

describe('in-place fallback where rename is impossible', () => {
  it('writes through a bind-mounted file (EBUSY): writeAtomic, writeAtomicSync and the manager', async () => {
    const dir = tmp.path('busy');
    mkdirSync(dir);
    const source = join(dir, 'mounted-hosts');
    const target = join(dir, 'hosts');
    writeFileSync(source, '127.0.0.1 localhost\n# a long line that the shorter content must not leave behind\n');
    chmodSync(source, 0o600);
    writeFileSync(target, 'the file under the mount\n');
    const inode = statSync(source).ino;
    const out = result(await inMountNamespace('mount --bind "$SOURCE" "$TARGET"', `${PRELUDE}
      (async () => {
        out.rename = plainRename();
        out.async = await writeAtomic(target, 'async\\n');
        out.afterAsync = fs.readFileSync(target, 'utf8');
        out.sync = writeAtomicSync(target, '127.0.0.1 localhost\\n');
        out.afterSync = fs.readFileSync(target, 'utf8');
        const methods = [];
        const manager = new HostsFileManager(target, { owner: 'ebusy', batchMs: 0, onWrite: (m) => methods.push(m) });
        await manager.set([{ ip: '127.1.27.1', names: ['web', 'web.demo'] }]);
        out.afterSet = fs.readFileSync(target, 'utf8');
        await manager.clear();
        out.afterClear = fs.readFileSync(target, 'utf8');
        out.methods = methods;
        console.log(JSON.stringify(out));
      })().catch((e) => { console.error(e); process.exit(1); });`, { SOURCE: source, TARGET: target }));

    assert.equal(out.rename, 'EBUSY');
    assert.equal(out.async, 'in-place');
    assert.equal(out.afterAsync, 'async\n');
    assert.equal(out.sync, 'in-place');
    assert.equal(out.afterSync, '127.0.0.1 localhost\n');
    assert.equal(out.afterSet, '127.0.0.1 localhost\n# BEGIN kube-forward ebusy\n127.1.27.1 web web.demo\n# END kube-forward ebusy\n');
    assert.equal(out.afterClear, '127.0.0.1 localhost\n');
    assert.deepEqual(out.methods, ['in-place', 'in-place']);
    // Outside the namespace the mount is gone: the writes landed in the mounted file itself.
    assert.equal(readFileSync(source, 'utf8'), '127.0.0.1 localhost\n');
    assert.equal(statSync(source).ino, inode);
    assert.equal(statSync(source).mode & 0o7777, 0o600);
    assert.equal(readFileSync(target, 'utf8'), 'the file under the mount\n');
    assert.deepEqual(leftovers(dir), []);
  });

  it('writes in place when the directory is read-only but the mounted file is not (read-only root file system)', async () => {
    const dir = tmp.path('rodir');
    mkdirSync(dir);
    const source = tmp.path('rw-hosts');
    const target = join(dir, 'hosts');
    writeFileSync(source, '127.0.0.1 localhost\n');
    writeFileSync(target, 'under\n');
    const out = result(await inMountNamespace(
      'mount --bind "$DIR" "$DIR"; mount --bind "$SOURCE" "$TARGET"; mount -o remount,bind,ro "$DIR"', `${PRELUDE}
      (async () => {
        out.create = (() => { try { fs.writeFileSync(path.join(process.env.DIR, 'new'), 'x'); return 'created'; } catch (e) { return e.code; } })();
        out.async = await writeAtomic(target, 'one\\n');
        out.sync = writeAtomicSync(target, 'two\\n');
        out.after = fs.readFileSync(target, 'utf8');
        console.log(JSON.stringify(out));
      })().catch((e) => { console.error(e); process.exit(1); });`, { DIR: dir, SOURCE: source, TARGET: target }));
    assert.equal(out.create, 'EROFS');
    assert.equal(out.async, 'in-place');
    assert.equal(out.sync, 'in-place');
    assert.equal(out.after, 'two\n');
    assert.equal(readFileSync(source, 'utf8'), 'two\n');
    assert.deepEqual(leftovers(dir), []);
  });

  it('fails with a coded error and removes its temp file when the in-place write is refused too', async () => {
    const dir = tmp.path('ro');
    mkdirSync(dir);
    const source = join(dir, 'mounted-hosts');
    const target = join(dir, 'hosts');
    writeFileSync(source, 'keep\n');
    writeFileSync(target, 'under\n');
    const out = result(await inMountNamespace('mount --bind "$SOURCE" "$TARGET"; mount -o remount,bind,ro "$TARGET"', `${PRELUDE}
      (async () => {
        out.rename = plainRename();
        out.async = await codeOf(() => writeAtomic(target, 'lost\\n'));
        out.sync = await codeOf(async () => writeAtomicSync(target, 'lost\\n'));
        const manager = new HostsFileManager(target, { owner: 'ro', batchMs: 0 });
        out.manager = await codeOf(() => manager.set([{ ip: '127.1.27.1', names: ['web'] }]));
        out.files = fs.readdirSync(path.dirname(target)).sort();
        out.after = fs.readFileSync(target, 'utf8');
        console.log(JSON.stringify(out));
      })().catch((e) => { console.error(e); process.exit(1); });`, { SOURCE: source, TARGET: target }));
    assert.equal(out.rename, 'EBUSY');
    assert.equal(out.async, 'HOSTS_WRITE_FAILED');
    assert.equal(out.sync, 'HOSTS_WRITE_FAILED');
    assert.equal(out.manager, 'HOSTS_WRITE_FAILED');
    assert.deepEqual(out.files, ['hosts', 'mounted-hosts']);
    assert.equal(out.after, 'keep\n');
    assert.equal(readFileSync(source, 'utf8'), 'keep\n');
    assert.deepEqual(leftovers(dir), []);
  });
});
