import { execFile } from 'node:child_process';
import { requireState } from './state';

export interface KubectlOptions {
  context?: string;
  kubeconfig?: string;
  input?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** Runs the kubectl built with the control plane against the test kubeconfig. */
export function kubectl(args: string[], options: KubectlOptions = {}): Promise<string> {
  const state = requireState();
  const full = ['--kubeconfig', options.kubeconfig ?? state.kubeconfig,
    ...(options.context ? ['--context', options.context] : []), ...args];
  return new Promise((resolve, reject) => {
    const child = execFile(state.bins.kubectl, full,
      { timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 << 20, env: options.env ?? process.env },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`kubectl ${args.join(' ')} failed: ${stderr.trim() || error.message}`));
        else resolve(stdout);
      });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

export async function kubectlJson<T>(args: string[], options: KubectlOptions = {}): Promise<T> {
  return JSON.parse(await kubectl([...args, '-o', 'json'], options)) as T;
}
