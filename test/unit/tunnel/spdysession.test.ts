import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { receivePool } from '../../../sidecar/src/tunnel/blockpool';
import type { ReadSink } from '../../../sidecar/src/tunnel/rawupgrade';
import { controlFrame, dataHeader, FLAG_FIN, SpdyParser, SYN_REPLY, SYN_STREAM } from '../../../sidecar/src/tunnel/spdyframe';
import { SpdySession, type SpdySessionOptions } from '../../../sidecar/src/tunnel/spdysession';
import { assertFewerTurns, TurnCounter, until } from './wait';

/** The kubelet's SYN_REPLY to stream `id`. */
const synReply = (id: number) => {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(id, 0);
  return controlFrame(SYN_REPLY, 0, payload);
};

interface Frame { kind: 'syn' | 'data' | 'fin' | 'other'; id: number; flags: number; at: number }

/**
 * The session against a raw socket on loopback whose other end plays the kubelet: it records the
 * frames the session sends (and when) and writes the frames a test gives it.
 */
describe('SPDY session', () => {
  let server: net.Server;
  let peer: net.Socket;
  let session: SpdySession;
  const frames: Frame[] = [];

  before(async () => {
    server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
    const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
    await new Promise((r) => client.once('connect', r));
    peer = await accepted;
    const parser = new SpdyParser({
      data: () => undefined,
      fin: (id) => frames.push({ kind: 'fin', id, flags: FLAG_FIN, at: performance.now() }),
      control: (type, flags, payload) => frames.push({ kind: type === SYN_STREAM ? 'syn' : 'other', id: payload.readUInt32BE(0) & 0x7fffffff, flags, at: performance.now() }),
      error: (reason) => assert.fail(reason),
    });
    peer.on('data', (c: Buffer) => parser.push(c));
    session = new SpdySession(client, Buffer.alloc(0), { server: 'https://test', namespace: 'ns', pod: 'p' }, { pingIntervalMs: 0 });
  });

  after(() => {
    session.destroy();
    peer.destroy();
    server.close();
  });

  it('ends its half of the error stream with the SYN_STREAM', async () => {
    const stream = session.open({ namespace: 'ns', pod: 'p', port: 80 }, 5000);
    await until('both SYN_STREAMs', () => (frames.filter((f) => f.kind === 'syn').length === 2 ? true : undefined));
    const [error, data] = frames.filter((f) => f.kind === 'syn');
    assert.deepEqual([error!.id, error!.flags & FLAG_FIN], [stream.errorId, FLAG_FIN]);
    assert.deepEqual([data!.id, data!.flags & FLAG_FIN], [stream.dataId, 0]);
    peer.write(Buffer.concat([synReply(stream.errorId), synReply(stream.dataId)]));
    await stream.ready;
    stream.destroy();
  });

  it('sends its FIN after the pod ended a stream even when nothing else goes out', async () => {
    frames.length = 0;
    const stream = session.open({ namespace: 'ns', pod: 'p', port: 80 }, 5000);
    peer.write(Buffer.concat([synReply(stream.errorId), synReply(stream.dataId)]));
    await stream.ready;
    await until('both SYN_STREAMs', () => (frames.filter((f) => f.kind === 'syn').length === 2 ? true : undefined));
    frames.length = 0;
    const podEnded = performance.now();
    peer.write(dataHeader(stream.dataId, FLAG_FIN, 0));
    await until('our FIN', () => (frames.some((f) => f.kind === 'fin' && f.id === stream.dataId) ? true : undefined), 2000);
    const fin = frames.find((f) => f.kind === 'fin')!;
    // It waits a few ms for company, not longer.
    assert.ok(fin.at - podEnded < 1000, `FIN after ${(fin.at - podEnded).toFixed(0)} ms`);
    assert.deepEqual(frames.map((f) => f.kind), ['fin']);
  });
});

/**
 * A session on a loopback socket opened with `onread` (as the SPDY upgrade opens it), the other
 * end a raw socket playing the kubelet; `onRead` sees every read before the session does.
 */
async function rawSession(options: SpdySessionOptions, bufferBytes: number, onRead: () => void = () => undefined) {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  let sink: ReadSink = () => assert.fail('read before the session took over');
  const buffer = Buffer.alloc(bufferBytes);
  const client = net.connect({
    port: (server.address() as net.AddressInfo).port,
    host: '127.0.0.1',
    onread: { buffer, callback: (n) => (onRead(), sink(buffer.subarray(0, n)), true) },
  });
  await new Promise((r) => client.once('connect', r));
  const peer = await accepted;
  const syns: number[] = [];
  const parser = new SpdyParser({
    data: () => undefined,
    fin: () => undefined,
    control: (type, _flags, payload) => void (type === SYN_STREAM && syns.push(payload.readUInt32BE(0) & 0x7fffffff)),
    error: (reason) => assert.fail(reason),
  });
  peer.on('data', (c: Buffer) => parser.push(c));
  const session = new SpdySession(client, Buffer.alloc(0), { server: 'https://test', namespace: 'ns', pod: 'p' }, { pingIntervalMs: 0, ...options },
    (next) => (sink = next));
  return {
    session,
    peer,
    /** A stream pair, once both SYN_STREAMs arrived (not replied to yet). */
    async open() {
      const stream = session.open({ namespace: 'ns', pod: 'p', port: 80 }, 5000);
      await until('both SYN_STREAMs', () => (syns.length === 2 ? true : undefined));
      syns.length = 0;
      return stream;
    },
    close() {
      session.destroy();
      peer.destroy();
      server.close();
    },
  };
}

