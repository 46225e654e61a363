import { isValidHostname } from '../hostnames/rfc1123';
import { loopbackIp, parseReservation } from '../ipalloc/reservation';
import { PortMapper, parsePort } from '../mapping/portMapping';
import type { TargetSpec } from '../protocol/types';
import { UsageError, flagDefs, helpText, parseFlags, type HelpTopic, type ParsedFlags } from './usage';

export { UsageError } from './usage';

export interface SvcOptions {
  /** Empty: the context's namespace, else `default` (kubefwd). */
  namespaces: string[];
  allNamespaces: boolean;
  /** Empty: the kubeconfig's current context. */
  contexts: string[];
  kubeconfig?: string;
  selector?: string;
  fieldSelector?: string;
  /** Validated `80:8080` / `web.demo:80:8080` strings (EngineOptions.portMappings). */
  mappings: string[];
  /** Validated `NAME:IP` strings (EngineOptions.reservations). */
  reservations: string[];
  fwdConf?: string;
  domain?: string;
  autoReconnect: boolean;
  purgeStaleIps: boolean;
  /** Seconds to wait for a pod to become Running (kubefwd -t). */
  timeoutSeconds: number;
  resyncIntervalMs: number;
  retryIntervalMs: number;
  verbose: boolean;
  hostsPath: string;
  /** kubefwd flags that were given but change nothing here, for a notice. */
  ignoredFlags: string[];
}

export interface TargetOptions {
  /** TargetSpec with the namespace left to the context's default when not given. */
  target: Omit<TargetSpec, 'namespace'> & { namespace?: string };
  kubeconfig?: string;
  autoReconnect: boolean;
  verbose: boolean;
}

export interface ServeOptions {
  stdio: true;
  hostsPath: string;
  kubeconfig?: string;
  clientProcessId?: number;
  verbose: boolean;
}

export type CliCommand =
  | { command: 'svc'; options: SvcOptions }
  | { command: 'target'; options: TargetOptions }
  | { command: 'serve'; options: ServeOptions }
  | { command: 'version'; quiet: boolean }
  | { command: 'help'; topic: HelpTopic; text: string };

const SVC_NAMES = new Set(['svc', 'svcs', 'services']);
const KINDS: Record<string, TargetSpec['kind']> = {
  svc: 'service', service: 'service', services: 'service', po: 'pod', pod: 'pod', pods: 'pod',
  deploy: 'deployment', deployment: 'deployment', deployments: 'deployment',
  sts: 'statefulset', statefulset: 'statefulset', statefulsets: 'statefulset',
};
const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function defaultHostsPath(platform: NodeJS.Platform = process.platform): string {
  return platform === 'win32' ? 'C:\\Windows\\System32\\drivers\\etc\\hosts' : '/etc/hosts';
}

/**
 * Parses `kube-forward …` arguments (without node and script). Throws UsageError with one line
 * for anything it cannot accept; flags follow cobra/pflag (`--flag v`, `--flag=v`, `-fv`, `-f=v`,
 * `-abc` for booleans, `--` ends flags).
 */
export function parseCommandLine(argv: readonly string[], platform: NodeJS.Platform = process.platform): CliCommand {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help') return help('main');
  if (first === '--version') return { command: 'version', quiet: false };
  if (SVC_NAMES.has(first)) return parseSvc(rest, platform);
  // kubefwd runs its services command when the first argument is not a command.
  if (first.startsWith('-')) return parseSvc(argv, platform);
  switch (first) {
    case 'target': return parseTarget(rest);
    case 'serve': return parseServe(rest, platform);
    case 'version': {
      if (rest.length > 1 || (rest[0] !== undefined && rest[0] !== 'quiet')) throw new UsageError(`version takes only "quiet", got "${rest.join(' ')}"`);
      return { command: 'version', quiet: rest[0] === 'quiet' };
    }
    case 'help': {
      const topic = rest[0];
      if (topic === undefined) return help('main');
      if (SVC_NAMES.has(topic)) return help('svc');
      if (topic === 'target' || topic === 'serve') return help(topic);
      throw new UsageError(`no help for "${topic}"; topics are svc, target and serve`);
    }
    default:
      throw new UsageError(`unknown command "${first}"; commands are svc, target, serve, version and help (kube-forward --help)`);
  }
}

function help(topic: HelpTopic): CliCommand {
  return { command: 'help', topic, text: helpText(topic) };
}

