import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import type { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { requireState } from '../../cluster/state';
import { waitFor, withTimeout } from '../../cluster/wait';
import { startProcess } from '../../helpers/process';
import { sidecarBundle, tempHosts } from '../../helpers/sidecar';
import { forwardDemoOverRpc, initialize, rpcClient } from './serveClient';

/**
 * A root sidecar cannot be killed by the user's extension host, so `serve --stdio` must end by
 * itself when the process that started it dies, and on SIGHUP/SIGINT/SIGTERM; every way leaves the
 * hosts file byte for byte as it was. (stdin EOF and oversized messages: rpc.test.ts.)
 */

/** The state letter of /proc/<pid>/stat, or undefined when the process is gone. */
function procState(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

/** Gone, or a zombie (it exited; its new parent just has not reaped it). */
const ended = (pid: number) => {
  const state = procState(pid);
  return state === undefined || state === 'Z' || state === 'X';
};

/**
 * The launcher stand-in (sudo's place): a parent that starts the sidecar, says its pid on stderr,
 * and waits. The sidecar's stdin is the parent's fd 3, a pipe the test holds: when the parent dies
 * the test keeps it open (Node closes a dead child's fd 0 pipe on its side, which would end the
 * sidecar through stdin EOF instead), as the extension host keeps its pipe when sudo is killed, so
 * only the parent's death can end the sidecar.
 */
const PARENT = `
const { spawn } = require('node:child_process');
const child = spawn(process.argv[1], process.argv.slice(2), { stdio: [3, 'inherit', 'inherit'] });
process.stderr.write('sidecar-pid=' + child.pid + '\\n');
child.on('exit', (code) => process.exit(code ?? 1));
`;

const serveArgs = (hostsPath: string) => [sidecarBundle, 'serve', '--stdio', '--hosts-path', hostsPath, '--kubeconfig', requireState().kubeconfig];

describe('serve --stdio ends by itself and cleans up', () => {
  it('kill -9 of its parent: the sidecar exits by itself, without its forced exit, and the hosts file is byte-identical', { timeout: 90_000 }, async () => {
    const hosts = tempHosts();
    const parent = startProcess(process.execPath, ['-e', PARENT, process.execPath, ...serveArgs(hosts.path)], { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    let sidecarPid = -1;
    let stderr = '';
    parent.child.stderr?.on('data', (chunk: Buffer) => void (stderr += chunk.toString('utf8')));
    const { stdout } = parent.child;
    const stdin = parent.child.stdio[3] as Writable | null;
    assert.ok(stdout && stdin);
    const client = rpcClient(stdout, stdin);
    try {
      sidecarPid = Number((await parent.waitFor(/sidecar-pid=(\d+)/, 10_000))[1]);
      assert.ok(sidecarPid > 0);
      await initialize(client);
      await forwardDemoOverRpc(client, hosts, sidecarPid);
      assert.notEqual(hosts.bytes().compare(hosts.original), 0, 'the block is in the file');

      // The sidecar holds the parent's stderr pipe: it closes once the sidecar is gone, with all it said.
      const stderrClosed = new Promise((resolve) => parent.child.stderr?.once('close', resolve));
      const t0 = Date.now();
      parent.child.kill('SIGKILL');
      assert.equal(await withTimeout(parent.exited(), 5000, 'the parent dying'), 'SIGKILL');
      // Above the sidecar's own forced exit after 10 s of cleanup; that one is caught on stderr below.
      await waitFor(`sidecar pid ${sidecarPid} to exit after its parent died`, () => ended(sidecarPid), 20_000, 20)
        .catch((error: unknown) => {
          throw new Error(`${error instanceof Error ? error.message : String(error)} (state ${procState(sidecarPid) ?? 'gone'}); stderr:\n${stderr}`);
        });
      console.log(`parent SIGKILL → sidecar exited in ${Date.now() - t0} ms`);
      await withTimeout(client.closed, 5000, 'the sidecar\'s stdout closing');
      await withTimeout(stderrClosed, 5000, 'the sidecar\'s stderr closing');
      assert.match(stderr, /parent process exited/, `the sidecar says why it exits; stderr:\n${stderr}`);
      assert.doesNotMatch(stderr, /cleanup took over 10 s/, `the cleanup finished without the forced exit; stderr:\n${stderr}`);
      assert.ok(hosts.bytes().equals(hosts.original),
        `the hosts file is back to its original bytes:\n${JSON.stringify(hosts.text())}`);
    } finally {
      client.connection.dispose();
      stdin.end();
      await parent.stop();
      if (sidecarPid > 0 && !ended(sidecarPid)) process.kill(sidecarPid, 'SIGKILL');
      hosts.remove();
    }
  });

  const signals: { signal: NodeJS.Signals; code: number; says: RegExp }[] = [
    { signal: 'SIGHUP', code: 129, says: /hang-up/ },
    { signal: 'SIGINT', code: 130, says: /interrupted/ },
    { signal: 'SIGTERM', code: 143, says: /terminated/ },
  ];
  for (const c of signals) {
    it(`${c.signal}: exits with ${c.code} by itself and the hosts file is byte-identical`, { timeout: 90_000 }, async () => {
      const hosts = tempHosts();
      const proc = startProcess(process.execPath, serveArgs(hosts.path));
      let stderr = '';
      proc.child.stderr?.on('data', (chunk: Buffer) => void (stderr += chunk.toString('utf8')));
      const { stdout, stdin } = proc.child;
      assert.ok(stdout && stdin);
      const client = rpcClient(stdout, stdin);
      try {
        await initialize(client);
        await forwardDemoOverRpc(client, hosts, proc.child.pid ?? -1);
        const t0 = Date.now();
        proc.child.kill(c.signal);
        // Above the sidecar's own 10 s forced exit: a cleanup that needed it shows in stderr.
        const code = await withTimeout(proc.exited(), 20_000, `exit after ${c.signal}`);
        console.log(`${c.signal} → exit ${String(code)} in ${Date.now() - t0} ms`);
        const err = proc.child.stderr;
        if (err && !err.closed) await new Promise((resolve) => err.once('close', resolve));
        assert.equal(code, c.code, `exits by itself with ${c.code}; stderr:\n${stderr}`);
        assert.match(stderr, c.says);
        assert.doesNotMatch(stderr, /cleanup took over 10 s/, `the cleanup finished without the forced exit; stderr:\n${stderr}`);
        assert.ok(hosts.bytes().equals(hosts.original),
          `the hosts file is back to its original bytes:\n${JSON.stringify(hosts.text())}`);
      } finally {
        client.connection.dispose();
        await proc.stop();
        hosts.remove();
      }
    });
  }
});
