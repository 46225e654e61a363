import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { asUserSpawnOptions, type Identity } from './identity';

export type FileRead = { ok: true; data: Buffer } | { ok: false; code: string; message: string };

// Runs in a child process with the user's uid/gid, so permission checks are the user's own and
// nothing in this (root) process ever changes its effective uid.
const reader = `
const fs = require('fs');
const out = {};
for (const p of JSON.parse(process.argv[1])) {
  try { out[p] = { ok: true, data: fs.readFileSync(p).toString('base64') }; }
  catch (e) { out[p] = { ok: false, code: e.code || 'EIO', message: e.message }; }
}
process.stdout.write(JSON.stringify(out));
`;

/**
 * Reads files with the invoking user's permissions (under sudo a root process could otherwise read
 * any file a workspace setting names). Without elevation it reads directly.
 */
export function readFilesAsUser(identity: Identity, paths: string[]): Map<string, FileRead> {
  const result = new Map<string, FileRead>();
  if (!identity.elevated) {
    for (const p of paths) {
      try {
        result.set(p, { ok: true, data: fs.readFileSync(p) });
      } catch (error) {
        const e = error as NodeJS.ErrnoException;
        result.set(p, { ok: false, code: e.code ?? 'EIO', message: e.message });
      }
    }
    return result;
  }
  const child = spawnSync(process.execPath, ['-e', reader, JSON.stringify(paths)], {
    ...asUserSpawnOptions(identity),
    env: { ELECTRON_RUN_AS_NODE: '1', PATH: process.env.PATH ?? '' },
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    timeout: 15_000,
  });
  if (child.status !== 0) {
    const message = child.error?.message ?? child.stderr.trim() ?? `exit ${String(child.status)}`;
    for (const p of paths) result.set(p, { ok: false, code: 'EIO', message: `reading as ${identity.user} failed: ${message}` });
    return result;
  }
  const parsed = JSON.parse(child.stdout) as Record<string, { ok: boolean; data?: string; code?: string; message?: string }>;
  for (const p of paths) {
    const r = parsed[p];
    if (r?.ok && r.data !== undefined) result.set(p, { ok: true, data: Buffer.from(r.data, 'base64') });
    else result.set(p, { ok: false, code: r?.code ?? 'EIO', message: r?.message ?? 'unreadable' });
  }
  return result;
}
