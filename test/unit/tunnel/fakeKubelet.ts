import * as http from 'node:http';
import type { Duplex } from 'node:stream';
import { KubeConfig } from '@kubernetes/client-node';
import { WebSocketServer, type WebSocket } from 'ws';
import { encodePort, PORT_FORWARD_PROTOCOL } from '../../../sidecar/src/tunnel/channels';

/**
 * A real WebSocket server on 127.0.0.1 speaking the API server's port-forward protocol
 * (v4.channel.k8s.io) the way the kubelet does, with behaviours chosen by pod name:
 *
 * - `echo`     prefixes, then echoes channel-0 data
 * - `greet`    prefixes, `hello <port>\n` at once (a server that speaks first), then echoes
 * - `split`    prefixes split over several messages and merged with the greeting, then echoes
 * - `refuse`   prefixes, then the kubelet's connection-refused text on channel 1, then closes
 * - `sink`     prefixes, then stops reading (a backend that does not read)
 * - `flood`    prefixes, then sends `floodBytes` on channel 0 as fast as the socket takes them
 * - `hangup`   prefixes; on the first data, drops the TCP connection without a close frame
 * - `forbidden` / `missing` / `broken`  answer the upgrade with 403 / 404 / 500 and a Status body
 * - anything else: 404
 */
export interface FakeKubelet {
  kc: KubeConfig;
  server: string;
  /** Server-side WebSockets currently open. */
  readonly open: Set<WebSocket>;
  /** Bytes of channel-0 data received, per connection in order of arrival. */
  readonly received: number[];
  /** Requests seen (path and query). */
  readonly requests: string[];
  floodBytes: number;
  close(): Promise<void>;
}

export interface FakeKubeletOptions {
  /** Answer pings (default true); false makes tunnels look dead. */
  autoPong?: boolean;
}

const refused = (port: number) =>
  `failed to connect to localhost:${port} inside namespace "0b5c", IPv4: dial tcp4 127.0.0.1:${port}: connect: connection refused IPv6 dial tcp6 [::1]:${port}: connect: connection refused `;

function reject(socket: Duplex, status: number, reason: string, message: string): void {
  const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message, reason, code: status });
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

function send(ws: WebSocket, channel: number, data: Buffer | string): void {
  ws.send(Buffer.concat([Buffer.from([channel]), Buffer.from(data)]));
}

export async function startFakeKubelet(options: FakeKubeletOptions = {}): Promise<FakeKubelet> {
  const httpServer = http.createServer((_, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    autoPong: options.autoPong ?? true,
    handleProtocols: (protocols) => (protocols.has(PORT_FORWARD_PROTOCOL) ? PORT_FORWARD_PROTOCOL : false),
  });
  const sockets = new Set<Duplex>();
  const fake: FakeKubelet = {
    kc: new KubeConfig(),
    server: '',
    open: new Set(),
    received: [],
    requests: [],
    floodBytes: 8 * 1024 * 1024,
    async close() {
      for (const ws of fake.open) ws.terminate();
      for (const s of sockets) s.destroy();
      wss.close();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    },
  };

  httpServer.on('upgrade', (request: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    fake.requests.push(request.url ?? '');
    const url = new URL(request.url ?? '/', 'http://fake');
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/portforward$/.exec(url.pathname);
    const pod = m?.[2] ?? '';
    const port = Number(url.searchParams.get('ports'));
    if (pod === 'forbidden') return reject(socket, 403, 'Forbidden', `pods "${pod}" is forbidden: User "dev" cannot get resource "pods/portforward" in API group "" in the namespace "${m?.[1]}"`);
    if (pod === 'broken') return reject(socket, 500, 'InternalError', 'something broke');
    if (!['echo', 'greet', 'split', 'refuse', 'sink', 'flood', 'hangup'].includes(pod)) return reject(socket, 404, 'NotFound', `pods "${pod}" not found`);
    wss.handleUpgrade(request, socket, head, (ws) => serve(ws, pod, port));
  });

  function serve(ws: WebSocket, pod: string, port: number): void {
    fake.open.add(ws);
    const index = fake.received.push(0) - 1;
    ws.on('close', () => fake.open.delete(ws));
    ws.on('error', () => undefined);
    ws.on('message', (data: Buffer) => {
      if (data[0] !== 0) return;
      if (pod === 'hangup') return void ws.terminate();
      fake.received[index]! += data.length - 1;
      if (pod !== 'sink') send(ws, 0, data.subarray(1));
    });
    const prefix = encodePort(port);
    if (pod === 'split') {
      ws.send(Buffer.from([0, prefix[0]!]));
      send(ws, 1, prefix);
      send(ws, 0, Buffer.concat([prefix.subarray(1), Buffer.from(`hello ${port}\n`)]));
      return;
    }
    send(ws, 0, prefix);
    send(ws, 1, prefix);
    if (pod === 'greet') send(ws, 0, `hello ${port}\n`);
    if (pod === 'refuse') {
      send(ws, 1, `error forwarding port ${port} to pod ${pod}, uid : ${refused(port)}`);
      ws.close(1000);
    }
    if (pod === 'sink') ws.pause();
    if (pod === 'flood') {
      const chunk = Buffer.alloc(64 * 1024 + 1, 0x61);
      chunk[0] = 0;
      let left = fake.floodBytes;
      const pump = () => {
        while (left > 0 && ws.readyState === ws.OPEN) {
          const n = Math.min(left, chunk.length - 1);
          left -= n;
          // Backpressure of our own: wait for each send to reach the kernel before the next batch.
          if (ws.bufferedAmount > 256 * 1024) return void ws.send(chunk.subarray(0, n + 1), pump);
          ws.send(chunk.subarray(0, n + 1));
        }
        if (left === 0 && ws.readyState === ws.OPEN) ws.close(1000);
      };
      pump();
    }
  }

  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', () => resolve()));
  const address = httpServer.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  fake.server = `http://127.0.0.1:${address.port}`;
  fake.kc.loadFromOptions({
    clusters: [{ name: 'fake', server: fake.server, skipTLSVerify: true }],
    users: [{ name: 'dev', token: 'secret' }],
    contexts: [{ name: 'dev', cluster: 'fake', user: 'dev', namespace: 'ns' }, { name: 'other', cluster: 'fake', user: 'dev' }],
    currentContext: 'dev',
  });
  return fake;
}
