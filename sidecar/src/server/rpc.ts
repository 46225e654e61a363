import type { Readable, Writable } from 'node:stream';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { ResponseError } from 'vscode-jsonrpc';
import type { Engine } from '../engine/engine';
import { KubeForwardError, codeOf, messageOf } from '../errors';
import { KeyedThrottle, Throttle } from '../metrics';
import * as P from '../protocol/methods';
import type { EngineEvent, ForwardInfo, ForwardMetrics, HttpRecord } from '../protocol/types';
import { MessageSizeCap } from './cap';
import { version } from '../version';

/** JSON-RPC errors carry the engine's code in `data`, so the extension can act on it. */
function rpcError(error: unknown): ResponseError<{ code: string }> {
  return new ResponseError(-32001, messageOf(error), { code: codeOf(error) });
}

function guard<P, R>(handler: (params: P) => Promise<R> | R): (params: P) => Promise<R> {
  return async (params: P) => {
    try {
      return await handler(params);
    } catch (error) {
      throw rpcError(error);
    }
  };
}

const isString = (v: unknown): v is string => typeof v === 'string';

/** Validates a ForwardSpec from the wire (the root sidecar trusts nothing it is sent). */
function forwardSpec(value: unknown): { context?: string; namespace: string; selector?: string; fieldSelector?: string; services?: string[] } {
  if (typeof value !== 'object' || value === null) throw new KubeForwardError('BAD_REQUEST', 'a forward spec must be an object');
  const v = value as Record<string, unknown>;
  if (!isString(v.namespace) || !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(v.namespace)) {
    throw new KubeForwardError('BAD_REQUEST', `"${String(v.namespace)}" is not a valid namespace name`);
  }
  for (const key of ['context', 'selector', 'fieldSelector'] as const) {
    if (v[key] !== undefined && !isString(v[key])) throw new KubeForwardError('BAD_REQUEST', `${key} must be a string`);
  }
  if (v.services !== undefined && !(Array.isArray(v.services) && v.services.every(isString))) {
    throw new KubeForwardError('BAD_REQUEST', 'services must be a list of names');
  }
  return {
    namespace: v.namespace,
    ...(isString(v.context) && v.context ? { context: v.context } : {}),
    ...(isString(v.selector) && v.selector ? { selector: v.selector } : {}),
    ...(isString(v.fieldSelector) && v.fieldSelector ? { fieldSelector: v.fieldSelector } : {}),
    ...(Array.isArray(v.services) ? { services: v.services as string[] } : {}),
  };
}

export interface RpcServerOptions {
  /** Called once the connection is gone or `exit` arrived, after the engine shut down. */
  onExit(code: number): void;
  maxMessageBytes?: number;
  notifyIntervalMs?: number;
}

/**
 * Serves the engine over JSON-RPC (LSP-style framing) on the given streams. Answers LSP's
 * initialize/shutdown/exit so vscode-languageclient can supervise the sidecar.
 */
