import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { after, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { receivePool } from '../../../sidecar/src/tunnel/blockpool';
import { openMuxStream } from '../../../sidecar/src/tunnel/mux';
import type { MuxStream } from '../../../sidecar/src/tunnel/muxstream';
import { kubeConfig, rejection } from './cluster';

/**
 * Stream pairs on shared SPDY sessions against the real API server and the fake node: the
 * session's socket reads into one reused buffer (the upgrade written by hand), or, behind a
 * proxy, goes through client-node's proxy agent.
 */

interface Echo { hash: string; bytes: number; kept: Buffer[] }

/** Sends `data` on the stream, half-closes, and collects what comes back until the pod's FIN. */
function echo(stream: MuxStream, data: Buffer, keep: boolean): Promise<Echo> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    const kept: Buffer[] = [];
    let bytes = 0;
    stream.attach({
      data: (chunk, release) => {
        hash.update(chunk);
        bytes += chunk.length;
        // A reader that holds on to what it got (as a slow client's queue does) and one that does not.
        if (keep) kept.push(chunk);
        else release?.();
      },
      closed: (error) => (error ? reject(error) : resolve({ hash: hash.digest('hex'), bytes, kept })),
    });
    for (let off = 0; off < data.length; off += 64 * 1024) stream.send(data.subarray(off, off + 64 * 1024));
    stream.halfClose();
  });
}

/** The db pod's responder: greets, then echoes until the client's FIN. Sessions close soon after the test. */
const DB = { namespace: 'demo', pod: 'db-0', port: 5432 };
const greeting = Buffer.from('pod=demo/db-0 port=5432\n');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('SPDY stream pairs (e2e)', () => {
  const cleanups: (() => void)[] = [];
  after(() => cleanups.forEach((c) => c()));

  it('carries concurrent connections intact, one reader holding its bytes while the others reuse their memory', async () => {
    const kc = kubeConfig('dev');
    const streams = await Promise.all([0, 1, 2].map(() => openMuxStream(kc, { ...DB, session: { idleMs: 200 } })));
    const data = streams.map(() => randomBytes(8 * 1024 * 1024));
    const results = await Promise.all(streams.map((s, i) => echo(s, data[i]!, i === 0)));
    results.forEach((r, i) => {
      assert.equal(r.bytes, greeting.length + data[i]!.length, `stream ${i} got every byte`);
      assert.equal(r.hash, sha(Buffer.concat([greeting, data[i]!])), `stream ${i} got the bytes sent`);
    });
    // What the holding reader kept is still what it was when it arrived.
    assert.equal(sha(Buffer.concat(results[0]!.kept)), results[0]!.hash);
    assert.ok(receivePool.freeCount > 0, 'the readers that let go gave blocks back for reuse');
  });

  it('sends a connection\'s first bytes with the stream\'s SYN_STREAM, and the kubelet passes them on', async () => {
    const kc = kubeConfig('dev');
    const first = randomBytes(3000);
    const early = { chunk: first, sent: false };
    const stream = await openMuxStream(kc, { ...DB, early, session: { idleMs: 200 } });
    assert.equal(early.sent, true, 'written before the SYN_REPLY');
    const rest = randomBytes(100_000);
    const r = await echo(stream, rest, false);
    assert.equal(r.hash, sha(Buffer.concat([greeting, first, rest])), 'the early bytes first, then the rest, once each');
  });

  it('says RBAC_DENIED for a user who may not port-forward, and POD_NOT_FOUND for a missing pod', async () => {
    const denied = await rejection(openMuxStream(kubeConfig('restricted'), { ...DB, session: { idleMs: 200 } }));
    assert.equal(denied.code, 'RBAC_DENIED');
    assert.match(denied.message, /User "restricted" cannot (get|create) resource "pods\/portforward"/);
    const missing = await rejection(openMuxStream(kubeConfig('dev'), { namespace: 'demo', pod: 'no-such-pod', port: 80, session: { idleMs: 200 } }));
    assert.equal(missing.code, 'POD_NOT_FOUND');
    assert.match(missing.message, /pod demo\/no-such-pod not found/);
  });

  it('says API_UNREACHABLE, naming the server, when nothing listens there', async () => {
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const kc = withCluster(kubeConfig('dev'), { server: `https://127.0.0.1:${port}` });
    const error = await rejection(openMuxStream(kc, { ...DB, session: { idleMs: 200 } }));
    assert.equal(error.code, 'API_UNREACHABLE');
    assert.match(error.message, new RegExp(`cannot reach the API server https://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
  });

  it('goes through the kubeconfig\'s proxy-url when there is one', async () => {
    const connects: string[] = [];
    const proxy = net.createServer((client) => {
      client.on('error', () => undefined);
      client.once('data', (head: Buffer) => {
        const target = /^CONNECT (127\.0\.0\.1):(\d+) HTTP\/1\.1\r\n/.exec(head.toString('latin1'));
        if (!target) return void client.end('HTTP/1.1 400 Bad Request\r\n\r\n');
        connects.push(`${target[1]}:${target[2]}`);
        const upstream = net.connect(Number(target[2]), target[1]!, () => {
          client.write('HTTP/1.1 200 Connection established\r\n\r\n');
          client.pipe(upstream).pipe(client);
        });
        upstream.on('error', () => client.destroy());
        cleanups.push(() => upstream.destroy());
      });
      cleanups.push(() => client.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    cleanups.push(() => proxy.close());
    const kc = withCluster(kubeConfig('dev'), { proxyUrl: `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}` });
    const stream = await openMuxStream(kc, { ...DB, session: { idleMs: 200 } });
    const data = randomBytes(256 * 1024);
    const result = await echo(stream, data, false);
    assert.equal(result.hash, sha(Buffer.concat([greeting, data])));
    assert.equal(connects.length, 1, 'the session was opened through the proxy');
  });
});

/** The kubeconfig with its current cluster changed. */
function withCluster(kc: KubeConfig, change: { server?: string; proxyUrl?: string }): KubeConfig {
  const cluster = kc.getCurrentCluster()!;
  const user = kc.getCurrentUser()!;
  const context = kc.getContextObject(kc.getCurrentContext())!;
  const out = new KubeConfig();
  out.loadFromOptions({ clusters: [{ ...cluster, ...change }], users: [user], contexts: [context], currentContext: context.name });
  return out;
}
