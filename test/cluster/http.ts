import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';

export interface TlsFiles {
  ca: string;
  cert?: string;
  key?: string;
}

/** GET `url` and resolve with status and body; rejects on connection errors. */
export function get(url: string, tls?: TlsFiles, timeoutMs = 5000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const options: https.RequestOptions = { timeout: timeoutMs };
    if (tls) {
      options.ca = fs.readFileSync(tls.ca);
      if (tls.cert && tls.key) {
        options.cert = fs.readFileSync(tls.cert);
        options.key = fs.readFileSync(tls.key);
      }
    }
    const request = (url.startsWith('https:') ? https : http).get(url, options, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('timeout', () => request.destroy(new Error(`GET ${url} timed out`)));
    request.on('error', reject);
  });
}
