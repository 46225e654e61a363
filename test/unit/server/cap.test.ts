import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MessageSizeCap } from '../../../sidecar/src/server/cap';

const frame = (body: string) => `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

function run(cap: MessageSizeCap, input: Buffer, chunk: number): Promise<{ out: Buffer; error?: Error }> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    cap.on('data', (d: Buffer) => parts.push(d));
    cap.on('error', (error) => resolve({ out: Buffer.concat(parts), error }));
    cap.on('end', () => resolve({ out: Buffer.concat(parts) }));
    for (let i = 0; i < input.length; i += chunk) cap.write(input.subarray(i, i + chunk));
    cap.end();
    cap.resume();
  });
}

describe('JSON-RPC message size cap', () => {
  const ok = Buffer.from(frame('{"jsonrpc":"2.0","method":"a"}') + frame('{"jsonrpc":"2.0","method":"bb"}'));

  it('passes messages under the cap through unchanged, split anywhere', async () => {
    for (const chunk of [1, 2, 7, 1000]) {
      const { out, error } = await run(new MessageSizeCap(100), ok, chunk);
      assert.equal(error, undefined);
      assert.deepEqual(out, ok);
    }
  });

  it('refuses a message over the cap before its body arrives', async () => {
    const big = Buffer.from(`Content-Length: 5000000\r\n\r\n{`);
    const { error } = await run(new MessageSizeCap(1 << 20), big, 3);
    assert.match(error?.message ?? '', /refused \(limit 1048576\)/);
  });

  it('refuses endless headers and frames without a length', async () => {
    assert.match((await run(new MessageSizeCap(100), Buffer.alloc(9000, 'a'), 512)).error?.message ?? '', /header block/);
    assert.match((await run(new MessageSizeCap(100), Buffer.from('X: 1\r\n\r\n{}'), 4)).error?.message ?? '', /without Content-Length/);
  });
});
