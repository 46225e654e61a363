import { execFile } from 'node:child_process';
import { KubeForwardError } from '../errors';

/** Runs a command (argv) and resolves when it succeeded; injectable for tests. */
export type CommandRunner = (argv: readonly string[]) => Promise<void>;

const defaultRunner: CommandRunner = (argv) => new Promise((resolve, reject) => {
  const [command, ...args] = argv;
  execFile(command ?? '', args, { timeout: 10_000 }, (error, _stdout, stderr) => {
    if (error) reject(new Error(stderr.trim() || error.message));
    else resolve();
  });
});

const LOOPBACK = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/**
 * The commands that put `ip` on the loopback interface and take it off again. Linux has all of
 * 127.0.0.0/8 on `lo` already (none needed); macOS has only 127.0.0.1 on `lo0`, so every other
 * address needs `ifconfig lo0 alias` (root).
 */
export function aliasCommands(ip: string, platform: NodeJS.Platform): { add: string[]; remove: string[] } | undefined {
  const m = LOOPBACK.exec(ip);
  if (!m || m.slice(1).some((o) => Number(o) > 255)) throw new KubeForwardError('INVALID_ADDRESS', `${ip} is not a loopback IPv4 address`);
  if (platform !== 'darwin' || ip === '127.0.0.1') return undefined;
  return { add: ['ifconfig', 'lo0', 'alias', ip, 'up'], remove: ['ifconfig', 'lo0', '-alias', ip] };
}

/** The aliases this process added, so shutdown removes exactly those (and nothing else). */
export class LoopbackAliases {
  private readonly added = new Set<string>();

  constructor(private readonly platform: NodeJS.Platform = process.platform, private readonly run: CommandRunner = defaultRunner) {}

  async ensure(ip: string): Promise<void> {
    const commands = aliasCommands(ip, this.platform);
    if (!commands || this.added.has(ip)) return;
    try {
      await this.run(commands.add);
    } catch (error) {
      throw new KubeForwardError('ALIAS_FAILED', `cannot add loopback alias ${ip} (${commands.add.join(' ')}): ${error instanceof Error ? error.message : String(error)}; this needs root`);
    }
    this.added.add(ip);
  }

  async releaseAll(): Promise<void> {
    const ips = [...this.added];
    this.added.clear();
    await Promise.allSettled(ips.map((ip) => {
      const commands = aliasCommands(ip, this.platform);
      return commands ? this.run(commands.remove) : Promise.resolve();
    }));
  }

  get current(): string[] {
    return [...this.added];
  }
}
