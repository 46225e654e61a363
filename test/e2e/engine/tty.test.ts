import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot } from '../../cluster/paths';
import { kubectl } from '../../cluster/kubectl';
import { requireState } from '../../cluster/state';
import { waitFor } from '../../cluster/wait';
import { startProcess } from '../../helpers/process';
import { tempHosts } from '../../helpers/sidecar';

describe('the CLI on a terminal', () => {
  it('draws a live table (service, IP, names, ports, pod, status) instead of change lines', { timeout: 60_000 }, async () => {
    const state = requireState();
    const hosts = tempHosts();
    const command = [process.execPath, path.join(repoRoot, 'dist', 'sidecar.js'), 'svc', '-n', 'demo', '-x', 'admin',
      '-c', state.kubeconfig, '--hosts-path', hosts.path].map((a) => `'${a}'`).join(' ');
    // util-linux `script` gives the sidecar a real pseudo-terminal.
    const tty = startProcess('script', ['-qfec', command, '/dev/null'], { env: { ...process.env, COLUMNS: '200', LINES: '50' } });
    try {
      await tty.waitFor(/SERVICE\s+IP\s+NAMES\s+PORTS\s+POD\s+STATUS/, 30_000);
      const first = await tty.waitFor(/web\.demo\s+127\.1\.27\.\d+\s+web web\.demo\S*.*\s80\s+(web-\S+)\s+Active/, 30_000);
      // A change (the serving pod deleted) redraws the table in place: cursor up, clear, table.
      await kubectl(['delete', 'pod', first[1] ?? '', '-n', 'demo', '--wait=false'], { context: 'admin' });
      await tty.waitFor(/\x1b\[\d+A\x1b\[JSERVICE/, 30_000);
      assert.doesNotMatch(tty.output(), /^ACTIVE {7}/m, 'no plain change lines on a terminal');
    } finally {
      tty.child.kill('SIGINT');
      await tty.stop();
      // The sidecar gets SIGHUP when the terminal goes away and cleans up by itself.
      await waitFor('the hosts file restored by the sidecar on SIGHUP', () => hosts.bytes().equals(hosts.original), 15_000);
      await waitFor('the sidecar gone', () => !spawnSync('pgrep', ['-f', hosts.path]).stdout.toString().trim(), 15_000);
      hosts.remove();
    }
  });
});
