import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError, parseCommandLine, type CliCommand, type ServeOptions, type SvcOptions, type TargetOptions } from '../../../sidecar/src/cli/args';
import { parseDuration } from '../../../sidecar/src/cli/usage';
import { KubeForwardError } from '../../../sidecar/src/errors';

const svc = (...argv: string[]): SvcOptions => {
  const cmd = parseCommandLine(['svc', ...argv], 'linux');
  assert.equal(cmd.command, 'svc');
  return (cmd as Extract<CliCommand, { command: 'svc' }>).options;
};
const target = (...argv: string[]): TargetOptions => {
  const cmd = parseCommandLine(['target', ...argv], 'linux');
  assert.equal(cmd.command, 'target');
  return (cmd as Extract<CliCommand, { command: 'target' }>).options;
};
const serve = (...argv: string[]): ServeOptions => {
  const cmd = parseCommandLine(['serve', ...argv], 'linux');
  assert.equal(cmd.command, 'serve');
  return (cmd as Extract<CliCommand, { command: 'serve' }>).options;
};
const usageError = (argv: string[], pattern: RegExp): void => {
  assert.throws(() => parseCommandLine(argv, 'linux'), (error: unknown) => {
    assert.ok(error instanceof UsageError, String(error));
    assert.ok(error instanceof KubeForwardError);
    assert.equal(error.code, 'USAGE');
    assert.ok(!error.message.includes('\n'), 'one line');
    assert.match(error.message, pattern);
    return true;
  });
};

