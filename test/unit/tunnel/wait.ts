import type { KubeForwardError } from '../../../sidecar/src/errors';

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function until<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000, everyMs = 10): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The KubeForwardError `p` rejects with; fails when it resolves. */
export async function rejection(p: Promise<unknown>): Promise<KubeForwardError> {
  try {
    await p;
  } catch (error) {
    return error as KubeForwardError;
  }
  throw new Error('expected a rejection');
}
