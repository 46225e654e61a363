import assert from 'node:assert/strict';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import ts from 'typescript';
import { NotificationType, RequestType, RequestType0, ResponseError, ErrorCodes } from 'vscode-jsonrpc';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { createEngine } from '../../../sidecar/src/app';
import type { Engine } from '../../../sidecar/src/engine/engine';
import { createTransport } from '../../../sidecar/src/engine/transport';
import { HostsFileManager } from '../../../sidecar/src/hostsfile';
import * as P from '../../../sidecar/src/protocol/methods';
import type { EngineState, ForwardInfo, ForwardMetrics, ForwardSpec, HttpRecord } from '../../../sidecar/src/protocol/types';
import { serveRpc } from '../../../sidecar/src/server/rpc';
import { kubectl, kubectlJson } from '../../cluster/kubectl';
import { repoRoot } from '../../cluster/paths';
import { requireState } from '../../cluster/state';
import { waitFor, withTimeout } from '../../cluster/wait';
import { connectResult, listening, tempHosts, type TempHosts } from '../../helpers/sidecar';
import { deploymentPods, whoAnswers } from '../engine/cluster';

/**
 * The JSON-RPC contract, in process: a real engine (createEngine with the hosts file manager and
 * our tunnel transport, against the test cluster) served by serveRpc over in-memory streams, and
 * driven by a vscode-jsonrpc client with the request and notification types of the ONE protocol
 * module, so a renamed method or changed payload breaks this test. Forwards use 127.1.38.x
 * (demo) and 127.1.39.x (other), away from other suites' 127.1.27.x.
 */

const BASE_IP = '127.1.38.1';

interface Harness {
  engine: Engine;
  hosts: TempHosts;
  client: MessageConnection;
  /** The client's end towards the server, for raw frames. */
  toServer: PassThrough;
  exits: number[];
  exited: Promise<number>;
  logs: string[];
  stateChanged: { at: number; forwards: ForwardInfo[]; removed: string[]; state: EngineState }[];
  metrics: ForwardMetrics[][];
  http: HttpRecord[];
}

async function harness(): Promise<Harness> {
  const hosts = tempHosts();
  const logs: string[] = [];
  const engine = await createEngine({
    kubeconfig: requireState().kubeconfig,
    hostsPath: hosts.path,
    options: { portMappings: [], reservations: [], autoReconnect: true },
    fwdconf: { file: '(contract test)', baseIp: BASE_IP, reservations: [] },
    makeHosts: (p) => new HostsFileManager(p),
    makeTransport: createTransport,
    log: (line) => void logs.push(line),
  });
  const toServer = new PassThrough();
  const fromServer = new PassThrough();
  const exits: number[] = [];
  let exitedWith: (code: number) => void = () => undefined;
  const exited = new Promise<number>((resolve) => (exitedWith = resolve));
  serveRpc(engine, toServer, fromServer, {
    onExit: (code) => {
      exits.push(code);
      exitedWith(code);
    },
  });
  const client = createMessageConnection(new StreamMessageReader(fromServer), new StreamMessageWriter(toServer));
  const h: Harness = { engine, hosts, client, toServer, exits, exited, logs, stateChanged: [], metrics: [], http: [] };
  client.onNotification(P.StateChanged.type, (p) => void h.stateChanged.push({ at: Date.now(), ...p }));
  client.onNotification(P.Metrics.type, (p) => void h.metrics.push(p.metrics));
  client.onNotification(P.HttpRequests.type, (p) => void h.http.push(...p.records));
  client.onError(() => undefined);
  client.listen();
  return h;
}

async function dispose(h: Harness): Promise<void> {
  h.client.dispose();
  h.toServer.end();
  await withTimeout(h.exited, 15_000, 'the server ending after its input ended');
  await h.engine.shutdown();
  h.hosts.remove();
}

