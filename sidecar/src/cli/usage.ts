import { KubeForwardError } from '../errors';

/** Bad command-line input: the caller prints the one-line message and exits with code 2. */
export class UsageError extends KubeForwardError {
  constructor(message: string) {
    super('USAGE', message);
    this.name = 'UsageError';
  }
}

export type HelpTopic = 'main' | 'svc' | 'target' | 'serve';

const MAIN = `kube-forward: forward whole Kubernetes namespaces to this machine, like kubefwd.
Every service gets its own loopback IP (127.1.27.x) and its names in the hosts file.

Usage:
  kube-forward svc -n NAMESPACE [flags]      forward every service of namespaces (kubefwd svc)
  kube-forward target KIND/NAME [flags]      forward one service, pod, deployment or statefulset
  kube-forward serve --stdio [flags]         JSON-RPC server for the VS Code extension
  kube-forward version [quiet]               print the version
  kube-forward help [svc|target|serve]       print help

Flags given without a command go to svc (kube-forward -n demo = kube-forward svc -n demo).
Run with sudo to write the hosts file and bind ports below 1024.`;

const SVC = `Forward every service of one or more namespaces (kubefwd-compatible).

Usage:
  kube-forward svc [flags]          (aliases: svcs, services)

Examples:
  sudo kube-forward svc -n shop
  sudo kube-forward svc -n shop,billing -x prod -l app=api
  sudo kube-forward svc -n shop -m 80:8080 -r api.shop:127.1.27.50 -d local.dev

Flags:
  -n, --namespace NS[,NS]     namespace(s) to forward; repeatable (default: the context's namespace, else "default")
  -A, --all-namespaces        forward every namespace (cannot be combined with -n)
  -x, --context CTX[,CTX]     kubeconfig context(s); repeatable (default: the current context)
  -c, --kubeconfig PATH       kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)
  -l, --selector SELECTOR     label selector for services, e.g. app=api,tier!=debug
  -f, --field-selector SEL    field selector for services, e.g. metadata.name=api
  -m, --mapping PORT:LOCAL    service port to local port, e.g. 80:8080 or web.shop:80:8080; repeatable
  -r, --reserve NAME:IP       reserve an IP, e.g. api.shop:127.1.27.50 (127.0.0.0/8 only); repeatable
  -z, --fwd-conf PATH         IP reservation file (kubefwd fwdconf YAML)
  -d, --domain DOMAIN         also name services svc.DOMAIN
  -a, --auto-reconnect        reconnect lost forwards with backoff (default on; --auto-reconnect=false to turn off)
  -p, --purge-stale-ips       remove hosts entries left by a previous run before starting
  -t, --timeout SECONDS       seconds to wait for a pod to be ready (default 300)
      --resync-interval DUR   forced resync of each service (default 5m)
      --retry-interval DUR    retry when a service has no pods (default 10s)
      --hosts-path PATH       hosts file to write (default /etc/hosts)
  -v, --verbose               debug output
  -h, --help                  this help

Accepted for kubefwd compatibility, without effect: -b/--refresh-backup, --tui, --theme.
Exit codes: 0 after Ctrl-C, 2 for bad flags, unknown contexts or unreadable files.`;

const TARGET = `Forward one target: a service, a pod, or a workload's pods.

Usage:
  kube-forward target KIND/NAME [flags]     KIND: svc|service, pod|po, deploy|deployment, sts|statefulset

Examples:
  kube-forward target deploy/web -n demo
  kube-forward target svc/postgres -n db --address 127.0.0.1 --port 5432:15432

Flags:
  -n, --namespace NS          namespace (default: the context's namespace, else "default")
  -x, --context CTX           kubeconfig context (default: the current context)
  -c, --kubeconfig PATH       kubeconfig file
      --address IP            local address to listen on, in 127.0.0.0/8 (default: an allocated 127.1.27.x)
      --port REMOTE[:LOCAL]   remote port (number or name) and the local port for it; repeatable
  -a, --auto-reconnect        reconnect with backoff (default on; --auto-reconnect=false to turn off)
  -v, --verbose               debug output
  -h, --help                  this help`;

const SERVE = `Serve JSON-RPC on stdin/stdout for the VS Code extension.

Usage:
  kube-forward serve --stdio [flags]

Flags:
      --stdio                 talk JSON-RPC on stdin/stdout (required; the only transport)
      --hosts-path PATH       hosts file to write (default /etc/hosts); fixed for the process's life
  -c, --kubeconfig PATH       kubeconfig file(s), separated like $KUBECONFIG
      --clientProcessId PID   the launching process; the server exits when it is gone
  -v, --verbose               debug output
  -h, --help                  this help`;

