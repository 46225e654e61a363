import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inflateSync } from 'node:zlib';
import {
  controlFrame, dataHeader, FLAG_FIN, HeaderEncoder, nameValueBlock, PING, pingFrame, rstStream, SpdyParser, SYN_REPLY, SYN_STREAM, synStream,
} from '../../../sidecar/src/tunnel/spdyframe';

interface Seen { kind: string; id?: number; type?: number; flags?: number; bytes?: string }

function parse(chunks: Buffer[]): Seen[] {
  const seen: Seen[] = [];
  const p = new SpdyParser({
    data: (id, chunk) => seen.push({ kind: 'data', id, bytes: chunk.toString('latin1') }),
    fin: (id) => seen.push({ kind: 'fin', id }),
    control: (type, flags, payload) => seen.push({ kind: 'control', type, flags, bytes: payload.toString('hex') }),
    error: (reason) => seen.push({ kind: 'error', bytes: reason }),
  });
  for (const c of chunks) p.push(c);
  return seen;
}

describe('SPDY/3.1 framing', () => {
  it('writes DATA headers: stream id, flags, 24-bit length', () => {
    assert.equal(dataHeader(3, FLAG_FIN, 0x010203).toString('hex'), '00000003' + '01010203');
    assert.equal(dataHeader(0x7fffffff, 0, 5).toString('hex'), '7fffffff' + '00000005');
  });

  it('writes control frames with version 3', () => {
    assert.equal(pingFrame(7).toString('hex'), '80030006' + '00000004' + '00000007');
    assert.equal(rstStream(5, 5).toString('hex'), '80030003' + '00000008' + '00000005' + '00000005');
  });

  it('header blocks are stored zlib blocks that inflate to the name/value block, one stream per session', () => {
    const enc = new HeaderEncoder();
    const pairs1 = [['streamType', 'error'], ['port', '8080'], ['requestid', '0']] as const;
    const pairs2 = [['streamtype', 'data'], ['port', '8080'], ['requestid', '0']] as const;
    const b1 = enc.encode(pairs1);
    const b2 = enc.encode(pairs2);
    assert.equal(b1.subarray(0, 2).toString('hex'), '7801');
    assert.notEqual(b2.subarray(0, 2).toString('hex'), '7801');
    // One zlib stream across both blocks, as the peer reads it (finished here with an empty final block).
    const whole = inflateSync(Buffer.concat([b1, b2, Buffer.from([0x01, 0x00, 0x00, 0xff, 0xff])]), { finishFlush: 2 });
    assert.deepEqual(whole, Buffer.concat([nameValueBlock(pairs1), nameValueBlock(pairs2)]));
    // Names go out in lower case, as SPDY/3 requires.
    assert.ok(nameValueBlock(pairs1).includes(Buffer.from('streamtype')));
  });

  it('SYN_STREAM carries id, no associated stream, priority, then the block', () => {
    const frame = synStream(1, Buffer.from('abc'), 0);
    assert.equal(frame.toString('hex'), '80030001' + '0000000d' + '00000001' + '00000000' + '0000' + '616263');
  });

  it('parses frames split at any byte, DATA as slices, FIN after the payload', () => {
    const frames = Buffer.concat([
      controlFrame(SYN_REPLY, 0, Buffer.from('00000003abcd', 'hex')),
      dataHeader(3, 0, 5), Buffer.from('hello'),
      dataHeader(3, FLAG_FIN, 0),
      controlFrame(PING, 0, Buffer.from('00000002', 'hex')),
    ]);
    const whole = parse([frames]);
    for (let split = 1; split < frames.length; split++) {
      const parts = parse([frames.subarray(0, split), frames.subarray(split)]);
      const merged = parts.reduce<Seen[]>((acc, s) => {
        const last = acc.at(-1);
        if (last && last.kind === 'data' && s.kind === 'data' && last.id === s.id) last.bytes += s.bytes!;
        else acc.push({ ...s });
        return acc;
      }, []);
      assert.deepEqual(merged, whole, `split at ${split}`);
    }
    assert.deepEqual(whole, [
      { kind: 'control', type: SYN_REPLY, flags: 0, bytes: '00000003abcd' },
      { kind: 'data', id: 3, bytes: 'hello' },
      { kind: 'fin', id: 3 },
      { kind: 'control', type: PING, flags: 0, bytes: '00000002' },
    ]);
  });

  it('refuses another SPDY version', () => {
    const frame = controlFrame(SYN_STREAM, 0, Buffer.alloc(10));
    frame.writeUInt16BE(0x8002, 0);
    assert.equal(parse([frame])[0]!.kind, 'error');
  });
});
