import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { shouldCollect } from '../../../sidecar/src/lifecycle/idleMemory';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const limits = { checkMs: 5000, youngBytes: 3 * MiB, idleCpu: 0.02 };

describe('idle memory release', () => {
  it('collects only when the young generation grew and the last period was quiet', () => {
    assert.equal(shouldCollect(32 * MiB, 10_000, 5000, limits), true, '10 ms CPU in 5 s is idle');
    assert.equal(shouldCollect(32 * MiB, 500_000, 5000, limits), false, '0.5 s CPU in 5 s is busy');
    assert.equal(shouldCollect(2 * MiB, 0, 5000, limits), false, 'nothing to give back');
    assert.equal(shouldCollect(4 * MiB, 0, 5000, limits), true);
    assert.equal(shouldCollect(32 * MiB, 0, 0, limits), false);
  });

  // In a process of its own: V8's real young generation, grown by a burst, shrunk by the check.
  const child = path.join(__dirname, 'idleMemoryChild.js');
  it('gives the young generation back once a burst is over', async () => {
    const { stdout } = await run(process.execPath, [child, 'idle'], { timeout: 60_000 });
    const r = JSON.parse(stdout) as { grown: number; collections: { before: number; after: number }[]; end: number };
    assert.ok(r.grown >= 8 * MiB, `the burst grew the young generation (${r.grown} bytes)`);
    assert.equal(r.collections.length, 1, JSON.stringify(r.collections));
    assert.ok(r.collections[0]!.after <= 2 * MiB, `shrunk to ${r.collections[0]!.after} bytes`);
    assert.ok(r.end <= 2 * MiB, `stays small while idle (${r.end} bytes)`);
  });

  it('leaves a busy process alone', async () => {
    const { stdout } = await run(process.execPath, [child, 'busy'], { timeout: 60_000 });
    const r = JSON.parse(stdout) as { grown: number; collections: unknown[] };
    assert.ok(r.grown >= 8 * MiB, `the burst grew the young generation (${r.grown} bytes)`);
    assert.deepEqual(r.collections, []);
  });
});
