import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import * as P from '../../../sidecar/src/protocol/methods';
import type { ForwardInfo, ForwardMetrics, HttpRecord } from '../../../sidecar/src/protocol/types';
import { kubectl } from '../../cluster/kubectl';
import { requireState } from '../../cluster/state';
import { waitFor, withTimeout } from '../../cluster/wait';
import { startProcess, type TestProcess } from '../../helpers/process';
import { listening, sidecarBundle, tempHosts, type TempHosts } from '../../helpers/sidecar';
import { deploymentPods, whoAnswers } from './cluster';

/**
 * `kube-forward serve --stdio` driven the way the extension drives it: vscode-jsonrpc over the
 * child's stdio with the shared protocol module. Covers the LSP lifecycle, the custom requests,
 * notifications, the HTTP log, and the three ways the connection ends (shutdown+exit, stdin EOF,
 * an oversized message), each of which must leave the hosts file as it was.
 */

interface Server {
  proc: TestProcess;
  connection: MessageConnection;
  closed: Promise<void>;
  stateChanges: { forwards: ForwardInfo[]; removed: string[] }[];
  metrics: ForwardMetrics[][];
  http: HttpRecord[];
}

function serve(hosts: TempHosts): Server {
  const proc = startProcess(process.execPath, [sidecarBundle, 'serve', '--stdio', '--hosts-path', hosts.path, '--kubeconfig', requireState().kubeconfig]);
  const { stdout, stdin } = proc.child;
  if (!stdout || !stdin) throw new Error('no stdio');
  const connection = createMessageConnection(new StreamMessageReader(stdout), new StreamMessageWriter(stdin));
  const server: Server = {
    proc, connection, stateChanges: [], metrics: [], http: [],
    closed: new Promise((resolve) => connection.onClose(() => resolve())),
  };
  connection.onNotification(P.StateChanged.type, (p) => void server.stateChanges.push({ forwards: p.forwards, removed: p.removed }));
  connection.onNotification(P.Metrics.type, (p) => void server.metrics.push(p.metrics));
  connection.onNotification(P.HttpRequests.type, (p) => void server.http.push(...p.records));
  connection.onError(() => undefined);
  connection.listen();
  return server;
}

/** The newest state of one forward as told by stateChanged notifications. */
function notified(server: Server, id: string): ForwardInfo | undefined {
  return server.stateChanges.flatMap((c) => c.forwards).filter((f) => f.id === id).at(-1);
}

async function initialize(server: Server): Promise<void> {
  const result = await withTimeout(server.connection.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {} }), 15_000, 'initialize') as
    { capabilities?: unknown; serverInfo?: { name?: string } };
  assert.equal(typeof result.capabilities, 'object', 'initialize answers capabilities');
  assert.equal(result.serverInfo?.name, 'kube-forward');
  await server.connection.sendNotification('initialized', {});
}

/** Forwards demo and waits until web is Active (by notification) with its names in the file. */
async function forwardDemo(server: Server, hosts: TempHosts): Promise<ForwardInfo> {
  const state = await withTimeout(server.connection.sendRequest(P.ForwardNamespace.type, { context: 'admin', namespace: 'demo' }), 30_000, 'forwardNamespace');
  assert.ok(state.forwards.length > 0, 'the answer holds the forwards');
  assert.ok(state.namespaces.some((n) => n.namespace === 'demo' && n.context === 'admin'));
  const web = await waitFor('stateChanged: web.demo.admin Active', () => {
    const f = notified(server, 'web.demo.admin');
    return f?.status === 'Active' ? f : undefined;
  }, 30_000, 50);
  await waitFor('web in the hosts file', () => hosts.ip('web') === web.ip, 10_000, 50);
  return web;
}

/** Runs `body` with a fresh server and temp hosts file; both are gone before the next test. */
async function withServer(body: (server: Server, hosts: TempHosts) => Promise<void>): Promise<void> {
  const hosts = tempHosts();
  const server = serve(hosts);
  try {
    await body(server, hosts);
  } finally {
    server.connection.dispose();
    await server.proc.stop();
    hosts.remove();
  }
}