/** The newest state of a forward as told by stateChanged (undefined after a `removed`). */
function told(h: Harness, id: string): ForwardInfo | undefined {
  let latest: ForwardInfo | undefined;
  for (const n of h.stateChanged) {
    const f = n.forwards.find((x) => x.id === id);
    if (f) latest = f;
    if (n.removed.includes(id)) latest = undefined;
  }
  return latest;
}

const active = (h: Harness, id: string, timeoutMs = 30_000) =>
  waitFor(`${id} Active by stateChanged`, () => (told(h, id)?.status === 'Active' ? told(h, id) : undefined), timeoutMs, 25);

/** Sends a request that must fail, and returns its ResponseError. */
async function rejection(promise: Promise<unknown>): Promise<ResponseError<{ code?: string } | undefined>> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ResponseError, `a ResponseError, not ${String(error)}`);
    return error as ResponseError<{ code?: string } | undefined>;
  }
  assert.fail('the request succeeded');
}

const REQUESTS: Record<string, string[] | null> = {
  // method → the keys of its params (null: no params)
  'kubeForward/listContexts': null,
  'kubeForward/listNamespaces': ['context'],
  'kubeForward/listServices': ['context', 'namespace'],
  'kubeForward/forwardNamespace': ['context', 'namespace', 'selector', 'fieldSelector', 'services'],
  'kubeForward/forwardTarget': ['context', 'namespace', 'kind', 'name', 'localAddress', 'localPorts'],
  'kubeForward/stop': ['ids', 'namespace', 'all'],
  'kubeForward/applySpecs': ['specs'],
  'kubeForward/configure': ['portMappings', 'reservations', 'domain', 'autoReconnect'],
  'kubeForward/getState': null,
  'kubeForward/getHttpLog': ['limit'],
};
const NOTIFICATIONS = ['kubeForward/stateChanged', 'kubeForward/metrics', 'kubeForward/http', 'kubeForward/events', 'kubeForward/log'];

/** Exported namespaces of the protocol module that declare a method: name → {method, type}. */
function protocolEntries(): { name: string; method: string; type: unknown }[] {
  return Object.entries(P as Record<string, unknown>).flatMap(([name, ns]) => {
    const m = typeof ns === 'object' && ns !== null ? (ns as { method?: unknown; type?: unknown }) : undefined;
    return m && typeof m.method === 'string' ? [{ name, method: m.method, type: m.type }] : [];
  });
}

