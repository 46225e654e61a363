import { spawn, type SpawnOptions } from 'node:child_process';
import type { KubeConfig } from '@kubernetes/client-node';
import { asUserSpawnOptions, userEnv, type Identity } from '../privilege/identity';

interface ExecAuthLike { execFn: (command: string, args: string[], options: SpawnOptions) => unknown }

function isExecAuth(value: unknown): value is ExecAuthLike {
  return typeof value === 'object' && value !== null && 'execFn' in value && 'isAuthProvider' in value;
}

/**
 * client-node runs kubeconfig `exec` credential plugins (aws, gcloud, kubelogin) with
 * child_process.spawn in this process's identity. Under sudo that would run them as root and
 * leave root-owned caches in the user's home (kubefwd #285), so its spawn is replaced by one that
 * runs the plugin as the invoking user, with that user's HOME.
 */
export function runExecPluginsAsUser(kc: KubeConfig, identity: Identity): void {
  if (!identity.elevated) return;
  const authenticators = (kc as unknown as { authenticators?: unknown[] }).authenticators ?? [];
  const exec = authenticators.find(isExecAuth);
  if (!exec) throw new Error('client-node changed: its exec authenticator was not found (cannot drop privileges for exec plugins)');
  exec.execFn = (command, args, options) =>
    spawn(command, args, { ...options, ...asUserSpawnOptions(identity), env: userEnv(identity, options.env ?? process.env), cwd: identity.home });
}
