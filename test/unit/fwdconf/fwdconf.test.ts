import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { KubeForwardError } from '../../../sidecar/src/errors';
import { loadFwdConf, parseFwdConf } from '../../../sidecar/src/fwdconf/fwdconf';
import { IpAllocator } from '../../../sidecar/src/ipalloc/allocator';
import { parseReservation } from '../../../sidecar/src/ipalloc/reservation';

const dir = mkdtempSync(join(tmpdir(), 'kf-fwdconf-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const failsWith = (code: string, pattern: RegExp) => (error: unknown): boolean => {
  assert.ok(error instanceof KubeForwardError, String(error));
  assert.equal(error.code, code);
  assert.match(error.message, pattern);
  return true;
};

describe('fwdconf', () => {
  it('reads kubefwd\'s parser keys (example.fwdconf.yml)', () => {
    const conf = parseFwdConf([
      'baseUnreservedIP: 127.1.27.1',
      'serviceConfigurations:',
      '  - # name of the target service',
      '    name: myservice',
      '    ip: 127.1.28.1',
      '  - name: your-svc.your-namespace',
      '    ip: 127.1.28.2',
    ].join('\n'), 'fwd.yml');
    assert.deepEqual(conf, {
      file: 'fwd.yml', baseIp: '127.1.27.1',
      reservations: [
        { name: 'myservice', ip: '127.1.28.1', source: 'fwd.yml serviceConfigurations[0]' },
        { name: 'your-svc.your-namespace', ip: '127.1.28.2', source: 'fwd.yml serviceConfigurations[1]' },
      ],
    });
  });

  it('reads the keys kubefwd\'s docs show (baseIP, reservations of service/namespace/ip)', () => {
    const conf = parseFwdConf([
      'reservations:',
      '  - service: api-gateway',
      '    namespace: default',
      '    ip: 127.3.3.1',
      '  - service: cache',
      '    namespace: production',
      '    context: prod',
      '    ip: 127.3.3.3',
      'baseIP: 127.50.50.1',
    ].join('\n'), 'docs.yml');
    assert.equal(conf.baseIp, '127.50.50.1');
    assert.deepEqual(conf.reservations.map((r) => [r.name, r.ip]), [['api-gateway.default', '127.3.3.1'], ['cache.production.prod', '127.3.3.3']]);
  });

  it('feeds the allocator: base IP and reservations, with -r overriding the file', () => {
    const conf = parseFwdConf('baseIP: 127.60.1.1\nreservations:\n  - {service: api, namespace: shop, ip: 127.3.3.1}\n', 'f.yml');
    const a = new IpAllocator({ ...conf, reservations: [...conf.reservations, parseReservation('api.shop:127.3.3.9')] });
    assert.equal(a.allocate('api.shop.kind', 'kind', 'shop'), '127.3.3.9');
    assert.equal(a.allocate('web.shop.kind', 'kind', 'shop'), '127.60.1.1');
  });

  it('treats an empty file as no reservations', () => {
    assert.deepEqual(parseFwdConf('# nothing yet\n', 'e.yml'), { file: 'e.yml', reservations: [] });
  });

  it('names the file and the bad key in every error', () => {
    const bad = (text: string, pattern: RegExp): void => assert.throws(() => parseFwdConf(text, '/x/fwd.yml'), failsWith('BAD_FWDCONF', pattern));
    bad('serviceConfigurations: [\n', /^fwdconf \/x\/fwd\.yml: line \d+, column \d+: not valid YAML/);
    bad('- a\n- b\n', /fwd\.yml: must be a mapping/);
    bad('a: 1\n---\nb: 2\n', /holds 2 YAML documents/);
    bad('baseUnreservedIp: 127.1.27.1\n', /fwd\.yml: unknown key "baseUnreservedIp" \(accepted: baseUnreservedIP, baseIP/);
    bad('serviceConfigurations:\n  - name: a\n    ipaddr: 127.0.0.2\n', /serviceConfigurations\[0\]: unknown key "ipaddr"/);
    bad('serviceConfigurations:\n  - name: a\n', /serviceConfigurations\[0\]: has no ip/);
    bad('serviceConfigurations: {name: a}\n', /serviceConfigurations: must be a list/);
    bad('reservations:\n  - namespace: a\n    ip: 127.0.0.2\n', /reservations\[0\]: has neither name nor service/);
    bad('reservations:\n  - service: a\n    context: c\n    ip: 127.0.0.2\n', /reservations\[0\]: has a context but no namespace/);
    bad('reservations:\n  - name: a.b\n    namespace: b\n    ip: 127.0.0.2\n', /reservations\[0\]: name already says/);
    bad('serviceConfigurations:\n  - name: a\n    ip: 10.0.0.1\n', /serviceConfigurations\[0\]\.ip: .*not in 127\.0\.0\.0\/8/);
    bad('serviceConfigurations:\n  - name: a\n    ip: [1]\n', /serviceConfigurations\[0\]\.ip: must be a string/);
    bad('baseUnreservedIP: 192.168.0.1\n', /fwd\.yml: baseUnreservedIP: base IP: 192\.168\.0\.1 is not in 127\.0\.0\.0\/8/);
    bad('baseUnreservedIP: 127.1.27.1\nbaseIP: 127.2.27.1\n', /baseIP: 127\.2\.27\.1 differs from baseUnreservedIP 127\.1\.27\.1/);
    bad('serviceConfigurations:\n  - {name: a, ip: 127.3.3.1}\nreservations:\n  - {service: b, ip: 127.3.3.1}\n', /127\.3\.3\.1 is reserved twice/);
  });

  it('loads a file from disk, and says FWDCONF_UNREADABLE when it cannot', async () => {
    const file = join(dir, 'fwd.yml');
    writeFileSync(file, 'serviceConfigurations:\n  - name: web.demo\n    ip: 127.1.28.7\n');
    assert.deepEqual((await loadFwdConf(file)).reservations.map((r) => r.ip), ['127.1.28.7']);
    await assert.rejects(loadFwdConf(join(dir, 'missing.yml')), failsWith('FWDCONF_UNREADABLE', /cannot read fwdconf .*missing\.yml: .*ENOENT.*-z\/--fwd-conf/));
    const viaReader = await loadFwdConf('as-user.yml', () => Buffer.from('baseIP: 127.9.9.1\n'));
    assert.equal(viaReader.baseIp, '127.9.9.1');
  });
});
