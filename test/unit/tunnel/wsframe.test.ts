import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import * as ws from 'ws';
import { applyMask, FrameParser, frameHeader, OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT } from '../../../sidecar/src/tunnel/wsframe';

/** The parts of `ws` its type declarations leave out: its frame writer and reader. */
interface FrameOptions { fin: boolean; opcode: number; mask: boolean; readOnly: boolean; rsv1: boolean }
interface ReceiverLike {
  write(chunk: Buffer): void;
  on(event: 'message' | 'pong', listener: (data: Buffer) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
}
const { Receiver, Sender } = ws as unknown as {
  Receiver: new (options: { isServer: boolean }) => ReceiverLike;
  Sender: { frame(data: Buffer, options: FrameOptions): Buffer[] };
};

/** Server frames as the `ws` package writes them (an independent implementation). */
function serverFrame(opcode: number, payload: Buffer, fin = true): Buffer {
  return Buffer.concat(Sender.frame(payload, { fin, opcode, mask: false, readOnly: true, rsv1: false }));
}

interface Parsed {
  messages: Buffer[];
  starts: number;
  controls: [number, string][];
  errors: string[];
}

function parse(chunks: Buffer[]): Parsed {
  const out: Parsed = { messages: [], starts: 0, controls: [], errors: [] };
  let current: Buffer[] = [];
  const parser = new FrameParser({
    data: (chunk, start) => {
      if (start) {
        out.starts++;
        if (current.length) out.messages.push(Buffer.concat(current));
        current = [];
      }
      current.push(Buffer.from(chunk));
    },
    control: (opcode, payload) => out.controls.push([opcode, payload.toString('latin1')]),
    error: (reason) => out.errors.push(reason),
  });
  for (const c of chunks) parser.push(c);
  if (current.length) out.messages.push(Buffer.concat(current));
  return out;
}

/** Every way of cutting `data` in two, plus byte by byte. */
function cuts(data: Buffer): Buffer[][] {
  const all: Buffer[][] = [[data], [...data].map((b) => Buffer.from([b]))];
  for (let i = 1; i < data.length; i++) all.push([data.subarray(0, i), data.subarray(i)]);
  return all;
}

describe('WebSocket framing', () => {
  it('parses messages of every length encoding however the stream is cut', () => {
    const small = randomBytes(5);
    const medium = randomBytes(300);
    const large = randomBytes(70_000);
    const stream = Buffer.concat([serverFrame(OP_BINARY, small), serverFrame(OP_BINARY, medium), serverFrame(OP_BINARY, large)]);
    const whole = parse([stream]);
    assert.deepEqual(whole.messages, [small, medium, large]);
    assert.equal(whole.starts, 3);
    const head = Buffer.concat([serverFrame(OP_BINARY, small), serverFrame(OP_BINARY, medium)]);
    for (const pieces of cuts(head)) {
      assert.deepEqual(parse(pieces).messages, [small, medium], `cut into ${pieces.map((p) => p.length).join('+')}`);
    }
  });

  it('hands payloads on as slices of the socket chunk (no copy)', () => {
    const payload = randomBytes(1000);
    const chunk = serverFrame(OP_BINARY, payload);
    let seen: Buffer | undefined;
    new FrameParser({ data: (c) => (seen = c), control: () => undefined, error: assert.fail }).push(chunk);
    assert.equal(seen?.buffer, chunk.buffer);
  });

  it('joins fragments into one message, with control frames between them', () => {
    const stream = Buffer.concat([
      serverFrame(OP_BINARY, Buffer.from([0, 1, 2]), false),
      serverFrame(OP_PING, Buffer.from('hi')),
      serverFrame(OP_CONTINUATION, Buffer.from([3, 4]), false),
      serverFrame(OP_CONTINUATION, Buffer.alloc(0), true),
      serverFrame(OP_TEXT, Buffer.from('text')),
      serverFrame(OP_CLOSE, Buffer.from([0x03, 0xe8])),
    ]);
    for (const pieces of cuts(stream)) {
      const p = parse(pieces);
      assert.deepEqual(p.messages, [Buffer.from([0, 1, 2, 3, 4]), Buffer.from('text')]);
      assert.equal(p.starts, 2);
      assert.deepEqual(p.controls, [[OP_PING, 'hi'], [OP_CLOSE, '\u0003\u00e8']]);
      assert.deepEqual(p.errors, []);
    }
  });

  it('rejects what a server must not send', () => {
    const masked = Buffer.from(serverFrame(OP_BINARY, Buffer.from('x')));
    masked[1]! |= 0x80;
    const reserved = Buffer.from(serverFrame(OP_BINARY, Buffer.from('x')));
    reserved[0]! |= 0x40;
    const cases: [string, Buffer][] = [
      ['masked', Buffer.concat([masked, Buffer.alloc(4)])],
      ['reserved', reserved],
      ['continuation', serverFrame(OP_CONTINUATION, Buffer.from('x'))],
      ['control', serverFrame(OP_PING, Buffer.alloc(126))],
      ['new message', Buffer.concat([serverFrame(OP_BINARY, Buffer.from('a'), false), serverFrame(OP_BINARY, Buffer.from('b'))])],
      ['opcode', serverFrame(0x3, Buffer.from('x'))],
    ];
    for (const [name, data] of cases) assert.equal(parse([data]).errors.length, 1, name);
  });

  it('writes client frames that an independent server implementation reads, masked or not', async () => {
    for (const mask of [Buffer.alloc(4), randomBytes(4)]) {
      for (const size of [0, 10, 124, 125, 300, 70_000]) {
        const chunk = randomBytes(size);
        const body = Buffer.from(chunk);
        applyMask(body, mask, 1);
        const frame = Buffer.concat([frameHeader(OP_BINARY, size + 1, mask, 7), body]);
        const receiver = new Receiver({ isServer: true });
        const got = new Promise<Buffer>((resolve, reject) => {
          receiver.on('message', resolve);
          receiver.on('error', reject);
        });
        receiver.write(frame);
        assert.deepEqual(await got, Buffer.concat([Buffer.from([7]), chunk]), `size ${size}`);
      }
    }
    const pong = new Receiver({ isServer: true });
    const seen = new Promise<string>((resolve) => pong.on('pong', (d) => resolve(d.toString())));
    const payload = Buffer.from('ok');
    const mask = randomBytes(4);
    const masked = Buffer.from(payload);
    applyMask(masked, mask);
    pong.write(Buffer.concat([frameHeader(OP_PONG, 2, mask), masked]));
    assert.equal(await seen, 'ok');
  });
});
