/**
 * The sidecar's JSON-RPC methods: ONE module, imported by the sidecar and the extension. The
 * sidecar also answers LSP's initialize/shutdown/exit so vscode-languageclient can supervise it.
 * No method takes a file path to write or a command to run.
 */
import { NotificationType, RequestType, RequestType0 } from 'vscode-jsonrpc';
import type {
  ContextInfo, EngineEvent, EngineOptions, EngineState, EventLevel, ForwardInfo, ForwardMetrics, ForwardSpec,
  HttpRecord, NamespaceSummary, ServiceSummary, TargetSpec,
} from './types';

/** Largest JSON-RPC message the sidecar accepts (bytes); bigger ones close the connection. */
export const MAX_MESSAGE_BYTES = 1 << 20;

export interface ContextsResult {
  contexts: ContextInfo[];
  /** Files the kubeconfig was read from. */
  kubeconfig: string[];
  /** A clear message when the kubeconfig is missing or malformed. */
  error?: string;
}

/** extension → sidecar: contexts of the kubeconfig the sidecar was started with */
export namespace ListContexts {
  export const method = 'kubeForward/listContexts';
  export const type = new RequestType0<ContextsResult, void>(method);
}

/** extension → sidecar: namespaces of a context, with service counts where allowed */
export namespace ListNamespaces {
  export const method = 'kubeForward/listNamespaces';
  export const type = new RequestType<{ context?: string }, { namespaces: NamespaceSummary[] }, void>(method);
}

/** extension → sidecar: services of one namespace */
export namespace ListServices {
  export const method = 'kubeForward/listServices';
  export const type = new RequestType<{ context?: string; namespace: string }, { services: ServiceSummary[] }, void>(method);
}

/** extension → sidecar: forward a namespace (or part of it); resolves once discovery started */
export namespace ForwardNamespace {
  export const method = 'kubeForward/forwardNamespace';
  export const type = new RequestType<ForwardSpec, EngineState, void>(method);
}

/** extension → sidecar: forward one service, pod or workload */
export namespace ForwardTarget {
  export const method = 'kubeForward/forwardTarget';
  export const type = new RequestType<TargetSpec, EngineState, void>(method);
}

export interface StopParams {
  /** Forward or service ids (`svc.ns.ctx`) to stop. */
  ids?: string[];
  /** A whole forwarded namespace to stop. */
  namespace?: { context?: string; namespace: string };
  /** Stop everything. */
  all?: boolean;
}

/** extension → sidecar: stop forwards */
export namespace Stop {
  export const method = 'kubeForward/stop';
  export const type = new RequestType<StopParams, EngineState, void>(method);
}

/** extension → sidecar: make the workspace's specs the set of workspace-owned forwards */
export namespace ApplySpecs {
  export const method = 'kubeForward/applySpecs';
  export const type = new RequestType<{ specs: ForwardSpec[] }, EngineState, void>(method);
}

/** extension → sidecar: forward options (port mappings, reservations, domain, reconnect) */
export namespace Configure {
  export const method = 'kubeForward/configure';
  export const type = new RequestType<Partial<EngineOptions>, { warnings: string[] }, void>(method);
}

/** extension → sidecar: the whole state */
export namespace GetState {
  export const method = 'kubeForward/getState';
  export const type = new RequestType0<EngineState, void>(method);
}

/** extension → sidecar: the newest HTTP requests seen on forwards */
export namespace GetHttpLog {
  export const method = 'kubeForward/getHttpLog';
  export const type = new RequestType<{ limit?: number }, { records: HttpRecord[] }, void>(method);
}

/** sidecar → extension: forwards changed (only the changed ones; `removed` lists ids gone) */
export namespace StateChanged {
  export const method = 'kubeForward/stateChanged';
  export const type = new NotificationType<{ forwards: ForwardInfo[]; removed: string[]; state: EngineState }>(method);
}

/** sidecar → extension: metrics of every forward, at most once a second */
export namespace Metrics {
  export const method = 'kubeForward/metrics';
  export const type = new NotificationType<{ metrics: ForwardMetrics[] }>(method);
}

/** sidecar → extension: HTTP requests seen since the last notification (throttled) */
export namespace HttpRequests {
  export const method = 'kubeForward/http';
  export const type = new NotificationType<{ records: HttpRecord[] }>(method);
}

/** sidecar → extension: engine events (reconnects, errors) */
export namespace Events {
  export const method = 'kubeForward/events';
  export const type = new NotificationType<{ events: EngineEvent[] }>(method);
}

/** sidecar → extension: log lines for the output channel */
export namespace Log {
  export const method = 'kubeForward/log';
  export const type = new NotificationType<{ level: EventLevel; message: string; time: number }>(method);
}
