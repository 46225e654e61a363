import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { createEngine } from '../../../sidecar/src/app';
import { createTransport } from '../../../sidecar/src/engine/transport';
import { HostsFileManager } from '../../../sidecar/src/hostsfile';
import type { EngineEvent } from '../../../sidecar/src/protocol/types';
import { requireState } from '../../cluster/state';
import { waitFor, withTimeout } from '../../cluster/wait';
import { startSidecar, svcArgs, tempHosts, type TempHosts } from '../../helpers/sidecar';

/**
 * Address problems a person must fix before forwarding makes sense: an IP range too small for the
 * namespace, and reservations that are not loopback addresses, have no address, or give one
 * address twice. Each ends the CLI with one clear `kube-forward:` line and exit code 2, and the
 * hosts file as it was. The ranges used here (127.1.37.x) stay out of other suites' 127.1.27.x.
 */

interface Outcome {
  code: number | string;
  output: string;
  /** Lines that are not the live forward lines (ACTIVE, FAILED, …): events and the final error. */
  other: string[];
  /** The sidecar's own error lines, without the "cleaning up" note of a signal. */
  errors: string[];
  /** The live forward lines. */
  changes: string[];
}

async function runSvc(args: string[]): Promise<Outcome> {
  const sidecar = startSidecar(args);
  try {
    const code = await withTimeout(sidecar.exited(), 60_000, `kube-forward ${args.join(' ')} exiting`);
    const other = sidecar.otherLines().map((l) => l.trim());
    return {
      code, output: sidecar.output(), other,
      errors: other.filter((l) => l.startsWith('kube-forward:') && !/cleaning up/.test(l)),
      changes: sidecar.lines().map((l) => l.line),
    };
  } finally {
    await sidecar.stop();
  }
}

/** Exit code 2 and exactly one `kube-forward:` line matching `pattern`, short and without a stack. */
function oneErrorLine(outcome: Outcome, pattern: RegExp): string {
  assert.equal(outcome.code, 2, `exit code 2; output:\n${outcome.output}`);
  assert.equal(outcome.errors.length, 1, `one kube-forward: line:\n${outcome.output}`);
  const [line = ''] = outcome.errors;
  assert.match(line, pattern);
  assert.ok(line.length < 400, `a short line: ${line}`);
  assert.doesNotMatch(outcome.output, /\bat \S+:\d+:\d+/, 'no stack trace');
  return line;
}

const fwdconf = (hosts: TempHosts, text: string): string => {
  const file = path.join(hosts.dir, 'exhaustion.fwdconf.yml');
  fs.writeFileSync(file, text);
  return file;
};

