import { KubeForwardError, messageOf } from '../errors';

/** What a tunnel goes to, for messages. */
export interface FailureContext {
  server: string;
  context?: string;
  namespace: string;
  pod: string;
  port: number;
}

function podName(c: FailureContext): string {
  return `pod ${c.namespace}/${c.pod}`;
}

function asContext(c: FailureContext): string {
  return c.context ? ` as context "${c.context}"` : '';
}

/** The `message` of a Kubernetes Status body, or the body's start when it is not one. */
export function statusMessage(body: string): string {
  const text = body.trim();
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && 'message' in parsed && typeof parsed.message === 'string') return parsed.message;
  } catch {
    // not JSON: fall through to the raw text
  }
  return text.slice(0, 300);
}

/** The API server answered the upgrade request with something other than 101. */
export function handshakeFailure(status: number, body: string, c: FailureContext): KubeForwardError {
  const detail = statusMessage(body) || `HTTP ${status}`;
  switch (status) {
    case 401:
      return new KubeForwardError('UNAUTHORIZED',
        `port-forward to ${podName(c)}: the API server ${c.server} rejected the credentials${asContext(c)} (401) — log in again or refresh the kubeconfig`);
    case 403:
      return new KubeForwardError('RBAC_DENIED',
        `port-forward to ${podName(c)} denied${asContext(c)}: needs verbs get and create on resource pods/portforward in namespace ${c.namespace} (403: ${detail})`);
    case 404:
      return new KubeForwardError('POD_NOT_FOUND', `port-forward: ${podName(c)} not found (404: ${detail}); it may have been deleted or replaced`);
    default:
      return new KubeForwardError('TUNNEL_REJECTED', `port-forward to ${podName(c)} port ${c.port} refused by ${c.server} (${status}: ${detail})`);
  }
}

/** The connection to the API server failed before the upgrade (DNS, TCP, TLS, proxy). */
export function connectFailure(error: unknown, c: FailureContext): KubeForwardError {
  if (error instanceof KubeForwardError) return error;
  return new KubeForwardError('API_UNREACHABLE',
    `port-forward to ${podName(c)}: cannot reach the API server ${c.server}: ${messageOf(error)}`);
}

/** Text the kubelet wrote on the error channel (e.g. nothing listens on the port in the pod). */
export function remoteFailure(text: string, c: FailureContext): KubeForwardError {
  return new KubeForwardError('TUNNEL_REMOTE_ERROR', `${podName(c)} port ${c.port}: ${text.trim()}`);
}

/** The WebSocket ended abnormally after it was open. */
export function brokenTunnel(reason: string, c: FailureContext): KubeForwardError {
  return new KubeForwardError('TUNNEL_BROKEN', `tunnel to ${podName(c)} port ${c.port} broke: ${reason}`);
}

/** The peer stopped answering pings. */
export function deadTunnel(silentMs: number, c: FailureContext): KubeForwardError {
  return new KubeForwardError('TUNNEL_TIMEOUT', `tunnel to ${podName(c)} port ${c.port}: no answer to pings for ${Math.round(silentMs / 1000)} s; closed`);
}
