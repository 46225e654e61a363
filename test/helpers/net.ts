import * as http from 'node:http';
import * as net from 'node:net';

/** GET over a fresh connection (no keep-alive), resolving with status and body. */
export function httpGet(url: string, timeoutMs = 10_000, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent: false, timeout: timeoutMs, headers }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`GET ${url} timed out`)));
    request.on('error', reject);
  });
}

/** Connects, optionally writes, and collects what arrives until `until` matches or the peer ends. */
export function exchange(host: string, port: number, write: string | undefined, until: RegExp, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, host);
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no ${until} from ${host}:${port} within ${timeoutMs} ms (got ${JSON.stringify(data)})`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => {
      if (write !== undefined) socket.write(write);
    });
    socket.on('data', (chunk: string) => {
      data += chunk;
      if (until.test(data)) {
        clearTimeout(timer);
        socket.destroy();
        resolve(data);
      }
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('end', () => {
      clearTimeout(timer);
      if (until.test(data)) resolve(data);
      else reject(new Error(`${host}:${port} closed before ${until} (got ${JSON.stringify(data)})`));
    });
  });
}