describe('protocol module: no method takes a file path to write or a command to run', () => {
  it('the exported methods are exactly the known ones, each declared with its RequestType/NotificationType', () => {
    const entries = protocolEntries();
    const requests = entries.filter((e) => e.type instanceof RequestType || e.type instanceof RequestType0);
    const notifications = entries.filter((e) => e.type instanceof NotificationType);
    assert.equal(requests.length + notifications.length, entries.length, 'every method has a request or notification type');
    for (const e of entries) assert.equal((e.type as { method: string }).method, e.method, `${e.name}.type carries ${e.name}.method`);
    assert.deepEqual(requests.map((e) => e.method).sort(), Object.keys(REQUESTS).sort(),
      'the requests are the reviewed ones (a new request needs a look at what it lets the root sidecar do)');
    assert.deepEqual(notifications.map((e) => e.method).sort(), [...NOTIFICATIONS].sort());
    assert.equal(P.MAX_MESSAGE_BYTES, 1 << 20);
  });

  it('no request parameter, at any depth, is a path, file, directory, command, program or argument list', () => {
    const file = path.join(repoRoot, 'sidecar', 'src', 'protocol', 'methods.ts');
    const program = ts.createProgram([file], { strict: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, skipLibCheck: true, noEmit: true });
    const checker = program.getTypeChecker();
    const source = program.getSourceFile(file);
    assert.ok(source, `${file} compiles`);
    const moduleSymbol = checker.getSymbolAtLocation(source);
    assert.ok(moduleSymbol);
    /** Every property path of a type (arrays and records looked into), e.g. `namespace.context`. */
    const keysOf = (type: ts.Type, prefix: string, depth: number, out: string[]): string[] => {
      if (depth > 5) return out;
      const element = checker.isArrayType(type) ? checker.getTypeArguments(type as ts.TypeReference)[0] : undefined;
      if (element) return keysOf(element, `${prefix}[]`, depth + 1, out);
      if (type.isUnion() || type.isIntersection()) {
        for (const t of type.types) keysOf(t, prefix, depth, out);
        return out;
      }
      if (!(type.flags & ts.TypeFlags.Object)) return out;
      const index = checker.getIndexInfosOfType(type);
      for (const info of index) keysOf(info.type, `${prefix}{*}`, depth + 1, out);
      for (const prop of checker.getPropertiesOfType(type)) {
        const key = prefix ? `${prefix}.${prop.name}` : prop.name;
        out.push(key);
        keysOf(checker.getNonNullableType(checker.getTypeOfSymbol(prop)), key, depth + 1, out);
      }
      return out;
    };
    const params = new Map<string, string[] | null>();
    for (const ns of checker.getExportsOfModule(moduleSymbol)) {
      if (!(ns.flags & ts.SymbolFlags.Namespace)) continue;
      const typeSymbol = ns.exports?.get('type' as ts.__String);
      const methodSymbol = ns.exports?.get('method' as ts.__String);
      if (!typeSymbol || !methodSymbol) continue;
      const declared = checker.getTypeOfSymbol(typeSymbol) as ts.TypeReference;
      const className = declared.symbol?.name ?? '';
      const method = (checker.getTypeOfSymbol(methodSymbol) as ts.StringLiteralType).value;
      if (className === 'RequestType0') params.set(method, null);
      else if (className === 'RequestType' || className === 'NotificationType') {
        const [param] = checker.getTypeArguments(declared);
        assert.ok(param, `${ns.name}: its params type`);
        const keys = keysOf(param, '', 0, []);
        if (className === 'RequestType') params.set(method, keys);
        else {
          // Notifications flow from the sidecar to the extension: they carry no instructions either.
          for (const key of keys) assert.doesNotMatch(key.split('.').at(-1) ?? '', /^(command|cmd|exec|script|args|argv|shell)$/i, `${method}: ${key}`);
        }
      } else assert.fail(`${ns.name}.type is a ${className}`);
    }
    assert.deepEqual([...params.keys()].sort(), Object.keys(REQUESTS).sort(), 'every request was looked at');
    const FORBIDDEN = /path|file|dir|folder|command|cmd|exec|script|shell|program|binary|argv|^args$|arguments|env/i;
    for (const [method, keys] of params) {
      const expected = REQUESTS[method];
      if (keys === null || expected === null) {
        assert.equal(keys, expected, `${method}: params`);
        continue;
      }
      const top = [...new Set(keys.filter((k) => !k.includes('.') && !k.includes('[')))].sort();
      assert.deepEqual(top, [...expected].sort(), `${method}: the params are the reviewed ones`);
      for (const key of keys) {
        for (const part of key.split(/[.[\]{}*]+/).filter(Boolean)) {
          assert.doesNotMatch(part, FORBIDDEN, `${method}: parameter ${key} could name a file or a command`);
        }
      }
    }
  });
});

