import * as http from 'node:http';
import * as https from 'node:https';
import type { Cluster, KubeConfig } from '@kubernetes/client-node';
import { KubeForwardError } from '../errors';

/**
 * Plain JSON requests to the API server with the kubeconfig's credentials (KubeConfig's own
 * applyToHTTPSOptions: certificates, tokens, exec plugins, proxies). The sidecar needs a handful
 * of list, get and watch calls; client-node's generated clients and its Watch bring their own
 * fetch stack (undici) and about 900 model classes, measured at 10 MB of RSS for the same calls.
 */

/** A non-2xx answer; `code` and `body` are what apiError() reads. */
export class ApiStatusError extends Error {
  constructor(readonly code: number, readonly body: string, what: string) {
    super(`${what}: HTTP ${code}`);
  }
}

export interface KubeRequest {
  method?: 'GET' | 'POST';
  /** Path on the server, e.g. /api/v1/namespaces/demo/pods. */
  path: string;
  query?: Record<string, string | undefined>;
  body?: unknown;
  signal?: AbortSignal;
  /** The socket may stay silent this long. Default 30 s. */
  idleTimeoutMs?: number;
}

const MAX_ERROR_BODY = 64 * 1024;

function readText(res: http.IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      if (text.length < limit) text += chunk;
    });
    res.on('end', () => resolve(text));
    res.on('error', reject);
  });
}

/** The cluster of kc's current context; KUBECONFIG_INVALID when it names none. */
export function currentCluster(kc: KubeConfig): Cluster {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new KubeForwardError('KUBECONFIG_INVALID', `the kubeconfig's context "${kc.getCurrentContext()}" names no cluster`);
  return cluster;
}

/** The response once its head arrived with a 2xx status (its body not read yet). */
export async function kubeResponse(kc: KubeConfig, r: KubeRequest): Promise<http.IncomingMessage> {
  const cluster = currentCluster(kc);
  const options: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(options);
  const url = new URL(cluster.server.replace(/\/+$/, '') + r.path);
  for (const [key, value] of Object.entries(r.query ?? {})) if (value !== undefined && value !== '') url.searchParams.set(key, value);
  const payload = r.body === undefined ? undefined : Buffer.from(JSON.stringify(r.body));
  const method = r.method ?? 'GET';
  const idleMs = r.idleTimeoutMs ?? 30_000;
  const client = url.protocol === 'http:' ? http : https;
  return new Promise((resolve, reject) => {
    const req = client.request(url, {
      ...options,
      method,
      headers: {
        ...options.headers,
        accept: 'application/json',
        ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
      },
      ...(r.signal ? { signal: r.signal } : {}),
      timeout: idleMs,
    }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 300) return resolve(res);
      readText(res, MAX_ERROR_BODY).then((body) => reject(new ApiStatusError(status, body, `${method} ${r.path}`)), reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${r.path}: ${cluster.server} sent nothing for ${idleMs} ms (ETIMEDOUT)`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** A request whose answer is one JSON document. */
export async function kubeJson<T>(kc: KubeConfig, r: KubeRequest): Promise<T> {
  const res = await kubeResponse(kc, r);
  const text = await readText(res, Infinity);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`${r.method ?? 'GET'} ${r.path}: the API server's answer is not JSON: ${text.slice(0, 200)}`);
  }
}