/**
 * The session on a socket that reads into one reused buffer (`onread`, as the SPDY upgrade opens
 * it): payloads a stream passes on must be copies, since the next read overwrites the buffer.
 */
describe('SPDY session reading into one buffer', () => {
  it('passes on copies that stay intact while later reads arrive, and reuses their memory once released', async () => {
    const raw = await rawSession({}, 4096);
    try {
      const { peer } = raw;
      const stream = await raw.open();
      // A control frame split over two reads is kept across them.
      const replies = Buffer.concat([synReply(stream.errorId), synReply(stream.dataId)]);
      peer.write(replies.subarray(0, 13));
      await new Promise((r) => setTimeout(r, 50));
      peer.write(replies.subarray(13));
      await stream.ready;

      const kept: { chunk: Buffer; release?: () => void }[] = [];
      let ended = false;
      stream.attach({ data: (chunk, release) => void kept.push({ chunk, ...(release ? { release } : {}) }), closed: () => (ended = true) });
      // 1 MiB in DATA frames of odd sizes, written in bursts, so that reads end mid-frame.
      const sent = Buffer.alloc(1024 * 1024);
      for (let i = 0; i < sent.length; i++) sent[i] = (i * 7 + (i >> 11)) & 0xff;
      const frames: Buffer[] = [];
      for (let off = 0, size = 1; off < sent.length; off += size, size = (size * 5 + 3) % 30000 + 1) {
        const piece = sent.subarray(off, off + size);
        frames.push(dataHeader(stream.dataId, 0, piece.length), piece);
      }
      frames.push(dataHeader(stream.dataId, FLAG_FIN, 0));
      const wire = Buffer.concat(frames);
      for (let off = 0; off < wire.length; off += 50_000) {
        peer.write(wire.subarray(off, off + 50_000));
        await new Promise((r) => setImmediate(r));
      }
      await until('the stream to end', () => (ended ? true : undefined), 10_000);
      assert.ok(Buffer.concat(kept.map((k) => k.chunk)).equals(sent), 'the bytes kept are the bytes sent');
      // Payloads of 4 KiB or more are copied into pooled blocks and come with their release
      // (smaller ones are plain copies).
      assert.ok(kept.every((k) => k.chunk.length < 4096 || k.release), 'pooled copies come with their release');
      const free = receivePool.freeCount;
      for (const k of kept) k.release?.();
      assert.ok(receivePool.freeCount > free, `released blocks go back to the pool (${free} → ${receivePool.freeCount})`);
    } finally {
      raw.close();
    }
  });
});

/**
 * Read coalescing: a session whose stream is in a bulk transfer rests between reads, so the
 * records that arrive meanwhile are read in one turn of the event loop instead of one each.
 */
describe('SPDY session during a bulk transfer', () => {
  async function run(coalesceReadsMs: number): Promise<{ turns: number; intact: boolean }> {
    // Turns of the event loop in which the socket was read.
    const reads = new TurnCounter();
    const raw = await rawSession({ coalesceReadsMs, bulkStreamBytes: 64 * 1024 }, 64 * 1024, reads.seen);
    try {
      const { peer } = raw;
      const stream = await raw.open();
      peer.write(Buffer.concat([synReply(stream.errorId), synReply(stream.dataId)]));
      await stream.ready;
      const received: Buffer[] = [];
      let ended = false;
      stream.attach({ data: (chunk, release) => (received.push(Buffer.from(chunk)), release?.()), closed: () => (ended = true) });
      // 4 MiB as 16 KiB frames, one every millisecond or so: a sender slower than the reader.
      const sent = Buffer.alloc(4 * 1024 * 1024);
      for (let i = 0; i < sent.length; i++) sent[i] = (i * 13 + (i >> 10)) & 0xff;
      reads.turns = 0;
      for (let off = 0; off < sent.length; off += 16 * 1024) {
        peer.write(Buffer.concat([dataHeader(stream.dataId, 0, 16 * 1024), sent.subarray(off, off + 16 * 1024)]));
        await new Promise((r) => setTimeout(r, 1));
      }
      peer.write(dataHeader(stream.dataId, FLAG_FIN, 0));
      await until('the stream to end', () => (ended ? true : undefined), 10_000);
      return { turns: reads.turns, intact: Buffer.concat(received).equals(sent) };
    } finally {
      raw.close();
    }
  }

  it('reads a trickling bulk stream in fewer, larger turns, and every byte arrives', () => assertFewerTurns(run));
});
