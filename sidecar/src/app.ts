import * as fs from 'node:fs';
import * as path from 'node:path';
import { Engine } from './engine/engine';
import type { HostsWriter, Transport } from './engine/deps';
import { KubeForwardError } from './errors';
import { unprivilegedPort } from './forward/ports';
import type { FwdConf } from './fwdconf/fwdconf';
import { Namer } from './hostnames/namer';
import { IpAllocator } from './ipalloc/allocator';
import { parseReservation } from './ipalloc/reservation';
import { defaultKubeconfigPaths } from './kube/config';
import { PortMapper } from './mapping/portMapping';
import { currentIdentity, type Identity } from './privilege/identity';
import { LoopbackAliases } from './privilege/loopback';
import type { EngineOptions } from './protocol/types';

export interface AppConfig {
  kubeconfig?: string;
  /** The hosts file; names are written only when this process may write it. */
  hostsPath?: string;
  options: EngineOptions;
  fwdconf?: FwdConf;
  identity?: Identity;
  makeHosts(path: string): HostsWriter;
  makeTransport(): Transport;
  log(line: string): void;
}

/** Whether this process may write `file` (root may; a user may write their own scratch file). */
export function canWrite(file: string): boolean {
  try {
    fs.accessSync(fs.existsSync(file) ? file : path.dirname(file), fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** The composition root: builds the engine's collaborators from options and wires them. */
export async function createEngine(config: AppConfig): Promise<Engine> {
  const identity = config.identity ?? currentIdentity();
  const files = config.kubeconfig ? [config.kubeconfig] : defaultKubeconfigPaths(identity);
  const reservations = config.options.reservations.map((r) => parseReservation(r, '-r'));
  const allocator = new IpAllocator({
    ...(config.fwdconf?.baseIp ? { baseIp: config.fwdconf.baseIp } : {}),
    reservations: [...(config.fwdconf?.reservations ?? []), ...reservations],
    onWarning: (_code, message) => config.log(`warning: ${message}`),
  });
  const makeNamer = (domain?: string) => new Namer({
    ...(domain ? { domain } : {}),
    indexes: (c, n) => allocator.indexes(c, n),
    onRejected: (rejected) => config.log(`warning: name ${rejected.name} left out: ${rejected.reason}`),
  });
  let mapper = new PortMapper(config.options.portMappings);
  let hosts: HostsWriter | undefined;
  if (config.hostsPath) {
    if (canWrite(config.hostsPath)) {
      hosts = config.makeHosts(config.hostsPath);
      await hosts.purgeStale();
    } else {
      config.log(`not writing names to ${config.hostsPath} (not writable without root): connect by IP`);
    }
  }
  const engineConfig = {
    kubeconfigFiles: files,
    identity,
    options: config.options,
    allocator,
    namer: makeNamer(config.options.domain),
    ...(hosts ? { hosts, hostsPath: config.hostsPath } : {}),
    transport: config.makeTransport(),
    aliases: new LoopbackAliases(),
    localPort: (_context: string, namespace: string, service: string, port: number) => {
      const local = mapper.localPort(service, namespace, port);
      return identity.root ? local : unprivilegedPort(local);
    },
    reconfigure: (next: EngineOptions): string[] => {
      const warnings: string[] = [];
      try {
        mapper = new PortMapper(next.portMappings);
      } catch (error) {
        warnings.push(error instanceof KubeForwardError ? error.message : String(error));
      }
      engineConfig.namer = makeNamer(next.domain);
      if (JSON.stringify(next.reservations) !== JSON.stringify(config.options.reservations)) {
        warnings.push('IP reservations apply to services forwarded after the sidecar restarts');
      }
      return warnings;
    },
  };
  return new Engine(engineConfig);
}
