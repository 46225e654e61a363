import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { kubectl } from '../../cluster/kubectl';
import { requireState } from '../../cluster/state';
import { waitFor } from '../../cluster/wait';
import { connectResult, listening, startSidecar, svcArgs, tempHosts, type ForwardLine, type Sidecar, type TempHosts } from '../../helpers/sidecar';
import { allPods, deploymentPods, greeting, whoAnswers } from './cluster';

/**
 * `kube-forward svc` against the real control plane: every service of demo on its own loopback
 * IP, answered by the pods that serve it; the kubefwd name ladder in the hosts file; services
 * created, changed and deleted while it runs.
 */

const IP_DEMO = /^127\.1\.27\.(\d{1,3})$/;
const IP_OTHER = /^127\.1\.28\.(\d{1,3})$/;

describe('svc -n demo: each service answered by its own pods', () => {
  let hosts: TempHosts;
  let sidecar: Sidecar;
  let lines: Map<string, ForwardLine>;

  before(async () => {
    requireState();
    hosts = tempHosts();
    sidecar = startSidecar(svcArgs({ hostsPath: hosts.path }));
    lines = await sidecar.all({
      'api.demo.admin': 'ACTIVE', 'db-0.db.demo.admin': 'ACTIVE', 'db-1.db.demo.admin': 'ACTIVE', 'db-2.db.demo.admin': 'ACTIVE',
      'dns.demo.admin': 'ACTIVE', 'ext.demo.admin': 'SKIPPED', 'legacy.demo.admin': 'ACTIVE', 'mysql-a.demo.admin': 'ACTIVE',
      'mysql-b.demo.admin': 'ACTIVE', 'web.demo.admin': 'ACTIVE',
    });
    // Names are written in batches after the forwards start: wait for the last one.
    await waitFor('every demo name in the hosts file', () => ['web', 'api', 'db-2.db', 'mysql-b', 'legacy', 'dns'].every((n) => hosts.ip(n)), 10_000, 50);
    await listening(lines.get('web.demo.admin')?.ip ?? '', 80);
  });
  after(async () => {
    await sidecar?.stop();
    hosts?.remove();
  });

  it('web answers from a ready pod of its Deployment on 20 fresh connections, never web-evicted or the migrate Job pod', async () => {
    const ip = hosts.ip('web');
    assert.ok(ip, 'web has an IP in the hosts file');
    assert.equal(lines.get('web.demo.admin')?.ip, ip, 'the output line and the hosts file agree on web\'s IP');
    const deployment = await deploymentPods('web');
    assert.equal(deployment.length, 2, `web runs 2 replicas: ${deployment.join(', ')}`);
    const decoys = (await allPods()).filter((p) => p === 'web-evicted' || p.startsWith('migrate-'));
    assert.equal(decoys.length, 2, `the evicted pod and the completed Job pod exist as decoys: ${decoys.join(', ')}`);
    const answered: string[] = [];
    for (let i = 0; i < 20; i++) {
      const info = await whoAnswers(`http://${ip}/`);
      assert.equal(info.namespace, 'demo');
      assert.equal(info.port, 8080, 'port 80 reaches the named targetPort http = 8080');
      answered.push(info.pod);
    }
    const wrong = answered.filter((p) => !deployment.includes(p));
    assert.deepEqual(wrong, [], `answers from pods outside web's Deployment ${deployment.join(', ')}`);
    assert.ok(!answered.some((p) => p === 'web-evicted' || p.startsWith('migrate-')));
    assert.equal(new Set(answered).size, 1, `a normal service is forwarded to one pod: ${[...new Set(answered)].join(', ')}`);
    assert.equal(answered[0], lines.get('web.demo.admin')?.pod, 'the answering pod is the one the output names');
  });

  it('mysql-a and mysql-b both listen on 3306, on different IPs, each answered by its own pod', async () => {
    const a = hosts.ip('mysql-a');
    const b = hosts.ip('mysql-b');
    assert.ok(a && b);
    assert.notEqual(a, b);
    assert.match(a, IP_DEMO);
    assert.match(b, IP_DEMO);
    const [podA] = await deploymentPods('mysql-a');
    const [podB] = await deploymentPods('mysql-b');
    assert.deepEqual(await greeting(a, 3306), { namespace: 'demo', pod: podA, port: 3306 });
    assert.deepEqual(await greeting(b, 3306), { namespace: 'demo', pod: podB, port: 3306 });
  });

  it('the headless db gives db-0.db, db-1.db and db-2.db their own IPs and pods; the first also answers as db and db.demo', async () => {
    const ips = new Set<string>();
    for (const pod of ['db-0', 'db-1', 'db-2']) {
      const ip = hosts.ip(`${pod}.db`);
      assert.ok(ip, `${pod}.db is in the hosts file`);
      assert.match(ip, IP_DEMO);
      assert.equal(hosts.ip(`${pod}.db.demo`), ip);
      ips.add(ip);
      assert.deepEqual(await greeting(ip, 5432), { namespace: 'demo', pod, port: 5432 });
    }
    assert.equal(ips.size, 3, 'one IP per pod');
    const first = hosts.ip('db-0.db');
    assert.equal(hosts.ip('db'), first, 'db is the first pod\'s IP');
    assert.equal(hosts.ip('db.demo'), first, 'db.demo is the first pod\'s IP');
    assert.equal((await greeting(hosts.ip('db.demo') ?? '', 5432)).pod, 'db-0');
  });

  it('legacy (no selector, EndpointSlice naming db-0) reaches db-0', async () => {
    const ip = hosts.ip('legacy');
    assert.ok(ip);
    assert.equal(lines.get('legacy.demo.admin')?.pod, 'db-0');
    assert.deepEqual(await greeting(ip, 5432), { namespace: 'demo', pod: 'db-0', port: 5432 });
  });

  it('dns: the UDP port is reported skipped while TCP 53 works', async () => {
    const line = lines.get('dns.demo.admin');
    assert.ok(line);
    assert.match(line.ports ?? '', /(^|,)53\/UDP \(skipped\)/, `the output line says UDP 53 is skipped: ${line.line}`);
    assert.match(line.ports ?? '', /(^|,)53(,|$)/, 'TCP 53 is forwarded');
    const ip = hosts.ip('dns');
    assert.ok(ip);
    const [pod] = await deploymentPods('dns');
    assert.deepEqual(await greeting(ip, 53), { namespace: 'demo', pod, port: 53 });
  });

  it('ext (ExternalName) is skipped with a reason and gets no names', () => {
    const line = lines.get('ext.demo.admin');
    assert.ok(line);
    assert.equal(line.status, 'SKIPPED');
    assert.ok((line.reason ?? '').length > 10, `a reason is given: ${line.line}`);
    assert.match(line.reason ?? '', /ExternalName/);
    assert.equal(hosts.ip('ext'), undefined);
    assert.equal(hosts.ip('ext.demo'), undefined);
  });

  it('the hosts file holds the kubefwd ladder for the first namespace, on 127.1.27.x, inside one block, the rest kept', () => {
    const ip = hosts.ip('web');
    assert.ok(ip);
    assert.match(ip, IP_DEMO);
    for (const name of ['web', 'web.demo', 'web.demo.svc', 'web.demo.svc.cluster.local']) assert.equal(hosts.ip(name), ip, name);
    for (const line of sidecar.current().values()) if (line.ip) assert.match(line.ip, IP_DEMO, line.line);
    const blocks = hosts.blocks();
    assert.equal(blocks.length, 1);
    assert.match(blocks[0]?.owner ?? '', new RegExp(`^pid=${sidecar.pid}(,|$)`), 'the block is owned by this sidecar');
    assert.ok(hosts.text().startsWith(hosts.original.toString('latin1')), 'what was in the file before is kept in front of the block');
  });
});

