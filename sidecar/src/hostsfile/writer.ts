import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { KubeForwardError, messageOf } from '../errors';
import { resolveTarget, resolveTargetSync } from './target';

/**
 * Crash-safe replacement of a file: temp file in the same directory, fsync, the original's mode
 * and owner, rename onto the real path, fsync the directory. A reader sees the old file or the
 * new one, never half of one, and a crash cannot leave the file empty (what an in-place truncate
 * risks). Where rename cannot work, a bind-mounted /etc/hosts in a container (EBUSY), a file on
 * another mount (EXDEV), or a target we may write but not replace (EPERM), the content is written
 * in place instead.
 */

export type WriteMethod = 'renamed' | 'in-place';

export interface WriteOptions {
  /** Mode for a file that does not exist yet (default 0o644); an existing file keeps its own. */
  mode?: number;
}

const FALLBACK_ON_RENAME = new Set(['EBUSY', 'EXDEV', 'EPERM']);
// The directory refuses new files but the file itself may still be writable (a single-file mount).
const FALLBACK_ON_TEMP = new Set(['EACCES', 'EPERM', 'EROFS']);

function errno(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null ? (error as NodeJS.ErrnoException).code : undefined;
}

function writeFailed(path: string, error: unknown): KubeForwardError {
  if (error instanceof KubeForwardError) return error;
  const code = errno(error);
  const hint = code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
    ? 'it needs root: grant elevation, or choose a writable file with --hosts-path'
    : 'check that the path is a regular file on a writable file system';
  return new KubeForwardError('HOSTS_WRITE_FAILED', `cannot write the hosts file ${path}: ${messageOf(error)} (${hint})`);
}

function tempPath(real: string): string {
  return join(dirname(real), `.${basename(real)}.kube-forward-${process.pid}-${randomBytes(6).toString('hex')}.tmp`);
}

function notAFile(path: string): KubeForwardError {
  return new KubeForwardError('HOSTS_NOT_A_FILE', `the hosts path ${path} is not a regular file: point --hosts-path at a file`);
}

function toBuffer(content: string | Uint8Array): Buffer {
  return typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content);
}

async function writeAll(handle: fs.promises.FileHandle, data: Buffer): Promise<void> {
  let offset = 0;
  while (offset < data.length) offset += (await handle.write(data, offset, data.length - offset, offset)).bytesWritten;
}

async function writeInPlace(real: string, data: Buffer): Promise<void> {
  const handle = await fs.promises.open(real, 'r+');
  try {
    await writeAll(handle, data);
    await handle.truncate(data.length);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function syncDirectory(dir: string): Promise<void> {
  let handle: fs.promises.FileHandle | undefined;
  try {
    handle = await fs.promises.open(dir, 'r');
    await handle.sync();
  } catch {
    // Some platforms cannot fsync a directory; the rename itself is still atomic there.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** Writes `content` to `path` atomically where possible; returns how it was written. */
export async function writeAtomic(path: string, content: string | Uint8Array, options: WriteOptions = {}): Promise<WriteMethod> {
  const data = toBuffer(content);
  let real: string;
  let existing: fs.Stats | undefined;
  try {
    real = await resolveTarget(path);
    existing = await fs.promises.stat(real).catch((error: unknown) => {
      if (errno(error) === 'ENOENT') return undefined;
      throw error;
    });
  } catch (error) {
    throw writeFailed(path, error);
  }
  if (existing && !existing.isFile()) throw notAFile(path);
  const mode = existing ? existing.mode & 0o7777 : options.mode ?? 0o644;

  const temp = tempPath(real);
  let handle: fs.promises.FileHandle | undefined;
  let renamed = false;
  try {
    try {
      handle = await fs.promises.open(temp, 'wx', 0o600);
    } catch (error) {
      if (existing && FALLBACK_ON_TEMP.has(errno(error) ?? '')) {
        await writeInPlace(real, data);
        return 'in-place';
      }
      throw error;
    }
    await writeAll(handle, data);
    await handle.chmod(mode);
    // Without the right to give the file its owner back (EPERM), replacing it would change the
    // owner: that EPERM leads to the in-place write below.
    if (existing) await handle.chown(existing.uid, existing.gid);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.promises.rename(temp, real);
    renamed = true;
    await syncDirectory(dirname(real));
    return 'renamed';
  } catch (error) {
    if (existing && FALLBACK_ON_RENAME.has(errno(error) ?? '')) {
      try {
        await writeInPlace(real, data);
        return 'in-place';
      } catch (fallbackError) {
        throw writeFailed(path, fallbackError);
      }
    }
    throw writeFailed(path, error);
  } finally {
    await handle?.close().catch(() => undefined);
    if (!renamed) await fs.promises.rm(temp, { force: true }).catch(() => undefined);
  }
}

function writeAllSync(fd: number, data: Buffer): void {
  let offset = 0;
  while (offset < data.length) offset += fs.writeSync(fd, data, offset, data.length - offset, offset);
}

function writeInPlaceSync(real: string, data: Buffer): void {
  const fd = fs.openSync(real, 'r+');
  try {
    writeAllSync(fd, data);
    fs.ftruncateSync(fd, data.length);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function syncDirectorySync(dir: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // As in syncDirectory.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    // Already failing; the first error is the one worth reporting.
  }
}

function removeQuietly(path: string): void {
  try {
    fs.rmSync(path, { force: true });
  } catch {
    // As above.
  }
}

/** writeAtomic for exit paths, where no callback will ever run. */
export function writeAtomicSync(path: string, content: string | Uint8Array, options: WriteOptions = {}): WriteMethod {
  const data = toBuffer(content);
  let real: string;
  let existing: fs.Stats | undefined;
  try {
    real = resolveTargetSync(path);
    existing = fs.statSync(real, { throwIfNoEntry: false });
  } catch (error) {
    throw writeFailed(path, error);
  }
  if (existing && !existing.isFile()) throw notAFile(path);
  const mode = existing ? existing.mode & 0o7777 : options.mode ?? 0o644;

  const temp = tempPath(real);
  let fd: number | undefined;
  let renamed = false;
  try {
    try {
      fd = fs.openSync(temp, 'wx', 0o600);
    } catch (error) {
      if (existing && FALLBACK_ON_TEMP.has(errno(error) ?? '')) {
        writeInPlaceSync(real, data);
        return 'in-place';
      }
      throw error;
    }
    writeAllSync(fd, data);
    fs.fchmodSync(fd, mode);
    if (existing) fs.fchownSync(fd, existing.uid, existing.gid);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(temp, real);
    renamed = true;
    syncDirectorySync(dirname(real));
    return 'renamed';
  } catch (error) {
    if (existing && FALLBACK_ON_RENAME.has(errno(error) ?? '')) {
      try {
        writeInPlaceSync(real, data);
        return 'in-place';
      } catch (fallbackError) {
        throw writeFailed(path, fallbackError);
      }
    }
    throw writeFailed(path, error);
  } finally {
    if (fd !== undefined) closeQuietly(fd);
    if (!renamed) removeQuietly(temp);
  }
}
