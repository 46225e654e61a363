import * as fs from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { KubeForwardError } from '../errors';

/**
 * The file a write must replace. Renaming onto a symlink would replace the link with a plain
 * file (on macOS /etc itself is a link to /private/etc), so the link chain is followed first.
 * A file that does not exist yet resolves through its directory, and a dangling link to the
 * place its target would be.
 */

const MAX_LINKS = 40;

function tooManyLinks(path: string): KubeForwardError {
  return new KubeForwardError('HOSTS_NOT_A_FILE', `the hosts path ${path} is a chain of more than ${MAX_LINKS} symbolic links: point --hosts-path at the file itself`);
}

function isMissing(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as NodeJS.ErrnoException).code === 'ENOENT';
}

function linkTarget(link: string, target: string): string {
  return isAbsolute(target) ? target : resolve(dirname(link), target);
}

export async function resolveTarget(path: string): Promise<string> {
  let current = resolve(path);
  for (let hops = 0; hops <= MAX_LINKS; hops++) {
    try {
      return await fs.promises.realpath(current);
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
    const stat = await fs.promises.lstat(current).catch((error: unknown) => {
      if (isMissing(error)) return undefined;
      throw error;
    });
    if (!stat?.isSymbolicLink()) return join(await fs.promises.realpath(dirname(current)), basename(current));
    current = linkTarget(current, await fs.promises.readlink(current));
  }
  throw tooManyLinks(path);
}

export function resolveTargetSync(path: string): string {
  let current = resolve(path);
  for (let hops = 0; hops <= MAX_LINKS; hops++) {
    try {
      return fs.realpathSync(current);
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
    const stat = fs.lstatSync(current, { throwIfNoEntry: false });
    if (!stat?.isSymbolicLink()) return join(fs.realpathSync(dirname(current)), basename(current));
    current = linkTarget(current, fs.readlinkSync(current));
  }
  throw tooManyLinks(path);
}