describe('svc -n demo,other: a second namespace drops the bare name', () => {
  let hosts: TempHosts;
  let sidecar: Sidecar | undefined;
  before(() => {
    hosts = tempHosts();
  });
  after(async () => {
    await sidecar?.stop();
    hosts.remove();
  });

  it('names web.other on 127.1.28.x, keeps bare web for demo on 127.1.27.x, and each answers from its namespace', async () => {
    sidecar = startSidecar(svcArgs({ hostsPath: hosts.path, namespaces: ['demo', 'other'] }));
    const webDemo = await sidecar.forward('web.demo.admin');
    const webOther = await sidecar.forward('web.other.admin');
    await sidecar.forward('cache.other.admin');
    await waitFor('web.other and cache.other in the hosts file', () => hosts.ip('web.other') && hosts.ip('cache.other'), 10_000, 50);
    assert.match(webDemo.ip ?? '', IP_DEMO);
    assert.match(webOther.ip ?? '', IP_OTHER);
    assert.equal(hosts.ip('web'), webDemo.ip, 'bare web is demo\'s');
    assert.equal(hosts.ip('web.demo'), webDemo.ip);
    assert.equal(hosts.ip('web.other'), webOther.ip);
    assert.equal(hosts.ip('web.other.svc.cluster.local'), webOther.ip);
    assert.equal(hosts.ip('cache'), undefined, 'other\'s services get no bare name');
    assert.match(hosts.ip('cache.other') ?? '', IP_OTHER);
    assert.ok(!webOther.names.includes('web'), `web.other's names leave out the bare name: ${webOther.names.join(',')}`);
    const otherPods = await deploymentPods('web', 'other');
    const demoPods = await deploymentPods('web', 'demo');
    const fromOther = await whoAnswers(`http://${webOther.ip}/`);
    assert.equal(fromOther.namespace, 'other');
    assert.ok(otherPods.includes(fromOther.pod), `${fromOther.pod} is one of other's web pods ${otherPods.join(', ')}`);
    const fromDemo = await whoAnswers(`http://${hosts.ip('web')}/`);
    assert.equal(fromDemo.namespace, 'demo');
    assert.ok(demoPods.includes(fromDemo.pod));
  });
});

