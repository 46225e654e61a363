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
    await sidecar.waitFor(/ACTIVE\s+web\.demo\.admin (127\.[\d.]+):/, 60_000);
    await sidecar.waitFor(/ACTIVE\s+mysql-b\.demo\.admin/, 60_000);
    await sidecar.waitFor(/ACTIVE\s+db-2\.db\.demo\.admin/, 60_000);
    // Names reach the hosts file in batched writes just after the forwards turn Active: wait for
    // every name looked up below (written only for forwards that are Active).
    const services = ['mysql-a', 'mysql-b'];
    const pods = ['db-0.db', 'db-1.db', 'db-2.db'];
    const lookedUp = ['web.demo', ...services.map((svc) => `${svc}.demo`), ...pods];
    if (names) {
      await waitFor(`the names ${lookedUp.join(', ')} in /etc/hosts`, () => {
        const text = fs.readFileSync('/etc/hosts', 'utf8');
        return lookedUp.every((name) => new RegExp(`\\s${name.replace(/\./g, '\\.')}\\s`).test(text));
      }, 30_000, 20);
    }
    say(sidecar.output().trimEnd().split('\n').map((l) => `  ${l}`).join('\n'));
    say();
    say(bold('Services answering by name (through the system resolver and /etc/hosts):'));
    const ip = (svc: string) => sidecar.output().match(new RegExp(`ACTIVE\\s+${svc.replace(/\./g, '\\.')}\\.demo\\.admin (127\\.[\\d.]+):`))?.[1] ?? '';
    const host = async (name: string, fallbackService: string) => {
      if (!names) return ip(fallbackService);
      const found = await dns.lookup(name, { family: 4 });
      say(`  ${name.padEnd(22)} → ${found.address}`);
      return name;
    };
    const web = await host('web.demo', 'web');
    const response = await httpGet(`http://${web}/`);
    say(`  $ curl http://${web}/\n    ${response.status} ${response.body}`);
    for (const svc of services) {
      const h = await host(`${svc}.demo`, svc);
      const line = await exchange(h, 3306, undefined, /\n/);
      say(`  ${`${h}:3306`.padEnd(22)} → ${line.trim()}`);
    }
    for (const pod of pods) {
      const h = await host(pod, `db-${pod[3]}.db`);
      const line = await exchange(h, 5432, 'hello\n', /hello\n/);
      say(`  ${`${h}:5432`.padEnd(22)} → ${line.split('\n')[0]} (echoed "hello")`);
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
