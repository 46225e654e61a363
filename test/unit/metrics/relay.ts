import * as net from 'node:net';
import { HttpSniffer, type HttpExchange } from '../../../sidecar/src/metrics/http.js';

/** One relayed connection and what its sniffer saw. */
export interface Tap {
  sniffer: HttpSniffer;
  exchanges: HttpExchange[];
  /** Resolves once both sockets closed and the sniffer was closed. */
  closed: Promise<void>;
}

export interface Relay {
  port: number;
  taps: Tap[];
  close(): Promise<void>;
}

/**
 * A TCP relay on 127.0.0.1 that passes bytes both ways to 127.0.0.1:targetPort and feeds each
 * direction to a sniffer before forwarding it, as the engine's tunnel will. Because the sniffer
 * sees a response before the client does, a test may check the records as soon as its client
 * has the response.
 */
export function startRelay(targetPort: number, now?: () => number): Promise<Relay> {
  const taps: Tap[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    const exchanges: HttpExchange[] = [];
    const sniffer = new HttpSniffer((e) => exchanges.push(e), { now });
    let open = 2;
    let markClosed = () => {};
    const closed = new Promise<void>((resolve) => (markClosed = resolve));
    taps.push({ sniffer, exchanges, closed });
    for (const [from, to, feed] of [
      [client, upstream, (c: Buffer) => sniffer.onRequestData(c)],
      [upstream, client, (c: Buffer) => sniffer.onResponseData(c)],
    ] as const) {
      sockets.add(from);
      from.on('data', (chunk: Buffer) => {
        feed(chunk);
        if (to.write(chunk) === false) {
          from.pause();
          to.once('drain', () => from.resume());
        }
      });
      from.on('end', () => to.end());
      from.on('error', () => to.destroy());
      from.on('close', () => {
        sockets.delete(from);
        to.destroy();
        if (--open === 0) {
          sniffer.close();
          markClosed();
        }
      });
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address() as net.AddressInfo;
      resolve({
        port: address.port,
        taps,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
