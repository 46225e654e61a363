import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dataChannel, encodePort, errorChannel, PrefixStripper } from '../../../sidecar/src/tunnel/channels';

describe('port-forward channels', () => {
  it('numbers data and error channels per port', () => {
    assert.deepEqual([dataChannel(0), errorChannel(0), dataChannel(1), errorChannel(1)], [0, 1, 2, 3]);
  });

  it('encodes the port prefix as uint16 little-endian', () => {
    assert.deepEqual([...encodePort(5432)], [0x38, 0x15]);
    assert.deepEqual([...encodePort(80)], [80, 0]);
  });

  it('strips a prefix that arrives as a message of its own', () => {
    const s = new PrefixStripper(2);
    assert.equal(s.strip(0, encodePort(8080)).length, 0);
    assert.equal(s.complete, false);
    assert.equal(s.strip(1, encodePort(8080)).length, 0);
    assert.equal(s.complete, true);
    assert.equal(s.port(0), 8080);
    assert.equal(s.port(1), 8080);
    assert.equal(s.strip(0, Buffer.from('data')).toString(), 'data');
  });

  it('strips a prefix split over messages and one followed by payload', () => {
    const s = new PrefixStripper(2);
    const p = encodePort(0x1234);
    assert.equal(s.strip(0, p.subarray(0, 1)).length, 0);
    assert.equal(s.port(0), undefined);
    assert.equal(s.done(0), false);
    assert.equal(s.strip(0, Buffer.concat([p.subarray(1), Buffer.from('xy')])).toString(), 'xy');
    assert.equal(s.port(0), 0x1234);
    assert.equal(s.done(0), true);
    assert.equal(s.strip(1, Buffer.concat([p, Buffer.from('err')])).toString(), 'err');
    assert.equal(s.complete, true);
  });

  it('passes channels outside the expected range through untouched', () => {
    const s = new PrefixStripper(2);
    const b = Buffer.from([1, 2, 3]);
    assert.equal(s.strip(5, b), b);
    assert.equal(s.done(5), true);
  });
});
