import { createHash, randomBytes } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import type { Socket } from 'node:net';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** How much of a refused upgrade's body is kept for the error message. */
export const MAX_ERROR_BODY = 64 * 1024;

/** The server answered the upgrade with an HTTP response (403, 404, …). */
export class UpgradeRejected extends Error {
  constructor(readonly status: number, readonly body: string) {
    super(`HTTP ${status}`);
  }
}

export interface Upgraded {
  socket: Socket;
  /** Bytes the server sent right after the 101 response (the first frames). */
  head: Buffer;
}

export type UpgradeOptions = https.RequestOptions & { signal?: AbortSignal };

/**
 * The WebSocket opening handshake (RFC 6455 §4) over http(s).request, so whatever the kubeconfig
 * asks of the request (CA, client certificate, headers with tokens, an agent for proxies and TLS
 * session reuse, a shared SecureContext) applies unchanged. Resolves with the upgraded socket;
 * rejects with UpgradeRejected for an HTTP answer, or the network error.
 */
export function upgrade(url: string, protocol: string, options: UpgradeOptions): Promise<Upgraded> {
  const key = randomBytes(16).toString('base64');
  const headers = {
    Connection: 'Upgrade',
    Upgrade: 'websocket',
    'Sec-WebSocket-Version': '13',
    'Sec-WebSocket-Key': key,
    'Sec-WebSocket-Protocol': protocol,
  };
  return httpUpgrade(url.replace(/^ws/, 'http'), 'GET', headers, options, (response) => {
    const accept = createHash('sha1').update(key + GUID).digest('base64');
    return response.headers['sec-websocket-accept'] !== accept ? 'invalid WebSocket upgrade: a wrong Sec-WebSocket-Accept'
      : response.headers['sec-websocket-protocol'] !== protocol ? `invalid WebSocket upgrade: subprotocol "${response.headers['sec-websocket-protocol'] ?? ''}" instead of "${protocol}"`
        : response.headers['sec-websocket-extensions'] ? 'invalid WebSocket upgrade: an extension nobody asked for'
          : undefined;
  });
}

/**
 * The SPDY/3.1 upgrade Kubernetes streaming endpoints accept (POST, `Upgrade: SPDY/3.1`,
 * `X-Stream-Protocol-Version`), as kubectl's plain-SPDY mode sends it.
 */
export function spdyUpgrade(url: string, protocol: string, options: UpgradeOptions): Promise<Upgraded> {
  return httpUpgrade(url, 'POST', spdyUpgradeHeaders(protocol), options,
    (response) => spdyUpgradeProblem(response.headers.upgrade, response.headers['x-stream-protocol-version'], protocol));
}

/** The headers of the SPDY/3.1 upgrade request (besides the kubeconfig's). */
export function spdyUpgradeHeaders(protocol: string): Record<string, string> {
  return { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': protocol, 'Content-Length': '0' };
}

/** What is wrong with a 101 answer to the SPDY upgrade (its Upgrade and X-Stream-Protocol-Version headers), if anything. */
export function spdyUpgradeProblem(upgrade: string | undefined, chosen: string | string[] | undefined, protocol: string): string | undefined {
  const upgradeTo = String(upgrade ?? '').toLowerCase();
  return upgradeTo !== 'spdy/3.1' ? `invalid SPDY upgrade: Upgrade "${upgradeTo}"`
    : chosen !== undefined && chosen !== protocol ? `invalid SPDY upgrade: protocol "${String(chosen)}" instead of "${protocol}"`
      : undefined;
}

/** An HTTP/1.1 upgrade request; `check` names what is wrong with a 101 answer, if anything. */
function httpUpgrade(url: string, method: string, upgradeHeaders: Record<string, string>, options: UpgradeOptions,
  check: (response: http.IncomingMessage) => string | undefined): Promise<Upgraded> {
  const headers = { ...(options.headers as Record<string, string> | undefined), ...upgradeHeaders };
  const request = (url.startsWith('https:') ? https : http).request(url, { ...options, method, headers });
  return new Promise<Upgraded>((resolve, reject) => {
    request.on('upgrade', (response: http.IncomingMessage, socket: Socket, head: Buffer) => {
      const problem = response.statusCode !== 101 ? `invalid upgrade: status ${response.statusCode}` : check(response);
      if (problem) {
        socket.destroy();
        return reject(new Error(problem));
      }
      resolve({ socket, head });
    });
    request.on('response', (response: http.IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        if (size < MAX_ERROR_BODY) chunks.push(chunk);
        size += chunk.length;
      });
      const done = () => reject(new UpgradeRejected(response.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')));
      response.on('end', done);
      response.on('error', done);
    });
    request.on('error', reject);
    request.end();
  });
}
