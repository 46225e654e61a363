/**
 * The one backend every contender reaches (the bench pod's `kubeforward.test/dial` points here,
 * and "direct" connects to it): a small HTTP/1.1 server on raw sockets, in its own process so it
 * does not share an event loop with the load generators.
 *   GET /            → a small JSON body
 *   GET /bytes?n=N   → N bytes (from a 1 MiB buffer, with backpressure)
 *   GET /stats       → {"connections":…, "requests":…} (to check one connection per request)
 * Keep-alive unless the request says `Connection: close`. Prints `listening <port>`.
 *   node out/test/bench/backend.js [--host 127.0.0.1] [--port 0]
 */
import * as net from 'node:net';
import { parseArgs } from 'node:util';

const CHUNK = Buffer.alloc(1024 * 1024, 'kube-forward-bench ');
const SMALL = Buffer.from('{"backend":"bench","ok":true}');
let connections = 0;
let requests = 0;

function respond(socket: net.Socket, status: string, length: number, close: boolean): void {
  socket.write(`HTTP/1.1 ${status}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${length}\r\n${close ? 'Connection: close\r\n' : ''}\r\n`);
}

/** Writes n bytes, resolving when all were handed to the socket (waiting on 'drain'). */
function stream(socket: net.Socket, n: number): Promise<void> {
  return new Promise((resolve) => {
    let left = n;
    const pump = () => {
      while (left > 0 && !socket.destroyed) {
        const size = Math.min(left, CHUNK.length);
        left -= size;
        if (!socket.write(size === CHUNK.length ? CHUNK : CHUNK.subarray(0, size))) return void socket.once('drain', pump);
      }
      resolve();
    };
    socket.once('close', () => resolve());
    pump();
  });
}

async function handle(socket: net.Socket, head: string): Promise<boolean> {
  requests++;
  const [line = '', ...headers] = head.split('\r\n');
  const [method, target = '/'] = line.split(' ');
  const close = headers.some((h) => /^connection:\s*close/i.test(h));
  const url = new URL(target, 'http://bench');
  if (method !== 'GET') {
    respond(socket, '405 Method Not Allowed', 0, true);
    return false;
  }
  if (url.pathname === '/bytes') {
    const n = Number(url.searchParams.get('n') ?? 0);
    respond(socket, '200 OK', n, close);
    await stream(socket, n);
  } else if (url.pathname === '/stats') {
    const body = Buffer.from(JSON.stringify({ connections, requests }));
    respond(socket, '200 OK', body.length, close);
    socket.write(body);
  } else if (url.pathname === '/') {
    respond(socket, '200 OK', SMALL.length, close);
    socket.write(SMALL);
  } else {
    respond(socket, '404 Not Found', 0, close);
  }
  return !close;
}

function serve(socket: net.Socket): void {
  connections++;
  socket.setNoDelay(true);
  socket.on('error', () => undefined);
  let buffered = '';
  let busy = false;
  let ended = false;
  const next = async (): Promise<void> => {
    if (busy) return;
    const end = buffered.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = buffered.slice(0, end);
    buffered = buffered.slice(end + 4);
    busy = true;
    const keep = await handle(socket, head);
    busy = false;
    if (!keep || ended) return void socket.end();
    void next();
  };
  socket.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('latin1');
    if (buffered.length > 64 * 1024) return void socket.destroy();
    void next();
  });
  socket.on('end', () => {
    ended = true;
    if (!busy) socket.end();
  });
}

const { values } = parseArgs({ options: { host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string', default: '0' } } });
const server = net.createServer({ allowHalfOpen: true, noDelay: true }, serve);
server.listen({ host: values.host, port: Number(values.port), backlog: 4096 }, () => {
  const address = server.address() as net.AddressInfo;
  process.stdout.write(`listening ${address.port}\n`);
});
const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// The bench drives this process through a pipe: its end means the bench is gone.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
