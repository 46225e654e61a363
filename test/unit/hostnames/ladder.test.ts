import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hostnamesFor, type NameInput } from '../../../sidecar/src/hostnames/ladder';
import { Namer } from '../../../sidecar/src/hostnames/namer';
import { hostnameProblem, isValidHostname, kubefwdDashed, sanitizeContext } from '../../../sidecar/src/hostnames/rfc1123';

const ARN = 'arn:aws:eks:us-east-1:123456789012:cluster/prod';
const input = (over: Partial<NameInput> = {}): NameInput =>
  ({ service: 'api', namespace: 'shop', context: 'kind', clusterIndex: 0, namespaceIndex: 0, ...over });

describe('hostname ladder (kubefwd fwdport AddHosts)', () => {
  it('gives the first context and namespace the bare name, the namespace forms and the context forms', () => {
    assert.deepEqual(hostnamesFor(input()), {
      names: ['api', 'api.shop', 'api.shop.svc', 'api.shop.svc.cluster.local', 'api.shop.kind', 'api.shop.svc.kind', 'api.shop.svc.cluster.kind'],
      rejected: [],
    });
  });

  it('drops the bare name for other namespaces of the first context', () => {
    assert.deepEqual(hostnamesFor(input({ namespace: 'billing', namespaceIndex: 1 })).names,
      ['api.billing', 'api.billing.svc', 'api.billing.svc.cluster.local', 'api.billing.kind', 'api.billing.svc.kind', 'api.billing.svc.cluster.kind']);
  });

  it('gives other contexts only context-qualified forms, with svc.ctx for their first namespace', () => {
    assert.deepEqual(hostnamesFor(input({ context: 'prod', clusterIndex: 1 })).names,
      ['api.prod', 'api.shop.prod', 'api.shop.svc.prod', 'api.shop.svc.cluster.prod']);
    assert.deepEqual(hostnamesFor(input({ context: 'prod', clusterIndex: 1, namespaceIndex: 2 })).names,
      ['api.shop.prod', 'api.shop.svc.prod', 'api.shop.svc.cluster.prod']);
  });

  it('adds svc.domain for the first namespace and svc.ns.svc.cluster.domain in the first context', () => {
    assert.deepEqual(hostnamesFor(input({ domain: 'Local.Dev' })).names, [
      'api', 'api.local.dev', 'api.shop', 'api.shop.svc', 'api.shop.svc.cluster.local', 'api.shop.svc.cluster.local.dev',
      'api.shop.kind', 'api.shop.svc.kind', 'api.shop.svc.cluster.kind',
    ]);
    const other = hostnamesFor(input({ domain: 'local.dev', namespaceIndex: 1 })).names;
    assert.ok(!other.includes('api.local.dev'));
    assert.ok(other.includes('api.shop.svc.cluster.local.dev'));
    assert.ok(!hostnamesFor(input({ domain: 'local.dev', clusterIndex: 1 })).names.some((n) => n.includes('local.dev')));
  });

  it('names a headless pod pod.svc…, and its first pod also by the service names', () => {
    const pod = hostnamesFor(input({ service: 'db', pod: 'db-1' }));
    assert.deepEqual(pod.names, ['db-1.db', 'db-1.db.shop', 'db-1.db.shop.svc', 'db-1.db.shop.svc.cluster.local',
      'db-1.db.shop.kind', 'db-1.db.shop.svc.kind', 'db-1.db.shop.svc.cluster.kind']);
    const first = hostnamesFor(input({ service: 'db', pod: 'db-0', answersForService: true })).names;
    assert.deepEqual(first.slice(0, 2), ['db-0.db', 'db-0.db.shop']);
    for (const name of ['db', 'db.shop', 'db.shop.svc.cluster.local', 'db.shop.svc.cluster.kind']) assert.ok(first.includes(name), name);
    assert.equal(first.length, 14);
  });

  it('replaces an EKS ARN context by its sanitized form and reports the raw names', () => {
    const set = hostnamesFor(input({ context: ARN }));
    const clean = 'arn-aws-eks-us-east-1-123456789012-cluster-prod';
    assert.ok(set.names.includes(`api.shop.${clean}`));
    assert.ok(set.names.includes(`api.shop.svc.cluster.${clean}`));
    // kubefwd's fully dashed alias, kept where it fits in one 63-character label.
    assert.ok(set.names.includes(`api-shop-${clean}`));
    assert.ok(!set.names.includes(`api-shop-svc-cluster-${clean}`));
    assert.deepEqual(set.rejected.map((r) => r.name), [`api.shop.${ARN}`, `api.shop.svc.${ARN}`, `api.shop.svc.cluster.${ARN}`]);
    for (const name of set.names) assert.ok(isValidHostname(name), name);
  });

  it('sanitizes GKE and OpenShift contexts and lowercases uppercase ones without complaint', () => {
    assert.ok(hostnamesFor(input({ context: 'gke_proj_europe-west1_main' })).names.includes('api.shop.gke-proj-europe-west1-main'));
    assert.ok(hostnamesFor(input({ context: 'shop/api-ocp:6443/Admin' })).names.includes('api.shop.shop-api-ocp-6443-admin'));
    const upper = hostnamesFor(input({ context: 'Prod-EU' }));
    assert.ok(upper.names.includes('api.shop.prod-eu'));
    assert.deepEqual(upper.rejected, []);
  });

  it('drops and reports names that cannot be valid instead of writing garbage', () => {
    const set = hostnamesFor(input({ domain: 'bad_domain' }));
    assert.ok(set.names.every(isValidHostname));
    assert.deepEqual(set.rejected.map((r) => r.name), ['api.bad_domain', 'api.shop.svc.cluster.bad_domain']);
    const long = hostnamesFor(input({ context: 'x'.repeat(64) }));
    assert.ok(long.names.every((n) => !n.includes('xxxx')));
    assert.equal(long.rejected.length, 3);
    assert.match(long.rejected[0]?.reason ?? '', /63/);
  });

  it('adds kubefwd\'s dashed aliases only when asked', () => {
    const names = hostnamesFor(input({ kubefwdDashedAliases: true })).names;
    for (const n of ['api-shop', 'api-shop-svc', 'api-shop-svc-cluster-local', 'api-shop-kind']) assert.ok(names.includes(n), n);
    assert.ok(!hostnamesFor(input()).names.includes('api-shop'));
  });
});