function parseSvc(argv: readonly string[], platform: NodeJS.Platform): CliCommand {
  const flags = parseFlags('svc', argv, flagDefs.svc);
  if (flags.help) return help('svc');
  noPositionals('svc', flags);
  const namespaces = flags.list('namespace');
  namespaces.forEach((ns) => namespaceName(ns, '-n'));
  const allNamespaces = flags.bool('all-namespaces', false);
  if (allNamespaces && namespaces.length > 0) throw new UsageError('--all-namespaces cannot be combined with -n/--namespace');
  const mappings = flags.list('mapping');
  usage(() => new PortMapper(mappings));
  const reservations = flags.list('reserve');
  reservations.forEach((r) => usage(() => parseReservation(r, '-r')));
  const domain = flags.string('domain')?.toLowerCase().replace(/^\.+|\.+$/g, '');
  if (domain !== undefined && !isValidHostname(domain)) throw new UsageError(`-d/--domain "${domain}" is not a valid DNS name (letters, digits, hyphens, dots)`);
  if (flags.given('api')) throw new UsageError('--api (kubefwd\'s REST API) is not available; use the VS Code extension, or serve --stdio');
  return {
    command: 'svc',
    options: {
      namespaces, allNamespaces, contexts: flags.list('context'),
      ...optional('kubeconfig', flags.string('kubeconfig')),
      ...optional('selector', flags.string('selector')),
      ...optional('fieldSelector', flags.string('field-selector')),
      mappings, reservations,
      ...optional('fwdConf', flags.string('fwd-conf')),
      ...optional('domain', domain),
      autoReconnect: flags.bool('auto-reconnect', true),
      purgeStaleIps: flags.bool('purge-stale-ips', false),
      timeoutSeconds: flags.positiveInt('timeout', 300),
      resyncIntervalMs: flags.duration('resync-interval', 5 * 60_000),
      retryIntervalMs: flags.duration('retry-interval', 10_000),
      verbose: flags.bool('verbose', false),
      hostsPath: flags.string('hosts-path') ?? defaultHostsPath(platform),
      ignoredFlags: flagDefs.svc.filter((d) => d.ignored && flags.given(d.long)).map((d) => `--${d.long}`),
    },
  };
}

function parseTarget(argv: readonly string[]): CliCommand {
  const flags = parseFlags('target', argv, flagDefs.target);
  if (flags.help) return help('target');
  const words = flags.positionals;
  const spec = words.length === 1 ? words[0] ?? '' : words.length === 2 ? `${words[0] ?? ''}/${words[1] ?? ''}` : '';
  if (words.length === 0 || words.length > 2) throw new UsageError('target needs one KIND/NAME, e.g. kube-forward target deploy/web -n demo');
  const slash = spec.indexOf('/');
  const kindWord = spec.slice(0, slash).toLowerCase();
  const name = spec.slice(slash + 1);
  const kind = KINDS[kindWord];
  if (slash < 0 || !kind) throw new UsageError(`"${spec}" is not KIND/NAME with KIND svc, pod, deploy or sts`);
  if (!/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/.test(name)) throw new UsageError(`"${name}" is not a Kubernetes object name`);
  const namespace = flags.string('namespace');
  if (namespace !== undefined) namespaceName(namespace, '-n');
  const address = flags.string('address');
  const localAddress = address === undefined ? undefined : usage(() => loopbackIp(address, '--address'));
  const localPorts: Record<string, number> = {};
  for (const portSpec of flags.list('port')) {
    const [remote = '', local, ...extra] = portSpec.split(':');
    if (extra.length > 0) throw new UsageError(`--port "${portSpec}" is not REMOTE[:LOCAL]`);
    // A remote port may be a container port's name (IANA_SVC_NAME: letters required).
    const named = /^[a-z0-9-]*[a-z][a-z0-9-]*$/.test(remote);
    const remoteKey = named ? remote : String(usage(() => parsePort(remote, '--port remote port')));
    if (named && local === undefined) throw new UsageError(`--port "${portSpec}": a named port needs a local port (${remote}:LOCAL)`);
    localPorts[remoteKey] = local === undefined ? Number(remoteKey) : usage(() => parsePort(local, '--port local port'));
  }
  return {
    command: 'target',
    options: {
      target: {
        kind, name,
        ...optional('namespace', namespace),
        ...optional('context', flags.string('context')),
        ...optional('localAddress', localAddress),
        ...(Object.keys(localPorts).length > 0 ? { localPorts } : {}),
      },
      ...optional('kubeconfig', flags.string('kubeconfig')),
      autoReconnect: flags.bool('auto-reconnect', true),
      verbose: flags.bool('verbose', false),
    },
  };
}

function parseServe(argv: readonly string[], platform: NodeJS.Platform): CliCommand {
  const flags = parseFlags('serve', argv, flagDefs.serve);
  if (flags.help) return help('serve');
  noPositionals('serve', flags);
  if (!flags.bool('stdio', false)) throw new UsageError('serve needs --stdio (JSON-RPC on stdin/stdout is the only transport)');
  const pid = flags.string('clientProcessId');
  if (pid !== undefined && !/^[1-9][0-9]{0,9}$/.test(pid)) throw new UsageError(`--clientProcessId "${pid}" is not a process id`);
  return {
    command: 'serve',
    options: {
      stdio: true,
      hostsPath: flags.string('hosts-path') ?? defaultHostsPath(platform),
      ...optional('kubeconfig', flags.string('kubeconfig')),
      ...(pid !== undefined ? { clientProcessId: Number(pid) } : {}),
      verbose: flags.bool('verbose', false),
    },
  };
}

function noPositionals(command: string, flags: ParsedFlags): void {
  const [extra] = flags.positionals;
  if (extra !== undefined) throw new UsageError(`${command} takes no arguments, got "${extra}" (flags start with - or --)`);
}

function namespaceName(ns: string, flag: string): void {
  if (!DNS_LABEL.test(ns)) throw new UsageError(`${flag} "${ns}" is not a namespace name (lowercase letters, digits and -, at most 63)`);
}

/** Re-throws a validation error (BAD_MAPPING, INVALID_RESERVATION…) as a usage error, same text. */
function usage<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
