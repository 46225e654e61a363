import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { pipe, type Direction, type Pipe, type PipeHooks, type PipeOptions } from '../../../sidecar/src/tunnel/pipe';
import { openTunnel } from '../../../sidecar/src/tunnel/websocket';
import { startFakeKubelet, type FakeKubelet } from './fakeKubelet';
import { until } from './wait';

const IP = '127.1.27.213';

/** A connected socket pair over loopback: the client end and the accepted end. */
async function socketPair(): Promise<{ client: net.Socket; accepted: net.Socket }> {
  const server = net.createServer({ allowHalfOpen: true });
  await new Promise<void>((resolve) => server.listen(0, IP, () => resolve()));
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const client = net.connect({ port: (server.address() as net.AddressInfo).port, host: IP, allowHalfOpen: true });
  const result = { client, accepted: await accepted };
  server.close();
  return result;
}

interface Relay {
  client: net.Socket;
  relay: Pipe;
  events: string[];
  errors: string[];
  counts: { in: number; out: number };
  taps: Record<Direction, number>;
  received(): string;
}

async function relayTo(fake: FakeKubelet, pod: string, options: PipeOptions = {}, extra: PipeHooks = {}): Promise<Relay> {
  const tunnel = await openTunnel(fake.kc, { namespace: 'ns', pod, port: 80 });
  const { client, accepted } = await socketPair();
  const events: string[] = [];
  const errors: string[] = [];
  const counts = { in: 0, out: 0 };
  const taps = { in: 0, out: 0 };
  const relay = pipe(tunnel, accepted, {
    onBytesIn: (n) => (counts.in += n),
    onBytesOut: (n) => (counts.out += n),
    onOpen: () => events.push('open'),
    onClose: () => events.push('close'),
    onError: (code, message) => errors.push(`${code}: ${message}`),
    tap: (d, chunk) => (taps[d] += chunk.length),
    ...extra,
  }, { lingerMs: 50, ...options });
  let text = '';
  client.on('data', (c: Buffer) => (text += c.toString('latin1')));
  client.on('error', () => undefined);
  return { client, relay, events, errors, counts, taps, received: () => text };
}

const ended = (s: net.Socket) => new Promise<void>((resolve) => (s.readableEnded ? resolve() : s.once('end', resolve)));

