import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync, writeFileSync, chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { HostsWriter } from '../../../sidecar/src/engine/deps';
import { KubeForwardError } from '../../../sidecar/src/errors';
import { renderBlock } from '../../../sidecar/src/hostsfile/block';
import { HostsFileManager } from '../../../sidecar/src/hostsfile/manager';
import { currentOwner } from '../../../sidecar/src/hostsfile/owner';
import { startProcess, type TestProcess } from '../../helpers/process';
import { COMPILED, leftovers, tempDir } from './fixtures';

const tmp = tempDir();
const children: TestProcess[] = [];
after(async () => {
  await Promise.all(children.map((child) => child.stop(1000)));
  tmp.cleanup();
});

const BASE = '127.0.0.1 localhost\n::1 localhost ip6-localhost\n# keep me\n';
const web = { ip: '127.1.27.1', names: ['web', 'web.demo'] };
const db = { ip: '127.1.27.2', names: ['db', 'db.demo'] };

let counter = 0;
function missingFile(): string {
  return tmp.path(`hosts-${++counter}`);
}
function hostsFile(content = BASE): string {
  const path = missingFile();
  writeFileSync(path, content, 'latin1');
  return path;
}
const read = (path: string): string => readFileSync(path, 'latin1');

/** A separate sidecar-like process that writes a block through the real manager and stays up. */
async function blockWriter(path: string, ip: string, name: string): Promise<{ process: TestProcess; owner: string }> {
  const code = `
    const { HostsFileManager } = require(${JSON.stringify(join(COMPILED, 'manager.js'))});
    const manager = new HostsFileManager(process.argv[1], { batchMs: 0 });
    manager.set([{ ip: process.argv[2], names: [process.argv[3]] }])
      .then(() => console.log('written ' + manager.owner), (error) => { console.error(error); process.exit(1); });
    setInterval(() => {}, 60_000);`;
  const child = startProcess(process.execPath, ['-e', code, path, ip, name]);
  children.push(child);
  const match = await child.waitFor(/written (\S+)/);
  return { process: child, owner: match[1] ?? '' };
}