describe('serve --stdio (JSON-RPC)', () => {
  it('initialize, listContexts, listNamespaces, forwardNamespace, notifications, getHttpLog, stop, shutdown + exit', { timeout: 120_000 }, async () => {
    await withServer(async (server, hosts) => {
      await initialize(server);
      const contexts = await server.connection.sendRequest(P.ListContexts.type);
      assert.equal(contexts.error, undefined);
      for (const name of ['admin', 'dev', 'restricted']) assert.ok(contexts.contexts.some((c) => c.name === name), `context ${name} listed`);
      assert.deepEqual(contexts.kubeconfig, [requireState().kubeconfig]);

      const { namespaces } = await server.connection.sendRequest(P.ListNamespaces.type, { context: 'admin' });
      for (const name of ['demo', 'other', 'secret']) assert.ok(namespaces.some((n) => n.name === name), `namespace ${name} listed`);
      const services = (await kubectl(['get', 'services', '-n', 'demo', '-o', 'name'], { context: 'admin' })).trim().split('\n').length;
      assert.equal(namespaces.find((n) => n.name === 'demo')?.services, services, 'demo\'s services are counted');
      assert.equal(namespaces.find((n) => n.name === 'demo')?.forwarded, false);

      const web = await forwardDemo(server, hosts);
      assert.match(web.ip, /^127\.1\.27\.\d{1,3}$/);
      assert.ok(web.hostnames.includes('web.demo'));
      const state = await server.connection.sendRequest(P.GetState.type);
      assert.equal(state.privileges.hostsPath, hosts.path);
      assert.ok(state.forwards.some((f) => f.id === 'db-1.db.demo.admin'));

      await waitFor('a metrics notification naming web', () => server.metrics.some((m) => m.some((x) => x.id === 'web.demo.admin')), 10_000, 50);

      await listening(web.ip, 80);
      const answer = await whoAnswers(`http://${web.ip}/?from=rpc-e2e`);
      assert.ok((await deploymentPods('web')).includes(answer.pod));
      const record = await waitFor('the request in getHttpLog', async () => {
        const { records } = await server.connection.sendRequest(P.GetHttpLog.type, { limit: 100 });
        return records.find((r) => r.path === '/?from=rpc-e2e');
      }, 10_000, 100);
      assert.equal(record.method, 'GET');
      assert.equal(record.status, 200);
      assert.equal(record.pod, answer.pod, 'the log names the pod that answered');
      assert.equal(record.service, 'web');
      assert.equal(record.namespace, 'demo');
      assert.equal(record.forwardId, 'web.demo.admin');
      assert.equal(record.port, 80);
      await waitFor('the request in a kubeForward/http notification', () => server.http.some((r) => r.path === '/?from=rpc-e2e'), 5000, 50);

      const stopped = await server.connection.sendRequest(P.Stop.type, { all: true });
      assert.deepEqual(stopped.forwards.filter((f) => f.status !== 'Stopped').map((f) => `${f.id} ${f.status}`), [], 'stop all leaves nothing running');
      await waitFor('the names gone after stop all', () => hosts.ip('web') === undefined, 10_000, 50);

      await withTimeout(server.connection.sendRequest('shutdown'), 15_000, 'shutdown');
      await server.connection.sendNotification('exit');
      const code = await withTimeout(server.proc.exited(), 10_000, 'the process exiting after exit');
      assert.equal(code, 0, `exit code 0; stderr+stdout:\n${server.proc.output().slice(-2000)}`);
      assert.ok(hosts.bytes().equals(hosts.original), 'the hosts file is back to its original bytes');
    });
  });

  it('stdin EOF: the server exits by itself, without its forced exit, and cleans the hosts file', { timeout: 90_000 }, async () => {
    await withServer(async (server, hosts) => {
      await initialize(server);
      await forwardDemo(server, hosts);
      assert.notEqual(hosts.blocks().length, 0);
      const stderrClosed = new Promise((resolve) => server.proc.child.stderr?.once('close', resolve));
      const t0 = Date.now();
      server.proc.child.stdin?.end();
      // Above the sidecar's own forced exit after 10 s of cleanup; that one is caught on stderr below.
      const code = await withTimeout(server.proc.exited(), 20_000, 'exit after stdin EOF');
      console.log(`stdin EOF → exit ${String(code)} in ${Date.now() - t0} ms`);
      assert.equal(typeof code, 'number', 'it exited by itself, not by a signal');
      await withTimeout(stderrClosed, 5000, 'its stderr closing');
      assert.doesNotMatch(server.proc.output(), /cleanup took over 10 s/, `the cleanup finished without the forced exit; output:\n${server.proc.output().slice(-2000)}`);
      assert.ok(hosts.bytes().equals(hosts.original), 'the hosts file is back to its original bytes');
    });
  });

  it('a 5 MB message (Content-Length over the cap) closes the connection; the process exits and cleans up', { timeout: 90_000 }, async () => {
    await withServer(async (server, hosts) => {
      await initialize(server);
      await forwardDemo(server, hosts);
      const t0 = Date.now();
      // Straight onto the pipe, as a hostile or broken client would: the header, then a start of body.
      server.proc.child.stdin?.write(`Content-Length: ${5 * 1024 * 1024}\r\n\r\n{"jsonrpc":"2.0","id":99,"method":"kubeForward/getState","params":"${'x'.repeat(64 * 1024)}`);
      const code = await withTimeout(server.proc.exited(), 10_000, 'exit after an oversized message');
      await withTimeout(server.closed, 5000, 'the connection closing');
      console.log(`oversized message → exit ${String(code)} in ${Date.now() - t0} ms`);
      assert.equal(typeof code, 'number', 'it exited by itself, not by a signal');
      assert.match(server.proc.output(), /5242880|too large|limit/i, 'stderr says why');
      assert.ok(hosts.bytes().equals(hosts.original), 'the hosts file is back to its original bytes');
    });
  });
});