describe('pipe', () => {
  let fake: FakeKubelet;
  before(async () => (fake = await startFakeKubelet()));
  after(() => fake.close());

  it('relays both ways, counting bytes and showing them to the tap', async () => {
    const r = await relayTo(fake, 'echo');
    r.client.write('hello ');
    r.client.write('world');
    await until('the echo', () => (r.received() === 'hello world' ? true : undefined));
    assert.deepEqual(r.counts, { in: 11, out: 11 });
    assert.deepEqual(r.taps, { in: 11, out: 11 });
    r.client.destroy();
    await r.relay.done;
    assert.deepEqual(r.events, ['open', 'close']);
    assert.deepEqual(r.errors, []);
  });

  it('ends the local socket after flushing everything when the remote closes', async () => {
    fake.floodBytes = 4 * 1024 * 1024;
    const r = await relayTo(fake, 'flood');
    await ended(r.client);
    assert.equal(r.received().length, fake.floodBytes);
    r.client.end();
    await r.relay.done;
    assert.deepEqual(r.errors, []);
  });

  it('after the client half-closes, keeps relaying until the pod is quiet for the linger time', async () => {
    // Well above an echo round trip on a busy machine: the echo is cut off only when the relay
    // closes the tunnel at the client's FIN.
    const r = await relayTo(fake, 'echo', { lingerMs: 2000 });
    const before = fake.open.size;
    r.client.end('last words');
    await ended(r.client);
    assert.equal(r.received(), 'last words', 'the response in flight was not cut off');
    await r.relay.done;
    await until('the WebSocket to close', () => (fake.open.size < before ? true : undefined));
  });

  it('closes the tunnel at once when the client resets', async () => {
    const r = await relayTo(fake, 'echo', { lingerMs: 60_000 });
    const before = fake.open.size;
    r.client.resetAndDestroy();
    await r.relay.done;
    await until('the WebSocket to close', () => (fake.open.size < before ? true : undefined), 2000);
    assert.deepEqual(r.errors, [], 'a client reset is not a forward failure');
  });

  it('reports the error channel and ends the local socket', async () => {
    const r = await relayTo(fake, 'refuse');
    await ended(r.client);
    r.client.end();
    await r.relay.done;
    assert.equal(r.errors.length, 1);
    assert.match(r.errors[0]!, /^TUNNEL_REMOTE_ERROR: .*connection refused/);
  });

  it('stops reading the client while the WebSocket backlog is high (slow pod)', async () => {
    const high = 256 * 1024;
    const total = 64 * 1024 * 1024;
    const r = await relayTo(fake, 'sink', { highWaterMark: high, lowWaterMark: 64 * 1024 });
    // The client queues everything in its own memory; the relay must take only what it can pass on.
    r.client.write(Buffer.alloc(total, 1));
    let peak = 0;
    let last = -1;
    await until('the relay to stop reading', () => {
      peak = Math.max(peak, r.relay.queued().toPod);
      const stalled = r.counts.out === last && r.counts.out > 0;
      last = r.counts.out;
      return stalled ? true : undefined;
    }, 10_000, 100);
    assert.ok(r.counts.out < total / 2, `the relay read ${r.counts.out} of ${total} bytes (kernel buffers plus the backlog)`);
    assert.ok(peak <= high + 64 * 1024, `WebSocket backlog ${peak} stays near the high-water mark ${high}`);
    // The client's FIN would wait behind the bytes the relay is not reading: close it from here.
    r.client.destroy();
    r.relay.destroy();
    await r.relay.done;
  });

  // A turn's bulk chunks are written together (up to writeBatchBytes) before the backlog is
  // checked, so the bound is the larger of the two plus a WebSocket read in flight.
  for (const batch of [64 * 1024, undefined]) {
    const high = 128 * 1024;
    const bound = Math.max(high, batch ?? 256 * 1024) + 70 * 1024;
    it(`stops reading the WebSocket while the client does not read (slow client, batch ${batch ?? 'default'})`, async () => {
      fake.floodBytes = 32 * 1024 * 1024;
      const r = await relayTo(fake, 'flood', { socketHighWaterMark: high, ...(batch ? { writeBatchBytes: batch } : {}) });
      r.client.pause();
      let peak = 0;
      let last = -1;
      // Poll until the queue towards the client stops changing: the tunnel is paused.
      await until('the relay to stall', () => {
        const q = r.relay.queued().toClient;
        peak = Math.max(peak, q);
        const stalled = q === last && q > 0;
        last = q;
        return stalled ? true : undefined;
      }, 10_000, 50);
      assert.ok(peak <= bound, `queued towards the client ${peak} stays within ${bound}`);
      r.client.resume();
      await ended(r.client);
      assert.equal(r.received().length, fake.floodBytes, 'nothing lost after resuming');
      r.client.end();
      await r.relay.done;
    });
  }

  it('destroys a local socket that neither reads nor closes after the tunnel ended', async () => {
    fake.floodBytes = 1024 * 1024;
    const r = await relayTo(fake, 'flood', { drainTimeoutMs: 200, socketHighWaterMark: 4 * 1024 * 1024 });
    // Paused and half-open: it neither reads the end nor ends its own side.
    r.client.pause();
    await r.relay.done;
    r.client.destroy();
  });

  it('contains a throwing hook to its own connection', async () => {
    const r = await relayTo(fake, 'echo', {}, { tap: () => { throw new Error('sniffer bug'); } });
    const other = await relayTo(fake, 'echo');
    r.client.write('x');
    await r.relay.done;
    assert.match(r.errors[0]!, /^INTERNAL: relay failed: sniffer bug/);
    other.client.write('still here');
    await until('the other connection to answer', () => (other.received() === 'still here' ? true : undefined));
    other.client.destroy();
    await other.relay.done;
  });
});
