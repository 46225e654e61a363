import { createEngine } from './app';
import { parseCommandLine, type SvcOptions } from './cli/args';
import { runForwards } from './cli/run';
import { createTransport } from './engine/transport';
import { messageOf } from './errors';
import { loadFwdConf } from './fwdconf/fwdconf';
import { releaseMemoryWhenIdle } from './lifecycle/idleMemory';
import { HostsFileManager } from './hostsfile';
import { currentIdentity } from './privilege/identity';
import { readFilesAsUser } from './privilege/readAsUser';
import type { ForwardSpec } from './protocol/types';
import { serveStdio } from './server/serve';
import { version } from './version';

const log = (line: string) => process.stderr.write(`${line}\n`);

/** Resolves to an exit code, or to undefined while the sidecar keeps running (forwards, server). */
async function main(argv: string[]): Promise<number | undefined> {
  const command = parseCommandLine(argv);
  const identity = currentIdentity();
  const makeHosts = (path: string) => new HostsFileManager(path);
  // The commands that keep running give back what their start-up burst grew, once idle.
  if (command.command === 'serve' || command.command === 'svc' || command.command === 'target') releaseMemoryWhenIdle();
  switch (command.command) {
    case 'version':
      process.stdout.write(command.quiet ? `${version}\n` : `kube-forward ${version} (node ${process.version})\n`);
      return 0;
    case 'help':
      process.stdout.write(`${command.text}\n`);
      return 0;
    case 'serve': {
      const engine = await createEngine({
        ...(command.options.kubeconfig ? { kubeconfig: command.options.kubeconfig } : {}),
        hostsPath: command.options.hostsPath,
        options: { portMappings: [], reservations: [], autoReconnect: true },
        identity, makeHosts, makeTransport: createTransport, log,
      });
      serveStdio(engine);
      return undefined;
    }
    case 'svc':
      return svc(command.options, identity, makeHosts);
    case 'target': {
      const o = command.options;
      const engine = await createEngine({
        ...(o.kubeconfig ? { kubeconfig: o.kubeconfig } : {}),
        options: { portMappings: [], reservations: [], autoReconnect: o.autoReconnect },
        identity, makeHosts, makeTransport: createTransport, log,
      });
      const namespace = o.target.namespace ?? defaultNamespace(engine, o.target.context);
      return runForwards(engine, { namespaces: [], targets: [{ ...o.target, namespace }], verbose: o.verbose }, output());
    }
  }
}

function output() {
  return { tty: process.stdout.isTTY === true, write: (text: string) => void process.stdout.write(text), columns: process.stdout.columns };
}

function defaultNamespace(engine: Awaited<ReturnType<typeof createEngine>>, context?: string): string {
  const name = engine.contextName(context);
  return engine.listContexts().contexts.find((c) => c.name === name)?.namespace ?? 'default';
}

async function svc(o: SvcOptions, identity: ReturnType<typeof currentIdentity>, makeHosts: (p: string) => HostsFileManager): Promise<number | undefined> {
  for (const flag of o.ignoredFlags) log(`note: ${flag} has no effect in kube-forward`);
  const fwdconf = o.fwdConf ? await loadFwdConf(o.fwdConf, (file) => {
    const read = readFilesAsUser(identity, [file]).get(file);
    // loadFwdConf names the file itself; pass the cause through as is.
    if (!read?.ok) throw Object.assign(new Error(read?.message ?? 'unreadable'), { code: read?.code ?? 'EIO' });
    return read.data;
  }) : undefined;
  const engine = await createEngine({
    ...(o.kubeconfig ? { kubeconfig: o.kubeconfig } : {}),
    hostsPath: o.hostsPath,
    options: { portMappings: o.mappings, reservations: o.reservations, ...(o.domain ? { domain: o.domain } : {}), autoReconnect: o.autoReconnect },
    ...(fwdconf ? { fwdconf } : {}),
    identity, makeHosts, makeTransport: createTransport, log,
  });
  let contexts: string[];
  let namespaces: string[];
  try {
    contexts = (o.contexts.length > 0 ? o.contexts : [undefined]).map((c) => engine.contextName(c));
    if (o.allNamespaces) {
      namespaces = [...new Set((await Promise.all(contexts.map((c) => engine.listNamespaces(c)))).flat().map((n) => n.name))];
    } else {
      namespaces = o.namespaces.length > 0 ? o.namespaces : [defaultNamespace(engine, contexts[0])];
    }
  } catch (error) {
    await engine.shutdown();
    throw error;
  }
  engine.preassign(contexts, namespaces);
  const specs: ForwardSpec[] = contexts.flatMap((context) => namespaces.map((namespace) => ({
    context, namespace, ...(o.selector ? { selector: o.selector } : {}), ...(o.fieldSelector ? { fieldSelector: o.fieldSelector } : {}),
  })));
  return runForwards(engine, { namespaces: specs, targets: [], verbose: o.verbose }, output());
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(`kube-forward: ${messageOf(error)}\n`);
    process.exit(2);
  },
);
