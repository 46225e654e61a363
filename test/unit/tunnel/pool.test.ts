import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TunnelPool, type PoolOptions } from '../../../sidecar/src/tunnel/pool';
import type { TunnelLike, TunnelTarget } from '../../../sidecar/src/tunnel/tunnel';
import { openTunnel } from '../../../sidecar/src/tunnel/websocket';
import { startFakeKubelet, type FakeKubelet } from './fakeKubelet';
import { until } from './wait';

const to = (pod: string, port = 80): TunnelTarget => ({ namespace: 'ns', pod, port });

describe('tunnel pool', () => {
  let fake: FakeKubelet;
  let opened: string[];
  const pools: TunnelPool[] = [];
  before(async () => (fake = await startFakeKubelet()));
  after(async () => {
    for (const p of pools) p.close();
    await fake.close();
  });

  function pool(options: PoolOptions): TunnelPool {
    opened = [];
    const p = new TunnelPool((target, signal) => {
      opened.push(target.pod);
      return openTunnel(fake.kc, { ...target, ...(signal ? { signal } : {}) });
    }, options);
    pools.push(p);
    return p;
  }

  function text(tunnel: TunnelLike): () => string {
    let t = '';
    tunnel.attach({ data: (b) => (t += b.toString()), closed: () => undefined });
    return () => t;
  }

  it('opens a spare after the first connection and hands it to the next', async () => {
    const p = pool({ size: 1, ttlMs: 10_000 });
    const first = await p.acquire(to('echo'));
    await until('a spare', () => (p.spareCount === 1 ? true : undefined));
    assert.equal(opened.length, 2);
    const second = await p.acquire(to('echo'));
    assert.notEqual(first, second);
    assert.equal(p.spareCount, 0);
    const got = text(second);
    second.send(Buffer.from('via spare'));
    await until('the echo through the spare', () => (got() === 'via spare' ? true : undefined));
    await until('the next spare', () => (p.spareCount === 1 ? true : undefined));
    assert.equal(opened.length, 3);
    first.destroy();
    second.destroy();
    p.close();
  });

  it('replaces a spare handed out when replenish() is called, or after refillDelayMs', async () => {
    const p = pool({ size: 1, ttlMs: 10_000, refillDelayMs: 60_000 });
    (await p.acquire(to('echo'))).destroy();
    await until('a spare', () => (p.spareCount === 1 ? true : undefined));
    const used = await p.acquire(to('echo'));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(opened.length, 2, 'nothing opened before replenish()');
    p.replenish();
    await until('the next spare', () => (p.spareCount === 1 ? true : undefined));
    assert.equal(opened.length, 3);
    used.destroy();
    const quick = pool({ size: 1, ttlMs: 10_000, refillDelayMs: 50 });
    (await quick.acquire(to('echo'))).destroy();
    await until('a spare', () => (quick.spareCount === 1 ? true : undefined));
    (await quick.acquire(to('echo'))).destroy();
    await until('the spare replaced without replenish()', () => (quick.spareCount === 1 ? true : undefined));
    assert.equal(opened.length, 3);
    p.close();
    quick.close();
  });

  it('tops the spares up in one batch once fewer than refillBelow are left', async () => {
    const p = pool({ size: 4, refillBelow: 2, ttlMs: 10_000 });
    const used: TunnelLike[] = [await p.acquire(to('echo'))];
    await until('four spares', () => (p.spareCount === 4 ? true : undefined));
    assert.equal(opened.length, 5);
    for (let i = 0; i < 2; i++) {
      used.push(await p.acquire(to('echo')));
      p.replenish();
    }
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(p.spareCount, 2, 'two handed out, none replaced while two are left');
    assert.equal(opened.length, 5);
    used.push(await p.acquire(to('echo')));
    p.replenish();
    await until('the batch', () => (p.spareCount === 4 ? true : undefined));
    assert.equal(opened.length, 8, 'three opened together');
    const got = text(used[3]!);
    used[3]!.send(Buffer.from('batched'));
    await until('the echo', () => (got() === 'batched' ? true : undefined));
    for (const t of used) t.destroy();
    p.close();
  });

  it('replaces a batch that aged out unused with refillBelow spares only', async () => {
    const p = pool({ size: 4, refillBelow: 2, ttlMs: 150, warmMs: 60_000 });
    (await p.acquire(to('echo'))).destroy();
    await until('the batch', () => (p.spareCount === 4 ? true : undefined));
    await until('a replacement after the batch aged out', () => (opened.length >= 7 ? true : undefined));
    let most = 0;
    const watch = setInterval(() => (most = Math.max(most, p.spareCount)), 5);
    await new Promise((r) => setTimeout(r, 400));
    clearInterval(watch);
    assert.ok(most <= 2, `at most two spares while idle (saw ${most})`);
    assert.ok(opened.length <= 1 + 4 + 2 * 4, `two replaced per ttlMs (${opened.length} opened)`);
    // A connection taking one brings the batch back.
    const used = await p.acquire(to('echo'));
    p.replenish();
    await until('the batch again', () => (p.spareCount >= 3 ? true : undefined));
    used.destroy();
    p.close();
  });

  it('keeps what a server-first backend said in the spare', async () => {
    const p = pool({ size: 1, ttlMs: 10_000 });
    (await p.acquire(to('greet', 3306))).destroy();
    await until('a spare', () => (p.spareCount === 1 ? true : undefined));
    const spare = await p.acquire(to('greet', 3306));
    await until('the greeting', () => (spare.heldAmount > 0 ? true : undefined));
    assert.equal(text(spare)(), 'hello 3306\n');
    spare.destroy();
    p.close();
  });

  it('closes spares older than the TTL, replacing them only while connections come', async () => {
    const cold = pool({ size: 1, ttlMs: 60, warmMs: 0 });
    (await cold.acquire(to('echo'))).destroy();
    await until('a spare', () => (cold.spareCount === 1 ? true : undefined));
    await until('the spare to expire', () => (cold.spareCount === 0 ? true : undefined));
    assert.equal(opened.length, 2, 'not replaced when cold');
    cold.close();

    const warm = pool({ size: 1, ttlMs: 60, warmMs: 60_000 });
    (await warm.acquire(to('echo'))).destroy();
    await until('two replacements', () => (opened.length >= 4 ? true : undefined));
    warm.close();
  });

  it('drops the spares of a target that changed', async () => {
    const p = pool({ size: 1, ttlMs: 10_000 });
    (await p.acquire(to('echo'))).destroy();
    await until('only the spare open', () => (p.spareCount === 1 && fake.open.size === 1 ? true : undefined));
    const other = await p.acquire(to('greet'));
    assert.deepEqual(opened, ['echo', 'echo', 'greet', 'greet']);
    // The connection and the new target's spare, without the old spare: three if it stayed.
    await until('the old spare to close', () => (p.spareCount === 1 && fake.open.size === 2 ? true : undefined));
    other.destroy();
    p.close();
  });

  it('never hands out a spare the kubelet already failed', async () => {
    const p = pool({ size: 1, ttlMs: 10_000 });
    const before = fake.open.size;
    (await p.acquire(to('refuse', 9999))).destroy();
    await until('the spare to open', () => (p.spareCount === 1 ? true : undefined));
    await until('the kubelet to close both', () => (fake.open.size <= before ? true : undefined));
    const next = await p.acquire(to('refuse', 9999));
    assert.equal(opened.length, 4, 'the dead spare was skipped: a new spare and a tunnel of its own');
    next.destroy();
    p.close();
  });

  it('opens nothing in advance with size 0, and closes spares on close', async () => {
    const off = pool({ size: 0 });
    (await off.acquire(to('echo'))).destroy();
    assert.equal(opened.length, 1);
    assert.equal(off.spareCount, 0);

    const p = pool({ size: 2, ttlMs: 10_000 });
    const before = fake.open.size;
    (await p.acquire(to('echo'))).destroy();
    await until('two spares', () => (p.spareCount === 2 ? true : undefined));
    p.close();
    assert.equal(p.spareCount, 0);
    await until('the spares to close', () => (fake.open.size <= before ? true : undefined));
  });
});