export function serveRpc(engine: Engine, input: Readable, output: Writable, options: RpcServerOptions): MessageConnection {
  const cap = new MessageSizeCap(options.maxMessageBytes ?? P.MAX_MESSAGE_BYTES);
  const connection = createMessageConnection(new StreamMessageReader(input.pipe(cap)), new StreamMessageWriter(output));
  const interval = options.notifyIntervalMs ?? 100;
  let exiting = false;
  const detach: (() => void)[] = [];
  const exit = (code: number) => {
    if (exiting) return;
    exiting = true;
    // Nothing may be sent on a connection that is gone: unhook from the engine first.
    for (const undo of detach) undo();
    void engine.shutdown().finally(() => {
      connection.dispose();
      options.onExit(code);
    });
  };
  cap.on('error', (error) => {
    process.stderr.write(`kube-forward: ${error.message}; closing the connection\n`);
    exit(1);
  });

  connection.onRequest('initialize', () => ({ capabilities: {}, serverInfo: { name: 'kube-forward', version } }));
  connection.onNotification('initialized', () => undefined);
  connection.onRequest('shutdown', async () => {
    await engine.shutdown();
    return null;
  });
  connection.onNotification('exit', () => exit(0));

  connection.onRequest(P.ListContexts.type, guard(() => engine.listContexts()));
  connection.onRequest(P.ListNamespaces.type, guard(async (p) => ({ namespaces: await engine.listNamespaces(p?.context || undefined) })));
  connection.onRequest(P.ListServices.type, guard(async (p) => {
    const spec = forwardSpec({ namespace: p?.namespace, context: p?.context });
    return { services: await engine.listServices(spec.context, spec.namespace) };
  }));
  connection.onRequest(P.ForwardNamespace.type, guard(async (p) => {
    await engine.forwardNamespace(forwardSpec(p));
    return engine.state();
  }));
  connection.onRequest(P.ForwardTarget.type, guard(async (p) => {
    await engine.forwardTarget(p);
    return engine.state();
  }));
  connection.onRequest(P.Stop.type, guard(async (p) => {
    await engine.stop({
      ...(p?.all === true ? { all: true } : {}),
      ...(Array.isArray(p?.ids) ? { ids: p.ids.filter(isString) } : {}),
      ...(p?.namespace ? { namespace: forwardSpec(p.namespace) } : {}),
    });
    return engine.state();
  }));
  connection.onRequest(P.ApplySpecs.type, guard(async (p) => {
    if (!Array.isArray(p?.specs)) throw new KubeForwardError('BAD_REQUEST', 'specs must be a list');
    await engine.applySpecs(p.specs.map(forwardSpec));
    return engine.state();
  }));
  connection.onRequest(P.Configure.type, guard((p) => engine.configure(p ?? {})));
  connection.onRequest(P.GetState.type, guard(() => engine.state()));
  connection.onRequest(P.GetHttpLog.type, guard((p) => ({ records: engine.recentHttp(typeof p?.limit === 'number' ? Math.min(p.limit, 5000) : 200) })));

  const forwards = new KeyedThrottle<string, ForwardInfo | null>((latest) => {
    const changed = [...latest.values()].filter((f): f is ForwardInfo => f !== null);
    const removed = [...latest.entries()].filter(([id, f]) => f === null && !id.startsWith('\0')).map(([id]) => id);
    void connection.sendNotification(P.StateChanged.type, { forwards: changed, removed, state: engine.state() });
  }, { intervalMs: interval });
  const http = new Throttle<HttpRecord>((records) => void connection.sendNotification(P.HttpRequests.type, { records }), { intervalMs: 250, maxItems: 500 });
  const events = new Throttle<EngineEvent>((list) => {
    void connection.sendNotification(P.Events.type, { events: list });
    for (const e of list) void connection.sendNotification(P.Log.type, { level: e.level, message: e.message, time: e.time });
  }, { intervalMs: 250, maxItems: 500 });
  const onForwards = (changed: ForwardInfo[], removed: string[]) => {
    for (const f of changed) forwards.push(f.id, f);
    for (const id of removed) forwards.push(id, null);
  };
  const onNamespaces = () => forwards.push('\0namespaces', null);
  const onMetrics = (metrics: ForwardMetrics[]) => void connection.sendNotification(P.Metrics.type, { metrics });
  const onHttp = (record: HttpRecord) => http.push(record);
  const onEvent = (event: EngineEvent) => events.push(event);
  engine.on('forwards', onForwards);
  engine.on('namespaces', onNamespaces);
  engine.on('metrics', onMetrics);
  engine.on('http', onHttp);
  engine.on('event', onEvent);
  detach.push(() => {
    engine.off('forwards', onForwards);
    engine.off('namespaces', onNamespaces);
    engine.off('metrics', onMetrics);
    engine.off('http', onHttp);
    engine.off('event', onEvent);
    forwards.dispose();
    http.dispose();
    events.dispose();
  });

  connection.onClose(() => exit(0));
  connection.listen();
  return connection;
}
