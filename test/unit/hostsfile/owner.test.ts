import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, symlinkSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { currentOwner, formatOwner, isOwnerAlive, parseOwner, processStartTime } from '../../../sidecar/src/hostsfile/owner';
import { tempDir } from './fixtures';

const tmp = tempDir();
after(() => tmp.cleanup());

function exited(child: ReturnType<typeof spawn>): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

describe('block owners', () => {
  it('names this process by pid and /proc start time', () => {
    const stat = readFileSync('/proc/self/stat', 'latin1');
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    assert.equal(currentOwner(), `pid=${process.pid},start=${start}`);
    assert.deepEqual(parseOwner(currentOwner()), { pid: process.pid, start });
  });

  it('round-trips owner tokens and ignores ones it did not make', () => {
    assert.deepEqual(parseOwner(formatOwner({ pid: 12, start: '34' })), { pid: 12, start: '34' });
    assert.deepEqual(parseOwner('pid=12'), { pid: 12 });
    for (const token of ['pid=0', 'pid=-1', 'pid=1,start=x', 'someone-else', 'pid=12 start=3']) assert.equal(parseOwner(token), undefined, token);
  });

  it('tells a live owner from a recycled pid and a gone one', () => {
    const start = processStartTime(process.pid);
    assert.ok(start);
    assert.equal(isOwnerAlive(currentOwner()), true);
    assert.equal(isOwnerAlive(`pid=${process.pid}`), true);
    assert.equal(isOwnerAlive(`pid=${process.pid},start=${BigInt(start) + 1n}`), false, 'same pid, other start time: recycled');
    assert.equal(isOwnerAlive('pid=999999999'), false);
    assert.equal(isOwnerAlive('not-a-pid-token'), true, 'unknown owners are never judged dead');
  });

  it('judges by kill(pid, 0) off Linux', () => {
    assert.equal(isOwnerAlive(`pid=${process.pid},start=1`, 'darwin'), true);
    assert.equal(isOwnerAlive('pid=999999999', 'darwin'), false);
    assert.equal(processStartTime(process.pid, 'darwin'), undefined);
  });

  it('reads the start time of a process whose name holds spaces and parentheses, and sees it die', async () => {
    const odd = tmp.path('a) b (c');
    symlinkSync('/bin/sleep', odd);
    const child = spawn(odd, ['60'], { stdio: 'ignore' });
    try {
      const pid = child.pid ?? 0;
      assert.ok(pid > 0);
      // The comm field is set at exec; until then /proc shows the parent's name.
      const deadline = Date.now() + 10_000;
      while (!readFileSync(`/proc/${pid}/stat`, 'latin1').includes('(a) b (c)')) {
        assert.ok(Date.now() < deadline, 'child never exec\'d');
        await new Promise((resolve) => setImmediate(resolve));
      }
      const start = processStartTime(pid);
      assert.match(start ?? '', /^[0-9]+$/);
      assert.ok(BigInt(start ?? '0') >= BigInt(processStartTime(process.pid) ?? '0'));
      assert.equal(isOwnerAlive(formatOwner({ pid, start })), true);
      child.kill('SIGKILL');
      await exited(child);
      assert.equal(isOwnerAlive(formatOwner({ pid, start })), false);
    } finally {
      child.kill('SIGKILL');
      await exited(child);
    }
  });
});