describe('svc -n demo follows services created, changed and deleted while it runs', () => {
  const name = 'kf-e2e-late';
  let hosts: TempHosts;
  let sidecar: Sidecar | undefined;
  const manifest = (port: number) => JSON.stringify({
    apiVersion: 'v1', kind: 'Service',
    metadata: { name, namespace: 'demo', labels: { 'kube-forward-test': 'engine-e2e' } },
    spec: { selector: { app: 'web' }, ports: [{ name: 'http', port, targetPort: 'http' }] },
  });
  before(async () => {
    await kubectl(['delete', 'service', name, '-n', 'demo', '--ignore-not-found'], { context: 'admin' });
    hosts = tempHosts();
    sidecar = startSidecar(svcArgs({ hostsPath: hosts.path }));
    await sidecar.forward('web.demo.admin');
  });
  after(async () => {
    await sidecar?.stop();
    hosts.remove();
    await kubectl(['delete', 'service', name, '-n', 'demo', '--ignore-not-found'], { context: 'admin' });
  });

  const id = `${name}.demo.admin`;
  let ip = '';

  it('a service created after the start gets a listener and its names within seconds', async () => {
    assert.ok(sidecar);
    assert.equal(sidecar.latest(id), undefined);
    const webPods = await deploymentPods('web');
    await kubectl(['apply', '-f', '-'], { context: 'admin', input: manifest(80) });
    // From when the Service exists: kubectl's own start-up is no part of the sidecar's reaction.
    const created = Date.now();
    const active = await sidecar.forward(id, (l) => l.status === 'ACTIVE', 10_000);
    ip = await waitFor(`${name}.demo in the hosts file`, () => hosts.ip(`${name}.demo`), 10_000, 50);
    const appeared = Date.now() - created;
    console.log(`service ${name} created → ACTIVE with its hosts entry in ${appeared} ms`);
    assert.ok(appeared < 10_000, `appeared within 10 s (took ${appeared} ms)`);
    assert.equal(active.ip, ip);
    assert.match(ip, IP_DEMO);
    assert.equal(hosts.ip(name), ip);
    await listening(ip, 80);
    assert.ok(webPods.includes((await whoAnswers(`http://${ip}/`)).pod));
  });

  it('a service whose port changes is re-forwarded: the new port answers, the old one is refused, the output says so', async () => {
    assert.ok(sidecar && ip, 'the service was forwarded by the previous test');
    const webPods = await deploymentPods('web');
    const changed = Date.now();
    await kubectl(['apply', '-f', '-'], { context: 'admin', input: manifest(8081) });
    await waitFor(`${ip}:8081 listening`, async () => (await connectResult(ip, 8081)) === 'connected', 10_000, 50);
    assert.equal(await waitFor(`${ip}:80 refused`, async () => (await connectResult(ip, 80)) === 'ECONNREFUSED' ? 'ECONNREFUSED' : undefined, 10_000, 50), 'ECONNREFUSED');
    console.log(`ports 80 → 8081: re-forwarded in ${Date.now() - changed} ms`);
    // What the sidecar reports (its output, and the extension's state) must say so too, before any
    // HTTP exchange on the new port happens to publish the forward again.
    const moved = await sidecar.forward(id, (l) => l.status === 'ACTIVE' && l.ports === '8081', 5000, `${id} reported ACTIVE on 8081`);
    assert.equal(moved.ip, ip, 'the service keeps its IP');
    const answer = await whoAnswers(`http://${ip}:8081/`);
    assert.ok(webPods.includes(answer.pod));
  });

  it('a deleted service loses its listener and its names', async () => {
    assert.ok(sidecar && ip, 'the service was forwarded by the first test');
    // Whatever the previous test left, the service listens on 8081 now.
    await kubectl(['apply', '-f', '-'], { context: 'admin', input: manifest(8081) });
    await waitFor(`${ip}:8081 listening`, async () => (await connectResult(ip, 8081)) === 'connected', 10_000, 50);
    const deleted = Date.now();
    await kubectl(['delete', 'service', name, '-n', 'demo'], { context: 'admin' });
    await sidecar.forward(id, (l) => l.status === 'REMOVED', 10_000, `${id} REMOVED`);
    await waitFor(`${name}.demo gone from the hosts file`, () => hosts.ip(`${name}.demo`) === undefined && hosts.ip(name) === undefined, 10_000, 50);
    assert.equal(await waitFor(`${ip}:8081 refused`, async () => (await connectResult(ip, 8081)) === 'ECONNREFUSED' ? 'ECONNREFUSED' : undefined, 10_000, 50), 'ECONNREFUSED');
    console.log(`service ${name} deleted → listener and names gone in ${Date.now() - deleted} ms`);
    assert.ok(!hosts.text().includes(name));
    assert.ok(sidecar.running, 'the sidecar kept running');
    assert.equal((await whoAnswers(`http://${hosts.ip('web')}/`)).namespace, 'demo', 'the other forwards are untouched');
  });
});
