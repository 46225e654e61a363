import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KubeForwardError } from '../../../sidecar/src/errors';
import { IpAllocator } from '../../../sidecar/src/ipalloc/allocator';
import { forwardId, parseForwardId } from '../../../sidecar/src/ipalloc/keys';
import { parseReservation, reservation } from '../../../sidecar/src/ipalloc/reservation';

const code = (expected: string, pattern?: RegExp) => (error: unknown): boolean => {
  assert.ok(error instanceof KubeForwardError, String(error));
  assert.equal(error.code, expected);
  if (pattern) assert.match(error.message, pattern);
  return true;
};

describe('IP allocation', () => {
  it('hands out 127.[1+cluster].[27+namespace].n from .1, in order of first use', () => {
    const a = new IpAllocator();
    assert.equal(a.allocate('web.shop.kind', 'kind', 'shop'), '127.1.27.1');
    assert.equal(a.allocate('api.shop.kind', 'kind', 'shop'), '127.1.27.2');
    assert.equal(a.allocate('web.billing.kind', 'kind', 'billing'), '127.1.28.1');
    assert.equal(a.allocate('web.shop.prod', 'prod', 'shop'), '127.2.27.1');
    assert.deepEqual(a.indexes('prod', 'shop'), { clusterIndex: 1, namespaceIndex: 0 });
  });

  it('gives the same id the same IP for the allocator\'s life', () => {
    const a = new IpAllocator();
    const first = a.allocate('web.shop.kind', 'kind', 'shop');
    a.allocate('api.shop.kind', 'kind', 'shop');
    assert.equal(a.allocate('web.shop.kind', 'kind', 'shop'), first);
    assert.equal(a.allocateKey({ context: 'kind', namespace: 'shop', service: 'web' }), first);
    assert.equal(a.ipOf('web.shop.kind'), first);
    assert.deepEqual(a.entries(), [['web.shop.kind', '127.1.27.1'], ['api.shop.kind', '127.1.27.2']]);
  });

  it('gives each pod of a headless service its own IP', () => {
    const a = new IpAllocator();
    assert.equal(a.allocate('db-0.db.shop.kind', 'kind', 'shop'), '127.1.27.1');
    assert.equal(a.allocate('db-1.db.shop.kind', 'kind', 'shop'), '127.1.27.2');
  });

  it('follows explicit indexes (the command line order) over first use', () => {
    const a = new IpAllocator();
    a.preassign(['kind', 'prod'], ['shop', 'billing']);
    assert.equal(a.allocate('web.billing.prod', 'prod', 'billing'), '127.2.28.1');
    a.setClusterIndex('stage', 5);
    assert.equal(a.allocate('web.shop.stage', 'stage', 'shop'), '127.6.27.1');
    assert.equal(a.allocate('web.x.other', 'other', 'x'), '127.3.27.1');
    assert.throws(() => a.setClusterIndex('kind', 1), code('INDEX_CONFLICT', /already has index 0/));
    assert.throws(() => a.setClusterIndex('new', 0), code('INDEX_CONFLICT', /belongs to context "kind"/));
    assert.throws(() => a.setNamespaceIndex('kind', 'new', 1), code('INDEX_CONFLICT'));
    assert.throws(() => a.setClusterIndex('new', -1), code('INVALID_INDEX'));
  });

  it('numbers namespaces across contexts in kubefwd 1.25\'s global mode', () => {
    const a = new IpAllocator({ namespaceIndexing: 'global' });
    a.allocate('web.shop.kind', 'kind', 'shop');
    assert.equal(a.allocate('web.shop.prod', 'prod', 'shop'), '127.2.28.1');
  });

  it('gives a reserved IP to the forward it names and to nobody else', () => {
    const a = new IpAllocator({ reservations: [parseReservation('api.shop:127.1.27.1'), parseReservation('db.shop.kind:127.9.9.9')] });
    assert.equal(a.allocate('web.shop.kind', 'kind', 'shop'), '127.1.27.2');
    assert.equal(a.allocate('api.shop.kind', 'kind', 'shop'), '127.1.27.1');
    assert.equal(a.allocate('db.shop.kind', 'kind', 'shop'), '127.9.9.9');
    assert.equal(a.allocate('other.shop.kind', 'kind', 'shop'), '127.1.27.3');
  });

  it('matches kubefwd\'s other reservation forms, bare names only where they apply', () => {
    const a = new IpAllocator({
      reservations: ['api:127.5.0.1', 'api.svc.cluster.local:127.5.0.9', 'web.billing.svc.cluster.local:127.5.0.2', 'web.prod:127.5.0.3',
        'db-1.db.shop:127.5.0.4', 'cache.shop.svc.cluster.arn-aws-eks-us-east-1-1-cluster-x:127.5.0.5'].map((r) => parseReservation(r)),
    });
    a.preassign(['kind', 'prod'], ['shop', 'billing']);
    assert.equal(a.allocate('api.billing.kind', 'kind', 'billing'), '127.1.28.1', 'bare name is only the first namespace');
    assert.equal(a.allocate('api.shop.kind', 'kind', 'shop'), '127.5.0.1');
    assert.equal(a.allocate('web.billing.kind', 'kind', 'billing'), '127.5.0.2');
    assert.equal(a.allocate('web.shop.prod', 'prod', 'shop'), '127.5.0.3');
    assert.equal(a.allocate('db-1.db.shop.kind', 'kind', 'shop'), '127.5.0.4');
    assert.equal(a.allocateKey({ context: 'arn:aws:eks:us-east-1:1:cluster/x', namespace: 'shop', service: 'cache' }), '127.5.0.5');
  });

  it('lets a headless service\'s first pod take the service\'s reservation', () => {
    const a = new IpAllocator({ reservations: [parseReservation('db.shop:127.1.27.40')] });
    assert.equal(a.allocate('db-1.db.shop.kind', 'kind', 'shop'), '127.1.27.1');
    assert.equal(a.allocateKey({ context: 'kind', namespace: 'shop', service: 'db', pod: 'db-0', answersForService: true }), '127.1.27.40');
  });

  it('warns and falls back when a reserved IP already serves another forward', () => {
    const warnings: string[] = [];
    const a = new IpAllocator({ reservations: [parseReservation('db.shop:127.1.27.40')], onWarning: (c, m) => warnings.push(`${c} ${m}`) });
    a.allocateKey({ context: 'kind', namespace: 'shop', service: 'db', pod: 'db-0', answersForService: true });
    assert.equal(a.allocateKey({ context: 'kind', namespace: 'shop', service: 'db', pod: 'db-1', answersForService: true }), '127.1.27.1');
    assert.match(warnings[0] ?? '', /^RESERVATION_TAKEN 127\.1\.27\.40 .* already serves db-0\.db\.shop\.kind/);
  });

  it('starts from a fwdconf base IP', () => {
    const a = new IpAllocator({ baseIp: '127.50.50.10' });
    assert.equal(a.allocate('web.shop.kind', 'kind', 'shop'), '127.50.50.10');
    assert.equal(a.allocate('web.shop.prod', 'prod', 'shop'), '127.51.50.10');
    assert.throws(() => new IpAllocator({ baseIp: '10.0.0.1' }), code('INVALID_BASE_IP', /127\.0\.0\.0\/8/));
    assert.throws(() => new IpAllocator({ baseIp: '127.0.0.255' }), code('INVALID_BASE_IP', /end in 1–254/));
  });

  it('fails with IP_EXHAUSTED naming the range after .254, and keeps the other ranges working', () => {
    const a = new IpAllocator({ reservations: [parseReservation('held.shop:127.1.27.100')] });
    for (let i = 1; i <= 253; i++) a.allocate(`s${i}.shop.kind`, 'kind', 'shop');
    assert.equal(a.ipOf('s253.shop.kind'), '127.1.27.254');
    assert.throws(() => a.allocate('one-more.shop.kind', 'kind', 'shop'),
      code('IP_EXHAUSTED', /127\.1\.27\.1–127\.1\.27\.254 \(namespace "shop" of context "kind"\)/));
    assert.equal(a.allocate('held.shop.kind', 'kind', 'shop'), '127.1.27.100');
    assert.equal(a.allocate('web.billing.kind', 'kind', 'billing'), '127.1.28.1');
  });

  it('fails with IP_EXHAUSTED when a namespace or context index runs past the octet', () => {
    const a = new IpAllocator();
    a.setNamespaceIndex('kind', 'far', 229);
    assert.throws(() => a.allocate('web.far.kind', 'kind', 'far'), code('IP_EXHAUSTED', /third octet 256/));
    a.setClusterIndex('last', 254);
    assert.equal(a.allocate('web.shop.last', 'last', 'shop'), '127.255.27.1');
    const b = new IpAllocator({ baseIp: '127.2.27.1' });
    b.setClusterIndex('late', 254);
    assert.throws(() => b.allocate('web.shop.late', 'late', 'shop'), code('IP_EXHAUSTED', /context "late" has index 254, which would need second octet 256/));
  });

  it('refuses bad reservations', () => {
    assert.throws(() => parseReservation('api.shop'), code('INVALID_RESERVATION', /expected NAME:IP/));
    assert.throws(() => parseReservation(':127.0.0.1'), code('INVALID_RESERVATION'));
    assert.throws(() => parseReservation('api.shop:10.1.2.3'), code('INVALID_RESERVATION', /not in 127\.0\.0\.0\/8/));
    assert.throws(() => parseReservation('api.shop:127.1.27.010'), code('INVALID_RESERVATION', /not an IPv4 address/));
    assert.throws(() => parseReservation('api.shop:127.1.27'), code('INVALID_RESERVATION'));
    assert.throws(() => parseReservation('api.shop:127.1.27.256'), code('INVALID_RESERVATION'));
    assert.throws(() => new IpAllocator({ reservations: [parseReservation('a.x:127.3.3.1'), parseReservation('b.x:127.3.3.1')] }),
      code('INVALID_RESERVATION', /reserved twice: for a\.x \(-r\) and b\.x \(-r\)/));
  });

  it('parses reservations at the last colon, so ARN contexts can be named', () => {
    assert.deepEqual(parseReservation('API.shop.arn:aws:eks:us-east-1:1:cluster/x:127.1.2.3', 'settings'),
      { name: 'api.shop.arn:aws:eks:us-east-1:1:cluster/x', ip: '127.1.2.3', source: 'settings' });
  });

  it('lets a later reservation of the same name replace an earlier one', () => {
    const a = new IpAllocator({ reservations: [reservation('api.shop', '127.3.3.1', 'fwd.yml'), parseReservation('api.shop:127.3.3.2')] });
    assert.equal(a.allocate('api.shop.kind', 'kind', 'shop'), '127.3.3.2');
  });

  it('builds and splits forward ids', () => {
    assert.equal(forwardId({ context: 'a.b', namespace: 'shop', service: 'db', pod: 'db-0' }), 'db-0.db.shop.a.b');
    assert.deepEqual(parseForwardId('db-0.db.shop.a.b', 'a.b', 'shop'), { context: 'a.b', namespace: 'shop', service: 'db', pod: 'db-0' });
    assert.deepEqual(parseForwardId('web.shop.a.b', 'a.b', 'shop'), { context: 'a.b', namespace: 'shop', service: 'web' });
    assert.throws(() => parseForwardId('web.other.kind', 'kind', 'shop'), code('INVALID_FORWARD_ID'));
  });
});