describe('svc flags', () => {
  it('has kubefwd\'s defaults, with auto-reconnect on', () => {
    assert.deepEqual(svc(), {
      namespaces: [], allNamespaces: false, contexts: [], mappings: [], reservations: [], autoReconnect: true, purgeStaleIps: false,
      timeoutSeconds: 300, resyncIntervalMs: 300_000, retryIntervalMs: 10_000, verbose: false, hostsPath: '/etc/hosts', ignoredFlags: [],
    });
    assert.equal((parseCommandLine(['svc'], 'win32') as Extract<CliCommand, { command: 'svc' }>).options.hostsPath,
      'C:\\Windows\\System32\\drivers\\etc\\hosts');
  });

  it('accepts every flag in long and short form', () => {
    const long = svc('--namespace', 'shop', '--context', 'kind', '--kubeconfig', '/k', '--selector', 'app=api', '--field-selector',
      'metadata.name=api', '--mapping', '80:8080', '--reserve', 'api.shop:127.1.27.9', '--fwd-conf', 'f.yml', '--domain', 'dev',
      '--auto-reconnect=false', '--purge-stale-ips', '--timeout', '60', '--resync-interval', '1m30s', '--retry-interval', '500ms',
      '--hosts-path', '/tmp/hosts', '--verbose');
    const short = svc('-n', 'shop', '-x', 'kind', '-c', '/k', '-l', 'app=api', '-f', 'metadata.name=api', '-m', '80:8080',
      '-r', 'api.shop:127.1.27.9', '-z', 'f.yml', '-d', 'dev', '-a=false', '-p', '-t', '60', '--resync-interval=90s',
      '--retry-interval=0.5s', '--hosts-path=/tmp/hosts', '-v');
    assert.deepEqual(short, long);
    assert.deepEqual(long, {
      namespaces: ['shop'], allNamespaces: false, contexts: ['kind'], kubeconfig: '/k', selector: 'app=api', fieldSelector: 'metadata.name=api',
      mappings: ['80:8080'], reservations: ['api.shop:127.1.27.9'], fwdConf: 'f.yml', domain: 'dev', autoReconnect: false,
      purgeStaleIps: true, timeoutSeconds: 60, resyncIntervalMs: 90_000, retryIntervalMs: 500, verbose: true, hostsPath: '/tmp/hosts', ignoredFlags: [],
    });
  });

  it('repeats and comma-splits list flags', () => {
    const o = svc('-n', 'a,b', '-n', 'c', '--namespace=d, e', '-x', 'one', '-x', 'two,three', '-m', '80:8080,443:8443', '-m', 'web.a:81:8081',
      '-r', 'a.a:127.0.0.2,b.a:127.0.0.3', '-r', 'c.a:127.0.0.4');
    assert.deepEqual(o.namespaces, ['a', 'b', 'c', 'd', 'e']);
    assert.deepEqual(o.contexts, ['one', 'two', 'three']);
    assert.deepEqual(o.mappings, ['80:8080', '443:8443', 'web.a:81:8081']);
    assert.deepEqual(o.reservations, ['a.a:127.0.0.2', 'b.a:127.0.0.3', 'c.a:127.0.0.4']);
  });

  it('takes pflag\'s attached forms: -ndemo, -n=demo, chained booleans, and the last of a repeated string flag', () => {
    assert.deepEqual(svc('-ndemo').namespaces, ['demo']);
    assert.deepEqual(svc('-n=demo').namespaces, ['demo']);
    const chained = svc('-pvan', 'demo');
    assert.deepEqual([chained.purgeStaleIps, chained.verbose, chained.autoReconnect, chained.namespaces], [true, true, true, ['demo']]);
    assert.equal(svc('-a=f').autoReconnect, false);
    assert.equal(svc('--auto-reconnect=0', '-a').autoReconnect, true);
    assert.equal(svc('--auto-reconnect=FALSE').autoReconnect, false);
    assert.equal(svc('-l', 'a=1', '-l', 'b=2').selector, 'b=2');
    assert.equal(svc('-A').allNamespaces, true);
    assert.equal(svc('--purge').purgeStaleIps, true);
    assert.equal(svc('-d', '.Local.Dev.').domain, 'local.dev');
  });

  it('runs svc for flags without a command, and accepts kubefwd\'s command aliases', () => {
    for (const argv of [['-n', 'demo'], ['svc', '-n', 'demo'], ['svcs', '-n', 'demo'], ['services', '-n', 'demo']]) {
      const cmd = parseCommandLine(argv, 'linux');
      assert.ok(cmd.command === 'svc' && cmd.options.namespaces[0] === 'demo', argv.join(' '));
    }
  });

  it('accepts kubefwd-only flags without effect and lists them', () => {
    assert.deepEqual(svc('-b', '--tui', '--theme', 'dark').ignoredFlags, ['--refresh-backup', '--tui', '--theme']);
  });

  it('refuses bad input with one line', () => {
    usageError(['svc', '--bogus'], /^unknown flag: --bogus \(see kube-forward svc --help\)$/);
    usageError(['svc', '-q'], /unknown shorthand flag: 'q' in -q/);
    usageError(['svc', '-vq'], /unknown shorthand flag: 'q' in -vq/);
    usageError(['svc', '-n'], /flag needs an argument: -n/);
    usageError(['svc', '--namespace'], /flag needs an argument: --namespace/);
    usageError(['svc', '-n', '-A'], /flag needs an argument: -n/);
    usageError(['svc', '--namespace='], /--namespace needs a non-empty value/);
    usageError(['svc', '-n', ','], /-n needs a non-empty value/);
    usageError(['svc', '-n', 'Shop'], /-n "Shop" is not a namespace name/);
    usageError(['svc', '-A', '-n', 'x'], /--all-namespaces cannot be combined with -n/);
    usageError(['svc', '-m', '80'], /bad port mapping "80"/);
    usageError(['svc', '-m', '80:99999'], /"99999" is not a port number from 1 to 65535/);
    usageError(['svc', '-m', '80:8080', '-m', '80:9090'], /same port to different local ports/);
    usageError(['svc', '-r', 'api.shop'], /invalid reservation "api\.shop" \(-r\): expected NAME:IP/);
    usageError(['svc', '-r', 'api.shop:10.0.0.1'], /not in 127\.0\.0\.0\/8/);
    usageError(['svc', '-d', 'bad_domain'], /-d\/--domain "bad_domain" is not a valid DNS name/);
    usageError(['svc', '-a=maybe'], /-a takes true or false, got "maybe"/);
    usageError(['svc', '--auto-reconnect=2'], /--auto-reconnect takes true or false/);
    usageError(['svc', '-t', '0'], /-t takes a positive whole number, got "0"/);
    usageError(['svc', '--timeout=5s'], /--timeout takes a positive whole number/);
    usageError(['svc', '--resync-interval', '5'], /--resync-interval takes a duration such as 30s/);
    usageError(['svc', '--retry-interval=0'], /--retry-interval takes a duration/);
    usageError(['svc', 'shop'], /svc takes no arguments, got "shop"/);
    usageError(['svc', '--api'], /--api .* is not available/);
  });

  it('stops reading flags at --', () => {
    usageError(['svc', '-n', 'a', '--', '-x'], /svc takes no arguments, got "-x"/);
    usageError(['svc', '-n', '--', 'a'], /flag needs an argument: -n/);
  });
});

