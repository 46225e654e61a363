import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LoopbackAliases, aliasCommands } from '../../../sidecar/src/privilege/loopback';

describe('loopback aliases', () => {
  it('needs none on Linux, ifconfig lo0 alias on macOS (never for 127.0.0.1)', () => {
    assert.equal(aliasCommands('127.1.27.1', 'linux'), undefined);
    assert.deepEqual(aliasCommands('127.1.27.1', 'darwin'), {
      add: ['ifconfig', 'lo0', 'alias', '127.1.27.1', 'up'], remove: ['ifconfig', 'lo0', '-alias', '127.1.27.1'],
    });
    assert.equal(aliasCommands('127.0.0.1', 'darwin'), undefined);
  });

  it('refuses anything that is not a loopback IPv4 address before running a command', () => {
    for (const bad of ['10.0.0.1', '127.1.1', '127.1.1.256', '127.0.0.1; rm -rf /', '::1']) {
      assert.throws(() => aliasCommands(bad, 'darwin'), /not a loopback IPv4 address/);
    }
  });

  it('adds each alias once and removes exactly the ones it added', async () => {
    const ran: string[] = [];
    const aliases = new LoopbackAliases('darwin', async (argv) => void ran.push(argv.join(' ')));
    await aliases.ensure('127.1.27.1');
    await aliases.ensure('127.1.27.1');
    await aliases.ensure('127.1.27.2');
    await aliases.ensure('127.0.0.1');
    assert.deepEqual(ran, ['ifconfig lo0 alias 127.1.27.1 up', 'ifconfig lo0 alias 127.1.27.2 up']);
    await aliases.releaseAll();
    assert.deepEqual(ran.slice(2).sort(), ['ifconfig lo0 -alias 127.1.27.1', 'ifconfig lo0 -alias 127.1.27.2']);
    assert.deepEqual(aliases.current, []);
  });

  it('runs nothing on Linux and reports a failed alias clearly', async () => {
    const ran: string[] = [];
    await new LoopbackAliases('linux', async (argv) => void ran.push(argv.join(' '))).ensure('127.1.27.9');
    assert.deepEqual(ran, []);
    const failing = new LoopbackAliases('darwin', async () => { throw new Error('Operation not permitted'); });
    await assert.rejects(failing.ensure('127.1.27.9'), /cannot add loopback alias 127\.1\.27\.9 .*Operation not permitted; this needs root/);
  });
});
