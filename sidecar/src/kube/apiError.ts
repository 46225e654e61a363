import type { KubeConfig } from '@kubernetes/client-node';
import { KubeForwardError, messageOf } from '../errors';

interface ApiExceptionLike { code?: number | string; body?: unknown }

function statusMessage(body: unknown): string | undefined {
  if (typeof body === 'string') {
    try {
      return statusMessage(JSON.parse(body));
    } catch {
      return body.slice(0, 300) || undefined;
    }
  }
  if (typeof body === 'object' && body !== null && 'message' in body) return String((body as { message: unknown }).message);
  return undefined;
}

/** Turns a client-node failure into an actionable KubeForwardError (while `doing` something). */
export function apiError(error: unknown, kc: KubeConfig, doing: string): KubeForwardError {
  if (error instanceof KubeForwardError) return error;
  const server = kc.getCurrentCluster()?.server ?? '(no server)';
  const e = (typeof error === 'object' && error !== null ? error : {}) as ApiExceptionLike;
  const detail = statusMessage(e.body) ?? messageOf(error);
  switch (e.code) {
    case 401:
      return new KubeForwardError('UNAUTHORIZED', `${doing}: the API server ${server} rejected the credentials (401) — log in again or refresh the kubeconfig`);
    case 403:
      return new KubeForwardError('RBAC_DENIED', `${doing}: forbidden (403): ${detail}`);
    case 404:
      return new KubeForwardError('NOT_FOUND', `${doing}: not found (404): ${detail}`);
    default:
      break;
  }
  if (typeof e.code === 'string' || /ECONNREFUSED|ENOTFOUND|ETIMEDOUT|EHOSTUNREACH|certificate|self.signed|TLS/i.test(messageOf(error))) {
    return new KubeForwardError('API_UNREACHABLE', `${doing}: cannot reach the API server ${server}: ${messageOf(error)}`);
  }
  return new KubeForwardError('API_ERROR', `${doing}: ${detail}`);
}