describe('an IP range too small for the namespace', () => {
  it('baseUnreservedIP 127.1.37.250: one line naming 127.1.37.250–254 as used up, exit 2, the hosts file restored', { timeout: 90_000 }, async () => {
    const hosts = tempHosts();
    try {
      const conf = fwdconf(hosts, 'baseUnreservedIP: 127.1.37.250\n');
      const outcome = await runSvc(svcArgs({ hostsPath: hosts.path, extra: ['-z', conf] }));
      console.log(`exhausted range: exit ${String(outcome.code)}: ${outcome.errors.join(' | ')}`);
      const line = oneErrorLine(outcome, /IP_EXHAUSTED|no free IP|used up|exhausted/i);
      assert.match(line, /127\.1\.37\.250\s*(–|-|to)\s*127\.1\.37\.254/, `names the range: ${line}`);
      assert.match(line, /namespace "?demo"?/, `names the namespace: ${line}`);
      assert.match(line, /-r NAME:IP|-l|reserve/, `says what to do: ${line}`);
      for (const change of outcome.changes) {
        const ip = /\s(\d+\.\d+\.\d+\.\d+):/.exec(change)?.[1];
        if (ip) assert.match(ip, /^127\.1\.37\.(25[0-4])$/, `only addresses of the range were handed out: ${change}`);
      }
      assert.ok(hosts.bytes().equals(hosts.original), `the hosts file is back to its original bytes:\n${hosts.text()}`);
    } finally {
      hosts.remove();
    }
  });

  it('in a running engine, a service left without an address is reported once, not again when the namespace re-syncs', { timeout: 90_000 }, async () => {
    // In process, as `serve --stdio` runs it (there an exhausted range does not end the sidecar).
    const hosts = tempHosts();
    const engine = await createEngine({
      kubeconfig: requireState().kubeconfig,
      hostsPath: hosts.path,
      options: { portMappings: [], reservations: [], autoReconnect: true },
      fwdconf: { file: '(exhaustion test)', baseIp: '127.1.37.250', reservations: [] },
      makeHosts: (p) => new HostsFileManager(p),
      makeTransport: createTransport,
      log: () => undefined,
    });
    const events: EngineEvent[] = [];
    engine.on('event', (e) => void events.push(e));
    const exhausted = () => {
      const counts = new Map<string, number>();
      for (const e of events) if (e.code === 'IP_EXHAUSTED') counts.set(e.forwardId ?? '?', (counts.get(e.forwardId ?? '?') ?? 0) + 1);
      return counts;
    };
    try {
      await engine.forwardNamespace({ context: 'admin', namespace: 'demo' });
      const settled = await waitFor('every forward of demo Active, Failed or Skipped', () => {
        const all = engine.forwards();
        return all.length >= 9 && all.every((f) => f.status === 'Active' || f.status === 'Failed' || f.status === 'Skipped') ? all : undefined;
      }, 30_000, 50);
      const failed = settled.filter((f) => f.status === 'Failed');
      assert.ok(failed.length > 0, 'some services got no address');
      for (const f of failed) assert.match(f.reason ?? '', /127\.1\.37\.250–127\.1\.37\.254/, `${f.id}: ${f.reason}`);
      assert.deepEqual([...exhausted().keys()].sort(), failed.map((f) => f.id).sort(), 'each of them is reported');

      // Stopping one service re-syncs the namespace (as any pod or service change does).
      const api = settled.find((f) => f.id === 'api.demo.admin' && f.status === 'Active');
      assert.ok(api, 'api got an address');
      await engine.stop({ ids: ['api.demo.admin'] });
      await waitFor('api stopped', () => !engine.forwards().some((f) => f.id === 'api.demo.admin' && f.status === 'Active'), 10_000, 50);
      const repeated = [...exhausted()].filter(([, n]) => n > 1).map(([id, n]) => `${id} ×${n}`);
      assert.deepEqual(repeated, [], `an exhausted range is told once per service:\n${events.filter((e) => e.code === 'IP_EXHAUSTED').map((e) => e.message).join('\n')}`);
    } finally {
      await engine.shutdown();
      assert.ok(hosts.bytes().equals(hosts.original), 'the hosts file is back to its original bytes');
      hosts.remove();
    }
  });
});

describe('bad reservations: one line, exit 2, nothing forwarded', () => {
  const cases: { what: string; extra: (hosts: TempHosts) => string[]; pattern: RegExp; names: string[] }[] = [
    { what: '-r web.demo:10.0.0.1 (not loopback)', extra: () => ['-r', 'web.demo:10.0.0.1'], pattern: /127\.0\.0\.0\/8|loopback/, names: ['web.demo', '10.0.0.1'] },
    { what: '-r web.demo (no address)', extra: () => ['-r', 'web.demo'], pattern: /NAME:IP/, names: ['web.demo'] },
    { what: '-r web.demo:127.1.37.300 (not an IPv4 address)', extra: () => ['-r', 'web.demo:127.1.37.300'], pattern: /not an IPv4 address/, names: ['127.1.37.300'] },
    {
      what: 'one address reserved for two services', extra: () => ['-r', 'web.demo:127.1.37.5', '-r', 'api.demo:127.1.37.5'],
      pattern: /reserved twice/, names: ['127.1.37.5', 'web.demo', 'api.demo'],
    },
    {
      what: 'a fwdconf reservation outside 127.0.0.0/8',
      extra: (hosts) => ['-z', fwdconf(hosts, 'baseUnreservedIP: 127.1.37.1\nserviceConfigurations:\n  - name: web.demo\n    ip: 192.168.1.10\n')],
      pattern: /127\.0\.0\.0\/8|loopback/, names: ['192.168.1.10'],
    },
  ];
  for (const c of cases) {
    it(c.what, { timeout: 60_000 }, async () => {
      const hosts = tempHosts();
      try {
        const outcome = await runSvc(svcArgs({ hostsPath: hosts.path, extra: c.extra(hosts) }));
        const line = oneErrorLine(outcome, c.pattern);
        for (const name of c.names) assert.ok(line.includes(name), `names ${name}: ${line}`);
        assert.deepEqual(outcome.output.trim().split('\n'), [line], 'that line is all the output');
        assert.ok(hosts.bytes().equals(hosts.original), 'the hosts file was not touched');
      } finally {
        hosts.remove();
      }
    });
  }
});