describe('JSON-RPC contract over in-memory streams (real engine, test cluster)', { timeout: 240_000 }, () => {
  let h: Harness;
  let web: ForwardInfo;
  let ended = false;

  before(async () => {
    requireState();
    h = await harness();
  });
  after(async () => {
    if (!ended) await dispose(h);
  });

  it('initialize answers serverInfo kube-forward with capabilities', async () => {
    const result = await withTimeout(h.client.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {} }), 10_000, 'initialize') as
      { capabilities?: unknown; serverInfo?: { name?: string; version?: string } };
    assert.equal(typeof result.capabilities, 'object');
    assert.equal(result.serverInfo?.name, 'kube-forward');
    assert.match(result.serverInfo?.version ?? '', /^\d+\.\d+\.\d+/);
    await h.client.sendNotification('initialized', {});
  });

  it('every request of the protocol module is served (none answers MethodNotFound)', async () => {
    for (const { method } of protocolEntries().filter((e) => e.type instanceof RequestType || e.type instanceof RequestType0)) {
      // Harmless params: empty, so nothing is forwarded or stopped.
      const outcome = await h.client.sendRequest(method, {}).then(() => 'answered', (error: unknown) => error);
      if (outcome !== 'answered') {
        assert.ok(outcome instanceof ResponseError, `${method}: ${String(outcome)}`);
        assert.notEqual(outcome.code, ErrorCodes.MethodNotFound, `${method} is served`);
      }
    }
    assert.deepEqual((await h.client.sendRequest(P.GetState.type)).forwards, [], 'and none of them forwarded anything');
  });

  it('listContexts: admin, dev and restricted, the kubeconfig\'s current context flagged', async () => {
    const result = await h.client.sendRequest(P.ListContexts.type);
    assert.equal(result.error, undefined);
    assert.deepEqual(result.kubeconfig, [requireState().kubeconfig]);
    for (const name of ['admin', 'dev', 'restricted']) assert.ok(result.contexts.some((c) => c.name === name), `context ${name} listed`);
    const current = (await kubectl(['config', 'current-context'])).trim();
    assert.deepEqual(result.contexts.filter((c) => c.current).map((c) => c.name), [current], 'exactly the current context is flagged');
    const dev = result.contexts.find((c) => c.name === 'dev');
    assert.equal(dev?.user, 'dev');
    assert.equal(dev?.namespace, 'demo');
    assert.match(dev?.server ?? '', /^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('listNamespaces: demo, other and secret with service counts, where the context may list services', async () => {
    const { namespaces } = await h.client.sendRequest(P.ListNamespaces.type, { context: 'admin' });
    for (const name of ['demo', 'other', 'secret']) assert.ok(namespaces.some((n) => n.name === name), `namespace ${name} listed`);
    const services = (await kubectl(['get', 'services', '-n', 'demo', '-o', 'name'], { context: 'admin' })).trim().split('\n').length;
    assert.deepEqual(namespaces.find((n) => n.name === 'demo'), { name: 'demo', services, forwarded: false });
    // dev may list services in demo and other but not in secret: a count only where allowed.
    const dev = await h.client.sendRequest(P.ListNamespaces.type, { context: 'dev' });
    assert.equal(dev.namespaces.find((n) => n.name === 'demo')?.services, services);
    assert.ok(dev.namespaces.some((n) => n.name === 'secret'), 'secret is listed');
    assert.equal(dev.namespaces.find((n) => n.name === 'secret')?.services, undefined, 'without a count for dev');
  });

  it('listServices demo: the cluster\'s services with type, headless flag and ports', async () => {
    const { services } = await h.client.sendRequest(P.ListServices.type, { context: 'admin', namespace: 'demo' });
    const expected = await kubectlJson<{ items: { metadata: { name: string } }[] }>(['get', 'services', '-n', 'demo'], { context: 'admin' });
    assert.deepEqual(services.map((s) => s.name).sort(), expected.items.map((s) => s.metadata.name).sort());
    const byName = new Map(services.map((s) => [s.name, s]));
    assert.deepEqual(byName.get('web')?.ports, [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 'http' }]);
    assert.equal(byName.get('web')?.headless, false);
    assert.equal(byName.get('db')?.headless, true);
    assert.equal(byName.get('ext')?.type, 'ExternalName');
    assert.ok(services.every((s) => s.namespace === 'demo'));
  });

  it('forwardNamespace demo answers the EngineState; stateChanged notifications are throttled and lose no final state', async () => {
    let emissions = 0;
    const count = () => void emissions++;
    h.engine.on('forwards', count);
    const t0 = Date.now();
    const state = await withTimeout(h.client.sendRequest(P.ForwardNamespace.type, { context: 'admin', namespace: 'demo' }), 30_000, 'forwardNamespace');
    assert.ok(state.namespaces.some((n) => n.context === 'admin' && n.namespace === 'demo'), 'the answer holds the namespace');
    assert.ok(state.forwards.length > 0, 'and its forwards');
    assert.equal(state.privileges.root, true);
    assert.equal(state.privileges.hostsPath, h.hosts.path);
    web = await active(h, 'web.demo.admin');
    assert.match(web.ip, /^127\.1\.38\.\d{1,3}$/, `demo is on the configured range: ${web.ip}`);
    // Settled: every forward's last notified state is its state now.
    const settled = await waitFor('every forward\'s state told', async () => {
      const now = await h.client.sendRequest(P.GetState.type);
      return now.forwards.every((f) => f.status !== 'Starting' && told(h, f.id)?.status === f.status && told(h, f.id)?.ip === f.ip) ? now : undefined;
    }, 30_000, 100);
    h.engine.off('forwards', count);
    const burst = h.stateChanged.filter((n) => n.at >= t0);
    const span = (burst.at(-1)?.at ?? t0) - t0;
    console.log(`forwardNamespace demo: ${emissions} engine changes → ${burst.length} stateChanged notifications in ${span} ms`);
    assert.ok(settled.forwards.length >= 10, `demo's forwards: ${settled.forwards.map((f) => f.id).join(', ')}`);
    assert.ok(burst.length < emissions, `fewer notifications (${burst.length}) than changes (${emissions})`);
    // 95, not 100: Date.now() and the timers' clock round differently.
    assert.ok(burst.length <= Math.floor(span / 95) + 1, `at most one notification per 100 ms: ${burst.length} in ${span} ms`);
    const last = burst.at(-1);
    assert.ok(last && last.state.namespaces.some((n) => n.namespace === 'demo'), 'each notification carries the whole state');
    await waitFor('web in the hosts file', () => h.hosts.ip('web') === web.ip, 10_000, 50);
  });

  it('metrics notifications name the forwards with byte counters', async () => {
    const m = await waitFor('a metrics notification naming web', () => h.metrics.flat().find((x) => x.id === 'web.demo.admin'), 10_000, 50);
    for (const key of ['bytesIn', 'bytesOut', 'rateIn', 'rateOut', 'openConnections', 'totalConnections'] as const) assert.equal(typeof m[key], 'number', key);
    assert.ok(Array.isArray(m.historyIn) && m.historyIn.length <= 60);
  });

  it('getHttpLog after a request through web names method, path, status and the pod that answered', async () => {
    await listening(web.ip, 80);
    const answer = await whoAnswers(`http://${web.ip}/?from=contract`);
    assert.ok((await deploymentPods('web')).includes(answer.pod));
    const record = await waitFor('the request in getHttpLog', async () => {
      const { records } = await h.client.sendRequest(P.GetHttpLog.type, { limit: 50 });
      return records.find((r) => r.path === '/?from=contract');
    }, 10_000, 100);
    assert.deepEqual({ ...record, time: 0, latencyMs: 0 }, {
      time: 0, latencyMs: 0, forwardId: 'web.demo.admin', context: 'admin', namespace: 'demo', service: 'web', pod: answer.pod,
      port: 80, method: 'GET', path: '/?from=contract', status: 200,
    });
    await waitFor('the request in a kubeForward/http notification', () => h.http.some((r) => r.path === '/?from=contract'), 5000, 50);
    const bytes = await waitFor('web\'s metrics counting the request', () => h.metrics.flat().find((x) => x.id === 'web.demo.admin' && x.totalConnections > 0 && x.bytesIn > 0), 5000, 50);
    assert.ok(bytes.bytesOut > 0);
  });

  it('stop by service id stops that service only (web; then headless db with all its pods)', async () => {
    const api = await active(h, 'api.demo.admin');
    let state = await h.client.sendRequest(P.Stop.type, { ids: ['web.demo.admin'] });
    assert.deepEqual(state.forwards.filter((f) => f.id === 'web.demo.admin' && f.status !== 'Stopped'), [], 'web is not running');
    assert.equal(state.forwards.find((f) => f.id === 'api.demo.admin')?.status, 'Active', 'api keeps running');
    assert.equal(state.namespaces.find((n) => n.namespace === 'demo')?.status, 'Active', 'the namespace forward stays');
    await waitFor('web\'s names gone, api\'s kept', () => h.hosts.ip('web') === undefined && h.hosts.ip('api') === api.ip, 10_000, 50);
    assert.equal(await connectResult(web.ip, 80), 'ECONNREFUSED', 'web\'s listener is closed');
    assert.equal(await connectResult(api.ip, 80), 'connected', 'api\'s is not');

    state = await h.client.sendRequest(P.Stop.type, { ids: ['db.demo.admin'] });
    const db = state.forwards.filter((f) => f.serviceId === 'db.demo.admin' && f.status !== 'Stopped');
    assert.deepEqual(db.map((f) => f.id), [], 'every pod forward of db stopped');
    assert.equal(state.forwards.find((f) => f.id === 'mysql-a.demo.admin')?.status, 'Active', 'mysql-a keeps running');
    await waitFor('db-1.db\'s names gone', () => h.hosts.ip('db-1.db') === undefined && h.hosts.ip('mysql-a') !== undefined, 10_000, 50);
  });

  it('applySpecs makes its specs the workspace-owned forwards: added, replaced, removed; the user\'s demo forward untouched', async () => {
    const demoKey = (s: EngineState) => s.namespaces.filter((n) => n.namespace === 'demo').map((n) => n.status);
    let state = await h.client.sendRequest(P.ApplySpecs.type, { specs: [{ context: 'admin', namespace: 'other' }] });
    assert.ok(state.namespaces.some((n) => n.namespace === 'other'), 'other is forwarded');
    const otherWeb = await active(h, 'web.other.admin');
    assert.match(otherWeb.ip, /^127\.1\.39\.\d{1,3}$/, `other is on the next range: ${otherWeb.ip}`);
    const cache = await active(h, 'cache.other.admin');

    state = await h.client.sendRequest(P.ApplySpecs.type, { specs: [{ context: 'admin', namespace: 'other', services: ['cache'] }] });
    assert.deepEqual(state.namespaces.filter((n) => n.namespace === 'other').length, 1, 'one forward of other: the new spec replaced the old');
    await waitFor('web.other removed, cache.other kept', () => told(h, 'web.other.admin') === undefined && told(h, 'cache.other.admin')?.status === 'Active', 15_000, 50);
    assert.equal(told(h, 'cache.other.admin')?.ip, cache.ip, 'cache keeps its IP');
    assert.deepEqual(demoKey(state), ['Active'], 'demo (forwarded by the user) stays');

    state = await h.client.sendRequest(P.ApplySpecs.type, { specs: [] });
    assert.deepEqual(state.namespaces.filter((n) => n.namespace === 'other'), [], 'no specs: no workspace forwards');
    await waitFor('cache.other removed', () => told(h, 'cache.other.admin') === undefined, 15_000, 50);
    assert.deepEqual(demoKey(state), ['Active']);
    assert.equal(told(h, 'api.demo.admin')?.status, 'Active');
  });

  it('configure answers warnings for a bad mapping and none for good options', async () => {
    const bad = await h.client.sendRequest(P.Configure.type, { portMappings: ['not-a-mapping'] });
    assert.equal(bad.warnings.length, 1, JSON.stringify(bad));
    assert.match(bad.warnings[0] ?? '', /not-a-mapping/);
    assert.deepEqual(await h.client.sendRequest(P.Configure.type, { portMappings: ['80:8080'], domain: 'dev.local', autoReconnect: true }), { warnings: [] });
    assert.deepEqual(await h.client.sendRequest(P.Configure.type, { portMappings: [], domain: '' }), { warnings: [] });
    const reserved = await h.client.sendRequest(P.Configure.type, { reservations: ['web.demo:127.1.38.200'] });
    assert.ok(reserved.warnings.some((w) => /restart/.test(w)), `reservations are said to need a restart: ${JSON.stringify(reserved)}`);
  });

  it('invalid params are refused with data.code BAD_REQUEST and change nothing', async () => {
    const before = await h.client.sendRequest(P.GetState.type);
    const cases: [string, Promise<unknown>, RegExp][] = [
      ['namespace "Bad_NS"', h.client.sendRequest(P.ForwardNamespace.type, { context: 'admin', namespace: 'Bad_NS' }), /Bad_NS/],
      ['services not a list', h.client.sendRequest(P.ForwardNamespace.type, { context: 'admin', namespace: 'demo', services: 'web' } as unknown as ForwardSpec), /services/],
      ['selector not a string', h.client.sendRequest(P.ForwardNamespace.type, { namespace: 'demo', selector: 7 } as unknown as ForwardSpec), /selector/],
      ['no namespace', h.client.sendRequest(P.ForwardNamespace.type, {} as ForwardSpec), /namespace/],
      ['specs not a list', h.client.sendRequest(P.ApplySpecs.type, { specs: 'demo' } as unknown as { specs: ForwardSpec[] }), /specs/],
      ['a spec with a bad namespace', h.client.sendRequest(P.ApplySpecs.type, { specs: [{ namespace: '../etc' }] }), /\.\.\/etc/],
      ['listServices of "Bad_NS"', h.client.sendRequest(P.ListServices.type, { namespace: 'Bad_NS' }), /Bad_NS/],
      ['stop a namespace "Bad_NS"', h.client.sendRequest(P.Stop.type, { namespace: { namespace: 'Bad_NS' } }), /Bad_NS/],
      ['a target kind that does not exist', h.client.sendRequest(P.ForwardTarget.type, { namespace: 'demo', kind: 'secret', name: 'x' } as never), /kind/],
      ['a target on a non-loopback address', h.client.sendRequest(P.ForwardTarget.type, { namespace: 'demo', kind: 'pod', name: 'db-0', localAddress: '0.0.0.0' }), /loopback/],
    ];
    for (const [what, request, pattern] of cases) {
      const error = await rejection(request);
      assert.equal(error.data?.code, 'BAD_REQUEST', `${what}: data.code (${error.message})`);
      assert.match(error.message, pattern, `${what}: says what is wrong`);
    }
    const after = await h.client.sendRequest(P.GetState.type);
    assert.deepEqual(after.namespaces.map((n) => `${n.context}/${n.namespace}`), before.namespaces.map((n) => `${n.context}/${n.namespace}`), 'nothing was forwarded or stopped');
  });

  it('a method that does not exist answers MethodNotFound', async () => {
    const error = await rejection(h.client.sendRequest('kubeForward/writeFile', { path: '/etc/passwd', content: 'x' }));
    assert.equal(error.code, ErrorCodes.MethodNotFound);
    const other = await rejection(h.client.sendRequest('kubeForward/doesNotExist'));
    assert.equal(other.code, ErrorCodes.MethodNotFound);
  });

  it('shutdown then exit: onExit(0) once, the hosts file back to its original bytes', async () => {
    assert.notEqual(h.hosts.blocks().length, 0, 'the block is in the file before');
    assert.equal(await withTimeout(h.client.sendRequest('shutdown'), 15_000, 'shutdown'), null);
    assert.deepEqual(h.exits, [], 'shutdown alone does not end the server');
    assert.ok(h.hosts.bytes().equals(h.hosts.original), 'shutdown removed the block');
    await h.client.sendNotification('exit');
    assert.equal(await withTimeout(h.exited, 10_000, 'onExit after exit'), 0);
    ended = true;
    h.client.dispose();
    h.toServer.end();
    assert.deepEqual(h.exits, [0], 'onExit was called once');
    assert.ok(h.hosts.bytes().equals(h.hosts.original), 'the hosts file is back to its original bytes');
    h.hosts.remove();
  });
});

