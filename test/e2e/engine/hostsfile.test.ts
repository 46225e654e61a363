import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { waitFor, withTimeout } from '../../cluster/wait';
import { connectResult, listening, startSidecar, svcArgs, tempHosts, type Sidecar, type TempHosts } from '../../helpers/sidecar';
import { deploymentPods } from './cluster';

/**
 * The hosts file: a crashed sidecar's block is purged by the next one; every signal leaves the
 * file byte for byte as it was; and names written to the real /etc/hosts (inside a private mount
 * namespace) resolve through the system resolver.
 */

const run = promisify(execFile);

/** Waits until the file holds exactly one block, owned by `sidecar`, with web's names in it. */
async function ownBlock(hosts: TempHosts, sidecar: Sidecar): Promise<string> {
  const web = await sidecar.forward('web.demo.admin');
  await waitFor(`one block owned by pid ${sidecar.pid} naming web`, () => {
    const blocks = hosts.blocks();
    return blocks.length === 1 && new RegExp(`^pid=${sidecar.pid}(,|$)`).test(blocks[0]?.owner ?? '') && hosts.ip('web') === web.ip;
  }, 10_000, 50);
  await listening(web.ip ?? '', 80);
  return web.ip ?? '';
}

describe('hosts file ownership', () => {
  it('kill -9 leaves the block; the next start purges it (old markers gone) and writes its own', { timeout: 90_000 }, async () => {
    const hosts = tempHosts();
    const first = startSidecar(svcArgs({ hostsPath: hosts.path }));
    let second: Sidecar | undefined;
    try {
      await ownBlock(hosts, first);
      const left = hosts.text();
      const [old] = hosts.blocks();
      assert.ok(old);
      first.proc.child.kill('SIGKILL');
      assert.equal(await withTimeout(first.exited(), 10_000, 'kill -9'), 'SIGKILL');
      assert.equal(hosts.text(), left, 'a killed sidecar cannot clean up: its block stays');

      second = startSidecar(svcArgs({ hostsPath: hosts.path }));
      const ip = await ownBlock(hosts, second);
      const text = hosts.text();
      assert.ok(!text.includes(old.begin), `the old BEGIN marker (${old.begin}) is gone`);
      assert.ok(!text.includes(old.end), `the old END marker (${old.end}) is gone`);
      assert.equal((text.match(/^# BEGIN kube-forward /gm) ?? []).length, 1);
      assert.equal((text.match(/^# END kube-forward /gm) ?? []).length, 1);
      assert.equal(hosts.ip('web'), ip, 'web has one IP: the new sidecar\'s');
      assert.ok(text.startsWith(hosts.original.toString('latin1')), 'the lines outside the block are kept');
      await second.stop();
      assert.ok(hosts.bytes().equals(hosts.original), 'after the second sidecar stops the file is as it was before the first');
    } finally {
      await first.stop();
      await second?.stop();
      hosts.remove();
    }
  });
});

describe('signals restore the hosts file byte for byte', () => {
  const cases: { signal: NodeJS.Signals; code: number; what: string; content: Buffer }[] = [
    {
      signal: 'SIGTERM', code: 143, what: 'CRLF lines, bytes that are not UTF-8, no final line break',
      content: Buffer.concat([Buffer.from('127.0.0.1\tlocalhost\r\n# caf'), Buffer.from([0xe9, 0x20, 0xff]),
        Buffer.from('\r\n10.0.0.7   keep-me   # trailing comment\r\n\r\n# last line without a line break')]),
    },
    { signal: 'SIGINT', code: 130, what: 'an ordinary file', content: Buffer.from('127.0.0.1 localhost\n::1 localhost\n\n# kept\n10.1.2.3 keep-me\n') },
    { signal: 'SIGHUP', code: 129, what: 'an empty file', content: Buffer.alloc(0) },
  ];
  for (const c of cases) {
    it(`${c.signal} (${c.what})`, { timeout: 60_000 }, async () => {
      const hosts = tempHosts(c.content);
      const sidecar = startSidecar(svcArgs({ hostsPath: hosts.path }));
      try {
        const ip = await ownBlock(hosts, sidecar);
        assert.equal(await connectResult(ip, 80), 'connected');
        const mode = fs.statSync(hosts.path).mode;
        sidecar.proc.child.kill(c.signal);
        const code = await withTimeout(sidecar.exited(), 15_000, `exit after ${c.signal}`);
        assert.equal(code, c.code, `exits by itself with ${c.code} after ${c.signal}; output:\n${sidecar.output()}`);
        assert.ok(hosts.bytes().equals(c.content),
          `byte-identical after ${c.signal}:\n${JSON.stringify(hosts.bytes().toString('latin1'))}\nvs\n${JSON.stringify(c.content.toString('latin1'))}`);
        assert.equal(fs.statSync(hosts.path).mode, mode, 'the mode is kept');
        assert.equal(await connectResult(ip, 80), 'ECONNREFUSED', 'the listeners are closed');
      } finally {
        await sidecar.stop();
        hosts.remove();
      }
    });
  }
});

describe('the real /etc/hosts in a private mount namespace', () => {
  it('getent hosts web.demo gives web\'s IP and an HTTP request by name answers from a web pod; /etc/hosts is untouched', { timeout: 90_000 }, async () => {
    const real = fs.readFileSync('/etc/hosts');
    // The namespace's /etc/hosts is a bind-mounted copy: the sidecar writes the path /etc/hosts.
    const copy = tempHosts(real);
    const script = 'mount --make-rprivate / && mount --bind "$0" /etc/hosts && exec "$@"';
    const sidecar = startSidecar(svcArgs({ hostsPath: '/etc/hosts' }), { wrap: ['unshare', '-m', '--', 'sh', '-c', script, copy.path] });
    try {
      const web = await sidecar.forward('web.demo.admin');
      const inside = (command: string, args: string[]) => run('nsenter', ['-t', String(sidecar.pid), '-m', '--', command, ...args], { timeout: 15_000 });
      const resolved = await waitFor('getent hosts web.demo inside the namespace', async () => {
        const { stdout } = await inside('getent', ['hosts', 'web.demo']);
        return stdout.trim() || undefined;
      }, 10_000, 100);
      const [address, ...names] = resolved.split(/\s+/);
      assert.equal(address, web.ip, `getent: ${resolved}`);
      assert.ok(names.includes('web.demo'), `getent: ${resolved}`);
      assert.equal(copy.ip('web.demo'), web.ip, 'the names went into the bind-mounted file');
      assert.ok(fs.readFileSync('/etc/hosts').equals(real), 'the real /etc/hosts is untouched while the sidecar runs');

      // A request by name: node resolves through getaddrinfo, i.e. the namespace's /etc/hosts.
      const request = "require('http').get('http://web.demo/', (r) => { let b = ''; r.on('data', (c) => b += c); r.on('end', () => console.log(b)); })"
        + ".on('error', (e) => { console.error(e.message); process.exit(1); })";
      const { stdout } = await inside(process.execPath, ['-e', request]);
      const answer = JSON.parse(stdout) as { pod: string; namespace: string };
      const pods = await deploymentPods('web');
      assert.equal(answer.namespace, 'demo');
      assert.ok(pods.includes(answer.pod), `http://web.demo/ answered from ${answer.pod}, one of ${pods.join(', ')}`);
      assert.equal(answer.pod, web.pod);

      await sidecar.stop();
      assert.ok(copy.bytes().equals(real), 'the namespace\'s /etc/hosts is back to its bytes');
    } finally {
      await sidecar.stop();
      copy.remove();
    }
    assert.ok(fs.readFileSync('/etc/hosts').equals(real), 'the real /etc/hosts is byte-identical afterwards');
  });
});