describe('HostsFileManager', () => {
  it('is what the engine takes as its hosts writer', () => {
    const writer: HostsWriter = new HostsFileManager(missingFile());
    assert.equal(typeof writer.set, 'function');
  });

  it('turns ten quick set() calls into one write of the last entries', async () => {
    const path = hostsFile();
    const inodes: number[] = [];
    const manager = new HostsFileManager(path, { owner: 'batch', batchMs: 30, onWrite: () => inodes.push(statSync(path).ino) });
    const before = statSync(path).ino;
    const calls = Array.from({ length: 10 }, (_, i) => manager.set([{ ip: `127.1.27.${i + 1}`, names: [`svc${i}`] }]));
    await Promise.all(calls);
    assert.equal(manager.writes, 1);
    assert.equal(inodes.length, 1);
    assert.notEqual(inodes[0], before);
    assert.equal(read(path), BASE + renderBlock('batch', [{ ip: '127.1.27.10', names: ['svc9'] }]));
  });

  it('writes a pending batch at once on flush()', async () => {
    const path = hostsFile();
    const manager = new HostsFileManager(path, { owner: 'flush', batchMs: 60_000 });
    const pending = manager.set([web]);
    await manager.flush();
    assert.equal(read(path), BASE + renderBlock('flush', [web]));
    await pending;
    await manager.flush();
    assert.equal(manager.writes, 1);
  });

  it('skips writes that would not change the file', async () => {
    const path = hostsFile();
    const manager = new HostsFileManager(path, { owner: 'same', batchMs: 0 });
    await manager.set([web, db]);
    await manager.set([web, db]);
    await manager.set([{ ip: web.ip, names: [...web.names, 'web'] }, db]);
    assert.equal(manager.writes, 1);
  });

  it('reloads the file before every write, keeping what others added meanwhile', async () => {
    // The file's first line break (CRLF once a person added a line) decides how our lines end.
    const path = hostsFile('127.0.0.1 localhost');
    const manager = new HostsFileManager(path, { owner: 'reload', batchMs: 0 });
    await manager.set([web]);
    writeFileSync(path, `# added by a person\r\n${read(path)}\n10.9.9.9 vpn-host\n`, 'latin1');
    await manager.set([db]);
    assert.equal(read(path), `# added by a person\r\n127.0.0.1 localhost\n${renderBlock('reload', [db], '\r\n').trimEnd()}\n10.9.9.9 vpn-host\n`);
    await manager.clear();
    assert.equal(read(path), '# added by a person\r\n127.0.0.1 localhost\n10.9.9.9 vpn-host\n');
  });

  it('gives back the exact original bytes when cleared (CRLF, no final newline, other blocks, non-UTF-8)', async () => {
    const other = renderBlock('pid=1', [{ ip: '127.2.27.1', names: ['theirs'] }], '\r\n');
    const original = `# caf\xe9\xff\r\n127.0.0.1 localhost\r\n${other}# END kube-forward stray\r\n10.0.0.1 intranet`;
    const path = hostsFile(original);
    const manager = new HostsFileManager(path, { owner: 'exact', batchMs: 0 });
    await manager.set([web]);
    assert.ok(read(path).startsWith(`${original}\r\n# BEGIN kube-forward exact\r\n`));
    await manager.clear();
    assert.equal(read(path), original);
    await manager.set([db]);
    manager.clearSync();
    assert.equal(read(path), original);
    assert.equal(manager.writes, 4);
  });

  it('clears idempotently, sync and async, and drops a pending batch', async () => {
    const path = hostsFile();
    const manager = new HostsFileManager(path, { owner: 'idem', batchMs: 0 });
    await manager.set([web]);
    await manager.clear();
    await manager.clear();
    manager.clearSync();
    assert.equal(read(path), BASE);
    assert.equal(manager.writes, 2);
    const slow = new HostsFileManager(path, { owner: 'idem', batchMs: 60_000 });
    const pending = slow.set([web]);
    slow.clearSync();
    await pending;
    await slow.flush();
    assert.equal(read(path), BASE);
    assert.equal(slow.writes, 0);
  });

  it('creates a missing file with mode 0644, and clearing a missing file creates nothing', async () => {
    const missing = missingFile();
    const manager = new HostsFileManager(missing, { owner: 'new', batchMs: 0 });
    await manager.clear();
    manager.clearSync();
    assert.equal(existsSync(missing), false);
    await manager.set([web]);
    assert.equal(statSync(missing).mode & 0o7777, 0o644);
    assert.equal(read(missing), renderBlock('new', [web]));
    await manager.clear();
    assert.equal(read(missing), '');
  });

  for (const mode of [0o600, 0o644]) {
    it(`keeps mode ${mode.toString(8)} across writes`, async () => {
      const path = hostsFile();
      chmodSync(path, mode);
      const manager = new HostsFileManager(path, { owner: 'mode', batchMs: 0 });
      await manager.set([web]);
      assert.equal(statSync(path).mode & 0o7777, mode);
      await manager.clear();
      assert.equal(statSync(path).mode & 0o7777, mode);
    });
  }

  it('rejects invalid names and IPs without touching the file', async () => {
    const path = hostsFile();
    const manager = new HostsFileManager(path, { owner: 'strict', batchMs: 0 });
    await manager.set([web]);
    const before = statSync(path);
    const content = read(path);
    const invalid = (value: string) => (error: unknown) =>
      error instanceof KubeForwardError && error.code === 'INVALID_HOST_ENTRY' && error.message.includes(value);
    await assert.rejects(manager.set([web, { ip: '10.0.0.1', names: ['db'] }]), invalid('10.0.0.1'));
    await assert.rejects(manager.set([{ ip: '127.1.27.3', names: ['ok', 'bad_name'] }]), invalid('bad_name'));
    await assert.rejects(manager.set([{ ip: '127.1.27.3', names: ['x\n0.0.0.0 bank.example'] }]), invalid('bank.example'));
    await assert.rejects(manager.conflicts([{ ip: '127.0.0.1', names: ['UP'] }]), invalid('UP'));
    assert.throws(() => new HostsFileManager(path, { owner: 'two words' }), invalid('two words'));
    await manager.flush();
    assert.equal(read(path), content);
    assert.equal(statSync(path).ino, before.ino);
    assert.equal(statSync(path).mtimeMs, before.mtimeMs);
    assert.equal(manager.writes, 1);
  });

  it('reports names the file maps elsewhere outside our block', async () => {
    const theirs = renderBlock('pid=1', [{ ip: '127.2.27.5', names: ['db.demo'] }]);
    const path = hostsFile(`${BASE}10.0.0.7 WEB.demo other # web\n127.1.27.1 web\n${theirs}`);
    const manager = new HostsFileManager(path, { owner: 'conflicts', batchMs: 0 });
    await manager.set([web, db, { ip: '127.1.27.3', names: ['localhost'] }]);
    assert.deepEqual(await manager.conflicts([web, db, { ip: '127.1.27.3', names: ['localhost', 'free'] }]), [
      { name: 'web.demo', ip: '127.1.27.1', elsewhere: ['10.0.0.7'] },
      { name: 'db.demo', ip: '127.1.27.2', elsewhere: ['127.2.27.5'] },
      { name: 'localhost', ip: '127.1.27.3', elsewhere: ['127.0.0.1', '::1'] },
    ]);
    assert.deepEqual(await new HostsFileManager(missingFile()).conflicts([web]), []);
  });
});