describe('the client goes away (input EOF) over in-memory streams', { timeout: 120_000 }, () => {
  it('onExit(0) once; every forward\'s listener closed; the hosts file restored; later engine events do not throw', async () => {
    const h = await harness();
    let ended = false;
    try {
      await h.client.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {} });
      const state = await h.client.sendRequest(P.ForwardNamespace.type, { context: 'admin', namespace: 'demo' });
      assert.ok(state.forwards.length > 0);
      await active(h, 'web.demo.admin');
      const live = await waitFor('every forward of demo settled', async () => {
        const now = await h.client.sendRequest(P.GetState.type);
        return now.forwards.length >= 10 && now.forwards.every((f) => f.status !== 'Starting') ? now.forwards : undefined;
      }, 30_000, 100);
      const addresses = live.filter((f) => f.status === 'Active').flatMap((f) => f.ports.filter((p) => !p.skipped).map((p) => `${f.ip}:${p.localPort}`));
      assert.ok(addresses.length >= 9, addresses.join(', '));
      for (const a of addresses) await listening(a.split(':')[0] ?? '', Number(a.split(':')[1]));
      await waitFor('the block in the hosts file', () => h.hosts.blocks().length === 1, 10_000, 50);

      h.toServer.end();
      assert.equal(await withTimeout(h.exited, 15_000, 'onExit after EOF'), 0);
      ended = true;
      assert.deepEqual(h.exits, [0], 'onExit was called once');
      assert.ok(h.hosts.bytes().equals(h.hosts.original), 'the hosts file is back to its original bytes');
      const open: string[] = [];
      for (const a of addresses) if ((await connectResult(a.split(':')[0] ?? '', Number(a.split(':')[1]), 1000)) === 'connected') open.push(a);
      assert.deepEqual(open, [], 'the engine shut down every listener');
      assert.doesNotThrow(() => h.engine.emit('metrics', []), 'an engine event after the server ended does not throw');
    } finally {
      h.client.dispose();
      if (!ended) await dispose(h);
      else {
        await h.engine.shutdown();
        h.hosts.remove();
      }
    }
  });
});

