import assert from 'node:assert/strict';
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

/** Counts the turns of the event loop in which `seen()` was called at least once. */
export class TurnCounter {
  turns = 0;
  private counted = false;

  readonly seen = (): void => {
    if (this.counted) return;
    this.counted = true;
    this.turns++;
    setImmediate(() => (this.counted = false));
  };
}

/**
 * Read coalescing: `run(ms)` feeds a trickling bulk transfer to a reader resting `ms` between
 * reads and says in how many turns it read. Resting 20 ms must read in under a third of the turns
 * of not resting, and both must get every byte.
 */
export async function assertFewerTurns(run: (coalesceReadsMs: number) => Promise<{ turns: number; intact: boolean }>): Promise<void> {
  const eager = await run(0);
  const resting = await run(20);
  assert.ok(eager.intact && resting.intact, 'the bytes received are the bytes sent');
  assert.ok(resting.turns * 3 < eager.turns, `turns with reading: ${resting.turns} resting 20 ms, ${eager.turns} reading at once`);
}