describe('target, serve, version and help', () => {
  it('parses a single target with its kind, namespace, context, address and ports', () => {
    assert.deepEqual(target('deploy/web', '-n', 'demo', '-x', 'kind', '-c', '/k', '--address', '127.0.0.1', '--port', '5432:15432',
      '--port', 'http:8080,9090'), {
      target: { kind: 'deployment', name: 'web', namespace: 'demo', context: 'kind', localAddress: '127.0.0.1',
        localPorts: { 5432: 15432, http: 8080, 9090: 9090 } },
      kubeconfig: '/k', autoReconnect: true, verbose: false,
    });
    const kinds = [['svc/a', 'service'], ['service/a', 'service'], ['pod/a', 'pod'], ['po/a', 'pod'], ['deployment/a', 'deployment'],
      ['sts/a', 'statefulset'], ['StatefulSet/a', 'statefulset']];
    for (const [spec = '', kind] of kinds) assert.equal(target(spec).target.kind, kind, spec);
    assert.deepEqual(target('pod', 'db-0', '--namespace=db').target, { kind: 'pod', name: 'db-0', namespace: 'db' });
  });

  it('refuses bad targets', () => {
    usageError(['target'], /target needs one KIND\/NAME/);
    usageError(['target', 'a/b', 'c', 'd'], /target needs one KIND\/NAME/);
    usageError(['target', 'job/x'], /"job\/x" is not KIND\/NAME/);
    usageError(['target', 'web'], /"web" is not KIND\/NAME/);
    usageError(['target', 'pod/Bad_Name'], /"Bad_Name" is not a Kubernetes object name/);
    usageError(['target', 'pod/a', '--address', '0.0.0.0'], /--address: 0\.0\.0\.0 is not in 127\.0\.0\.0\/8/);
    usageError(['target', 'pod/a', '--port', '1:2:3'], /--port "1:2:3" is not REMOTE\[:LOCAL\]/);
    usageError(['target', 'pod/a', '--port', 'http'], /a named port needs a local port/);
    usageError(['target', 'pod/a', '--port', '70000'], /--port remote port "70000"/);
    usageError(['target', 'pod/a', '-A'], /unknown shorthand flag: 'A'/);
  });

  it('parses serve --stdio with its fixed hosts path and the language client\'s process id', () => {
    assert.deepEqual(serve('--stdio'), { stdio: true, hostsPath: '/etc/hosts', verbose: false });
    assert.deepEqual(serve('--stdio', '--hosts-path', '/tmp/h', '-c', '/k', '--clientProcessId=4242', '-v'),
      { stdio: true, hostsPath: '/tmp/h', kubeconfig: '/k', clientProcessId: 4242, verbose: true });
    usageError(['serve'], /serve needs --stdio/);
    usageError(['serve', '--stdio', '--clientProcessId', 'abc'], /--clientProcessId "abc" is not a process id/);
    usageError(['serve', '--stdio', 'extra'], /serve takes no arguments/);
  });

  it('parses version and help', () => {
    assert.deepEqual(parseCommandLine(['version']), { command: 'version', quiet: false });
    assert.deepEqual(parseCommandLine(['version', 'quiet']), { command: 'version', quiet: true });
    assert.deepEqual(parseCommandLine(['--version']), { command: 'version', quiet: false });
    usageError(['version', 'loud'], /version takes only "quiet"/);
    for (const [argv, topic] of [[[], 'main'], [['help'], 'main'], [['--help'], 'main'], [['-h'], 'main'], [['help', 'svc'], 'svc'],
      [['svc', '-h'], 'svc'], [['svc', '--bogus', '--help'], 'svc'], [['-n', 'x', '-vh'], 'svc'], [['help', 'target'], 'target'],
      [['target', '--help'], 'target'], [['serve', '-h'], 'serve'], [['help', 'serve'], 'serve']] as const) {
      const cmd = parseCommandLine([...argv]);
      assert.ok(cmd.command === 'help' && cmd.topic === topic, argv.join(' '));
    }
    usageError(['help', 'nope'], /no help for "nope"/);
    usageError(['frobnicate'], /^unknown command "frobnicate"; commands are svc, target, serve, version and help/);
  });

  it('documents every svc flag in the help text', () => {
    const cmd = parseCommandLine(['help', 'svc']);
    assert.ok(cmd.command === 'help');
    for (const flag of ['--namespace', '--all-namespaces', '--context', '--kubeconfig', '--selector', '--field-selector', '--mapping',
      '--reserve', '--fwd-conf', '--domain', '--auto-reconnect', '--purge-stale-ips', '--timeout', '--resync-interval',
      '--retry-interval', '--hosts-path', '--verbose', '--help']) {
      assert.ok(cmd.text.includes(flag), flag);
    }
  });

  it('parses Go durations', () => {
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('0'), 0);
    assert.equal(parseDuration('10'), undefined);
    assert.equal(parseDuration('5 m'), undefined);
    assert.equal(parseDuration(''), undefined);
  });
});
