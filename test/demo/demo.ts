import { spawnSync } from 'node:child_process';
import * as dns from 'node:dns/promises';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { kubeconfigPath, repoRoot } from '../cluster/paths';
import { waitFor } from '../cluster/wait';
import { exchange, httpGet } from '../helpers/net';
import { startProcess, type TestProcess } from '../helpers/process';

const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const say = (s = '') => process.stdout.write(`${s}\n`);
/** A dotted name (`db-0.db`, `web.demo`) as a regex source that matches it literally. */
const literal = (name: string) => name.replace(/\./g, '\\.');

/** How the sidecar gets root: already root, or sudo without a password; else it runs without names. */
function launcher(): { argv: string[]; names: boolean } {
  const sidecar = path.join(repoRoot, 'dist', 'sidecar.js');
  if (process.getuid?.() === 0) return { argv: [process.execPath, sidecar], names: true };
  if (spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0) return { argv: ['sudo', '-n', process.execPath, sidecar], names: true };
  return { argv: [process.execPath, sidecar], names: false };
}

async function main(): Promise<void> {
  const { argv, names } = launcher();
  const hostsArgs = names ? [] : ['--hosts-path', path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kf-demo-')), 'hosts')];
  const [command, ...args] = argv;
  say(bold('Kube Forward demo: forwarding namespace "demo" of the demo cluster'));
  say(`$ kube-forward svc -n demo -c ${path.relative(process.cwd(), kubeconfigPath)}${hostsArgs.length ? ' (no root: names are not written, connect by IP)' : ''}`);
  const sidecar: TestProcess = startProcess(command ?? process.execPath, [...args, 'svc', '-n', 'demo', '-c', kubeconfigPath, '-x', 'admin', ...hostsArgs]);
  const stop = async () => {
    await sidecar.stop();
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));
  process.once('SIGTERM', () => void stop().then(() => process.exit(143)));
  try {
    // Every forward used below must be Active: without root its address and port come from that
    // line (ports below 1024 move, e.g. 80 → 10080), and with root its names follow it.
    for (const forward of ['web', 'mysql-a', 'mysql-b', 'db-0.db', 'db-1.db', 'db-2.db']) {
      await sidecar.waitFor(new RegExp(`ACTIVE\\s+${literal(forward)}\\.demo\\.admin 127\\.`), 60_000);
    }
    // Names reach the hosts file in batched writes just after the forwards turn Active: wait for
    // every name looked up below (written only for forwards that are Active).
    const services = ['mysql-a', 'mysql-b'];
    const pods = ['db-0.db', 'db-1.db', 'db-2.db'];
    const lookedUp = ['web.demo', ...services.map((svc) => `${svc}.demo`), ...pods];
    if (names) {
      await waitFor(`the names ${lookedUp.join(', ')} in /etc/hosts`, () => {
        const text = fs.readFileSync('/etc/hosts', 'utf8');
        return lookedUp.every((name) => new RegExp(`\\s${literal(name)}\\s`).test(text));
      }, 30_000, 20);
    }
    say(sidecar.output().trimEnd().split('\n').map((l) => `  ${l}`).join('\n'));
    say();
    say(bold(names ? 'Services answering by name (through the system resolver and /etc/hosts):' : 'Services answering (no root: by address and port):'));
    /** The local address of `forward`'s `port` from its ACTIVE line ("127.1.27.1:10080→80,…" for port 80 without root). */
    const local = (forward: string, port: number): { host: string; port: number } => {
      const line = sidecar.output().split('\n').find((l) => new RegExp(`^ACTIVE\\s+${literal(forward)}\\.demo\\.admin `).test(l)) ?? '';
      const m = line.match(/ (127\.[\d.]+):(\S+)/);
      for (const entry of (m?.[2] ?? '').split(',')) {
        const [at, to] = entry.split('→');
        if ((to ?? at) === String(port)) return { host: m?.[1] ?? '', port: Number(at) };
      }
      return { host: m?.[1] ?? '', port };
    };
    const host = async (name: string, forward: string, port: number) => {
      if (!names) return local(forward, port);
      const found = await dns.lookup(name, { family: 4 });
      say(`  ${name.padEnd(22)} → ${found.address}`);
      return { host: name, port };
    };
    const web = await host('web.demo', 'web', 80);
    const webUrl = `http://${web.host}${web.port === 80 ? '' : `:${web.port}`}/`;
    const response = await httpGet(webUrl);
    say(`  $ curl ${webUrl}\n    ${response.status} ${response.body}`);
    for (const svc of services) {
      const h = await host(`${svc}.demo`, svc, 3306);
      const line = await exchange(h.host, h.port, undefined, /\n/);
      say(`  ${`${h.host}:${h.port}`.padEnd(22)} → ${line.trim()}`);
    }
    for (const pod of pods) {
      const h = await host(pod, `db-${pod[3]}.db`, 5432);
      const line = await exchange(h.host, h.port, 'hello\n', /hello\n/);
      say(`  ${`${h.host}:${h.port}`.padEnd(22)} → ${line.split('\n')[0]} (echoed "hello")`);
    }
    say();
    if (process.stdin.isTTY && !process.env.CI) {
      say(bold('Forwards stay up: try `curl http://web.demo/` in another terminal. Ctrl-C stops and cleans up.'));
      await sidecar.exited();
    } else {
      say('(not a terminal: stopping now; on a terminal the demo keeps running until Ctrl-C)');
    }
  } finally {
    await stop();
    const hosts = names ? fs.readFileSync('/etc/hosts', 'utf8') : '';
    if (names) say(hosts.includes('kube-forward') ? 'WARNING: a kube-forward block is still in /etc/hosts' : 'Sidecar stopped; /etc/hosts is back as it was.');
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