describe('HostsFileManager.purgeStale', () => {
  it('removes the block of a SIGKILLed owner and keeps a live one\'s, ours and broken ones', async () => {
    const broken = '# BEGIN kube-forward pid=999999999\n127.1.27.99 half-written\n';
    const path = hostsFile(BASE + broken);
    const dead = await blockWriter(path, '127.1.27.10', 'dead.demo');
    const live = await blockWriter(path, '127.1.27.11', 'live.demo');
    assert.match(dead.owner, new RegExp(`^pid=${dead.process.child.pid},start=[0-9]+$`));
    dead.process.child.kill('SIGKILL');
    await dead.process.exited();

    const manager = new HostsFileManager(path, { batchMs: 0 });
    assert.equal(manager.owner, currentOwner());
    await manager.set([web]);
    const result = await manager.purgeStale();
    assert.deepEqual(result.removed, [{ owner: dead.owner, entries: [{ ip: '127.1.27.10', names: ['dead.demo'] }] }]);
    assert.deepEqual(result.malformed.map((m) => [m.line, m.problem]), [[4, 'BEGIN without END']]);
    const text = read(path);
    assert.ok(!text.includes('dead.demo'));
    assert.ok(text.includes(`# BEGIN kube-forward ${live.owner}\n127.1.27.11 live.demo\n# END kube-forward ${live.owner}\n`));
    assert.ok(text.includes(renderBlock(manager.owner, [web])));
    assert.ok(text.startsWith(BASE + broken));
    assert.deepEqual((await manager.purgeStale()).removed, [], 'a second purge finds nothing');
  });

  it('treats a recycled pid (same pid, other start time) as dead', async () => {
    const [pid, start] = [process.pid, currentOwner().split('start=')[1]];
    const recycled = `pid=${pid},start=${BigInt(start ?? '0') + 5n}`;
    const path = hostsFile(BASE + renderBlock(recycled, [web]) + renderBlock(currentOwner(), [db]));
    const result = await new HostsFileManager(path, { owner: 'someone-else', batchMs: 0 }).purgeStale();
    assert.deepEqual(result.removed.map((b) => b.owner), [recycled]);
    assert.equal(read(path), BASE + renderBlock(currentOwner(), [db]));
  });

  it('leaves no temp files behind after all of the above', () => {
    assert.deepEqual(leftovers(tmp.dir), []);
    assert.ok(readdirSync(tmp.dir).every((name) => name.startsWith('hosts-')));
  });
});