export function helpText(topic: HelpTopic = 'main'): string {
  switch (topic) {
    case 'svc': return SVC;
    case 'target': return TARGET;
    case 'serve': return SERVE;
    default: return MAIN;
  }
}

/*
 * The flag grammar of cobra/pflag, which kubefwd users have in their fingers: `--flag value`,
 * `--flag=value`, `-f value`, `-fvalue`, `-f=value`, booleans chained (`-av`) or set explicitly
 * (`-a=false`, `--auto-reconnect=false`), list flags repeatable and comma-separated, `--` ends
 * flags, flags and arguments in any order.
 */

export type FlagType = 'string' | 'list' | 'bool' | 'int' | 'duration';

export interface FlagDef {
  long: string;
  short?: string;
  type: FlagType;
  aliases?: readonly string[];
  /** A kubefwd flag accepted so scripts keep working, that changes nothing here. */
  ignored?: boolean;
}

const HELP: FlagDef = { long: 'help', short: 'h', type: 'bool' };
const VERBOSE: FlagDef = { long: 'verbose', short: 'v', type: 'bool' };
const KUBECONFIG: FlagDef = { long: 'kubeconfig', short: 'c', type: 'string' };
const HOSTS_PATH: FlagDef = { long: 'hosts-path', type: 'string' };
const AUTO_RECONNECT: FlagDef = { long: 'auto-reconnect', short: 'a', type: 'bool' };

export const flagDefs: Record<'svc' | 'target' | 'serve', readonly FlagDef[]> = {
  svc: [
    { long: 'namespace', short: 'n', type: 'list' }, { long: 'all-namespaces', short: 'A', type: 'bool' },
    { long: 'context', short: 'x', type: 'list' }, KUBECONFIG,
    { long: 'selector', short: 'l', type: 'string' }, { long: 'field-selector', short: 'f', type: 'string' },
    { long: 'mapping', short: 'm', type: 'list' }, { long: 'reserve', short: 'r', type: 'list' },
    { long: 'fwd-conf', short: 'z', type: 'string' }, { long: 'domain', short: 'd', type: 'string' },
    AUTO_RECONNECT, { long: 'purge-stale-ips', short: 'p', type: 'bool', aliases: ['purge'] },
    { long: 'timeout', short: 't', type: 'int' },
    { long: 'resync-interval', type: 'duration' }, { long: 'retry-interval', type: 'duration' },
    HOSTS_PATH, VERBOSE, HELP,
    { long: 'refresh-backup', short: 'b', type: 'bool', ignored: true }, { long: 'tui', type: 'bool', ignored: true },
    { long: 'theme', type: 'string', ignored: true }, { long: 'api', type: 'bool' },
  ],
  target: [
    { long: 'namespace', short: 'n', type: 'string' }, { long: 'context', short: 'x', type: 'string' }, KUBECONFIG,
    { long: 'address', type: 'string' }, { long: 'port', type: 'list' }, AUTO_RECONNECT, VERBOSE, HELP,
  ],
  serve: [{ long: 'stdio', type: 'bool' }, HOSTS_PATH, KUBECONFIG, { long: 'clientProcessId', type: 'string' }, VERBOSE, HELP],
};

export interface ParsedFlags {
  help: boolean;
  positionals: string[];
  given(long: string): boolean;
  /** The last value given (pflag: the last one wins). */
  string(long: string): string | undefined;
  /** Every value of every occurrence, comma lists split. */
  list(long: string): string[];
  bool(long: string, fallback: boolean): boolean;
  positiveInt(long: string, fallback: number): number;
  /** Milliseconds. */
  duration(long: string, fallback: number): number;
}

