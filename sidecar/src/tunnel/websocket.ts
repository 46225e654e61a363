import type { Agent } from 'node:http';
import type { RequestOptions } from 'node:https';
import type { SecureContextOptions } from 'node:tls';
import type { Cluster, KubeConfig } from '@kubernetes/client-node';
import { KubeForwardError, messageOf } from '../errors';
import { currentCluster } from '../kube/rest';
import { PORT_FORWARD_PROTOCOL } from './channels';
import { connectFailure, handshakeFailure, type FailureContext } from './failures';
import { sharedSecureContext } from './secureContext';
import { Tunnel, type TunnelOptions, type TunnelTarget } from './tunnel';
import { upgrade, UpgradeRejected, type Upgraded, type UpgradeOptions } from './wsconnect';

export interface OpenTunnelOptions extends TunnelTarget, TunnelOptions {
  signal?: AbortSignal;
  /**
   * Open the WebSocket through client-node's cached https.Agent for this cluster and user
   * (default). That agent is also how cluster proxies (proxy-url) are honoured, and it keeps TLS
   * sessions for resumption. false: a plain TLS connection per tunnel (for measurements).
   */
  reuseAgent?: boolean;
  /** Mask client frames with random keys as RFC 6455 asks. Default: only on plain-HTTP servers. */
  randomMask?: boolean;
  /** Reuse one parsed TLS context per kubeconfig (default); false: parse per tunnel (measurements). */
  shareSecureContext?: boolean;
}

/** Where the tunnel's messages point (server URL and target). */
function failureContext(kc: KubeConfig, t: TunnelTarget): FailureContext {
  return {
    server: kc.getCurrentCluster()?.server ?? '(no server)',
    ...(t.context ? { context: t.context } : {}),
    namespace: t.namespace,
    pod: t.pod,
    port: t.port,
  };
}

const views = new WeakMap<KubeConfig, Map<string, KubeConfig>>();

/**
 * `kc` seen with another current context. A prototype view rather than a copy: it shares the
 * original's authenticators (exec plugins that run as the invoking user), its agent cache
 * (keyed by cluster and user) and everything else; only the current context differs.
 */
export function withContext(kc: KubeConfig, context: string | undefined): KubeConfig {
  if (!context || context === kc.getCurrentContext()) return kc;
  let byName = views.get(kc);
  if (!byName) views.set(kc, (byName = new Map()));
  let view = byName.get(context);
  if (!view) {
    if (!kc.getContextObject(context)) {
      throw new KubeForwardError('UNKNOWN_CONTEXT', `context "${context}" is not in the kubeconfig; available: ${kc.getContexts().map((c) => c.name).join(', ') || '(none)'}`);
    }
    view = Object.create(kc) as KubeConfig;
    view.setCurrentContext(context);
    byName.set(context, view);
  }
  return view;
}

/** The port-forward URL of a pod port under the cluster's server URL (which may carry a path). */
export function portForwardUrl(server: string, t: TunnelTarget): string {
  return `${podPortForwardUrl(server, t)}?ports=${t.port}`;
}

/** The pod's port-forward endpoint (SPDY names ports per stream, not in the URL). */
export function podPortForwardUrl(server: string, t: Pick<TunnelTarget, 'namespace' | 'pod'>): string {
  const base = server.replace(/\/+$/, '');
  return `${base}/api/v1/namespaces/${encodeURIComponent(t.namespace)}/pods/${encodeURIComponent(t.pod)}/portforward`;
}

/**
 * Opens a port-forward tunnel to one pod port. Resolves once the WebSocket is open and the
 * kubelet announced the port on both channels; rejects with a KubeForwardError: RBAC_DENIED (403,
 * naming the verb and resource), POD_NOT_FOUND (404), UNAUTHORIZED (401), API_UNREACHABLE (TLS,
 * DNS, TCP, timeout, with the server URL), TUNNEL_REMOTE_ERROR (the kubelet refused at once),
 * ABORTED (signal).
 */
export async function openTunnel(kc: KubeConfig, options: OpenTunnelOptions): Promise<Tunnel> {
  const { upgraded, where, plainHttp, remainingMs } = await upgradeToPod(kc, options,
    (server, request) => upgrade(portForwardUrl(server, options), PORT_FORWARD_PROTOCOL, request));
  const tunnel = new Tunnel(upgraded.socket, upgraded.head, options, where, {
    ...options,
    openTimeoutMs: remainingMs,
    // Masking guards caching intermediaries that parse the stream; inside TLS none can, and the
    // all-zero key lets a chunk go out as it is instead of XOR-ed into a copy.
    randomMask: options.randomMask ?? plainHttp,
  }, options.signal);
  return tunnel.ready;
}

export interface PodUpgrade {
  upgraded: Upgraded;
  where: FailureContext;
  plainHttp: boolean;
  /** What is left of the open timeout. */
  remainingMs: number;
}

/**
 * An HTTP upgrade to the pod's port-forward endpoint with the kubeconfig's credentials for the
 * target's context: `how` sends it (WebSocket or SPDY). Errors as openTunnel's.
 */
export async function upgradeToPod(kc: KubeConfig, options: OpenTunnelOptions,
  how: (server: string, request: UpgradeOptions, cluster: Cluster) => Promise<Upgraded>): Promise<PodUpgrade> {
  const view = withContext(kc, options.context);
  const where = failureContext(view, options);
  const cluster = currentCluster(view);
  const cancelled = () => new KubeForwardError('ABORTED', `port-forward to pod ${options.namespace}/${options.pod} was cancelled`);
  const request: RequestOptions & SecureContextOptions & { agent?: Agent } = {};
  try {
    await view.applyToHTTPSOptions(request);
  } catch (error) {
    throw new KubeForwardError('UNAUTHORIZED', `port-forward to pod ${options.namespace}/${options.pod}: getting credentials for ${cluster.server} failed: ${messageOf(error)}`);
  }
  if (options.signal?.aborted) throw cancelled();
  const plainHttp = cluster.server.startsWith('http:');
  const { agent, ...tls } = request;
  const openTimeoutMs = options.openTimeoutMs ?? 15_000;
  const started = performance.now();
  const aborter = new AbortController();
  const timer = setTimeout(() => aborter.abort(), openTimeoutMs);
  const onAbort = () => aborter.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let upgraded: Upgraded;
  try {
    upgraded = await how(cluster.server, {
      ...tls,
      ...(plainHttp || options.shareSecureContext === false ? {} : { secureContext: sharedSecureContext(view, tls) }),
      ...(options.reuseAgent === false || !agent ? {} : { agent }),
      signal: aborter.signal,
    }, cluster);
  } catch (error) {
    if (options.signal?.aborted) throw cancelled();
    if (aborter.signal.aborted) throw new KubeForwardError('API_UNREACHABLE', `port-forward to pod ${options.namespace}/${options.pod}: no answer from ${cluster.server} within ${openTimeoutMs} ms`);
    if (error instanceof UpgradeRejected) throw handshakeFailure(error.status, error.body, where);
    throw connectFailure(error, where);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
  return { upgraded, where, plainHttp, remainingMs: Math.max(1, openTimeoutMs - (performance.now() - started)) };
}
