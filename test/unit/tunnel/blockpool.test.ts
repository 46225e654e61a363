import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BlockPool, BlockWriter } from '../../../sidecar/src/tunnel/blockpool';

interface Piece { bytes: Buffer; release: () => void }

function copyAll(writer: BlockWriter, src: Buffer): Piece[] {
  const pieces: Piece[] = [];
  writer.copy(src, (bytes, release) => pieces.push({ bytes, release }));
  return pieces;
}

describe('block pool', () => {
  it('copies bytes out of the source, which may then change', () => {
    const writer = new BlockWriter(new BlockPool(1024));
    const src = Buffer.from('hello, pool');
    const [piece] = copyAll(writer, src);
    src.fill(0);
    assert.equal(piece!.bytes.toString(), 'hello, pool');
  });

  it('splits a copy that crosses the end of a block into two pieces, each with its block', () => {
    const pool = new BlockPool(16);
    const writer = new BlockWriter(pool);
    copyAll(writer, Buffer.alloc(10, 1));
    const pieces = copyAll(writer, Buffer.from('abcdefghij'));
    assert.deepEqual(pieces.map((p) => p.bytes.toString()), ['abcdef', 'ghij']);
    assert.notEqual(pieces[0]!.bytes.buffer, pieces[1]!.bytes.buffer);
  });

  it('hands a block out again only after every copy in it was released and its writer moved on', () => {
    const pool = new BlockPool(16);
    const writer = new BlockWriter(pool);
    const first = copyAll(writer, Buffer.from('0123456789abcdef'));
    const second = copyAll(writer, Buffer.from('x'));
    assert.equal(pool.freeCount, 0);
    // The full block is retired but one copy in it is still out: it must not be reused yet.
    const other = new BlockWriter(pool);
    const fresh = copyAll(other, Buffer.from('y'));
    assert.notEqual(fresh[0]!.bytes.buffer, first[0]!.bytes.buffer);
    assert.equal(first[0]!.bytes.toString(), '0123456789abcdef');
    first[0]!.release();
    assert.equal(pool.freeCount, 1);
    const third = copyAll(new BlockWriter(pool), Buffer.from('reused'));
    assert.equal(third[0]!.bytes.buffer, first[0]!.bytes.buffer);
    // The current block of a writer is not free while it is current, even with no copy out.
    second[0]!.release();
    assert.equal(pool.freeCount, 0);
    writer.close();
    assert.equal(pool.freeCount, 1);
  });

  it('keeps at most maxFree blocks; the rest are left to the collector', () => {
    const pool = new BlockPool(8, 2);
    const pieces: Piece[] = [];
    for (let i = 0; i < 5; i++) {
      const w = new BlockWriter(pool);
      pieces.push(...copyAll(w, Buffer.from(String(i))));
      w.close();
    }
    for (const p of pieces) p.release();
    assert.equal(pool.freeCount, 2);
  });
});
