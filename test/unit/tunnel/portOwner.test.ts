import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, describe, it } from 'node:test';
import { blocks, findPortHolder, parseLsof, parseProcNetTcp } from '../../../sidecar/src/tunnel/portOwner';

const tcp = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 011B017F:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 4343 1 0000000000000000 20 4 30 10 -1
   2: 00000000:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000   999        0 4444 1 0000000000000000 100 0 0 10 0
`;
const tcp6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0000000000000000FFFF0000011B017F:01BB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4545 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000000000000:1538 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4646 1 0000000000000000 100 0 0 10 0
`;

describe('port owner', () => {
  it('reads listening sockets from /proc/net/tcp (little-endian words, big-endian port)', () => {
    assert.deepEqual(parseProcNetTcp(tcp, true), [
      { ip: '127.1.27.1', port: 80, inode: 4242 },
      { ip: '0.0.0.0', port: 3306, inode: 4444 },
    ]);
  });

  it('reads IPv6 and v4-mapped listeners from /proc/net/tcp6', () => {
    assert.deepEqual(parseProcNetTcp(tcp6, true), [
      { ip: '0:0:0:0:0:ffff:7f01:1b01', port: 443, inode: 4545 },
      { ip: '0:0:0:0:0:0:0:0', port: 5432, inode: 4646 },
    ]);
  });

  it('knows which listeners stop an address from being bound', () => {
    const [exact, wildcard] = parseProcNetTcp(tcp, true);
    const [mapped, any6] = parseProcNetTcp(tcp6, true);
    assert.equal(blocks(exact!, '127.1.27.1', 80), true);
    assert.equal(blocks(exact!, '127.1.27.2', 80), false);
    assert.equal(blocks(exact!, '127.1.27.1', 81), false);
    assert.equal(blocks(wildcard!, '127.1.27.9', 3306), true);
    assert.equal(blocks(mapped!, '127.1.27.1', 443), true);
    assert.equal(blocks(mapped!, '127.1.27.2', 443), false);
    assert.equal(blocks(any6!, '127.1.27.2', 5432), true);
  });

  it('reads lsof -F pcn output (macOS)', () => {
    const out = 'p4242\ncnginx\nf6\nn127.0.0.1:8080\nf7\nn*:80\np77\ncpostgres\nf5\nn[::1]:5432\n';
    assert.deepEqual(parseLsof(out, '127.1.27.1', 80), { pid: 4242, command: 'nginx' });
    assert.deepEqual(parseLsof(out, '127.0.0.1', 8080), { pid: 4242, command: 'nginx' });
    assert.equal(parseLsof(out, '127.1.27.1', 8080), undefined);
    assert.equal(parseLsof('', '127.0.0.1', 80), undefined);
  });

  describe('on this machine', { skip: process.platform !== 'linux' && 'Linux /proc only' }, () => {
    const server = net.createServer();
    after(() => server.close());

    it('finds the process listening on an address', async () => {
      await new Promise<void>((resolve) => server.listen(0, '127.1.27.211', () => resolve()));
      const port = (server.address() as net.AddressInfo).port;
      const holder = await findPortHolder('127.1.27.211', port);
      assert.equal(holder?.pid, process.pid);
      assert.equal(holder?.command, 'node');
      assert.equal(await findPortHolder('127.1.27.212', port), undefined);
    });
  });
});
