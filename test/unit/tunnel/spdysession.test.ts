import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { controlFrame, dataHeader, FLAG_FIN, SpdyParser, SYN_REPLY, SYN_STREAM } from '../../../sidecar/src/tunnel/spdyframe';
import { SpdySession } from '../../../sidecar/src/tunnel/spdysession';
import { until } from './wait';

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

  const reply = (id: number) => {
    const payload = Buffer.alloc(4);
    payload.writeUInt32BE(id, 0);
    return controlFrame(SYN_REPLY, 0, payload);
  };

  it('ends its half of the error stream with the SYN_STREAM', async () => {
    const stream = session.open({ namespace: 'ns', pod: 'p', port: 80 }, 5000);
    await until('both SYN_STREAMs', () => (frames.filter((f) => f.kind === 'syn').length === 2 ? true : undefined));
    const [error, data] = frames.filter((f) => f.kind === 'syn');
    assert.deepEqual([error!.id, error!.flags & FLAG_FIN], [stream.errorId, FLAG_FIN]);
    assert.deepEqual([data!.id, data!.flags & FLAG_FIN], [stream.dataId, 0]);
    peer.write(Buffer.concat([reply(stream.errorId), reply(stream.dataId)]));
    await stream.ready;
    stream.destroy();
  });

  it('sends its FIN after the pod ended a stream even when nothing else goes out', async () => {
    frames.length = 0;
    const stream = session.open({ namespace: 'ns', pod: 'p', port: 80 }, 5000);
    peer.write(Buffer.concat([reply(stream.errorId), reply(stream.dataId)]));
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
