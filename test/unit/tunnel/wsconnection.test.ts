import assert from 'node:assert/strict';
import * as net from 'node:net';
import { describe, it } from 'node:test';
import { WsConnection, type WsConnectionOptions } from '../../../sidecar/src/tunnel/wsconnection';
import { assertFewerTurns, TurnCounter, until } from './wait';

/** A server's binary frame (unmasked, payload under 64 KiB). */
function serverFrame(payload: Buffer): Buffer {
  const header = Buffer.from([0x82, 126, 0, 0]);
  header.writeUInt16BE(payload.length, 2);
  return Buffer.concat([header, payload]);
}

/** A WsConnection on a loopback socket, and the server end that feeds it. */
async function pair(options: WsConnectionOptions, onData: (chunk: Buffer) => void) {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  const peer = await accepted;
  let closed = false;
  const ws = new WsConnection(socket, Buffer.alloc(0), {
    data: (chunk) => onData(chunk),
    pong: () => undefined,
    closed: () => (closed = true),
  }, options);
  return {
    ws, peer,
    get closed() { return closed; },
    close: () => { ws.destroy(); peer.destroy(); server.close(); },
  };
}

const sent = Buffer.alloc(4 * 1024 * 1024);
for (let i = 0; i < sent.length; i++) sent[i] = (i * 7 + (i >> 12)) & 0xff;

/** Sends `sent` as 16 KiB frames, one every millisecond or so: a sender slower than the reader. */
async function trickle(peer: net.Socket): Promise<void> {
  for (let off = 0; off < sent.length; off += 16 * 1024) {
    peer.write(serverFrame(sent.subarray(off, off + 16 * 1024)));
    await new Promise((r) => setTimeout(r, 1));
  }
}

/**
 * Read coalescing on a WebSocket tunnel (ports that never showed HTTP): once a connection is in
 * a bulk transfer it rests between reads, so frames that arrive meanwhile are read in one turn.
 */
describe('WebSocket connection during a bulk transfer', () => {
  async function run(coalesceReadsMs: number): Promise<{ turns: number; intact: boolean }> {
    const reads = new TurnCounter();
    const received: Buffer[] = [];
    const c = await pair({ coalesceReadsMs, bulkBytes: 64 * 1024 }, (chunk) => {
      received.push(Buffer.from(chunk));
      reads.seen();
    });
    try {
      await trickle(c.peer);
      const total = () => received.reduce((n, b) => n + b.length, 0);
      await until('every byte', () => (total() >= sent.length ? true : undefined), 10_000);
      return { turns: reads.turns, intact: Buffer.concat(received).equals(sent) };
    } finally {
      c.close();
    }
  }

  it('reads a trickling bulk transfer in fewer, larger turns, and every byte arrives', () => assertFewerTurns(run));

  it('stays paused for its owner when a rest ends, and goes on once resumed', async () => {
    let got = 0;
    const c = await pair({ coalesceReadsMs: 5, bulkBytes: 64 * 1024 }, (chunk) => (got += chunk.length));
    try {
      const half = 2 * 1024 * 1024;
      for (let off = 0; off < half; off += 16 * 1024) {
        c.peer.write(serverFrame(sent.subarray(off, off + 16 * 1024)));
        await new Promise((r) => setTimeout(r, 1));
      }
      // Mid-transfer, resting between reads: the owner pauses (a slow local client) while the
      // rest arrives at once.
      c.ws.pause();
      const frozen = got;
      for (let off = half; off < sent.length; off += 16 * 1024) c.peer.write(serverFrame(sent.subarray(off, off + 16 * 1024)));
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(got, frozen, 'nothing read while the owner holds it paused, rests ending or not');
      c.ws.resume();
      await until('every byte after resume', () => (got >= sent.length ? true : undefined), 10_000);
      assert.equal(got, sent.length);
    } finally {
      c.close();
    }
  });
});
