import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { waitFor, withTimeout } from '../../cluster/wait';
import { listening, pause, rssBytes, startSidecar, svcArgs, tempHosts, type Sidecar, type TempHosts } from '../../helpers/sidecar';
import { deploymentPods, whoAnswers } from './cluster';

/**
 * Streams through web's forward: one connection reset mid-transfer does not disturb another, and
 * 1 GiB to a reader that pauses is delivered exactly, with bounded memory (backpressure).
 */

const MiB = 1 << 20;
const GiB = 1 << 30;

interface Download {
  socket: net.Socket;
  /** Body bytes received so far. */
  received(): number;
  contentLength(): number | undefined;
  /** Resolves with the body byte count when the server ends the response; rejects on error. */
  done: Promise<number>;
  /** Resolves once at least `bytes` body bytes arrived. */
  reached(bytes: number): Promise<void>;
}

/** `GET /bytes?n=N` over a raw socket, counting body bytes without keeping them. */
function download(host: string, port: number, n: number): Download {
  const socket = net.connect(port, host);
  let head = Buffer.alloc(0);
  let headDone = false;
  let body = 0;
  let length: number | undefined;
  const waiters: { bytes: number; resolve: () => void }[] = [];
  const done = new Promise<number>((resolve, reject) => {
    socket.on('connect', () => socket.write(`GET /bytes?n=${n} HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n`));
    socket.on('data', (chunk: Buffer) => {
      if (!headDone) {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        headDone = true;
        const text = head.subarray(0, end).toString('latin1');
        if (!/^HTTP\/1\.1 200 /.test(text)) reject(new Error(`GET /bytes answered ${text.split('\r\n')[0] ?? ''}`));
        const m = /\r\ncontent-length:\s*(\d+)/i.exec(text);
        length = m ? Number(m[1]) : undefined;
        body += head.length - end - 4;
      } else {
        body += chunk.length;
      }
      for (const w of [...waiters]) {
        if (body >= w.bytes) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
    });
    socket.on('end', () => resolve(body));
    socket.on('error', reject);
    socket.on('close', () => resolve(body));
  });
  return {
    socket,
    received: () => body,
    contentLength: () => length,
    done,
    reached: (bytes) => (body >= bytes ? Promise.resolve() : new Promise((resolve) => waiters.push({ bytes, resolve }))),
  };
}

describe('streams through a forward', () => {
  let hosts: TempHosts;
  let sidecar: Sidecar;
  let ip: string;

  before(async () => {
    hosts = tempHosts();
    sidecar = startSidecar(svcArgs({ hostsPath: hosts.path, extra: ['-f', 'metadata.name=web'] }));
    ip = (await sidecar.forward('web.demo.admin')).ip ?? '';
    assert.match(ip, /^127\.1\.27\.\d+$/);
    await listening(ip, 80);
  });
  after(async () => {
    await sidecar?.stop();
    hosts?.remove();
  });

  it('a reset of one connection mid-transfer leaves a parallel connection working and the forward Active', { timeout: 120_000 }, async () => {
    const linesBefore = sidecar.lines().length;
    const big = download(ip, 80, GiB);
    const other = download(ip, 80, 64 * MiB);
    const otherDone = other.done.catch((error: unknown) => error);
    big.done.catch(() => undefined);
    await withTimeout(Promise.all([big.reached(8 * MiB), other.reached(1 * MiB)]), 30_000, 'both downloads under way');
    // Hold the other one mid-transfer while the first is reset, so both are open at that moment.
    other.socket.pause();
    const resetAt = big.received();
    big.socket.resetAndDestroy();
    other.socket.resume();
    const result = await withTimeout(otherDone, 60_000, 'the parallel download');
    assert.equal(result, 64 * MiB, `the parallel connection got all of its body (reset one at ${(resetAt / MiB).toFixed(1)} MiB)`);
    assert.equal(other.contentLength(), 64 * MiB);
    const after = sidecar.lines().slice(linesBefore).filter((l) => l.id === 'web.demo.admin');
    assert.deepEqual(after.filter((l) => l.status !== 'ACTIVE').map((l) => l.line), [], 'the forward never left Active');
    assert.equal(sidecar.latest('web.demo.admin')?.status, 'ACTIVE');
    const pods = await deploymentPods('web');
    assert.ok(pods.includes((await whoAnswers(`http://${ip}/`)).pod), 'a new connection works after the reset');
  });

  it('1 GiB to a reader that pauses: exactly 1 GiB delivered, sidecar RSS growth under 64 MB', { timeout: 300_000 }, async () => {
    // Warm up: buffers and the tunnel code paths are allocated once, before the baseline.
    const warm = download(ip, 80, 16 * MiB);
    assert.equal(await warm.done, 16 * MiB);
    const baseline = rssBytes(sidecar.pid);
    let peak = baseline;
    const sampler = setInterval(() => {
      try {
        peak = Math.max(peak, rssBytes(sidecar.pid));
      } catch {
        /* the process is gone: the test fails below */
      }
    }, 100);
    const started = Date.now();
    let paused = 0;
    try {
      const d = download(ip, 80, GiB);
      const done = d.done;
      done.catch(() => undefined);
      for (const at of [128 * MiB, 384 * MiB, 640 * MiB]) {
        await withTimeout(d.reached(at), 120_000, `${at / MiB} MiB received`);
        d.socket.pause();
        const from = Date.now();
        // The reader stalls for 2 s: the sidecar must stop reading from the tunnel, not buffer.
        await pause(2000);
        peak = Math.max(peak, rssBytes(sidecar.pid));
        paused += Date.now() - from;
        d.socket.resume();
      }
      const total = await withTimeout(done, 240_000, 'the 1 GiB download');
      const seconds = (Date.now() - started) / 1000;
      const growth = peak - baseline;
      console.log(`1 GiB through web's forward: ${(GiB / MiB / seconds).toFixed(1)} MB/s wall clock, `
        + `${(GiB / MiB / (seconds - paused / 1000)).toFixed(1)} MB/s excluding ${paused} ms of reader pauses; `
        + `sidecar RSS baseline ${(baseline / MiB).toFixed(1)} MB, peak ${(peak / MiB).toFixed(1)} MB, growth ${(growth / MiB).toFixed(1)} MB`);
      assert.equal(d.contentLength(), GiB);
      assert.equal(total, GiB, 'exactly 1 GiB arrived');
      assert.ok(growth < 64 * MiB, `RSS grew by ${(growth / MiB).toFixed(1)} MB (limit 64 MB)`);
    } finally {
      clearInterval(sampler);
    }
    assert.ok(sidecar.running);
    await waitFor('web still answering', async () => (await whoAnswers(`http://${ip}/`)).namespace === 'demo', 10_000, 50);
  });
});
