/**
 * Payload types shared by the sidecar, the extension and the webview. Plain data only: every
 * value crosses a process boundary as JSON.
 */

/** kubefwd's states, plus Skipped for what is deliberately not forwarded (UDP, ExternalName). */
export type ForwardStatus = 'Starting' | 'Active' | 'Reconnecting' | 'Failed' | 'Stopped' | 'Skipped';

export interface PortInfo {
  /** The service port's name, if any. */
  name?: string;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  /** Port of the service (what a cluster client would dial). */
  port: number;
  /** Port bound on the forward's IP (differs with mappings or when unprivileged and < 1024). */
  localPort: number;
  /** The service's targetPort as declared (number or name). */
  targetPort: number | string;
  /** targetPort resolved against the chosen pod. */
  podPort?: number;
  /** Why this port is not forwarded (e.g. UDP), when it is not. */
  skipped?: string;
  /** True once an HTTP/1.x exchange was seen on this port. */
  http?: boolean;
}

/**
 * One forwarded address. A normal service is one forward; a headless service is one forward per
 * pod (`db-0.db`), the first also answering to the service name.
 */
export interface ForwardInfo {
  /** Stable key: `svc.ns.ctx`, or `pod.svc.ns.ctx` for a headless service's pod. */
  id: string;
  /** Key of the service this forward belongs to (`svc.ns.ctx`). */
  serviceId: string;
  context: string;
  namespace: string;
  service: string;
  kind: 'service' | 'pod' | 'workload';
  headless: boolean;
  /** Local IP the ports listen on (127.x.y.z). */
  ip: string;
  /** Names written to the hosts file (empty when unprivileged or no hosts file). */
  hostnames: string[];
  ports: PortInfo[];
  /** Pod currently serving this forward. */
  pod?: string;
  status: ForwardStatus;
  reason?: string;
  /** Epoch ms of the last status change. */
  since: number;
}

/** A (context, namespace) being forwarded as a whole, or its failure (RBAC, not found). */
export interface NamespaceInfo {
  context: string;
  namespace: string;
  selector?: string;
  status: 'Starting' | 'Active' | 'Failed' | 'Stopped';
  reason?: string;
  serviceCount: number;
}

export interface PrivilegeInfo {
  root: boolean;
  /** The hosts file names are written to, or undefined when names are off (unprivileged). */
  hostsPath?: string;
  /** The user the sidecar acts for (sudo's SUDO_USER, or the current user). */
  user: string;
  /** What is lost when not root, for the UI to show. */
  limitations: string[];
}

export interface EngineState {
  forwards: ForwardInfo[];
  namespaces: NamespaceInfo[];
  privileges: PrivilegeInfo;
}

export interface ForwardMetrics {
  id: string;
  bytesIn: number;
  bytesOut: number;
  /** Bytes per second over the last sample (1 s). */
  rateIn: number;
  rateOut: number;
  openConnections: number;
  totalConnections: number;
  /** The last 60 one-second samples of bytes in and out, oldest first. */
  historyIn: number[];
  historyOut: number[];
}

export interface HttpRecord {
  /** Epoch ms when the request line was seen. */
  time: number;
  forwardId: string;
  context: string;
  namespace: string;
  service: string;
  pod?: string;
  port: number;
  method: string;
  path: string;
  status?: number;
  latencyMs?: number;
}

export type EventLevel = 'debug' | 'info' | 'warn' | 'error';

export interface EngineEvent {
  time: number;
  level: EventLevel;
  message: string;
  forwardId?: string;
  /** Machine-readable cause, e.g. `RBAC_DENIED`, `PORT_IN_USE`, `IP_EXHAUSTED`. */
  code?: string;
}

export interface ContextInfo {
  name: string;
  cluster: string;
  server: string;
  user: string;
  namespace?: string;
  current: boolean;
}

export interface NamespaceSummary {
  name: string;
  /** Services in the namespace, when they could be listed. */
  services?: number;
  forwarded: boolean;
}

export interface ServiceSummary {
  name: string;
  namespace: string;
  type: string;
  clusterIP?: string;
  headless: boolean;
  ports: { name?: string; port: number; protocol: string; targetPort: number | string }[];
  selector?: Record<string, string>;
}

/** What a workspace (or a person) asks to be forwarded: a namespace, optionally narrowed. */
export interface ForwardSpec {
  /** kubeconfig context; empty or absent: the current context. */
  context?: string;
  namespace: string;
  /** Label selector (kubefwd -l). */
  selector?: string;
  /** Field selector (kubefwd -f). */
  fieldSelector?: string;
  /** Only these services of the namespace. */
  services?: string[];
}

/** A single target as nanoporter and kftray offer: one service, pod, or workload. */
export interface TargetSpec {
  context?: string;
  namespace: string;
  kind: 'service' | 'pod' | 'deployment' | 'statefulset';
  name: string;
  /** Optional fixed local bind, e.g. 127.0.0.1 with port 5432 for tools that insist on localhost. */
  localAddress?: string;
  /** Local port per remote port (remote → local); without it each port keeps its number. */
  localPorts?: Record<string, number>;
}

/** Options that change how forwards are made; the CLI flags and the workspace settings. */
export interface EngineOptions {
  /** Global port mappings like `80:8080` and per-service `web.demo:80:8080`. */
  portMappings: string[];
  /** IP reservations like `web.demo:127.1.27.50` (kubefwd -r). */
  reservations: string[];
  /** Extra domain (kubefwd -d): adds `svc.<domain>`. */
  domain?: string;
  autoReconnect: boolean;
}
