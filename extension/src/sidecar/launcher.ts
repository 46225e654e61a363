import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { launchArgv, planElevation, type ElevationPlan, type ElevationSetting } from './elevation';

export interface LaunchRequest {
  extensionPath: string;
  setting: ElevationSetting;
  trusted: boolean;
  /** The kubeconfig the sidecar reads (already resolved from settings and environment). */
  kubeconfig?: string;
  /** Asks the person for the sudo password; undefined means they declined. */
  askPassword(): Promise<string | undefined>;
  log(line: string): void;
}

export interface Launched {
  process: ChildProcess;
  plan: ElevationPlan;
}

const onPath = (command: string) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;

/** sudo's password check on its own: true when `password` is right (nothing else reads it). */
function sudoAccepts(password: string): boolean {
  const result = spawnSync('sudo', ['-S', '-p', '', '-v'], { input: `${password}\n`, stdio: ['pipe', 'ignore', 'ignore'], timeout: 15_000 });
  return result.status === 0;
}

export class LaunchError extends Error {
  constructor(readonly code: 'WRONG_PASSWORD' | 'SPAWN_FAILED', message: string) {
    super(message);
  }
}

/**
 * Starts `dist/sidecar.js serve --stdio` on VS Code's own Node (process.execPath with
 * ELECTRON_RUN_AS_NODE=1), elevated as DESIGN.md orders. The password, if asked, is checked once
 * and written to sudo's stdin; it is never logged, kept, or put on a command line.
 */
export async function launchSidecar(request: LaunchRequest, declined: { value: boolean }): Promise<Launched> {
  const isRoot = process.getuid?.() === 0;
  const hasSudo = !isRoot && onPath('sudo');
  const facts = {
    isRoot,
    trusted: request.trusted,
    hasSudo,
    sudoWithoutPassword: hasSudo && request.setting !== 'none' && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore', timeout: 10_000 }).status === 0,
    hasPkexec: !isRoot && onPath('pkexec'),
    declined: declined.value,
  };
  let plan = planElevation(request.setting, facts);
  let password: string | undefined;
  if (plan.kind === 'sudo-password') {
    password = await request.askPassword();
    if (password === undefined) {
      declined.value = true;
      plan = { kind: 'direct', root: false };
    } else if (!sudoAccepts(password)) {
      throw new LaunchError('WRONG_PASSWORD', 'sudo did not accept the password: the sidecar was not started. Run "Kube Forward: Restart Sidecar" to try again.');
    }
  }
  const sidecar = path.join(request.extensionPath, 'dist', 'sidecar.js');
  // The sidecar writes names only where it may write the hosts file (as root): no flag needed.
  const args = ['serve', '--stdio', '--hosts-path', '/etc/hosts',
    ...(request.kubeconfig ? ['--kubeconfig', request.kubeconfig] : [])];
  const env: Record<string, string> = { ELECTRON_RUN_AS_NODE: '1' };
  if (process.env.KUBECONFIG && !request.kubeconfig) env.KUBECONFIG = process.env.KUBECONFIG;
  const argv = launchArgv(plan, process.execPath, sidecar, args, env);
  request.log(`starting the sidecar (${plan.kind === 'direct' ? (plan.root ? 'as root' : 'unprivileged') : plan.kind}): ${argv.join(' ')}`);
  const [command, ...rest] = argv;
  if (!command) throw new LaunchError('SPAWN_FAILED', 'empty command');
  const child = spawn(command, rest, {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  if (password !== undefined) {
    child.stdin?.write(`${password}\n`);
    password = undefined;
  }
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', (error) => reject(new LaunchError('SPAWN_FAILED', `could not start the sidecar: ${error.message}`)));
  });
  return { process: child, plan };
}
