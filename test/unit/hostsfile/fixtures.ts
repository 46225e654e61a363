import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Compiled module paths, for child processes that load the real code. */
export const COMPILED = join(__dirname, '..', '..', '..', 'sidecar', 'src', 'hostsfile');

/** A fresh temp directory per test file; `cleanup` removes it with everything in it. */
export function tempDir(prefix = 'kf-hosts-'): { dir: string; path(name: string): string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    path: (name) => join(dir, name),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Files the writer left next to its target (its temp files start with '.' and end with '.tmp'). */
export function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.endsWith('.tmp') || name.includes('kube-forward'));
}

/** Polls `check` until it returns true or the deadline passes. */
export async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}
