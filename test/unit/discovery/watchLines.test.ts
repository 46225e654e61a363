import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WatchLines, type WatchEvent } from '../../../sidecar/src/discovery/watchLines';

interface Obj { metadata: { name: string; resourceVersion: string } }

const events: WatchEvent<Obj>[] = [
  { type: 'ADDED', object: { metadata: { name: 'a', resourceVersion: '1' } } },
  { type: 'MODIFIED', object: { metadata: { name: 'a\u00e9\u4e16', resourceVersion: '2' } } },
  { type: 'BOOKMARK', object: { metadata: { name: '', resourceVersion: '3' } } },
  { type: 'DELETED', object: { metadata: { name: 'a', resourceVersion: '4' } } },
  { type: 'ERROR', object: { code: 410, message: 'too old resource version' } },
];
const body = Buffer.from(events.map((e) => `${JSON.stringify(e)}\n`).join(''));

function parse(chunks: Buffer[]): WatchEvent<Obj>[] {
  const seen: WatchEvent<Obj>[] = [];
  const lines = new WatchLines<Obj>((e) => seen.push(e));
  for (const c of chunks) lines.push(c);
  return seen;
}

describe('watch response lines', () => {
  it('parses the events of one chunk', () => {
    assert.deepEqual(parse([body]), events);
  });

  it('parses the same events cut at every byte, inside multi-byte characters too', () => {
    for (let cut = 1; cut < body.length; cut++) {
      assert.deepEqual(parse([body.subarray(0, cut), body.subarray(cut)]), events, `cut at ${cut}`);
    }
    assert.deepEqual(parse([...body].map((b) => Buffer.from([b]))), events, 'one byte at a time');
  });

  it('holds back a line until its newline arrives', () => {
    const seen = parse([body.subarray(0, body.indexOf(10))]);
    assert.deepEqual(seen, []);
  });

  it('refuses what is not a watch event', () => {
    assert.throws(() => parse([Buffer.from('not json\n')]), /not JSON/);
    assert.throws(() => parse([Buffer.from('{"kind":"Status","code":500}\n')]), /not an event/);
    assert.throws(() => parse([Buffer.from('{"type":"ADDED"}\n')]), /not an event/);
  });
});
