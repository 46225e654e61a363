/**
 * How the sidecar gets root, in DESIGN.md's order: already root → direct; `sudo -n` works → sudo
 * without a password; otherwise ask for the password and hand it to `sudo -S`; pkexec when
 * chosen; declined or `none` → unprivileged.
 */
export type ElevationSetting = 'auto' | 'sudo' | 'pkexec' | 'none';

export type ElevationPlan =
  | { kind: 'direct'; root: boolean }
  | { kind: 'sudo-n' }
  | { kind: 'sudo-password' }
  | { kind: 'pkexec' };

export interface ElevationFacts {
  isRoot: boolean;
  trusted: boolean;
  hasSudo: boolean;
  sudoWithoutPassword: boolean;
  hasPkexec: boolean;
  /** The user already declined the password prompt in this session. */
  declined: boolean;
}

export function planElevation(setting: ElevationSetting, facts: ElevationFacts): ElevationPlan {
  if (facts.isRoot) return { kind: 'direct', root: true };
  if (setting === 'none' || !facts.trusted || facts.declined) return { kind: 'direct', root: false };
  if (setting === 'pkexec') return facts.hasPkexec ? { kind: 'pkexec' } : { kind: 'direct', root: false };
  if (!facts.hasSudo) return { kind: 'direct', root: false };
  return facts.sudoWithoutPassword ? { kind: 'sudo-n' } : { kind: 'sudo-password' };
}

/** The argv that runs the sidecar, wrapped for the plan (the password never appears in it). */
export function launchArgv(plan: ElevationPlan, node: string, sidecar: string, sidecarArgs: string[], env: Record<string, string>): string[] {
  const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  // sudo and pkexec drop the environment: /usr/bin/env puts back what the sidecar needs.
  const inner = ['/usr/bin/env', ...envArgs, node, sidecar, ...sidecarArgs];
  switch (plan.kind) {
    case 'direct':
      return [node, sidecar, ...sidecarArgs];
    case 'sudo-n':
      return ['sudo', '-n', '--', ...inner];
    case 'sudo-password':
      return ['sudo', '-S', '-p', '', '--', ...inner];
    case 'pkexec':
      return ['pkexec', ...inner];
  }
}