describe('RFC 1123 helpers', () => {
  it('accepts lowercase label chains and explains what is wrong with others', () => {
    assert.equal(hostnameProblem('a-1.b2.c'), undefined);
    assert.match(hostnameProblem('A.b') ?? '', /uppercase/);
    assert.match(hostnameProblem('a..b') ?? '', /empty label/);
    assert.match(hostnameProblem('-a.b') ?? '', /label "-a"/);
    assert.match(hostnameProblem('a.b:c') ?? '', /label "b:c"/);
    assert.match(hostnameProblem('web.10') ?? '', /numeric/);
    assert.match(hostnameProblem(`${'a'.repeat(60)}.`.repeat(5)) ?? '', /253/);
    assert.match(hostnameProblem('') ?? '', /empty/);
  });

  it('sanitizes contexts into label chains and reproduces kubefwd\'s dashed form', () => {
    assert.equal(sanitizeContext(ARN), 'arn-aws-eks-us-east-1-123456789012-cluster-prod');
    assert.equal(sanitizeContext('my.ctx_name.'), 'my.ctx-name');
    assert.equal(sanitizeContext('::'), '');
    assert.equal(kubefwdDashed('---host.with.dots@x---'), 'host-with-dots-x');
  });

  it('Namer fills in indexes and reports each rejected name once', () => {
    const reported: string[] = [];
    const namer = new Namer({
      domain: 'dev',
      indexes: (ctx) => ({ clusterIndex: ctx === 'kind' ? 0 : 1, namespaceIndex: 0 }),
      onRejected: (r) => reported.push(r.name),
    });
    assert.deepEqual(namer.names('kind', 'shop', 'api', undefined, false).slice(0, 2), ['api', 'api.dev']);
    assert.deepEqual(namer.names('a:b', 'shop', 'api', undefined, false).slice(0, 1), ['api.a-b']);
    namer.names('a:b', 'shop', 'api', undefined, false);
    assert.deepEqual(reported, ['api.a:b', 'api.shop.a:b', 'api.shop.svc.a:b', 'api.shop.svc.cluster.a:b']);
  });
});