describe('message size cap over in-memory streams', { timeout: 120_000 }, () => {
  it('a message just under 1 MiB is answered; a Content-Length over 1 MiB ends the server with onExit(1) before its body arrives, hosts file restored', async () => {
    const h = await harness();
    let ended = false;
    try {
      await h.client.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {} });
      await h.client.sendRequest(P.ForwardNamespace.type, { context: 'admin', namespace: 'demo', services: ['mysql-a'] });
      await active(h, 'mysql-a.demo.admin');
      await waitFor('mysql-a in the hosts file', () => h.hosts.ip('mysql-a') !== undefined, 10_000, 50);

      const big = await h.client.sendRequest(P.GetHttpLog.type, { limit: 1, padding: 'x'.repeat(P.MAX_MESSAGE_BYTES - 200) } as { limit: number });
      assert.ok(Array.isArray(big.records), 'a message under the cap is served');
      assert.deepEqual(h.exits, []);

      h.toServer.write(`Content-Length: ${P.MAX_MESSAGE_BYTES + 1}\r\n\r\n{"jsonrpc":"2.0","id":"big","method":"kubeForward/getState","params":{"x":"`);
      assert.equal(await withTimeout(h.exited, 10_000, 'onExit after an oversized frame'), 1);
      ended = true;
      assert.deepEqual(h.exits, [1]);
      assert.ok(h.hosts.bytes().equals(h.hosts.original), 'the hosts file is back to its original bytes');
    } finally {
      if (ended) {
        h.client.dispose();
        h.toServer.end();
        h.hosts.remove();
      } else {
        await dispose(h);
      }
    }
  });
});
