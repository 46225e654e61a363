import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { requireState } from '../../cluster/state';
import { waitFor, withTimeout } from '../../cluster/wait';
import { startProcess } from '../../helpers/process';
import { connectResult, startSidecar, svcArgs, tempHosts, type TempHosts } from '../../helpers/sidecar';
import { contextNames } from './cluster';

/**
 * Bad input: one clear line and exit code 2, before anything is forwarded; the hosts file is
 * never touched. A port already taken is named with the process holding it.
 */

interface Outcome {
  code: number | string;
  lines: string[];
  output: string;
}

async function runSvc(args: string[], hosts: TempHosts): Promise<Outcome> {
  const sidecar = startSidecar(args);
  try {
    const code = await withTimeout(sidecar.exited(), 30_000, `kube-forward ${args.join(' ')} exiting`);
    const output = sidecar.output();
    return { code, output, lines: output.split('\n').map((l) => l.trim()).filter(Boolean) };
  } finally {
    await sidecar.stop();
    assert.ok(hosts.bytes().equals(hosts.original), 'the hosts file was not touched');
  }
}

function oneLine(outcome: Outcome, pattern: RegExp): string {
  assert.equal(outcome.code, 2, `exit code 2; output:\n${outcome.output}`);
  assert.equal(outcome.lines.length, 1, `one line:\n${outcome.output}`);
  const [line = ''] = outcome.lines;
  assert.match(line, pattern);
  assert.ok(line.length < 400, `a short line: ${line}`);
  assert.doesNotMatch(line, /\n|\bat \S+:\d+:\d+/, 'no stack trace');
  return line;
}

describe('bad input: one clear line, exit code 2', () => {
  it('an unknown flag', async () => {
    const hosts = tempHosts();
    try {
      const line = oneLine(await runSvc([...svcArgs({ hostsPath: hosts.path }), '--bogus'], hosts), /unknown flag/);
      assert.match(line, /--bogus/);
    } finally {
      hosts.remove();
    }
  });

  it('an unknown context lists the available ones', async () => {
    const hosts = tempHosts();
    try {
      const line = oneLine(await runSvc(svcArgs({ hostsPath: hosts.path, contexts: ['nope'] }), hosts), /context/);
      assert.match(line, /"nope"|\bnope\b/);
      for (const name of await contextNames()) assert.ok(line.includes(name), `names the context ${name}: ${line}`);
    } finally {
      hosts.remove();
    }
  });

  it('an unreadable kubeconfig', async () => {
    const hosts = tempHosts();
    // Root reads any file whatever its mode: a directory where the file should be is unreadable for everyone.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kf-e2e-kubeconfig-'));
    try {
      const line = oneLine(await runSvc(svcArgs({ hostsPath: hosts.path, kubeconfig: dir }), hosts), /kubeconfig/);
      assert.ok(line.includes(dir), `names the file: ${line}`);
      assert.match(line, /cannot read|unreadable|EISDIR|directory/i);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      hosts.remove();
    }
  });

  it('a kubeconfig that does not exist', async () => {
    const hosts = tempHosts();
    const missing = path.join(os.tmpdir(), `kf-e2e-missing-${process.pid}`, 'kubeconfig');
    try {
      const line = oneLine(await runSvc(svcArgs({ hostsPath: hosts.path, kubeconfig: missing }), hosts), /kubeconfig/);
      assert.ok(line.includes(missing), `names the file: ${line}`);
    } finally {
      hosts.remove();
    }
  });

  it('a malformed kubeconfig (broken YAML)', async () => {
    const hosts = tempHosts();
    const file = path.join(hosts.dir, 'kubeconfig');
    fs.writeFileSync(file, 'apiVersion: v1\nkind: Config\nclusters: [ {name: one\n  server: : :\ncontexts:\n\t- broken\n');
    try {
      const line = oneLine(await runSvc(svcArgs({ hostsPath: hosts.path, kubeconfig: file }), hosts), /kubeconfig/);
      assert.ok(line.includes(file), `names the file: ${line}`);
      assert.match(line, /malformed|invalid|YAML/i);
    } finally {
      hosts.remove();
    }
  });

  it('a missing fwdconf', async () => {
    const hosts = tempHosts();
    const missing = path.join(hosts.dir, 'missing.fwdconf.yml');
    try {
      const line = oneLine(await runSvc(svcArgs({ hostsPath: hosts.path, extra: ['-z', missing] }), hosts), /fwdconf|fwd-conf/);
      assert.ok(line.includes(missing), `names the file: ${line}`);
      assert.equal((line.match(/cannot read fwdconf/g) ?? []).length, 1, `says it once, not twice: ${line}`);
    } finally {
      hosts.remove();
    }
  });
});

describe('a port already in use', () => {
  it('127.1.27.1:80 held by another process: the forward that needs it names that process', { timeout: 90_000 }, async () => {
    requireState();
    // Another sidecar (another test) may still be letting go of the address.
    await waitFor('127.1.27.1:80 free', async () => (await connectResult('127.1.27.1', 80)) === 'ECONNREFUSED', 30_000, 100);
    // A real child process holding the port: python3 when there is one, else a node server.
    const python = startProcess('python3', ['-u', '-m', 'http.server', '80', '--bind', '127.1.27.1']);
    const holder = await python.waitFor(/Serving HTTP on 127\.1\.27\.1 port 80|spawn error/, 15_000).catch(() => ['gone']);
    const node = holder[0] === 'gone' || /spawn error/.test(holder[0] ?? '')
      ? startProcess(process.execPath, ['-e', "require('net').createServer().listen(80, '127.1.27.1', () => console.log('listening'))"])
      : undefined;
    if (node) await node.waitFor(/listening/, 10_000);
    const pid = (node ?? python).child.pid;
    const name = node ? 'node' : 'python';
    const hosts = tempHosts();
    const sidecar = startSidecar(svcArgs({ hostsPath: hosts.path }));
    try {
      // The documented behaviour (README): one clear line naming the holder, exit code 2, and the
      // hosts file as it was.
      const code = await withTimeout(sidecar.exited(), 30_000, 'the sidecar to exit');
      const lines = sidecar.output().split('\n').filter((l) => l.startsWith('kube-forward:') && !/cleaning up/.test(l));
      console.log(`port in use: the sidecar exited with ${String(code)}: ${lines.join(' | ')}`);
      assert.equal(code, 2);
      assert.equal(lines.length, 1, sidecar.output());
      assert.match(lines[0] ?? '', new RegExp(`127\\.1\\.27\\.1:80.*${name}.*${pid}`));
      assert.deepEqual(hosts.bytes(), hosts.original, 'the hosts file is back as it was');
    } finally {
      await sidecar.stop();
      await python.stop();
      await node?.stop();
      hosts.remove();
    }
  });
});
