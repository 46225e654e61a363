import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KubeForwardError } from '../../../sidecar/src/errors';
import { isLoopbackV4, isValidHostname, isValidOwner, validateEntries } from '../../../sidecar/src/hostsfile/validate';

describe('hosts file validation', () => {
  it('accepts lowercase RFC 1123 names', () => {
    for (const name of ['web', 'web.demo', 'web.demo.svc.cluster.local', 'a', '0', 'db-0.db', 'x1-y2', `${'a'.repeat(63)}.b`]) {
      assert.ok(isValidHostname(name), name);
    }
    assert.ok(isValidHostname(`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`), '253 characters');
  });

  it('rejects everything else', () => {
    const bad = ['', 'Web', 'web.', '.web', 'web..demo', '-web', 'web-', 'web.-demo', 'we_b', 'web demo', 'web\nevil',
      'web#x', 'a'.repeat(64), `${'a'.repeat(63)}.`.repeat(4) + 'abc', 'wéb', '*.demo'];
    for (const name of bad) assert.equal(isValidHostname(name), false, JSON.stringify(name));
    assert.equal(isValidHostname(`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}`), false, '254 characters');
  });

  it('accepts only strict dotted quads in 127.0.0.0/8', () => {
    for (const ip of ['127.0.0.1', '127.1.27.1', '127.255.255.255', '127.0.0.0']) assert.ok(isLoopbackV4(ip), ip);
    for (const ip of ['128.0.0.1', '10.0.0.1', '127.0.0.256', '127.0.0', '127.0.0.1.1', '127.0.0.01', '0177.0.0.1',
      '127.1', ' 127.0.0.1', '127.0.0.1 ', '127.0.0.1\n', '::1', '::ffff:127.0.0.1', '127.0.0.+1', '127.0.0.1e0', '']) {
      assert.equal(isLoopbackV4(ip), false, JSON.stringify(ip));
    }
  });

  it('keeps owner tokens to one marker-safe word', () => {
    assert.ok(isValidOwner('pid=42,start=1234'));
    for (const owner of ['', 'a b', 'x\n# END', 'a'.repeat(101)]) assert.equal(isValidOwner(owner), false);
  });

  it('names the bad value in an INVALID_HOST_ENTRY error', () => {
    const check = (entries: unknown, needle: string) => assert.throws(
      () => validateEntries(entries as { ip: string; names: string[] }[]),
      (error: unknown) => error instanceof KubeForwardError && error.code === 'INVALID_HOST_ENTRY' && error.message.includes(needle),
    );
    check([{ ip: '10.1.2.3', names: ['web'] }], '"10.1.2.3"');
    check([{ ip: '127.0.0.1', names: ['ok', 'Bad'] }], '"Bad"');
    check([{ ip: '127.0.0.1', names: ['evil\n1.2.3.4 bank.com'] }], 'bank.com');
    check([{ ip: '127.0.0.1', names: 'web' }], '127.0.0.1');
    check([null], 'null');
    validateEntries([{ ip: '127.1.27.1', names: ['web', 'web.demo'] }, { ip: '127.1.27.2', names: [] }]);
  });
});
