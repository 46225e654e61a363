import type { Socket } from 'node:net';

/**
 * The socket's first chunk, or undefined once `waitMs` passed (a client waiting for the server to
 * speak first), or at its end or close. The socket is paused either way: whoever relays it next
 * resumes it, and an end that came without data is then seen as `readableEnded`.
 */
export function firstBytes(socket: Socket, waitMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const finish = (chunk?: Buffer): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onOther);
      socket.off('close', onOther);
      socket.pause();
      resolve(chunk);
    };
    const onData = (chunk: Buffer): void => finish(chunk);
    const onOther = (): void => finish(undefined);
    const timer = setTimeout(onOther, waitMs);
    socket.on('data', onData);
    socket.on('end', onOther);
    socket.on('close', onOther);
  });
}