const TRUE = new Set(['1', 't', 'true']);
const FALSE = new Set(['0', 'f', 'false']);
const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration syntax (`90s`, `1m30s`, `1.5h`), in milliseconds. */
export function parseDuration(text: string): number | undefined {
  if (text === '0') return 0;
  const part = /(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/y;
  let total = 0;
  let at = 0;
  while (at < text.length) {
    part.lastIndex = at;
    const m = part.exec(text);
    if (!m) return undefined;
    total += Number(m[1]) * (DURATION_UNITS[m[2] ?? ''] ?? NaN);
    at = part.lastIndex;
  }
  return text.length > 0 && Number.isFinite(total) ? total : undefined;
}

/** Checks and normalises one value as it is given, so errors name the flag as the user typed it. */
function normalise(def: FlagDef, shown: string, value: string, hint: string): string[] {
  switch (def.type) {
    case 'bool': {
      const v = value.toLowerCase();
      if (TRUE.has(v)) return ['true'];
      if (FALSE.has(v)) return ['false'];
      throw new UsageError(`${shown} takes true or false, got "${value}" ${hint}`);
    }
    case 'int':
      if (!/^[1-9][0-9]{0,8}$/.test(value)) throw new UsageError(`${shown} takes a positive whole number, got "${value}" ${hint}`);
      return [value];
    case 'duration': {
      const ms = parseDuration(value);
      if (ms === undefined || ms <= 0) throw new UsageError(`${shown} takes a duration such as 30s, 5m or 1h30m, got "${value}" ${hint}`);
      return [String(ms)];
    }
    case 'list': {
      const items = value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
      if (items.length === 0) throw new UsageError(`${shown} needs a non-empty value ${hint}`);
      return items;
    }
    default:
      if (value.trim() === '') throw new UsageError(`${shown} needs a non-empty value ${hint}`);
      return [value];
  }
}

export function parseFlags(command: string, argv: readonly string[], defs: readonly FlagDef[]): ParsedFlags {
  const hint = `(see kube-forward ${command} --help)`;
  const byLong = new Map<string, FlagDef>();
  const byShort = new Map<string, FlagDef>();
  for (const def of defs) {
    byLong.set(def.long, def);
    for (const alias of def.aliases ?? []) byLong.set(alias, def);
    if (def.short) byShort.set(def.short, def);
  }
  const values = new Map<string, string[]>();
  const positionals: string[] = [];
  const put = (def: FlagDef, shown: string, value: string): void => {
    values.set(def.long, [...(def.type === 'list' ? values.get(def.long) ?? [] : []), ...normalise(def, shown, value, hint)]);
  };
  // pflag takes the next argument whatever it is; `-n -A` then forwards a namespace called "-A".
  // A missing value is the likelier mistake, so a next argument that looks like a flag is refused.
  const next = (i: number, shown: string): string => {
    const value = argv[i + 1];
    if (value === undefined || (value.startsWith('-') && value.length > 1)) throw new UsageError(`flag needs an argument: ${shown} ${hint}`);
    return value;
  };
  const end = argv.indexOf('--');
  const flagArgs = end < 0 ? argv : argv.slice(0, end);
  // Help wins over everything else on the line, as a person asking for help has not finished typing.
  const helpAsked = flagArgs.some((a) => a === '-h' || a === '--help');
  for (let i = 0; i < flagArgs.length && !helpAsked; i++) {
    const arg = flagArgs[i] ?? '';
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      const def = byLong.get(name);
      if (!def) throw new UsageError(`unknown flag: --${name} ${hint}`);
      if (eq >= 0) put(def, `--${name}`, arg.slice(eq + 1));
      else put(def, `--${name}`, def.type === 'bool' ? 'true' : next(i++, `--${name}`));
    } else if (arg.startsWith('-') && arg.length > 1) {
      for (let j = 1; j < arg.length; j++) {
        const c = arg[j] ?? '';
        const def = byShort.get(c);
        if (!def) throw new UsageError(`unknown shorthand flag: '${c}' in ${arg} ${hint}`);
        const rest = arg.slice(j + 1);
        if (def.type === 'bool' && !rest.startsWith('=')) {
          put(def, `-${c}`, 'true');
          continue;
        }
        if (rest.length > 0) put(def, `-${c}`, rest.startsWith('=') ? rest.slice(1) : rest);
        else put(def, `-${c}`, next(i++, `-${c}`));
        break;
      }
    } else {
      positionals.push(arg);
    }
  }
  if (end >= 0) positionals.push(...argv.slice(end + 1));
  const last = (long: string): string | undefined => values.get(long)?.at(-1);
  return {
    help: helpAsked || values.has('help'),
    positionals,
    given: (long) => values.has(long),
    string: last,
    list: (long) => values.get(long) ?? [],
    bool: (long, fallback) => (values.has(long) ? last(long) === 'true' : fallback),
    positiveInt: (long, fallback) => Number(last(long) ?? fallback),
    duration: (long, fallback) => Number(last(long) ?? fallback),
  };
}
